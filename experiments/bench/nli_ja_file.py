"""nli_ja_file: a user's own Japanese NLI file, 0-shot vs 3-shot with demonstrations from a
separate file (issue 25, item 5), through `xling eval nli` as a user runs it.

The files are the test fixtures (tests/data/nli_ja_test.tsv: 30 items, 10 per label;
nli_ja_dev.tsv: 9 demonstrations). Prints accuracy (log-likelihood and generation), the 95%
bootstrap interval, the predicted-label distribution and the seconds of each run. Default
model: the embedded Gemma 3 270M base (XLING_MODEL unset), on the CPU in a few minutes.

    python experiments/bench/nli_ja_file.py [--model M] [--out runs/nli_ja_file]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEST, DEV = REPO / "tests" / "data" / "nli_ja_test.tsv", REPO / "tests" / "data" / "nli_ja_dev.tsv"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="default: $XLING_MODEL, else the embedded model")
    parser.add_argument("--out", default="runs/nli_ja_file")
    args = parser.parse_args()
    rows = []
    for shots in (0, 3):
        out = Path(args.out) / f"{shots}-shot"
        command = [sys.executable, "-m", "xling.cli", "eval", "nli", "--langs", "ja", "--mode", "both",
                   "--data", f"nli-file:{TEST}", "--shots", str(shots), "--out", str(out), "--overwrite"]
        if shots:
            command += ["--shots-file", str(DEV)]
        if args.model:
            command += ["--model", args.model]
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        cell = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["directions"]["ja"]
        rows.append({"shots": shots, "seconds": round(seconds, 1), "n": cell["n"],
                     **{f"{m}_{k}": cell[m][k] for m in ("ll", "gen")
                        for k in ("accuracy", "ci_low", "ci_high", "predicted")},
                     "gen_invalid_rate": cell["gen"]["invalid_rate"]})
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
