"""xling.metaeval.measures: the WMT metrics-task meta-evaluation statistics (MTME's definitions),
checked on fixtures counted by hand (ties in human and metric scores included) and against
brute-force O(n^2) versions written here (and scipy where it is installed)."""
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from xling.metaeval import measures

try:
    import scipy.stats as scipy_stats
except ImportError:  # scipy is no dependency of xling; the comparisons with it are extra
    scipy_stats = None

needs_scipy = pytest.mark.skipif(scipy_stats is None, reason="scipy is not installed (an optional oracle only)")


def exact(value: float, limit: int = 10**6) -> Fraction:
    return Fraction(value).limit_denominator(limit)


# ------------------------------------------------------------------------------------------------
# Brute-force oracles


def brute_tau_b(x, y):
    """tau-b by counting every pair."""
    con = dis = tie_x = tie_y = 0
    n = len(x)
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0:
                tie_x += 1
            if dy == 0:
                tie_y += 1
            if dx * dy > 0:
                con += 1
            elif dx * dy < 0:
                dis += 1
    pairs = n * (n - 1) // 2
    if tie_x == pairs or tie_y == pairs:
        return math.nan
    return (con - dis) / math.sqrt((pairs - tie_x) * (pairs - tie_y))


def brute_acc_eq(metric, human):
    """Every candidate epsilon (0 and each distinct |metric difference|), every segment's acc_eq
    recounted from scratch, in exact fractions; the first (smallest) epsilon with the best mean."""
    metric, human = np.asarray(metric, dtype=float), np.asarray(human, dtype=float)
    systems, segments = metric.shape
    pairs = list(itertools.combinations(range(systems), 2))
    candidates = {0.0}
    for s in range(segments):
        for i, j in pairs:
            candidates.add(abs(metric[i, s] - metric[j, s]))
    best = None
    for eps in sorted(candidates):
        total = Fraction(0)
        for s in range(segments):
            correct = 0
            for i, j in pairs:
                human_tie = human[i, s] == human[j, s]
                metric_tie = abs(metric[i, s] - metric[j, s]) <= eps
                if human_tie and metric_tie:
                    correct += 1
                elif not human_tie and not metric_tie and \
                        (human[i, s] - human[j, s]) * (metric[i, s] - metric[j, s]) > 0:
                    correct += 1
            total += Fraction(correct, len(pairs))
        mean = total / segments
        if best is None or mean > best[0]:
            best = (mean, eps)
    return best


# ------------------------------------------------------------------------------------------------
# pairwise_accuracy (system level)


def test_pairwise_accuracy_hand_count_with_ties():
    # systems      A    B    C    D    E
    human = [3, 2, 2, 1, 1]
    metric = [0.9, 0.5, 0.5, 0.5, 0.1]
    # A-B + + ok | A-C + + ok | A-D + + ok | A-E + + ok
    # B-C human tie, metric tie: ok (sign 0 == sign 0)
    # B-D human +, metric tie: wrong | C-D human +, metric tie: wrong
    # B-E + + ok | C-E + + ok
    # D-E human tie, metric +: wrong
    # 7 of 10 pairs
    assert exact(measures.pairwise_accuracy(metric, human)) == Fraction(7, 10)


def test_pairwise_accuracy_discordant_and_missing_human():
    # reversed order: 0 of 3 pairs
    assert measures.pairwise_accuracy([3.0, 2.0, 1.0], [1.0, 2.0, 3.0]) == 0.0
    # a system without a human score (NaN) is left out: pairs A-B (ok), A-D (wrong), B-D (wrong)
    human = [2.0, 1.0, math.nan, 3.0]
    metric = [5.0, 4.0, 100.0, 4.5]
    # A-B: h +, m + ok | A-D: h - (2<3), m + (5>4.5) wrong | B-D: h -, m - (4<4.5) ok -> 2 of 3
    assert exact(measures.pairwise_accuracy(metric, human)) == Fraction(2, 3)
    assert math.isnan(measures.pairwise_accuracy([1.0], [1.0]))


# ------------------------------------------------------------------------------------------------
# acc_eq with tie calibration


# three systems (rows) x three segments (columns)
ACC_HUMAN = np.array([[1, 2, 0],
                      [1, 1, 1],
                      [0, 1, 2]], dtype=float)
