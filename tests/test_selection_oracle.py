"""xling's own MBR and rerank choices equal mbrs 0.1.8's decoders (the oracle) on the same
matrices: random utilities, many ties, both directions of a metric."""
import random

import pytest

torch = pytest.importorskip("torch")


def _mbrs():
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import mbrs.decoders
            import mbrs.metrics.base
    except ImportError as exc:   # pragma: no cover - the oracle is installed with the dev extras
        pytest.skip(f"mbrs (the MBR oracle) cannot be imported here: {exc}")
    return mbrs.decoders, mbrs.metrics.base


def _matrices(seed: int):
    rng = random.Random(seed)
    for _ in range(60):
        h, r = rng.randint(1, 9), rng.randint(1, 9)
        levels = rng.choice([2, 3, 1000])          # few levels: many tied expectations
        yield torch.tensor([[rng.randrange(levels) / levels for _ in range(r)] for _ in range(h)],
                           dtype=torch.float64)


@pytest.mark.parametrize("higher", [True, False], ids=["higher-better", "lower-better"])
def test_mbr_choices_equal_mbrs(higher):
    from xling.translate.selection import best_index

    decoders, base = _mbrs()

    class Precomputed(base.Metric):
        HIGHER_IS_BETTER = higher

        def __init__(self):
            self.cfg, self.matrix = None, None

        def score(self, hypothesis, reference, source=None):
            raise NotImplementedError

        def pairwise_scores(self, hypotheses, references, source=None):
            return self.matrix

    metric = Precomputed()
    decoder = decoders.DecoderMBR(decoders.DecoderMBR.Config(), metric)
    ties = 0
    for matrix in _matrices(1):
        metric.matrix = matrix
        expected = matrix.mean(dim=-1)
        ties += int((expected == (expected.max() if higher else expected.min())).sum() > 1)
        hyps = [f"h{i}" for i in range(matrix.shape[0])]
        oracle = decoder.decode(hyps, [f"r{j}" for j in range(matrix.shape[1])], "src", nbest=1)
        assert best_index(expected, higher) == int(oracle.idx[0])
    assert ties >= 5          # the tie rule was really exercised


@pytest.mark.parametrize("higher", [True, False], ids=["higher-better", "lower-better"])
def test_rerank_choices_equal_mbrs(higher):
    from xling.translate.selection import best_index

    decoders, base = _mbrs()

    class Precomputed(base.MetricReferenceless):
        HIGHER_IS_BETTER = higher

        def __init__(self):
            self.cfg, self.values = None, None

        def score(self, hypothesis, source):
            raise NotImplementedError

        def scores(self, hypotheses, sources):
            return self.values

    metric = Precomputed()
    decoder = decoders.DecoderRerank(decoders.DecoderRerank.Config(), metric)
    for matrix in _matrices(2):
        metric.values = matrix[:, 0].clone()
        oracle = decoder.decode([f"h{i}" for i in range(len(metric.values))], "src", nbest=1)
        assert best_index(metric.values, higher) == int(oracle.idx[0])
