"""metaeval_scale: the segment-level meta-measures of xling.metaeval.measures at WMT scale
(10,000 segments x 20 systems = 200,000 scores, 1.9 M system pairs within segments).

Random scores with ties: human scores are MQM-like penalties (a few integer levels, many ties);
the metric is a noisy function of them rounded to 3 decimals (metric ties, and thousands of
distinct pairwise differences, i.e. candidate epsilons for acc_eq). Timed:

- acc_eq_calibrated (one sort of all pair differences, then a cumulative sweep);
- kendall_by_item (tau-b per segment, vectorised over segments);
- kendall_tau_b on the flattened 200,000 items (O(n log n));
- a naive acc_eq baseline that recomputes every segment's acc_eq from scratch for every
  candidate epsilon (vectorised over pairs, so O(candidates x pairs)), run on the first
  `--subset` segments only. Its full-size time is an EXTRAPOLATION, not a measurement:
  subset seconds x (full candidates / subset candidates) x (full pairs / subset pairs), with
  the full-size candidate count counted exactly. The baseline's answer on the subset is checked
  against acc_eq_calibrated's on the same subset.

Prints one JSON object (seconds, the extrapolation, the ratio). `--small`: 1,000 segments and a
50-segment baseline, a few seconds.

    python experiments/bench/metaeval_scale.py [--small] [--segments N] [--systems S] [--subset K] [--out F]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from _common import timer  # also puts the repository on sys.path

from xling.metaeval import measures


def make_scores(systems: int, segments: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(metric, human), systems x segments, both higher-is-better, both with ties."""
    rng = np.random.default_rng(seed)
    penalties = np.array([0, 0, 0, 0, 1, 1, 5, 5, 10, 25], dtype=float)     # MQM-like: mostly 0
    human = -rng.choice(penalties, size=(systems, segments)) - rng.choice(penalties, size=(systems, segments))
    quality = rng.normal(size=(systems, 1)) * 0.05                          # some systems are better
    metric = np.round(0.1 * human + quality + rng.normal(scale=0.2, size=(systems, segments)), 3)
    return metric, human


def naive_acc_eq(metric: np.ndarray, human: np.ndarray) -> tuple[float, float, int]:
    """The baseline: for every candidate epsilon, every segment's acc_eq recomputed from all its
    pairs; (best mean, its epsilon (the first best), number of candidates)."""
    i, j = np.triu_indices(metric.shape[0], 1)
    dm = np.abs(metric[i] - metric[j])          # (pairs per segment, segments)
    dh = human[i] - human[j]
    human_tie = dh == 0
    ordered_alike = np.sign(metric[i] - metric[j]) == np.sign(dh)
    candidates = np.unique(np.concatenate(([0.0], dm.ravel())))
    best, best_eps = -1.0, 0.0
    for eps in candidates:
        metric_tie = dm <= eps
        correct = np.where(metric_tie, human_tie, ordered_alike & ~human_tie)
        mean = float(correct.mean(axis=0).mean())
        if mean > best + 1e-12:
            best, best_eps = mean, float(eps)
    return best, best_eps, int(candidates.size)


def candidate_count(metric: np.ndarray) -> int:
    i, j = np.triu_indices(metric.shape[0], 1)
    return int(np.unique(np.concatenate(([0.0], np.abs(metric[i] - metric[j]).ravel()))).size)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1,000 segments, a 50-segment baseline")
    parser.add_argument("--segments", type=int, default=None, help="default 10000 (1000 with --small)")
    parser.add_argument("--systems", type=int, default=20)
    parser.add_argument("--subset", type=int, default=None, help="segments for the naive baseline (default 200; 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    segments = args.segments or (1000 if args.small else 10_000)
    subset = min(args.subset or (50 if args.small else 200), segments)
    metric, human = make_scores(args.systems, segments, args.seed)
    pairs_per_segment = args.systems * (args.systems - 1) // 2

    times: dict[str, float] = {}
    with timer(times, "acc_eq_calibrated"):
        accuracy, epsilon = measures.acc_eq_calibrated(metric, human)
    with timer(times, "kendall_by_item"):
        by_item = measures.kendall_by_item(metric, human)
    with timer(times, "kendall_tau_b_flattened"):
        flat = measures.kendall_tau_b(metric.ravel(), human.ravel())
    with timer(times, "naive_acc_eq_subset"):
        naive_value, naive_eps, subset_candidates = naive_acc_eq(metric[:, :subset], human[:, :subset])
    fast_subset = measures.acc_eq_calibrated(metric[:, :subset], human[:, :subset])
    full_candidates = candidate_count(metric)
    naive_full = times["naive_acc_eq_subset"] * (full_candidates / subset_candidates) * (segments / subset)

    report = {
        "systems": args.systems,
        "segments": segments,
        "scores": args.systems * segments,
        "system_pairs": pairs_per_segment * segments,
        "candidate_epsilons": full_candidates,
        "seconds": {name: round(value, 4) for name, value in times.items()},
        "values": {"acc_eq": accuracy, "epsilon": epsilon, "kendall_by_item": by_item, "kendall_tau_b": flat},
        "naive_baseline": {
            "subset_segments": subset,
            "subset_candidate_epsilons": subset_candidates,
            "subset_seconds": round(times["naive_acc_eq_subset"], 4),
            "agrees_with_acc_eq_calibrated_on_subset": bool(abs(naive_value - fast_subset[0]) < 1e-12
                                                             and naive_eps == fast_subset[1]),
            "extrapolated_full_seconds": round(naive_full, 2),
            "extrapolation": "subset seconds x (full candidates / subset candidates) x (segments / subset segments); "
                             "an estimate, not a measurement",
        },
        "ratio_naive_extrapolated_over_acc_eq_calibrated": round(naive_full / times["acc_eq_calibrated"], 1),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return report


if __name__ == "__main__":
    main()