ACC_METRIC = np.array([[10, 8, 4],
                       [9, 3, 4],
                       [2, 5, 9]], dtype=float)


def test_acc_eq_hand_count():
    # segment 1: (0,1) human tie, |dm| 1 | (0,2) h+, m+ |dm| 8 | (1,2) h+, m+ |dm| 7
    # segment 2: (0,1) h+, m+ |dm| 5   | (0,2) h+, m+ |dm| 3 | (1,2) human tie, |dm| 2
    # segment 3: (0,1) h-, metric tie 0 | (0,2) h-, m- |dm| 5 | (1,2) h-, m- |dm| 5
    # eps 0: 2/3 + 2/3 + 2/3            -> 6/9
    # eps 1: seg1 (0,1) tied by both    -> 3/3 + 2/3 + 2/3 = 7/9
    # eps 2: seg2 (1,2) tied by both    -> 3/3 + 3/3 + 2/3 = 8/9   <- best
    # eps 3: seg2 (0,2) now a metric tie the humans order -> 3/3 + 2/3 + 2/3 = 7/9
    # eps 5: seg2 (0,1), seg3 (0,2), (1,2) lost -> 3/3 + 1/3 + 0/3 = 4/9
    # eps 7: 2/3 + 1/3 + 0 = 3/9; eps 8: 1/3 + 1/3 + 0 = 2/9
    accuracy, epsilon = measures.acc_eq_calibrated(ACC_METRIC, ACC_HUMAN)
    assert exact(accuracy) == Fraction(8, 9)
    assert epsilon == 2.0
    assert brute_acc_eq(ACC_METRIC, ACC_HUMAN) == (Fraction(8, 9), 2.0)


def test_acc_eq_no_new_ties_wanted_and_all_tied_segment_counts():
    # strictly ordered humans, a metric that agrees and has no ties: epsilon 0, accuracy 1
    assert measures.acc_eq_calibrated([[1.0], [2.0], [3.0]], [[0.0], [1.0], [2.0]]) == (1.0, 0.0)
    # A segment the humans tie completely still counts (unlike tau-b): at eps 0 it scores 0/3,
    # at eps 2 (every pair a metric tie) 3/3. Second segment: humans 0<1<2, metric 1<2<4
    # (|dm| 1, 3, 2): at eps 2 it keeps only (0,2) -> 1/3.
    human = np.array([[5, 0], [5, 1], [5, 2]], dtype=float)
    metric = np.array([[1, 1], [2, 2], [3, 4]], dtype=float)
    # eps 0: (0 + 3/3) / 2 = 3/6 | eps 1: seg1 (0,1),(1,2) tied -> 2/3; seg2 loses (0,1) -> 2/3: 4/6
    # eps 2: 3/3 + 1/3 = 4/6 | eps 3: 3/3 + 0 = 3/6 -> best 4/6, first at eps 1
    accuracy, epsilon = measures.acc_eq_calibrated(metric, human)
    assert exact(accuracy) == Fraction(2, 3) and epsilon == 1.0
    assert brute_acc_eq(metric, human) == (Fraction(2, 3), 1.0)


def test_acc_eq_matches_brute_force_on_random_ties():
    rng = np.random.default_rng(7)
    for trial in range(60):
        systems = int(rng.integers(2, 7))
        segments = int(rng.integers(1, 8))
        human = rng.integers(0, 4, size=(systems, segments)).astype(float)
        metric = rng.integers(0, 6, size=(systems, segments)) * 0.25
        if trial % 2:
            metric = metric + np.round(rng.normal(size=metric.shape), 1)
        accuracy, epsilon = measures.acc_eq_calibrated(metric, human)
        best, best_eps = brute_acc_eq(metric, human)
        assert exact(accuracy) == best, trial
        assert epsilon == best_eps, trial


def test_acc_eq_leaves_out_missing_human_cells():
    human = ACC_HUMAN.copy()
    human[2, 2] = math.nan      # segment 3 keeps only pair (0,1): h-, metric tie -> wrong at any eps
    # segments 1 and 2 as in the hand count; segment 3 is 0/1 at every eps -> best (3/3 + 3/3 + 0)/3
    accuracy, epsilon = measures.acc_eq_calibrated(ACC_METRIC, human)
    assert exact(accuracy) == Fraction(2, 3) and epsilon == 2.0
    all_missing = np.full((3, 2), math.nan)
    accuracy, epsilon = measures.acc_eq_calibrated(np.zeros((3, 2)), all_missing)
    assert math.isnan(accuracy) and epsilon == 0.0


