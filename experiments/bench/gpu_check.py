"""gpu_check: one script for a GPU session (issue 11) that prints every figure as JSON, each
against a baseline measured in the same run on the same device.

- batched greedy translation vs one sentence at a time (same outputs?),
- token-budgeted batches (--max-batch-tokens) vs plain batches (same outputs?),
- N sampled candidates (one prefill per prompt) vs greedy: the cost of MBR's candidates
  (generation only; choosing among them runs through mbrs on the CPU).

It runs anywhere (CPU too); `--small` makes it a seconds-long smoke test, which the test suite
runs. On a GPU machine without ../shared, pass the sentences as a file (`--sources`).

    python experiments/bench/gpu_check.py [--model M] [--n 64] [--sources FILE] [--small]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _timed(function):
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result, time.perf_counter() - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="default: the embedded model")
    parser.add_argument("--n", type=int, default=64, help="sentences")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--sources", default=None, help="one sentence a line (default: FLORES devtest ko)")
    parser.add_argument("--src", default="ko")
    parser.add_argument("--tgt", default="en")
    parser.add_argument("--small", action="store_true", help="4 sentences, 2 candidates: a smoke test")
    args = parser.parse_args(argv)
    if args.small:
        args.n, args.batch_size, args.candidates = 4, 4, 2

    import torch

    from xling.backends.base import Sampling
    from xling.data.languages import check_direction
    from xling.data.textio import read_lines
    from xling.translate.translator import Translator

    src, tgt = check_direction(args.src, args.tgt)
    if args.sources:
        sources = read_lines(args.sources)[:args.n]
    else:
        from xling.data.parallel import flores200
        sources = flores200("devtest", src, None)[:args.n]
    translator = Translator(args.model, batch_size=args.batch_size, cache=False, quiet=True)
    backend = translator.backend
    translator.translate(sources[:2], src, tgt)                    # warm-up: weights loaded

    batched, t_batched = _timed(lambda: translator.translate(sources, src, tgt))
    translator.batch_size = 1
    single, t_single = _timed(lambda: translator.translate(sources, src, tgt))
    translator.batch_size = args.batch_size
    prompt_tokens = max(len(backend.encode_prompt(r.prompt))
                        for r, _ in translator.requests(sources, src, tgt).values())
    translator.max_batch_tokens = 4 * (prompt_tokens + translator.decoding.max_new_tokens_cap)
    budgeted, t_budgeted = _timed(lambda: translator.translate(sources, src, tgt))
    translator.max_batch_tokens = None
    # Candidate generation only (selection runs on the CPU through mbrs, not measured here).
    sampling = Sampling(seed=0, epsilon=0.02)
    requests = [r for r, _ in translator.requests(sources, src, tgt).values()]
    _, t_candidates = _timed(lambda: translator._cached.candidates(
        requests, sampling, args.candidates, batch_size=args.batch_size * args.candidates))
    report = {
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "torch": torch.__version__, "model": backend.fingerprint["model"], "sentences": len(sources),
        "batch_size": args.batch_size,
        "batched_seconds": round(t_batched, 3), "one_at_a_time_seconds": round(t_single, 3),
        "batched_speedup": round(t_single / t_batched, 2), "batched_equals_one_at_a_time": batched == single,
        "max_batch_tokens": translator.max_batch_tokens or 4 * (prompt_tokens + translator.decoding.max_new_tokens_cap),
        "budgeted_seconds": round(t_budgeted, 3), "budgeted_equals_plain": budgeted == batched,
        "budgeted_time_ratio": round(t_budgeted / t_batched, 2),
        "candidates": args.candidates, "candidates_seconds": round(t_candidates, 3),
        "candidates_cost_vs_greedy": round(t_candidates / t_batched, 2),
        "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2 ** 30, 2)
        if torch.cuda.is_available() else None,
    }
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
