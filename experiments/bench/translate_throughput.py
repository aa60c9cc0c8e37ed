"""translate_throughput: a naive per-sentence `generate` loop vs xling's batched translator.

The same model translates the first N FLORES-200 devtest ko→en sentences twice: once the way most
research scripts do (one `model.generate` call per sentence; it gets the same prompt, token budget
and line-end stop as xling, so only batching differs), once with xling. Prints sentences/s and new
tokens/s for both, the ratio, and whether the cleaned outputs are identical. Then xling's greedy
loop twice more at the same batch size: fixed batches (each waits for its longest row) vs rows
refilled from the queue as others finish (continuous batching), with the ratio and whether the
outputs are identical.

`--backend vllm` (run it with the vLLM venv's Python, `.vllm-venv/bin/python`; issue 34 item 6)
compares, on the same requests: xling's HF path (float32 on a CPU), xling's vLLM backend and a
bare `LLM.generate` on the same token ids through that same engine, in float32 and in bfloat16;
each with seconds, sentences/s, the ratio to the HF path, and the share of outputs identical to
the HF path's (and xling-vLLM's to bare vLLM's). Targets: float32 ≥ 1.5x the HF path, bfloat16
≥ 2.5x, xling's vLLM ≥ 0.9x bare vLLM. The engine starts and a two-request warm-up stay outside
the timings; xling-vLLM and bare vLLM run twice, alternating, and the second runs are timed (both
then find every prompt in vLLM's prefix cache). Each dtype runs in a child process.

    python experiments/bench/translate_throughput.py [--model M] [--n 64] [--batch-size auto|N]
    .vllm-venv/bin/python experiments/bench/translate_throughput.py --backend vllm [--n 64]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import require_data, timer

from xling.backends.base import Decoding, cut_answer
from xling.backends.batching import Batching, check_batch_size
from xling.data.languages import check_direction
from xling.data.parallel import flores200
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
    parser.add_argument("--backend", choices=["hf", "vllm"], default="hf",
                        help="vllm: xling's vLLM backend and bare vLLM against the HF path")
    parser.add_argument("--vllm-memory", type=float, default=0.3, help="vLLM's memory share (--backend vllm)")
    parser.add_argument("--vllm-child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    root = require_data(args.data_dir)
    src, tgt = check_direction(args.src, args.tgt)
    sources = flores200("devtest", src, root)[:args.n]
    if args.vllm_child:
        vllm_child(args, sources, src, tgt)
        return
    if args.backend == "vllm":
        vllm_comparison(args, sources, src, tgt)
        return

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


def vllm_comparison(args, sources, src, tgt) -> dict:
    """The HF path here, then each vLLM dtype in a child process of its own (an in-process vLLM
    engine keeps its memory until the process ends, so a second one would not start)."""
    import json
    import subprocess
    import sys
    import tempfile

    hf = Translator(args.model, batch_size=args.batch_size, cache=False, quiet=True).backend
    translator = Translator(backend=hf, cache=False)
    requests = [r for r, _ in translator.requests(sources, src, tgt).values()]
    hf.with_batching(Batching(2)).generate(requests[:2], translator.decoding)   # warm-up
    start = time.perf_counter()
    hf_out = hf.generate(requests, translator.decoding)
    seconds = time.perf_counter() - start
    report = {"sentences": len(requests), "model": hf.fingerprint["model"],
              "hf": {"seconds": round(seconds, 2), "dtype": "float32",
                     "sentences_per_s": round(len(requests) / seconds, 2)}}
    print(f"HF path (float32): {json.dumps(report['hf'])}", flush=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"outputs": hf_out, "seconds": seconds}, handle)
    for dtype in ("float32", "bfloat16"):
        child = subprocess.run([sys.executable, __file__, "--vllm-child", dtype, handle.name, "--n", str(args.n),
                                "--src", src.code, "--tgt", tgt.code, "--vllm-memory", str(args.vllm_memory),
                                *(["--model", args.model] if args.model else []),
                                *(["--data-dir", args.data_dir] if args.data_dir else [])],
                               capture_output=True, text=True)
        last = child.stdout.strip().splitlines()[-1:] or [""]
        try:
            report[dtype] = json.loads(last[0])
        except ValueError:
            report[dtype] = {"failed": (child.stderr.strip().splitlines() or ["no output"])[-1][:300]}
        print(f"vLLM {dtype}: {json.dumps(report[dtype])}", flush=True)
    Path(handle.name).unlink(missing_ok=True)
    print(json.dumps(report))
    return report


def vllm_child(args, sources, src, tgt) -> None:
    """One vLLM dtype: xling's vLLM backend, then bare LLM.generate on the same token ids through
    the same engine; prints one JSON line."""
    import json
    import os

    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")   # the engine in this process
    from xling.backends import load_backend

    dtype, baseline = args.vllm_child
    hf = json.loads(open(baseline, encoding="utf-8").read())

    def same(a, b) -> float:
        return round(sum(x == y for x, y in zip(a, b)) / len(a), 3)

    try:
        backend = load_backend(args.model, backend="vllm", dtype=dtype, enforce_eager=True, max_model_len=2048,
                               gpu_memory_utilization=args.vllm_memory, quiet=True).backend
        translator = Translator(backend=backend, cache=False)
        requests = [r for r, _ in translator.requests(sources, src, tgt).values()]
        backend.generate(requests[:2], translator.decoding)   # engine start and warm-up, outside the timing
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        ids = [backend.text.encode_prompt(r.prompt) for r in requests]   # the token ids xling sends
        params = [SamplingParams(temperature=0.0, max_tokens=r.max_new_tokens, seed=0,
                                 stop=["\n"] if r.stop_at_newline else None) for r in requests]
        # Each path twice, alternating, timed the second time: vLLM's prefix cache then holds every
        # prompt for both, so neither gains from running after the other.
        times = {}
        for path in ("xling", "bare", "xling", "bare"):
            start = time.perf_counter()
            if path == "xling":
                ours = backend.generate(requests, translator.decoding)
            else:
                bare = backend.llm.generate([TokensPrompt(prompt_token_ids=i) for i in ids], params, use_tqdm=False)
            times[path] = time.perf_counter() - start
        t_ours, t_bare = times["xling"], times["bare"]
        bare_out = [cut_answer(o.outputs[0].text, r) for o, r in zip(bare, requests)]
        figures = {"xling_seconds": round(t_ours, 2), "bare_seconds": round(t_bare, 2),
                   "sentences_per_s": round(len(requests) / t_ours, 2),
                   "vs_hf": round(hf["seconds"] / t_ours, 2), "xling_vs_bare": round(t_bare / t_ours, 2),
                   "identical_to_hf": same(ours, hf["outputs"]), "xling_identical_to_bare": same(ours, bare_out)}
    except Exception as exc:  # noqa: BLE001 - a dtype this CPU build cannot run is reported
        figures = {"failed": f"{type(exc).__name__}: {str(exc)[:300]}"}
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
