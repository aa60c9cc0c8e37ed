"""comet_vs_unbabel: xling's own COMET regression scoring vs unbabel-comet's `predict`, one run.

A random-weight COMET-22-shaped checkpoint (XLM-R-base encoder shape: 12 layers, hidden 768,
sparsemax layer mix, estimator 3072-1024; its unigram tokenizer trained on FLORES-200 *dev*
text, since no pretrained tokenizer is reachable offline), written in COMET's published layout,
scores the first N FLORES-200 devtest en→ko pairs (the Korean reference of each as the
"translation" of the next sentence, so scores vary) in fp32 on the CPU: once through
unbabel-comet 2.2.7 in the reference venv (tests/oracle; build it with
`bash tests/oracle/build.sh`), once through xling here. Both times count loading the checkpoint
and scoring (not starting Python). Prints both, the ratio, and the largest segment difference.

    python experiments/bench/comet_vs_unbabel.py [--n 200] [--batch-size 16] [--data-dir D]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from _common import require_data, timer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))


def build_checkpoint(folder: Path, corpus: list[str]) -> Path:
    from tiny_models import build_comet_variant

    folder.mkdir()
    return build_comet_variant(folder, "XLM-RoBERTa", layer_transformation="sparsemax", layer_norm=False,
                               hidden_sizes=[3072, 1024], batch_size=16,
                               encoder_sizes=dict(corpus=corpus, vocab_size=8000, hidden=768, layers=12,
                                                  heads=12, ff=3072, positions=514))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    root = require_data(args.data_dir)
    from oracle import Oracle, missing_reason

    from xling.data.languages import resolve
    from xling.data.parallel import flores_pairs
    from xling.metrics.comet_scoring import comet

    if missing_reason():
        sys.exit(f"comet_vs_unbabel: {missing_reason()}")
    en, ko = resolve("en"), resolve("ko")
    dev = flores_pairs("dev", en, ko, root)
    test = flores_pairs("devtest", en, ko, root)[:args.n]
    srcs, refs = [s for s, _ in test], [t for _, t in test]
    hyps = refs[1:] + refs[:1]
    times: dict = {}
    oracle = Oracle()
    try:
        with tempfile.TemporaryDirectory() as folder:
            ckpt = build_checkpoint(Path(folder) / "comet", [s for pair in dev for s in pair])
            theirs = oracle("comet", checkpoint=str(ckpt), batch_size=args.batch_size,
                            samples=[{"src": s, "mt": h, "ref": r} for s, h, r in zip(srcs, hyps, refs)])
            times["unbabel_comet_s"] = theirs["seconds"]
            with timer(times, "xling_s"):
                ours = comet(hyps, refs, srcs, model=str(ckpt), batch_size=args.batch_size, gpus=0).segments
        versions = oracle("versions")
    finally:
        oracle.close()
    from importlib.metadata import version

    report = {"segments": len(srcs), "batch_size": args.batch_size, **{k: round(v, 2) for k, v in times.items()},
              "xling_speedup": round(times["unbabel_comet_s"] / times["xling_s"], 2),
              "max_abs_difference": max(abs(a - b) for a, b in zip(ours, theirs["scores"])),
              "xling_stack": {n: version(n) for n in ("transformers", "numpy", "torch")},
              "oracle_stack": versions}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
