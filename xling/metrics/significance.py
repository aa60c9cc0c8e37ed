"""Paired significance for every metric, one engine: paired bootstrap resampling and
approximate randomization over per-segment sufficient statistics (BLEU/chrF/TER, as sacrebleu
does) or segment scores (COMET, off-target).

Both tests follow sacrebleu 2.6's procedure to the draw, so that `report`'s p-values equal
`sacrebleu --paired-bs` / `--paired-ar` with the same seed (12345, sacrebleu's default):

- paired bootstrap: `rng.choice(n, (samples, n))` resamples; the differences |sys - base| of the
  resampled scores, centred on their mean, are counted where strictly greater than the observed
  difference; p = (count + 1) / (samples + 1). Resampled sacrebleu statistics are summed in
  float32, as sacrebleu sums them.
- approximate randomization: `rng.integers(2, (samples, n), dtype=bool)` picks, per trial and
  segment, whether the two systems' outputs swap; trials whose |score difference| is strictly
  greater than the observed one are counted; p as above.

Strictly greater is sacrebleu's (and multeval's) choice: a system compared with itself gets the
smallest p, but its delta is 0, so it is never marked better or worse.

Those rules are kept for sacrebleu's own metrics (BLEU, chrF, chrF++, TER, spBLEU). For the
others (COMET, MetricX, judges, off-target), whose segment scores are often discrete, a count of
"strictly greater" misses the many resamples or shuffles that tie the observed difference on
the lattice: the bootstrap counts resampled signed differences at least as far from the observed
one as it is from 0 (two-sided, the null centred on the observation), randomization counts
shuffles at least as far as the observed one; a system compared with itself gets p = 1.

Intervals: for sacrebleu's metrics, the bootstrap mean ± half the gap between the n/40-th
lowest and highest resampled scores (sacrebleu's `estimate_ci`, printed as "mean ± half");
for the others, the 2.5-97.5 percentile interval of the resampled scores (printed "[low, high]").
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import asdict, dataclass
from typing import cast

import numpy as np

from ..errors import XlingError
from ..settings import BOUNDS
from .base import MetricResult
from .sacre import stats_metric

DEFAULT_SAMPLES = {"bs": 1000, "ar": 10000}
MAX_SAMPLES = cast(int, BOUNDS["bootstrap"][1])   # the CLI's bound (100,000), the same from Python


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
    ci_half: float | None = None   # sacrebleu's "± half" (its metrics only); else None
    digits: int = 2                # the metric's decimals (COMET's 0-1 scale: 4)
    judged_both: str | None = None   # a judge's: "4/8", the segments judged for both, tested on

    @property
    def better(self) -> bool:
        """Whether the system beats the baseline, by the metric's own direction."""
        return self.delta > 0 if self.higher_is_better else self.delta < 0

    @property
    def verdict(self) -> str | None:
        """"better" or "worse" at p < 0.05, in the metric's own direction; None otherwise, and
        always for a delta of 0 (equal scores get the smallest p by sacrebleu's design, but there
        is no difference to call)."""
        if not self.p_value < 0.05 or self.delta == 0:   # NaN (nothing to test) included
            return None
        return "better" if self.better else "worse"

    @property
    def signature(self) -> str:
        return f"test:{self.test}|n:{self.samples}|seed:{self.seed}"

    def interval(self, digits: int | None = None) -> str:
        """The interval as sacrebleu prints it for its metrics, else the percentile interval (at
        the metric's own decimals unless told)."""
        digits = self.digits if digits is None else digits
        if self.ci_half is not None:
            return f"{self.mean:.{digits}f} ± {self.ci_half:.{digits}f}"
        if self.ci_low is not None:
            return f"[{self.ci_low:.{digits}f}, {self.ci_high:.{digits}f}]"
        return ""

    def to_dict(self) -> dict:
        return asdict(self) | {"signature": self.signature, "better": self.better, "verdict": self.verdict}


def _is_sacrebleu(result: MetricResult) -> bool:
    return bool(result.scorer and result.scorer[0] == "sacrebleu")


def _stats(result: MetricResult) -> np.ndarray:
    """The result's per-segment statistics (an error if it carries none)."""
    result = _result(result, "result")
    if result.stats is None:
        raise XlingError(f"{result.name} carries no segment statistics to resample")
    return result.stats


def _bootstrap_indices(rng, n: int, n_samples: int) -> np.ndarray:
    return rng.choice(n, size=(n_samples, n), replace=True)


