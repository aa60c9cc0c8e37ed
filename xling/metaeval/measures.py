"""Meta-evaluation statistics of the WMT metrics task, as google-research/mt-metrics-eval (MTME)
defines them: how well a metric's scores agree with human scores.

Conventions shared by every function here:

- Both metric and human scores are "higher is better"; a caller negates error-like scores
  (MQM penalties, TER, ...) first.
- Argument order is always (metric, human). MTME's public functions take (gold, metric); the
  symmetric statistics do not care, the asymmetric ones (acc_eq's ties) are written the MTME way
  round internally.
- Segment-level inputs are 2-D arrays of systems x segments (one row per system), i.e. MTME's
  packed "system-major" vectors reshaped to (num_sys, -1).
- A NaN in the *human* scores means "no judgement" and that cell is left out, as MTME leaves out
  a gold score of None (`stats.filter_gold_nones`, `tau_optimization._enumerate_pairs`). A NaN in
  the *metric* scores is not a missing value: it propagates as it does through scipy in MTME
  (the statistic that sees it becomes NaN), except where a docstring says otherwise.

The references to MTME below are to files of github.com/google-research/mt-metrics-eval
(`mt_metrics_eval/stats.py`, `tau_optimization.py`, `pce.py`, `data.py`, `tasks.py`).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike

from ..errors import XlingError


class MeasureInputError(XlingError, ValueError):
    """Inputs a measure cannot take (sizes or shapes that differ, NaN where none may be): a
    ValueError to a notebook, one line to the CLI."""

__all__ = ["pearson", "kendall_tau_b", "pairwise_accuracy", "soft_pairwise_accuracy", "kendall_by_item",
           "acc_eq_calibrated", "paired_permutation_test"]


# --------------------------------------------------------------------------------------------------
# Small helpers


def _vectors(metric: ArrayLike, human: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Both inputs flattened to float vectors of the same length, cells without a human score removed."""
    x = np.asarray(metric, dtype=float).ravel()
    y = np.asarray(human, dtype=float).ravel()
    if x.shape != y.shape:
        raise MeasureInputError(f"metric and human scores differ in size: {x.size} vs {y.size}")
    keep = ~np.isnan(y)
    return x[keep], y[keep]


