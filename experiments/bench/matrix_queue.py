"""matrix_queue: a direction matrix translated direction by direction vs from one queue.

xling's MT runs translate all directions of a greedy sentence-level run from one queue (issue 34,
the 12-direction matrix): with refill, rows freed by finished answers are refilled from the next
directions' prompts, so batches stay full until the very end instead of draining at each
direction's end. On a GPU a decoding step is launch-bound (measured on the H200: ~1,140 kernel
launches per step, about the same time at 32 or 512 rows), so the wall time follows the number of
forward passes; on this CPU a step costs in proportion to its rows, so the wall time here says
little and the count of forward passes (prefills + decoding steps) is the figure to read.

A Qwen2-shaped tiny model with random weights (every row runs to its token budget, as on the
GPU bench) and the embedded model's tokenizer translates the first N FLORES-200 devtest sentences
of the 12 directions among en, ko, ja, zh at a fixed batch of R rows with refill, both ways, in one
run. Prints forward passes, wall times and their ratios, and whether the outputs are identical.

    python experiments/bench/matrix_queue.py [--n 64] [--rows 32] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

from _common import require_data
from gpu_check import build_model

from xling.backends.base import Decoding
from xling.backends.loading import open_hf_backend
from xling.data.languages import check_direction
from xling.data.parallel import flores200
from xling.translation.translator import Translator


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="sentences per direction")
    parser.add_argument("--rows", type=int, default=32, help="rows per batch")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    root = require_data(args.data_dir)
    from xling.backends.embedded import embedded_model_dir

    langs = ["en", "ko", "ja", "zh"]
    directions = [check_direction(a, b) for a in langs for b in langs if a != b]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # (`timeout`: the temporary model goes too)
    with tempfile.TemporaryDirectory(prefix="xling-matrix-queue-") as folder:
        build_model(Path(folder), embedded_model_dir(), "tiny", on_gpu=False)
        translator = Translator(backend=open_hf_backend(folder, display="qwen2-tiny", device="cpu"), cache=False,
                                batch_size=args.rows, refill=True, decoding=Decoding())
        backend = translator.backend      # batched as asked
        jobs = [(flores200("devtest", src, root)[:args.n], src, tgt) for src, tgt in directions]
        translator.translate_records(jobs[0][0][:2], *jobs[0][1:])      # load and warm up
        passes = [0]
        backend.model.register_forward_pre_hook(lambda module, inputs: passes.__setitem__(0, passes[0] + 1))

        def measure(work):
            passes[0], tokens, start = 0, backend.tokens_generated, time.perf_counter()
            outputs = work()
            return outputs, {"forward_passes": passes[0], "seconds": round(time.perf_counter() - start, 2),
                             "new_tokens": backend.tokens_generated - tokens}

        alone, per_direction = measure(lambda: [translator.translate_records(*job) for job in jobs])
        if args.json:   # what is measured so far is on disk if the second pass is stopped
            Path(args.json).write_text(json.dumps({"per_direction": per_direction, "partial": True}, indent=1),
                                       encoding="utf-8")
        queued_out, queued = measure(lambda: translator.translate_many(jobs))
    same = sum(a.raw == b.raw for x, y in zip(alone, queued_out) for a, b in zip(x, y))
    total = sum(len(x) for x in alone)
    report = {"directions": len(jobs), "sentences": total, "rows": args.rows,
              "per_direction": per_direction, "queued": queued,
              "forward_passes_ratio": round(per_direction["forward_passes"] / queued["forward_passes"], 2),
              "seconds_ratio": round(per_direction["seconds"] / queued["seconds"], 2),
              "identical_outputs": f"{same}/{total}"}
    print(f"{len(jobs)} directions x {args.n} sentences, {args.rows} rows with refill, tiny random model (CPU):")
    for name in ("per_direction", "queued"):
        r = report[name]
        print(f"  {name:13s} {r['forward_passes']:6d} forward passes  {r['seconds']:7.2f} s  "
              f"{r['new_tokens']} new tokens")
    print(f"  forward passes per direction / queued: {report['forward_passes_ratio']}x "
          f"(wall time here {report['seconds_ratio']}x); identical outputs {same}/{total}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