def _bootstrap_scores(result: MetricResult, idxs: np.ndarray) -> np.ndarray:
    """The corpus score of each bootstrap resample (rows of segment indices)."""
    stats = _stats(result)
    n = len(stats)
    if result.scorer is not None and _is_sacrebleu(result):
        # as sacrebleu: float32 statistics, summed per resample

        metric = stats_metric(result.scorer)
        stats32 = stats.astype(np.float32)
        scores = []
        for start in range(0, len(idxs), 100):
            for row in stats32[idxs[start:start + 100]].sum(1):
                scores.append(metric._compute_score_from_stats(row).score)
        return np.array(scores, dtype=np.float64)
    counts = np.stack([np.bincount(row, minlength=n) for row in idxs]).astype(np.float64)
    return np.array([result.aggregate(row, n) for row in counts @ stats])


def _scores(result: MetricResult, summed: np.ndarray, n: int) -> np.ndarray:
    return np.array([result.aggregate(row, n) for row in summed])


def sacrebleu_ci(scores: np.ndarray) -> tuple[float, float]:
    """(mean, half the gap between the n/40-th lowest and highest scores): sacrebleu's
    `estimate_ci`."""
    scores = np.sort(scores)
    low = len(scores) // 40
    return float(scores.mean()), float(0.5 * (scores[len(scores) - low - 1] - scores[low]))


def check_samples(n_samples: int | None, test: str) -> int:
    if n_samples is None:
        return DEFAULT_SAMPLES[test]
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or not 1 <= n_samples <= MAX_SAMPLES:
        raise XlingError(f"n_samples must be a whole number from 1 to {MAX_SAMPLES:,}, not {n_samples!r}")
    return int(n_samples)


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise XlingError(f"seed must be a whole number, 0 or more, not {seed!r}")
    return int(seed)


def _result(value, name: str) -> MetricResult:
    if not isinstance(value, MetricResult):
        raise XlingError(f"{name}: got a {type(value).__name__}; pass a metric's result "
                         "(what bleu(), chrf(), ter(), comet() return)")
    return value


# Signature fields that say how a score was run, not what it measures (batch size, xling's and
# sacrebleu's versions, how many of a judge's answers could be read): results differing only
# there are still paired.
_RUN_ONLY = ("bs", "impl", "parsed")
# sacrebleu's `version:2.6.0` is a package's version, run-only; MetricX's `version:metricx-24`
# is the model's own (other inputs, other scores): kept, also in signatures stored before now
_PACKAGE_VERSION = re.compile(r"\d[\w.+-]*")   # 2.6.0, 2.5.0.dev1


def _run_only(field: str) -> bool:
    key, _, value = field.partition(":")
    return key in _RUN_ONLY or key == "version" and _PACKAGE_VERSION.fullmatch(value) is not None


def _measure(signature: str) -> list[str]:
    fields = [f for f in signature.split("|") if not _run_only(f)]
    # a local checkpoint is named by its content's digest, not by the path typed to it
    # (models/comet and ./models/comet are one COMET: their paired test was refused)
    if any(f.startswith(("rev:sha256:", "rev:local-")) for f in fields):
        fields = [f for f in fields if not f.startswith("model:")]
    return fields


def same_measure(signature: str, other: str) -> bool:
    """Whether two signatures describe one measure (they may differ in run-only fields)."""
    return _measure(signature) == _measure(other)


def _check(baseline: MetricResult, system: MetricResult) -> tuple[np.ndarray, np.ndarray]:
    """The two results' statistics, checked to be there and to be one metric, computed the same
    way, on the same segments and references."""
    baseline, system = _result(baseline, "baseline"), _result(system, "system")
    if baseline.stats is None or system.stats is None:
        raise XlingError(f"{system.name} carries no segment statistics to resample")
    if baseline.name != system.name:
        raise XlingError(f"paired tests compare one metric: {baseline.name} vs {system.name}")
    if not same_measure(baseline.signature, system.signature):
        raise XlingError(f"paired tests need {system.name} computed the same way for every system: "
                         f"{baseline.signature} vs {system.signature}")
    if baseline.stats.shape != system.stats.shape:
        raise XlingError("paired tests need the same segments for every system "
                         f"({len(baseline.stats)} vs {len(system.stats)})")
    for key, what in (("segments_kept_digest", "segments (another subset)"),
                      ("references_digest", "references")):
        if baseline.extra.get(key) != system.extra.get(key) and key in baseline.extra and key in system.extra:
            raise XlingError(f"paired tests need the same {what} for every system")
    if bool(baseline.extra.get("segments_kept_digest")) != bool(system.extra.get("segments_kept_digest")):
        raise XlingError("paired tests need the same segments for every system (one result is of a subset)")
    return baseline.stats, system.stats


