"""translate_throughput: a naive per-sentence `generate` loop vs xling's batched translator.

The same model translates the first N FLORES-200 devtest ko→en sentences twice: once the way most
research scripts do (one `model.generate` call per sentence; it gets the same prompt, token budget
and line-end stop as xling, so only batching differs), once with xling. Prints sentences/s and new
tokens/s for both, the ratio, and whether the cleaned outputs are identical. Then xling's greedy
loop twice more at the same batch size: fixed batches (each waits for its longest row) vs rows
refilled from the queue as others finish (continuous batching), with the ratio and whether the
outputs are identical.

    python experiments/bench/translate_throughput.py [--model M] [--n 64] [--batch-size auto|N]
"""
from __future__ import annotations

import argparse

from _common import require_data, timer

from xling.backends.base import Decoding
from xling.backends.batching import Batching, check_batch_size
from xling.data.parallel import flores200
from xling.data.languages import check_direction
from xling.translation.postprocess import clean_output
from xling.translation.translator import Translator


def naive_loop(backend, requests):
    """One generate call per sentence, as in most research scripts."""
    import torch

    outputs, new_tokens = [], 0
    for request in requests:
        ids = torch.tensor([backend.encode_prompt(request.prompt)], device=backend.model.device)
        extra = {}
        if request.stop_at_newline or request.stop:
            extra["stopping_criteria"] = backend._stop_criteria([request], ids.shape[1])
        with torch.inference_mode():
            out = backend.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                         max_new_tokens=request.max_new_tokens, do_sample=False,
                                         temperature=None, top_p=None, top_k=None,
                                         pad_token_id=backend.tokenizer.pad_token_id, **extra)
        new = out[0, ids.shape[1]:].tolist()
        new_tokens += len(new)
        outputs.append(backend.lm.finish(request, new))
    return outputs, new_tokens


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="default: the embedded model")
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--batch-size", type=check_batch_size, default="auto",
                        help="rows per batch or auto (xling's default: 32 rows on a CPU, refilled)")
    parser.add_argument("--src", default="ko")
    parser.add_argument("--tgt", default="en")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    root = require_data(args.data_dir)
    src, tgt = check_direction(args.src, args.tgt)
    sources = flores200("devtest", src, root)[:args.n]

    translator = Translator(args.model, batch_size=args.batch_size, cache=False, quiet=True)
    backend = translator.backend
    requests = [r for r, _ in translator.requests(sources, src, tgt).values()]
    print(f"model {backend.fingerprint['model']} on {backend.device}; {len(sources)} FLORES-200 "
          f"devtest {src.code}→{tgt.code} sentences; template {translator.template.name}; "
          f"batch size {args.batch_size}")
    backend.with_batching(Batching(2)).generate(requests[:2], Decoding())   # warm-up, both paths share it

    times = {}
    with timer(times, "naive"):
        naive_raw, naive_tokens = naive_loop(backend, requests)
    with timer(times, "xling"):
        records = translator.translate_records(sources, src, tgt)
    xling_tokens = sum(backend.count_tokens(r.raw) for r in records)
    naive_clean = [clean_output(raw, tgt, source=s).text for raw, s in zip(naive_raw, sources)]
    identical = naive_clean == [r.text for r in records]

    rows, _ = backend.batch_limits()
    with timer(times, "fixed"):
        fixed = backend.with_batching(Batching(rows, refill=False)).generate(requests, translator.decoding)
    with timer(times, "refill"):
        refilled = backend.with_batching(Batching(rows, refill=True)).generate(requests, translator.decoding)
    refills = sum(1 for b in backend.batch_log if b.get("refill"))

    n = len(sources)
    print(f"naive loop : {times['naive']:8.2f} s  {n / times['naive']:7.2f} sentences/s  "
          f"{naive_tokens / times['naive']:8.1f} generated tokens/s")
    print(f"xling      : {times['xling']:8.2f} s  {n / times['xling']:7.2f} sentences/s  "
          f"{xling_tokens / times['xling']:8.1f} kept tokens/s")
    print(f"speed-up (xling / naive, sentences/s): {times['naive'] / times['xling']:.2f}x")
    print(f"outputs identical: {identical}"
          + ("" if identical else f" ({sum(a == r.text for a, r in zip(naive_clean, records))}/{n} equal)"))
    print(f"fixed batches of {rows}: {times['fixed']:8.2f} s   refilled: {times['refill']:8.2f} s "
          f"({refills} refills)   fixed / refilled time: {times['fixed'] / times['refill']:.2f}x   "
          f"outputs identical: {fixed == refilled}")


if __name__ == "__main__":
    main()
