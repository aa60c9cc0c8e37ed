"""xling's own decoding loop (continuous batching in `backends/decoding.py`) against transformers
5's continuous batching (`model.generate_batch`, paged attention), on the same prompts in float32
on this machine: both greedy, both stopping at a line end (transformers: every newline token
given as an end-of-sequence token) and at each row's own budget (transformers runs to the largest
budget; rows are cut to theirs afterwards, as xling cuts them). Prints both times, their ratio
and whether the outputs are identical.

    python experiments/bench/hf_loop_vs_transformers_cb.py --n 32 [--model DIR] [--data-dir D]
"""
from __future__ import annotations

import argparse
import time

from _common import generate_batch as paged_generate_batch
from _common import require_data

from xling.backends.base import cut_answer
from xling.data.languages import check_direction
from xling.data.parallel import flores200
from xling.translation.translator import Translator


def transformers_cb(backend, requests) -> list[str]:
    from transformers import GenerationConfig

    lm = backend.lm
    prompts = [backend.encode_prompt(r.prompt) for r in requests]
    ends = sorted(lm.eos_ids | lm.newline_token_ids())
    config = GenerationConfig(max_new_tokens=max(r.max_new_tokens for r in requests), do_sample=False,
                              eos_token_id=ends, pad_token_id=lm.tokenizer.pad_token_id)
    outputs = paged_generate_batch(lm.model, prompts, config)
    ordered = sorted(outputs.values(), key=lambda o: int(str(o.request_id).rsplit("_", 1)[-1]))
    if len(ordered) < len(requests):   # it logs its own errors (or a time cap) and returns what it has
        raise RuntimeError(f"generate_batch returned {len(ordered)} of {len(requests)} answers")
    texts = []
    for request, out in zip(requests, ordered):
        tokens = list(out.generated_tokens)[:request.max_new_tokens]
        cut = next((i for i, t in enumerate(tokens) if t in lm.eos_ids), len(tokens))
        texts.append(cut_answer(lm.tokenizer.decode(tokens[:cut], skip_special_tokens=True), request))
    return texts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="default: the embedded model")
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    root = require_data(args.data_dir)
    src, tgt = check_direction("ko", "en")
    sources = flores200("devtest", src, root)[:args.n]
    translator = Translator(args.model, cache=False, quiet=True)
    backend = translator.backend
    requests = [r for r, _ in translator.requests(sources, src, tgt).values()]
    backend.generate(requests[:2], translator.decoding)       # warm-up: weights loaded, caches hot

    start = time.perf_counter()
    ours = backend.generate(requests, translator.decoding)
    xling_s = time.perf_counter() - start
    start = time.perf_counter()
    theirs = transformers_cb(backend, requests)
    transformers_s = time.perf_counter() - start
    same = sum(a == b for a, b in zip(ours, theirs))
    print(f"{len(requests)} FLORES-200 devtest ko→en prompts, model {backend.fingerprint['model']}, "
          f"float32 on {backend.device}")
    print(f"xling's loop (refill, {backend.batch_limits()[0]} rows): {xling_s:8.2f} s")
    print(f"transformers generate_batch      : {transformers_s:8.2f} s")
    print(f"transformers / xling time: {transformers_s / xling_s:.2f}x   identical outputs: {same}/{len(ours)}")
    for a, b in zip(ours, theirs):
        if a != b:
            print(f"  differs: xling {a!r}\n           transformers {b!r}")


if __name__ == "__main__":
    main()
