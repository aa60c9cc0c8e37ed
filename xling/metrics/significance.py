"""Paired significance for every metric, one engine: paired bootstrap resampling and
approximate randomization over per-segment sufficient statistics (BLEU/chrF, as sacrebleu
does) or segment scores (COMET, off-target).

Two-sided p-values count resamples at least as extreme as the observed difference (`>=`), so a
system compared with itself gets p = 1. (sacrebleu counts strictly greater ones, which gives
identical systems p ≈ 0.)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import XlingError
from .base import MetricResult

DEFAULT_SAMPLES = {"bs": 1000, "ar": 10000}


@dataclass
class PairedResult:
    system: str
    metric: str
    score: float
    baseline_score: float
    delta: float
    p_value: float
    mean: float | None       # bootstrap mean of the system's score
    ci_low: float | None     # 95% bootstrap interval of the system's score
    ci_high: float | None
    test: str
    samples: int
    seed: int
    higher_is_better: bool = True

    @property
    def better(self) -> bool:
        """Whether the system beats the baseline, by the metric's own direction."""
        return self.delta > 0 if self.higher_is_better else self.delta < 0

    @property
    def signature(self) -> str:
        return f"test:{self.test}|n:{self.samples}|seed:{self.seed}"

    def to_dict(self) -> dict:
        return asdict(self) | {"signature": self.signature, "better": self.better}


def _scores(result: MetricResult, summed: np.ndarray, n: int) -> np.ndarray:
    return np.array([result.aggregate(row, n) for row in summed])


def _resample_counts(rng, n: int, n_samples: int) -> np.ndarray:
    """How often each segment is drawn in each bootstrap resample (n_samples x n); summed
    statistics are then one matrix product instead of a (samples x n x d) gather."""
    idx = rng.integers(0, n, size=(n_samples, n))
    return np.stack([np.bincount(row, minlength=n) for row in idx]).astype(np.float64)


def _check(baseline: MetricResult, system: MetricResult):
    if baseline.stats is None or system.stats is None:
        raise XlingError(f"{system.name} carries no segment statistics to resample")
    if baseline.stats.shape != system.stats.shape:
        raise XlingError("paired tests need the same segments for every system "
                         f"({len(baseline.stats)} vs {len(system.stats)})")


def bootstrap_ci(result: MetricResult, n_samples: int = 1000, seed: int = 12345):
    """(mean, low, high) of the corpus score over bootstrap resamples (95% interval)."""
    n = len(result.stats)
    counts = _resample_counts(np.random.default_rng(seed), n, n_samples)
    scores = _scores(result, counts @ result.stats, n)
    return float(scores.mean()), float(np.percentile(scores, 2.5)), float(np.percentile(scores, 97.5))


def paired_test(baseline: MetricResult, systems: dict[str, MetricResult], test: str = "bs",
                n_samples: int | None = None, seed: int = 12345) -> list[PairedResult]:
    """Compare each system with the baseline on the same segments."""
    if test not in DEFAULT_SAMPLES:
        raise XlingError("test must be 'bs' (paired bootstrap) or 'ar' (approximate randomization)")
    n_samples = n_samples or DEFAULT_SAMPLES[test]
    results = []
    for name, system in systems.items():
        _check(baseline, system)
        n = len(system.stats)
        rng = np.random.default_rng(seed)   # the same draws for every system
        observed = abs(system.score - baseline.score)
        if test == "bs":
            counts = _resample_counts(rng, n, n_samples)
            sys_scores = _scores(system, counts @ system.stats, n)
            base_scores = _scores(baseline, counts @ baseline.stats, n)
            diffs = np.abs(sys_scores - base_scores)
            # Moses / sacrebleu: centre the resampled differences to form the null distribution.
            extreme = np.sum(diffs - diffs.mean() >= observed)
            mean, low, high = (float(sys_scores.mean()), float(np.percentile(sys_scores, 2.5)),
                               float(np.percentile(sys_scores, 97.5)))
        else:
            swap = rng.integers(0, 2, size=(n_samples, n)).astype(np.float64)
            keep = 1.0 - swap
            a = swap @ baseline.stats + keep @ system.stats    # each segment's pair shuffled
            b = keep @ baseline.stats + swap @ system.stats
            extreme = np.sum(np.abs(_scores(system, a, n) - _scores(baseline, b, n)) >= observed)
            mean = low = high = None
        results.append(PairedResult(
            system=name, metric=system.name, score=system.score, baseline_score=baseline.score,
            delta=system.score - baseline.score, p_value=float((extreme + 1) / (n_samples + 1)),
            mean=mean, ci_low=low, ci_high=high, test=test, samples=n_samples, seed=seed,
            higher_is_better=system.higher_is_better))
    return results


def delta_ci(baseline: MetricResult, system: MetricResult, n_samples: int = 1000, seed: int = 12345):
    """(delta, 95% low, 95% high, two-sided p) of system - baseline by paired bootstrap over the
    same segments (statistics resampled together, as in paired_test)."""
    _check(baseline, system)
    n = len(system.stats)
    counts = _resample_counts(np.random.default_rng(seed), n, n_samples)
    deltas = _scores(system, counts @ system.stats, n) - _scores(baseline, counts @ baseline.stats, n)
    observed = system.score - baseline.score
    extreme = np.sum(np.abs(deltas - deltas.mean()) >= abs(observed))
    return (float(observed), float(np.percentile(deltas, 2.5)), float(np.percentile(deltas, 97.5)),
            float((extreme + 1) / (n_samples + 1)))
