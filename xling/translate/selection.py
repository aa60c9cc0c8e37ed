"""Choosing one translation among N candidates: minimum-Bayes-risk decoding against
pseudo-references, or reranking by a quality-estimation metric — through `mbrs`'s decoders,
with any metric of xling's registry as the utility or the QE score.

Each utility matrix (candidates x pseudo-references) is computed once per source, and all of
them in one call of the metric (one model load and length-sorted batches for COMET or
MetricX); mbrs's decoder then takes the expectation and picks the best in the metric's own
direction.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import XlingError

SELECTIONS = ("greedy", "mbr", "rerank")


@dataclass
class Choice:
    index: int                 # the chosen candidate
    scores: list[float]        # each candidate's expected utility (MBR) or QE score (rerank)


def _mbrs(*names):
    """mbrs's classes, imported without the deprecation warnings of the packages it loads."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mbrs.decoders
        import mbrs.metrics.base
    return [getattr(mbrs.decoders, n, None) or getattr(mbrs.metrics.base, n) for n in names]


def _flat_scores(metric: str, hyps, refs, srcs, tgt_lang, options) -> list[float]:
    from ..metrics.registry import get

    spec = get(metric)
    result = spec(hyps, refs, srcs if spec.needs_srcs or srcs else None, tgt_lang, **options)
    segments = result.segments
    if segments is None or len(segments) != len(hyps) or any(s is None for s in segments):
        raise XlingError(f"{spec.display} gives no score for every segment, so it cannot choose "
                         "among candidates")
    return [float(s) for s in segments]


# Utility evaluations per metric call at most: memory stays bounded however many sources and
# candidates a run has (sources are grouped until their matrices reach this size).
PAIRS_PER_CALL = 1 << 16


def _source_groups(shape: list[tuple[int, int]]):
    """Consecutive sources whose utility matrices together hold about PAIRS_PER_CALL pairs."""
    group, size = [], 0
    for index, (h, r) in enumerate(shape):
        group.append(index)
        size += h * r
        if size >= PAIRS_PER_CALL:
            yield group
            group, size = [], 0
    if group:
        yield group


def mbr(candidates: list[list[str]], pseudo_refs: list[list[str]], sources: list[str], tgt_lang: str,
        utility: str = "chrf", options: dict | None = None,
        progress: str | None = None) -> tuple[list[Choice], int]:
    """MBR choice per source, and the number of utility evaluations made. `progress`: the
    label of a bar on stderr over the utility evaluations."""
    import torch
    from tqdm.auto import tqdm
    DecoderMBR, Metric = _mbrs("DecoderMBR", "Metric")

    from ..metrics.registry import get

    spec = get(utility)
    if spec.needs_refs is False:
        raise XlingError(f"{spec.display} takes no reference, so it cannot be an MBR utility; "
                         "rerank with it instead (--select rerank --qe ...)")
    shape = [(len(cands), len(prefs)) for cands, prefs in zip(candidates, pseudo_refs)]

    class Precomputed(Metric):      # mbrs's interface over one source's matrix
        HIGHER_IS_BETTER = spec.higher_is_better

        def __init__(self):
            self.cfg, self.matrix = None, None

        def score(self, hypothesis, reference, source=None):
            raise NotImplementedError

        def pairwise_scores(self, hypotheses, references, source=None):
            return self.matrix

    metric = Precomputed()
    decoder = DecoderMBR(DecoderMBR.Config(), metric)
    choices, evaluations = [], 0
    with tqdm(total=sum(h * r for h, r in shape), desc=progress, unit="pair",
              disable=progress is None, leave=False) as bar:
        for group in _source_groups(shape):
            hyps, refs, srcs = [], [], []
            for i in group:
                for h in candidates[i]:
                    hyps += [h] * len(pseudo_refs[i])
                    refs += pseudo_refs[i]
                    srcs += [sources[i]] * len(pseudo_refs[i])
            flat = []
            for start in range(0, len(hyps), PAIRS_PER_CALL):   # one source may hold more
                part = slice(start, start + PAIRS_PER_CALL)
                flat += _flat_scores(utility, hyps[part], refs[part], srcs[part], tgt_lang, options or {})
                bar.update(len(hyps[part]))
            evaluations += len(flat)
            start = 0
            for i in group:
                h, r = shape[i]
                metric.matrix = torch.tensor(flat[start:start + h * r], dtype=torch.float64).view(h, r)
                start += h * r
                out = decoder.decode(candidates[i], pseudo_refs[i], sources[i], nbest=1)
                choices.append(Choice(int(out.idx[0]), metric.matrix.mean(dim=1).tolist()))
    return choices, evaluations


def rerank(candidates: list[list[str]], sources: list[str], tgt_lang: str, qe: str = "cometkiwi",
           options: dict | None = None) -> tuple[list[Choice], int]:
    """The candidate a reference-free metric scores best, per source."""
    import torch
    DecoderRerank, MetricReferenceless = _mbrs("DecoderRerank", "MetricReferenceless")

    from ..metrics.registry import get

    spec = get(qe)
    if spec.needs_refs:
        raise XlingError(f"{spec.display} needs a reference; rerank with a QE metric (cometkiwi, "
                         "xcomet-qe, metricx-qe) or use it as an MBR utility")
    hyps = [h for cands in candidates for h in cands]
    srcs = [src for cands, src in zip(candidates, sources) for _ in cands]
    flat = _flat_scores(qe, hyps, None, srcs, tgt_lang, options or {})

    class Precomputed(MetricReferenceless):
        HIGHER_IS_BETTER = spec.higher_is_better

        def __init__(self):
            self.cfg, self.values = None, None

        def score(self, hypothesis, source):
            raise NotImplementedError

        def scores(self, hypotheses, sources):
            return self.values

    metric = Precomputed()
    decoder = DecoderRerank(DecoderRerank.Config(), metric)
    choices, start = [], 0
    for cands, src in zip(candidates, sources):
        metric.values = torch.tensor(flat[start:start + len(cands)], dtype=torch.float64)
        start += len(cands)
        out = decoder.decode(cands, src, nbest=1)
        choices.append(Choice(int(out.idx[0]), metric.values.tolist()))
    return choices, len(flat)
