"""comet_vs_unbabel: xling's own COMET regression scoring vs unbabel-comet's `predict`, one run.

A random-weight COMET-22-shaped checkpoint (XLM-R-base encoder shape: 12 layers, hidden 768,
sparsemax layer mix, estimator 3072-1024; its unigram tokenizer trained on FLORES-200 *dev*
text, since no pretrained tokenizer is reachable offline) scores the first N FLORES-200 devtest
en→ko pairs (the Korean reference of each as the "translation" of the next sentence, so scores
vary) in fp32 on the CPU, once through unbabel-comet 2.2.7 and once through xling. Prints both
times, the ratio, and the largest segment difference.

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
    import torch
    from comet.models import RegressionMetric

    from tiny_models import _save_comet, _tiny_xlmr_encoder

    encoder_dir = _tiny_xlmr_encoder(folder, corpus=corpus, vocab_size=8000, hidden=768, layers=12,
                                     heads=12, ff=3072, positions=514)
    metric = RegressionMetric(encoder_model="XLM-RoBERTa", pretrained_model=str(encoder_dir),
                              layer_transformation="sparsemax", layer_norm=False, hidden_sizes=[3072, 1024],
                              dropout=0.0, batch_size=16)
    with torch.no_grad():
        for parameter in metric.layerwise_attention.scalar_parameters:
            parameter.uniform_(-1.0, 1.0)
    return _save_comet(folder, metric)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    root = require_data(args.data_dir)
    from comet import load_from_checkpoint

    from xling.data.languages import resolve
    from xling.data.parallel import flores_pairs
    from xling.metrics.comet import comet

    en, ko = resolve("en"), resolve("ko")
    dev = flores_pairs("dev", en, ko, root)
    test = flores_pairs("devtest", en, ko, root)[:args.n]
    srcs, refs = [s for s, _ in test], [t for _, t in test]
    hyps = refs[1:] + refs[:1]
    times: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        ckpt = build_checkpoint(Path(folder) / "comet", [s for pair in dev for s in pair])
        with timer(times, "unbabel_comet_s"):
            theirs = load_from_checkpoint(str(ckpt)).predict(
                [{"src": s, "mt": h, "ref": r} for s, h, r in zip(srcs, hyps, refs)],
                batch_size=args.batch_size, gpus=0, progress_bar=False).scores
        with timer(times, "xling_s"):
            ours = comet(hyps, refs, srcs, model=str(ckpt), batch_size=args.batch_size, gpus=0).segments
    report = {"segments": len(srcs), "batch_size": args.batch_size, **{k: round(v, 2) for k, v in times.items()},
              "xling_speedup": round(times["unbabel_comet_s"] / times["xling_s"], 2),
              "max_abs_difference": max(abs(a - b) for a, b in zip(ours, theirs))}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