# ------------------------------------------------------------------------------------------------
# Kendall tau-b


def test_kendall_tau_b_matches_brute_force_with_many_ties():
    rng = np.random.default_rng(3)
    for n in (2, 3, 5, 17, 64, 129, 300):
        for levels in (2, 3, 10):
            x = rng.integers(0, levels, size=n).astype(float)
            y = rng.integers(0, levels + 1, size=n).astype(float)
            expected = brute_tau_b(x, y)
            got = measures.kendall_tau_b(x, y)
            if math.isnan(expected):
                assert math.isnan(got)
            else:
                assert got == pytest.approx(expected, abs=1e-12), (n, levels)


def test_kendall_tau_b_edge_cases():
    assert math.isnan(measures.kendall_tau_b([1.0], [2.0]))
    assert math.isnan(measures.kendall_tau_b([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    assert measures.kendall_tau_b([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == pytest.approx(1.0)
    assert measures.kendall_tau_b([3.0, 2.0, 1.0], [1.0, 2.0, 3.0]) == pytest.approx(-1.0)
    # a missing human score drops its item; a NaN metric score propagates
    assert measures.kendall_tau_b([1.0, 2.0, 9.0, 3.0], [1.0, 2.0, math.nan, 3.0]) == pytest.approx(1.0)
    assert math.isnan(measures.kendall_tau_b([1.0, math.nan, 3.0], [1.0, 2.0, 3.0]))
    # 2-D input is flattened
    assert measures.kendall_tau_b([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [4.0, 3.0]]) == \
        pytest.approx(brute_tau_b([1, 2, 3, 4], [1, 2, 4, 3]))



def test_kendall_tau_b_of_a_perfect_order_is_exactly_one():
    # sqrt(a) * sqrt(b) rounded twice gave 1.0000000000000002 (report.json showed it); over
    # n = 2..39 every perfect or reversed order must be exactly +-1, as scipy clips it
    for n in range(2, 40):
        ranks = np.arange(float(n))
        assert measures.kendall_tau_b(ranks, ranks) == 1.0
        assert measures.kendall_tau_b(ranks, -ranks) == -1.0
    # a tiny MetricX's system scores against MQM, the audit's case
    metricx = [-22.63427456219991, -21.797200123469036, -21.67587486902873]
    assert measures.kendall_tau_b(metricx, [-0.5, -1.0, -3.0]) == -1.0
    # the same per segment
    for n in range(2, 40):
        column = np.arange(float(n))[:, None]
        assert measures.kendall_by_item(column, column) == 1.0
        assert measures.kendall_by_item(-column, column) == -1.0

@needs_scipy
def test_kendall_tau_b_equals_scipy_default():
    rng = np.random.default_rng(11)
    for n, levels in ((50, 3), (1000, 7), (20_000, 25), (20_000, 20_000)):
        x = rng.integers(0, levels, size=n).astype(float)
        y = np.round(x * 0.3 + rng.normal(size=n), 1)
        assert measures.kendall_tau_b(x, y) == pytest.approx(scipy_stats.kendalltau(x, y)[0], abs=1e-12)


# ------------------------------------------------------------------------------------------------
# Kendall grouped by item


def test_kendall_by_item_leaves_out_constant_segments():
    # segments (columns): 1 ordinary, 2 humans all equal, 3 ordinary with a human tie, 4 metric all equal
    human = np.array([[1, 4, 0, 0],
                      [2, 4, 1, 1],
                      [3, 4, 1, 1]], dtype=float)
    metric = np.array([[0.1, 0.3, 1, 5],
                       [0.3, 0.2, 3, 5],
                       [0.2, 0.1, 2, 5]], dtype=float)
    # segment 1: (0,1) concordant, (0,2) concordant, (1,2) discordant: (2 - 1) / 3 = 1/3
    # segment 3: (0,1), (0,2) concordant, (1,2) tied by the humans only: 2 / sqrt(3 * 2)
    # segments 2 and 4 have no tau and are left out: the mean is over two segments
    first = brute_tau_b([0.1, 0.3, 0.2], [1, 2, 3])
    third = brute_tau_b([1, 3, 2], [0, 1, 1])
    assert first == pytest.approx(1 / 3) and third == pytest.approx(2 / math.sqrt(6))
    assert measures.kendall_by_item(metric, human) == pytest.approx((1 / 3 + 2 / math.sqrt(6)) / 2)
    # the constant segments alone: no tau anywhere, MTME's 0
    assert measures.kendall_by_item(metric[:, [1, 3]], human[:, [1, 3]]) == 0.0


def test_kendall_by_item_nan_and_no_tau_at_all():
    human = np.array([[1, 1], [2, math.nan], [3, 2]], dtype=float)
    metric = np.array([[3, 1], [2, 7], [1, 2]], dtype=float)
    # segment 1: perfectly reversed, -1; segment 2: system 2 has no human score -> (1,3) vs (1,2): +1
    assert measures.kendall_by_item(metric, human) == pytest.approx(0.0)
    assert measures.kendall_by_item(metric[:, 1:], human[:, 1:]) == pytest.approx(1.0)
    # a NaN metric score makes that segment's tau NaN (scipy), so it is left out
    metric_nan = metric.copy()
    metric_nan[0, 1] = math.nan
    assert measures.kendall_by_item(metric_nan, human) == pytest.approx(-1.0)
    # no segment with a tau: MTME's 0
    assert measures.kendall_by_item(np.ones((3, 2)), human) == 0.0
    # undefined= is what comes back whenever there is no tau, one system or no segment included
    assert math.isnan(measures.kendall_by_item(np.ones((3, 2)), human, undefined=math.nan))
    assert math.isnan(measures.kendall_by_item([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]], undefined=math.nan))
    assert math.isnan(measures.kendall_by_item(np.zeros((3, 0)), np.zeros((3, 0)), undefined=math.nan))
    assert measures.kendall_by_item([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]]) == 0.0


def test_kendall_by_item_matches_brute_force():
    rng = np.random.default_rng(5)
    human = rng.integers(0, 3, size=(6, 40)).astype(float)
    metric = rng.integers(0, 4, size=(6, 40)).astype(float)
    human[:, 3] = 1.0           # constant humans
    metric[:, [7, 20]] = 2.0    # constant metric
    taus = [brute_tau_b(metric[:, s], human[:, s]) for s in range(40)]
    taus = [t for t in taus if not math.isnan(t)]
    assert len(taus) == 37
    assert measures.kendall_by_item(metric, human) == pytest.approx(sum(taus) / len(taus), abs=1e-12)


# ------------------------------------------------------------------------------------------------
# Pearson


def test_pearson():
    assert measures.pearson([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]) == pytest.approx(1.0)
    assert measures.pearson([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == pytest.approx(-1.0)
    # x = (1,2,3,4), y = (1,3,2,4): cov 4, var 5 and 5 -> 0.8
    assert measures.pearson([1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0]) == pytest.approx(0.8)
    assert math.isnan(measures.pearson([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))   # constant: NaN as MTME
    assert measures.pearson([1.0, 2.0, 50.0, 3.0], [1.0, 2.0, math.nan, 3.0]) == pytest.approx(1.0)


def test_pearson_of_infinite_or_extreme_scores():
    human = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert math.isnan(measures.pearson([1.0, 2.0, 3.0, 4.0, math.inf], human))   # scipy: NaN, never 1.0
    for scale in (1e160, 1e-170, 1e300):        # sums of squares overflow or underflow unscaled
        assert measures.pearson(np.array([1.0, 3.0, 2.0, 5.0, 4.0]) * scale, human) == pytest.approx(0.8)


@needs_scipy
def test_equal_infinite_scores_are_a_tie():
    metric = np.array([[1.0, math.inf, 2.0], [2.0, math.inf, 1.0], [3.0, 0.0, 0.0]])
    human = np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 2.0], [3.0, 3.0, 1.0]])
    taus = [scipy_stats.kendalltau(metric[:, k], human[:, k])[0] for k in range(3)]
    assert measures.kendall_by_item(metric, human) == pytest.approx(np.mean(taus))
    assert measures.pairwise_accuracy([math.inf, math.inf, 1.0], [2.0, 2.0, 1.0]) == 1.0


# ------------------------------------------------------------------------------------------------
# Soft pairwise accuracy


def test_spa_perfect_agreement_and_reproducible_seeds():
    rng = np.random.default_rng(1)
    human = rng.normal(size=(5, 30)) + np.arange(5)[:, None] * 0.3
    assert measures.soft_pairwise_accuracy(human, human, samples=200, seed=3) == 1.0
    metric = human + rng.normal(size=human.shape)
    first = measures.soft_pairwise_accuracy(metric, human, samples=300, seed=9)
    assert first == measures.soft_pairwise_accuracy(metric, human, samples=300, seed=9)
    assert 0.0 <= first <= 1.0
    # the reversed metric disagrees about every pair that the humans find clear
    assert measures.soft_pairwise_accuracy(-human, human, samples=300, seed=9) < first


def test_spa_two_systems_hand_check():
    # System 0 beats system 1 by exactly 1 on each of 3 segments (humans); the metric says the
    # reverse. A permutation flips the sign of each segment's difference; the humans' observed
    # sum (3) is reached only when no segment is flipped, so p_human = share of draws with all
    # three signs +1 (about 1/8); the metric's observed sum (-3) is reached by every draw, p = 1.
    # SPA = 1 - |p_human - 1| = p_human.
    human = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    metric = human[::-1].copy()
    samples, seed = 4000, 2
    rng = np.random.default_rng(seed)       # the draws MTME's pce.py makes for this seed
    signs = np.rint(rng.random(size=(samples, 3), dtype=np.float32)) * 2 - 1
    p_human = float(np.mean(np.all(signs == 1, axis=1)))
    assert p_human == pytest.approx(1 / 8, abs=0.03)
    assert measures.soft_pairwise_accuracy(metric, human, samples=samples, seed=seed) == pytest.approx(p_human)


def test_spa_rejects_missing_values():
    human = np.array([[1.0, math.nan], [0.0, 1.0]])
    with pytest.raises(ValueError):
        measures.soft_pairwise_accuracy(human, human)


def test_inputs_a_measure_cannot_take_are_a_value_error_and_a_user_error():
    """A notebook catches ValueError; the CLI prints an XlingError as one line."""
    from xling.errors import XlingError

    for call in (lambda: measures.pearson([1, 2], [1, 2, 3]),
                 lambda: measures.kendall_by_item(np.ones((2, 3)), np.ones((3, 2))),
                 lambda: measures.soft_pairwise_accuracy(np.array([[1.0, math.nan]]), np.ones((1, 2)))):
        with pytest.raises(ValueError) as caught:
            call()
        assert isinstance(caught.value, XlingError)


# ------------------------------------------------------------------------------------------------
# Paired permutation test


def test_permutation_test_segment_level():
    rng = np.random.default_rng(4)
    human = rng.normal(size=(6, 40))
    good = human + 0.1 * rng.normal(size=human.shape)
    noise = rng.normal(size=human.shape)
    p = measures.paired_permutation_test(measures.kendall_by_item, good, noise, human, samples=200, seed=1)
    assert p < 0.02
    # the other way round: noise is not better than the good metric
    assert measures.paired_permutation_test(measures.kendall_by_item, noise, good, human,
                                            samples=200, seed=1) > 0.9
    # identical metrics: every permuted difference is 0 >= 0
    assert measures.paired_permutation_test(measures.kendall_by_item, good, good.copy(), human,
                                            samples=100, seed=1) == 1.0
    # seeds reproduce
    again = measures.paired_permutation_test(measures.kendall_by_item, good, noise, human, samples=200, seed=1)
    assert again == p


def test_permutation_test_system_level_and_tuple_measures():
    rng = np.random.default_rng(8)
    human = rng.normal(size=15)
    p = measures.paired_permutation_test(measures.pearson, human * 3 + 1, rng.normal(size=15), human,
                                         samples=300, seed=0)
    assert p < 0.05
    assert measures.paired_permutation_test(measures.pearson, human, human * 2.0, human, samples=50) == 1.0
    # acc_eq_calibrated returns (accuracy, epsilon): the test reads the accuracy, recalibrated per draw
    human_seg = rng.integers(0, 3, size=(4, 12)).astype(float)
    good = human_seg + 0.01 * rng.normal(size=human_seg.shape)
    noise = rng.normal(size=human_seg.shape)
    p = measures.paired_permutation_test(measures.acc_eq_calibrated, good, noise, human_seg, samples=100, seed=0)
    assert p < 0.05
