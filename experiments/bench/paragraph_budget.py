"""paragraph_budget: do xling's answer budgets hold WMT24++ paragraphs, and does the off-target
detector hold long segments?

For the first N en->LOCALE segments, each segment's budget (length_factor x source tokens +
slack, capped at --max-new-tokens) is set against its human reference's length in the same
tokenizer: a model that translates as long as the reference is never cut when every ratio
reference / budget is below 1. The same is done for the document chunks of --unit document.
The off-target detector is run on the references themselves (all in the target language: the
rate should be 0) and on FLORES devtest references as the baseline of single sentences.

    python experiments/bench/paragraph_budget.py [--locale ko_KR] [--n 200] [--model M]
"""
from __future__ import annotations

import argparse
import json
import time

from _common import require_data


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locale", default="ko_KR")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--model", default=None, help="tokenizer source (default: the embedded model)")
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    root = require_data(args.data_dir)

    from xling.backends.base import Decoding
    from xling.data.languages import resolve
    from xling.data.parallel import load_parallel
    from xling.data.wmt import locale_language
    from xling.metrics.offtarget import off_target
    from xling.translation.documents import MARK_TOKENS, plan_chunks
    from xling.translation.translator import Translator

    data = load_parallel(f"wmt24pp:en-{args.locale}", root)
    tgt = locale_language(args.locale)
    src = resolve("en")
    sources, refs = data.text("en")[:args.n], data.text(tgt)[:args.n]
    translator = Translator(args.model, decoding=Decoding(max_new_tokens_cap=args.max_new_tokens),
                            cache=False, quiet=True)
    count = translator.backend.count_tokens
    ratios = [count(r) / translator.budget(s) for s, r in zip(sources, refs)]
    doc_translator = Translator(backend=translator.backend, unit="document",
                                decoding=translator.decoding, cache=False)
    chunks = plan_chunks(doc_translator, sources, [m["document_id"] for m in data.meta[:args.n]], src, tgt, [])
    chunk_ratios = [sum(count(refs[p]) + MARK_TOKENS for p in c.positions)
                    / min(args.max_new_tokens, sum(translator.budget(sources[p]) + MARK_TOKENS for p in c.positions))
                    for c in chunks]
    off_target(["warm-up: load the statistical detector", "Guten Tag"], tgt.code)
    start = time.perf_counter()
    wmt_off = off_target(refs, tgt.code)
    wmt_seconds = time.perf_counter() - start
    flores = load_parallel("flores200:devtest", root).text(tgt)[:args.n]
    start = time.perf_counter()
    flores_off = off_target(flores, tgt.code)
    flores_seconds = time.perf_counter() - start
    words = sum(len(s.split()) for s in sources) / len(sources)
    print(json.dumps({
        "segments": len(sources), "mean_source_words": round(words, 1),
        "segments_cut_by_budget": sum(r > 1 for r in ratios),
        "max_reference_over_budget": round(max(ratios), 3),
        "documents": len({c.document for c in chunks}), "chunks": len(chunks),
        "chunks_cut_by_budget": sum(r > 1 for r in chunk_ratios),
        "max_chunk_reference_over_budget": round(max(chunk_ratios), 3),
        "offtarget_rate_of_references_wmt24pp": wmt_off.score,
        "offtarget_rate_of_references_flores": flores_off.score,
        "offtarget_ms_per_segment_wmt24pp": round(1000 * wmt_seconds / len(refs), 3),
        "offtarget_ms_per_segment_flores": round(1000 * flores_seconds / len(flores), 3),
        "offtarget_time_ratio_wmt24pp_vs_flores": round(wmt_seconds / flores_seconds, 2),
    }, indent=1))


if __name__ == "__main__":
    main()