def resampled_scores(result: MetricResult, n_samples: int = 1000, seed: int = 12345) -> np.ndarray:
    """The corpus score of each of `n_samples` bootstrap resamples of the segments (NaN for a
    resample without a scorable segment)."""
    n_samples, seed = check_samples(n_samples, "bs"), check_seed(seed)
    return _bootstrap_scores(result, _bootstrap_indices(np.random.default_rng(seed), len(_stats(result)), n_samples))


def bootstrap_ci(result: MetricResult, n_samples: int = 1000, seed: int = 12345):
    """(mean, low, high) of the corpus score over bootstrap resamples (95% percentile interval)."""
    scores = resampled_scores(result, n_samples, seed)
    scores = scores[~np.isnan(scores)]   # resamples without a scorable segment are left out
    if not len(scores):   # nothing scorable (a judge's answers all unparsed): no interval
        return float("nan"), float("nan"), float("nan")
    return float(scores.mean()), float(np.percentile(scores, 2.5)), float(np.percentile(scores, 97.5))


def paired_test(baseline: MetricResult, systems: dict[str, MetricResult], test: str = "bs",
                n_samples: int | None = None, seed: int = 12345) -> list[PairedResult]:
    """Compare each system with the baseline on the same segments (sacrebleu's procedure: see
    the module's docstring)."""
    if test not in DEFAULT_SAMPLES:
        raise XlingError("test must be 'bs' (paired bootstrap) or 'ar' (approximate randomization)")
    n_samples, seed = check_samples(n_samples, test), check_seed(seed)
    if not isinstance(systems, dict):
        raise XlingError(f"systems: got a {type(systems).__name__}; pass a dict of name -> result, "
                         "e.g. {'new': bleu(new, refs)}")
    results = []
    for name, given in systems.items():
        _check(baseline, given)
        base, system, judged_both = judged_by_both(baseline, given)
        baseline_stats, system_stats = _stats(base), _stats(system)
        n = len(system_stats)
        rng = np.random.default_rng(seed)   # the same draws for every system
        observed = abs(system.score - base.score)
        mean = low = high = half = None
        if np.isnan(observed):   # a side without any scorable segment: no test, no verdict
            results.append(PairedResult(
                system=name, metric=system.name, score=system.score, baseline_score=base.score,
                delta=float("nan"), p_value=float("nan"), mean=None, ci_low=None, ci_high=None, test=test,
                samples=0, seed=seed, higher_is_better=system.higher_is_better, digits=system.digits,
                judged_both=judged_both))
            continue
        if test == "bs":
            idxs = _bootstrap_indices(rng, n, n_samples)
            sys_scores, base_scores = _bootstrap_scores(system, idxs), _bootstrap_scores(base, idxs)
            # A resample without a scorable segment (a judge's unparsed answers) has no score:
            # it is left out, and the test counts the resamples it used.
            scored = ~(np.isnan(sys_scores) | np.isnan(base_scores))
            signed = (sys_scores - base_scores)[scored]
            sys_scores, diffs = sys_scores[scored], np.abs(signed)
            if _is_sacrebleu(system):
                # sacrebleu's rule (to equal its p-values): resamples whose absolute difference,
                # less the resamples' mean, exceeds the observed one
                extreme = np.sum(diffs - diffs.mean() > observed)
            else:
                # On a discrete metric's lattice that mean almost never lies, so sacrebleu's rule
                # never fired (100% vs 50% off-target on 4 segments: p=0.0010 "better*", AR's
                # p=0.507). The null centred on the observed difference instead, two-sided, ties
                # counted: resamples at least as far from it as it is from 0.
                delta = system.score - base.score
                extreme = np.sum(np.abs(signed - delta) >= abs(delta) - 1e-9 * max(1.0, abs(delta)))
            mean, low, high = (float(sys_scores.mean()), float(np.percentile(sys_scores, 2.5)),
                               float(np.percentile(sys_scores, 97.5)))
            if _is_sacrebleu(system):
                mean, half = sacrebleu_ci(sys_scores)
        else:
            pos = rng.integers(2, size=(n_samples, n), dtype=bool)
            neg = ~pos
            a = pos @ baseline_stats + neg @ system_stats    # each segment's pair shuffled
            b = neg @ baseline_stats + pos @ system_stats
            trials = np.abs(_scores(system, a, n) - _scores(base, b, n))
            scored = ~np.isnan(trials)
            if _is_sacrebleu(system):   # sacrebleu's rule, kept to equal its p-values
                extreme = np.sum(trials[scored] > observed)
            else:
                # A mean of discrete segment scores (off-target 0/1, GEMBA's integers) lands on a
                # lattice: a shuffle often ties the observed difference exactly, and a tie is
                # as extreme (a permutation test counts it; with `>` 5 of 5 flips gave 0.0001).
                extreme = np.sum(trials[scored] >= observed - 1e-9 * max(1.0, abs(observed)))
        used = int(scored.sum())
        results.append(PairedResult(
            system=name, metric=system.name, score=system.score, baseline_score=base.score,
            delta=system.score - base.score, p_value=float((extreme + 1) / (used + 1)) if used else float("nan"),
            mean=mean, ci_low=low, ci_high=high, test=test, samples=used, seed=seed,
            higher_is_better=system.higher_is_better, ci_half=half, digits=system.digits,
            judged_both=judged_both))
    return results