def _matrices(metric: ArrayLike, human: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Both inputs as float matrices of the same shape, systems x segments."""
    m = np.asarray(metric, dtype=float)
    h = np.asarray(human, dtype=float)
    if m.shape != h.shape:
        raise MeasureInputError(f"metric and human scores differ in shape: {m.shape} vs {h.shape}")
    if m.ndim != 2:
        raise MeasureInputError(f"expected a 2-D array of systems x segments, got shape {m.shape}")
    return m, h


def _pair_indices(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (i, j), i < j, of every unordered pair of n rows."""
    first, second = np.triu_indices(n, 1)
    return first, second


def _differences(values: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """values[first] - values[second], with equal values giving 0 even when infinite (inf - inf
    is NaN; scipy and MTME count two equal infinite scores as a tie)."""
    a, b = values[first], values[second]
    with np.errstate(invalid="ignore"):
        return np.where(a == b, 0.0, a - b)


def _tied_pairs(values: np.ndarray) -> int:
    """Number of unordered pairs of equal values in a vector."""
    _, counts = np.unique(values, return_counts=True)
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def _count_inversions(ranks: np.ndarray) -> int:
    """Pairs i < j with ranks[i] > ranks[j] (strictly), for non-negative integer ranks.

    A bottom-up merge sort done with numpy: at each level, blocks of `width` sorted values are
    merged pairwise by one stable argsort on (block number, value). Because the sort is stable, a
    value of a right half lands after every value of its left half that is <= it, so the number of
    left values it jumped over (the left values strictly greater) is read off its new position.
    Each level is one stable sort of runs already in order (timsort merges them in linear time),
    so the whole count is O(n log n).
    """
    values = np.asarray(ranks, dtype=np.int64)
    n = values.size
    if n < 2:
        return 0
    span = int(values.max()) + 1
    position = np.arange(n, dtype=np.int64)
    landed = np.empty(n, dtype=np.int64)
    inversions = 0
    width = 1
    while width < n:
        block = position // (2 * width)
        order = np.argsort(block * span + values, kind="stable")
        landed[order] = position
        within = position - block * 2 * width          # place inside the merged block, before merging
        right = within >= width                        # the second half of a block (its first is full)
        new_place = landed[right] - block[right] * 2 * width
        index_in_right = within[right] - width
        # new_place - index_in_right = left values placed before it (all <= it); the rest are > it
        inversions += int((width - (new_place - index_in_right)).sum())
        values = values[order]
        width *= 2
    return inversions


def _as_value(result: Any) -> float:
    """A measure's result as a float: the first element of a tuple (acc_eq_calibrated gives
    (accuracy, epsilon); MTME's correlation functions give (corr, p, ...) and MTME reads [0])."""
    if isinstance(result, tuple):
        result = result[0]
    return float(result)


# --------------------------------------------------------------------------------------------------
# Correlations over one vector


def pearson(x: ArrayLike, y: ArrayLike) -> float:
    """Pearson's r between metric scores `x` and human scores `y` (any shape; flattened).

    MTME: `stats.Correlation.Pearson` calls scipy.stats.pearsonr and, when either vector is
    constant, replaces the result by NaN (`AverageCorrelation.Corr`; scipy >= 1.4 would give 0
    or warn). Same here: NaN for a constant vector or fewer than two scored items. Cells whose
    human score is NaN are dropped; a NaN metric score gives NaN.
    """
    a, b = _vectors(x, y)
    if a.size < 2 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return math.nan    # scipy: NaN for an infinite score too
    if np.all(a == a[0]) or np.all(b == b[0]):
        return math.nan
    # scaled to at most 1 first: sums of squares of 1e160 overflow, of 1e-170 underflow
    da = a / np.abs(a).max()
    db = b / np.abs(b).max()
    da = da - da.mean()
    db = db - db.mean()
    sa = float(np.dot(da, da))
    sb = float(np.dot(db, db))
    if sa == 0.0 or sb == 0.0:
        return math.nan
    r = float(np.dot(da / math.sqrt(sa), db / math.sqrt(sb)))
    return max(-1.0, min(1.0, r))


def kendall_tau_b(x: ArrayLike, y: ArrayLike) -> float:
    """Kendall's tau-b between metric scores `x` and human scores `y` (any shape; flattened).

    MTME: `stats.Correlation.Kendall` (variant 'b') is scipy.stats.kendalltau's default; with
    average_by='none' a segment-level matrix is flattened into one vector, which is why this must
    scale: 10,000 segments x 20 systems is 200,000 items. Knight's O(n log n) algorithm:

        n0 = n(n-1)/2 pairs; n1 = pairs tied in x; n2 = pairs tied in y; n3 = tied in both;
        D = discordant pairs = inversions of y once the items are sorted by (x, y);
        C - D = n0 - n1 - n2 + n3 - 2D;
        tau_b = (C - D) / sqrt((n0 - n1) (n0 - n2)).

    NaN (as scipy and MTME) when either vector is constant or there are fewer than two items.
    Cells whose human score is NaN are dropped; a NaN metric score gives NaN (scipy's default
    nan_policy='propagate').
    """
    a, b = _vectors(x, y)
    n = a.size
    if n < 2 or np.isnan(a).any():
        return math.nan
    order = np.lexsort((b, a))                         # by x, then by y within equal x
    a, b = a[order], b[order]
    pairs = n * (n - 1) // 2
    tied_x = _tied_pairs(a)
    tied_y = _tied_pairs(b)
    new_run = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1]), True]
    run_lengths = np.diff(np.flatnonzero(new_run)).astype(np.int64)
    tied_both = int((run_lengths * (run_lengths - 1) // 2).sum())
    if tied_x == pairs or tied_y == pairs:
        return math.nan
    _, ranks = np.unique(b, return_inverse=True)
    discordant = _count_inversions(ranks.ravel())
    difference = pairs - tied_x - tied_y + tied_both - 2 * discordant   # C - D
    # one rounding (an exact int product under the root), then clipped as scipy does: a perfect
    # order must give exactly +-1, never 1.0000000000000002
    tau = difference / math.sqrt((pairs - tied_x) * (pairs - tied_y))
    return min(1.0, max(-1.0, tau))


# --------------------------------------------------------------------------------------------------
# System level


def pairwise_accuracy(metric_sys: ArrayLike, human_sys: ArrayLike) -> float:
    """Pairwise accuracy of Kocmi et al. (2021) over one set of system scores.

    MTME: `stats.Agreement`, used by `data.CompareMetricsWithGlobalAccuracy`. Every unordered pair
    of systems counts (none is left out), and a pair is correct when
    sign(human_i - human_j) == sign(metric_i - metric_j). Consequences for ties, as in MTME:

    - a pair tied by the humans is correct only if the metric ties it exactly too;
    - a pair the humans order is wrong if the metric ties it.

    MTME pools the counts of several language pairs (sum of agreements / sum of pairs); for one
    set this is agreements / pairs. Systems without a human score (NaN) are left out, as MTME
    skips a gold None; a NaN metric score makes its pairs wrong (np.sign(nan) equals nothing),
    as in MTME. NaN when fewer than two systems remain (MTME would divide by zero).
    """
    m, h = _vectors(metric_sys, human_sys)
    if m.size < 2:
        return math.nan
    i, j = _pair_indices(m.size)
    agree = np.sign(_differences(h, i, j)) == np.sign(_differences(m, i, j))
    return int(agree.sum()) / i.size


def _sign_flips(samples: int, segments: int, seed: int) -> np.ndarray:
    """samples x segments of +1/-1 in float32, drawn the way MTME's `pce.compute_pairwise_p_values`
    draws them: uniform float32 in [0, 1) from numpy's default_rng(seed), rounded to 0/1, then
    2m - 1. The same seed gives MTME's very draws."""
    rng = np.random.default_rng(seed)
    flips = np.rint(rng.random(size=(samples, segments), dtype=np.float32))
    return flips * np.float32(2.0) - np.float32(1.0)


def _pairwise_p_values(scores: np.ndarray, flips: np.ndarray) -> np.ndarray:
    """For every system pair i < j (in np.triu_indices order), the one-sided p-value of a paired
    permutation test that system i is better than system j. MTME's `pce.compute_pairwise_p_values`:
    the statistic is the difference of the two systems' segment-score *sums* (not means; the same
    test); a permutation swaps the two systems' scores on a random set of segments, which flips
    the sign of that segment's difference; p = share of permutations whose difference is >= the
    observed one (no +1 correction; the observed, all-unflipped arrangement is not added). The
    arithmetic is float32, as in MTME."""
    # C order as MTME's input always is: float32 sums round by memory layout, and a masked
    # matrix arrives in Fortran order (MQM's 0.1 grid makes exact ties that then flip)
    values = np.ascontiguousarray(scores, dtype=np.float32)
    totals = values.sum(axis=1)                         # (systems,)
    permuted = flips @ values.T                         # (samples, systems)
    i, j = _pair_indices(values.shape[0])
    null = permuted[:, i] - permuted[:, j]              # (samples, pairs)
    observed = totals[i] - totals[j]                    # (pairs,)
    return (null >= observed).sum(axis=0) / flips.shape[0]


def soft_pairwise_accuracy(metric_seg: ArrayLike, human_seg: ArrayLike, *, samples: int = 1000,
                           seed: int = 0) -> float:
    """Soft pairwise accuracy (Thompson et al., 2024), i.e. MTME's 1 - PCE (pairwise confidence
    error), from segment scores: systems x segments, no missing values.

    MTME: `stats.PairwiseConfidenceError` -> `pce.compute_pairwise_p_values` (once for the humans,
    once for the metric) and `pce.compute_one_minus_pce`. For each pair of systems i < j, a
    one-sided paired permutation test over segments gives the p-value that i is better than j
    (see `_pairwise_p_values`), once from the human scores and once from the metric's; SPA is the
    mean over pairs of 1 - |p_human - p_metric|. Human and metric p-values use the *same* random
    sign flips (MTME seeds both calls identically, and draws the flips once for all pairs).

    `samples` is MTME's num_permutations. `seed` is the default_rng seed; MTME's default is 4
    (`compute_pairwise_p_values(..., seed=4)`, which `PairwiseConfidenceError` does not change),
    so pass seed=4 to reproduce MTME's numbers exactly; this API's default is 0.
    """
    m, h = _matrices(metric_seg, human_seg)
    if np.isnan(m).any() or np.isnan(h).any():
        raise MeasureInputError("soft_pairwise_accuracy needs a score for every system and segment (no NaN)")
    if m.shape[0] < 2:
        return math.nan
    flips = _sign_flips(samples, m.shape[1], seed)
    p_human = _pairwise_p_values(h, flips)
    p_metric = _pairwise_p_values(m, flips)
    return float(1.0 - np.mean(np.abs(p_human - p_metric)))


# --------------------------------------------------------------------------------------------------
# Segment level, grouped by item


def kendall_by_item(metric_seg: ArrayLike, human_seg: ArrayLike, *, undefined: float = 0.0) -> float:
    """Segment-level Kendall's tau-b "grouped by item": for each segment (column of the systems x
    segments matrices), tau-b between the systems' metric and human scores; then the plain mean
    over segments.

    MTME: `stats.Correlation.Kendall(average_by='item')` -> `AverageCorrelation.Corr` with
    scipy.stats.kendalltau. Per segment, systems without a human score are dropped; a segment with
    fewer than two scored systems is skipped; a segment whose tau is NaN (human or metric scores
    all equal there, or a NaN metric score, which scipy propagates) is left out of the mean
    (MTME's default replace_nans_with_zeros=False). If no segment has a tau the result is
    `undefined`: by default 0.0, MTME's value in that case (`return ... if n else (0, 0, 0)`).

    Computed over system pairs, vectorised across segments: O(segments x systems^2).
    """
    m, h = _matrices(metric_seg, human_seg)
    systems, segments = m.shape
    if systems < 2 or segments == 0:
        return undefined
    i, j = _pair_indices(systems)
    total, counted = 0.0, 0
    chunk = max(1, 2_000_000 // i.size)
    for start in range(0, segments, chunk):
        mm, hh = m[:, start:start + chunk], h[:, start:start + chunk]
        poisoned = (np.isnan(mm) & ~np.isnan(hh)).any(axis=0)
        dm = _differences(mm, i, j)                     # (pairs, segments)
        dh = _differences(hh, i, j)
        valid = ~np.isnan(dh)
        pairs = valid.sum(axis=0)
        concordance = np.where(valid, np.sign(dm) * np.sign(dh), 0.0).sum(axis=0)   # C - D
        tied_metric = (valid & (dm == 0)).sum(axis=0)
        tied_human = (valid & (dh == 0)).sum(axis=0)
        defined = (pairs > 0) & (tied_metric < pairs) & (tied_human < pairs) & ~poisoned
        if defined.any():
            # one rounding of an exact int product, clipped: a perfect segment counts as exactly 1
            untied = (pairs - tied_metric)[defined].astype(np.int64) * (pairs - tied_human)[defined]
            tau = np.clip(concordance[defined] / np.sqrt(untied.astype(float)), -1.0, 1.0)
            total += float(tau.sum())
            counted += int(defined.sum())
    return total / counted if counted else undefined


def acc_eq_calibrated(metric_seg: ArrayLike, human_seg: ArrayLike) -> tuple[float, float]:
    """Pairwise accuracy with tie calibration (acc_eq; Deutsch et al., 2023), grouped by item.
    Returns (best average acc_eq, its epsilon).

    MTME: `stats.KendallWithTiesOpt(variant='acc23', average_by='item', sample_rate=1.0)` (the
    WMT23-25 segment-level task in `tasks.py`), which runs `tau_optimization.tau_optimization`
    with `TauSufficientStats.acc_23` over the items (rows of its items x systems matrix, columns
    here):

    - For a segment and a pair of systems: human tie if h_i == h_j; metric tie if
      |m_i - m_j| <= epsilon. The pair is correct if both are ties, or neither is and they order
      the pair the same way. A segment's acc_eq = correct pairs / its pairs ((C + T_hm) / n).
    - One epsilon for the whole set; the score is the plain mean of acc_eq over the segments that
      have at least one pair (two systems with a human score).
    - Candidates: 0 and every distinct |m_i - m_j| of a scored pair; the best is the candidate
      with the largest mean, the smallest such epsilon on a tie (MTME: np.nanargmax over the
      thresholds in ascending order).

    The sweep: sort all pairs by |m_i - m_j| once; raising epsilon past a pair's difference turns
    it into a metric tie, which changes its segment's correct count by +1 (human tie), -1 (was
    concordant) or 0, so the segment's acc_eq by that / n_segment, and the mean by that / (n_segment
    x segments). MTME updates each segment's stats pair by pair; here the same running sum is a
    cumulative sum in sorted order, and it is kept in integers (each segment's weight is
    lcm(pair counts) / its pair count) so that equal candidates compare equal exactly. O(P log P)
    for P pairs.

    Where this differs from MTME: the value is the same (to rounding); the epsilon can differ when
    several candidates reach exactly the same best mean. MTME keeps a floating running sum, so
    such candidates differ by rounding noise (~1e-16) and its "first maximum" may be any of them;
    here they compare equal and the smallest is returned (in a check against MTME on 200 random
    tied inputs, 8 such cases, every one an exact tie). Missing human scores (NaN) are
    dropped per segment as MTME drops None (both a None human and a None metric score drop the
    cell in `_enumerate_pairs`; so does NaN here, for either). Without any pair: (NaN, 0.0), where
    MTME would divide by zero. A 1-D input is one group (MTME expands it to one row).
    """
    m = np.asarray(metric_seg, dtype=float)
    h = np.asarray(human_seg, dtype=float)
    if m.shape != h.shape:
        raise MeasureInputError(f"metric and human scores differ in shape: {m.shape} vs {h.shape}")
    if m.ndim == 1:
        m, h = m[:, None], h[:, None]
    elif m.ndim != 2:
        raise MeasureInputError(f"expected a 2-D array of systems x segments, got shape {m.shape}")
    i, j = _pair_indices(m.shape[0])
    dm = _differences(m, i, j)                          # (system pairs, segments)
    dh = _differences(h, i, j)
    valid = ~(np.isnan(dm) | np.isnan(dh))
    per_segment = valid.sum(axis=0).astype(np.int64)    # pairs in each segment
    counted = per_segment > 0
    segments = int(counted.sum())
    if segments == 0:
        return math.nan, 0.0
    correct_now = valid & (np.sign(dm) == np.sign(dh))  # concordant, or tied by both
    correct_tied = valid & (dh == 0)                    # its state once the metric calls it a tie
    change = correct_tied.astype(np.int64) - correct_now.astype(np.int64)

    # Each segment's weight: exact integers when they fit, else floats.
    common = 1
    for count in np.unique(per_segment[counted]).tolist():
        common = math.lcm(common, int(count))
    exact = common * segments < 2**62
    weight: np.ndarray
    if exact:
        weight = np.zeros(per_segment.shape, dtype=np.int64)
        weight[counted] = common // per_segment[counted]
    else:
        weight = np.zeros(per_segment.shape, dtype=float)
        weight[counted] = 1.0 / per_segment[counted]
    start = (correct_now.sum(axis=0) * weight).sum()    # the mean at epsilon 0, times `scale`
    scale = common * segments if exact else segments

    diffs = np.abs(dm[valid])
    steps = (change * weight[None, :])[valid]
    order = np.argsort(diffs, kind="stable")
    diffs = diffs[order]
    running = np.cumsum(steps[order])
    candidates = np.unique(np.concatenate(([0.0], diffs)))
    last = np.searchsorted(diffs, candidates, side="right") - 1     # last pair tied at each candidate
    totals = start + np.where(last >= 0, running[np.maximum(last, 0)], 0)
    best = int(np.argmax(totals))                      # first maximum: the smallest epsilon
    if exact:
        value = int(totals[best]) / scale               # int / int: the correctly rounded float
    else:
        value = float(totals[best]) / scale
    return value, float(candidates[best])


# --------------------------------------------------------------------------------------------------
# Significance of a difference between two metrics


def _standardise(scores: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """z-scores (mean 0, population standard deviation 1) computed over `cells`, as MTME's
    scipy.stats.zscore (ddof=0). A constant metric is only centred, where scipy would give NaN."""
    out = scores.astype(float).copy()
    chosen = out[cells]
    finite = chosen[~np.isnan(chosen)]
    if finite.size == 0:
        return out
    mean = finite.mean()
    spread = finite.std()
    out[cells] = (chosen - mean) / spread if spread > 0 else chosen - mean
    return out


def paired_permutation_test(measure: Callable[[np.ndarray, np.ndarray], Any], metric_a: ArrayLike,
                            metric_b: ArrayLike, human: ArrayLike, *, samples: int = 1000,
                            seed: int = 0) -> float:
    """One-sided p-value for "metric a agrees with the humans no better than metric b", by
    `measure(metric, human)` (any function of this module; a tuple result is read at [0], so
    acc_eq_calibrated gives its calibrated accuracy, recalibrated for every permutation).

    MTME: `stats.PermutationSigDiff` (PERM-BOTH of Deutsch et al. 2021), `perm_test='scores'`;
    metric a here is its metric2 (the one hypothesised better), b its metric1:

    1. Each metric's scores are standardised (z-scores over the cells with a human score; over
       all cells for acc_eq_calibrated, as MTME does for KendallWithTiesOpt), so that two metrics
       on different scales can trade scores.
    2. observed = measure(a, human) - measure(b, human), on the standardised scores.
    3. Each of `samples` permutations swaps a's and b's scores independently, with probability
       1/2, in every single cell: for segment-level input each (system, segment) score, for
       system-level input each system's score (MTME draws a Bernoulli(1/2) per element of the
       flattened vectors; it does not swap whole segments).
    4. p = (number of permutations with measure(a', human) - measure(b', human) >= observed)
       / samples; no +1 correction. Identical metrics give p = 1.

    A NaN measure counts as 0 (MTME's `_Corr` returns 0 when no value is defined).
    Where this differs from MTME: the random stream (numpy's default_rng(seed) rather than the
    global np.random); no early stopping (MTME's defaults check only at multiples of 1000 samples,
    stopping when p < 0.02 or p > 0.5, so for samples <= 1000 the two agree); a constant metric is
    centred rather than turned into NaN by z-scoring. WMT23-25 test acc_eq with MTME's other test,
    `PairwisePermutationSigDiff` (swapping pairwise comparisons at fixed epsilons), which this
    function does not implement.
    """
    a = np.asarray(metric_a, dtype=float)
    b = np.asarray(metric_b, dtype=float)
    gold = np.asarray(human, dtype=float)
    if not a.shape == b.shape == gold.shape:
        raise MeasureInputError(f"shapes differ: metric a {a.shape}, metric b {b.shape}, human {gold.shape}")
    cells = np.ones(gold.shape, dtype=bool) if measure is acc_eq_calibrated else ~np.isnan(gold)
    a = _standardise(a, cells)
    b = _standardise(b, cells)

    def score(metric: np.ndarray) -> float:
        value = _as_value(measure(metric, gold))
        return 0.0 if math.isnan(value) else value

    observed = score(a) - score(b)
    rng = np.random.default_rng(seed)
    larger = 0
    for _ in range(samples):
        swap = rng.random(gold.shape) < 0.5
        if score(np.where(swap, b, a)) - score(np.where(swap, a, b)) >= observed:
            larger += 1
    return larger / samples if samples else math.nan