def judged_by_both(baseline: MetricResult, system: MetricResult) -> tuple[MetricResult, MetricResult, str | None]:
    """A judge's scores (means over the segments whose answers could be read) restricted to the
    segments judged for both systems, and "k/n" of them; others as given. Each system's own mean
    was over its own segments: where a judge failed on B's hard segments, B was "better*" (p =
    0.005) though worse on every segment both had a score for."""
    if not (system.scorer and system.scorer[0] == "parsed-mean"):
        return baseline, system, None
    judged = _stats(baseline)[:, 1] > 0, _stats(system)[:, 1] > 0
    if (judged[0] == judged[1]).all():   # (the same segments already: each mean is over them)
        return baseline, system, None
    both = judged[0] & judged[1]

    def restricted(result: MetricResult) -> MetricResult:
        stats = _stats(result) * both[:, None]
        score = float(stats[:, 0].sum() / both.sum()) if both.any() else float("nan")
        return dataclasses.replace(result, score=score, stats=stats)

    return restricted(baseline), restricted(system), f"{int(both.sum())}/{len(both)}"


def delta_ci(baseline: MetricResult, system: MetricResult, n_samples: int = 1000, seed: int = 12345):
    """(delta, 95% low, 95% high, two-sided p) of system - baseline by paired bootstrap over the
    same segments (resampled together, as in paired_test). The interval and the p come from the
    same resampled differences, so they never disagree: p = 2 (far + 1) / (N + 1), `far` the
    differences on the far side of 0 (0 included; at most 1; a delta of 0 gets 1), and the
    interval the k-th smallest and largest of the N differences, k the most of them that may lie
    beyond 0 with p < 0.05 (24 of 1000). Interpolated percentiles left out 0 at p = 0.052 (25 of
    1000 on the far side). Below 40 resamples no p is below 0.05 and no such interval exists:
    fewer are refused, and where fewer than 40 resamples could be scored the interval is NaN."""
    _check(baseline, system)
    baseline, system, _ = judged_by_both(baseline, system)
    system_stats = _stats(system)
    n_samples, seed = check_samples(n_samples, "bs"), check_seed(seed)
    if n_samples < 40:
        raise XlingError(f"a 95% interval needs 40 resamples or more, not {n_samples} (no p is below 0.05 with fewer)")
    idxs = _bootstrap_indices(np.random.default_rng(seed), len(system_stats), n_samples)
    deltas = _bootstrap_scores(system, idxs) - _bootstrap_scores(baseline, idxs)
    deltas = deltas[~np.isnan(deltas)]   # resamples without a scorable segment are left out
    observed = system.score - baseline.score
    if np.isnan(observed) or not len(deltas):   # nothing scorable on a side: no interval, no test
        return float(observed), float("nan"), float("nan"), float("nan")
    far = min(np.sum(deltas <= 0), np.sum(deltas >= 0))
    n = len(deltas)
    # p < 0.05 <=> far + 1 < 0.025 (n + 1) <=> far <= k; the k-th smallest (0-based) is above 0
    # exactly where at most k differences are at or below it
    k = -(-(n + 1) // 40) - 2   # (in integers: 0.025 is no binary fraction)
    ordered = np.sort(deltas)
    low, high = (float(ordered[k]), float(ordered[n - 1 - k])) if k >= 0 else (float("nan"), float("nan"))
    return float(observed), low, high, float(min(1.0, 2 * (far + 1) / (n + 1)))
