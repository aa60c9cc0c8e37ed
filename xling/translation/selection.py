"""Choosing one translation among N candidates: minimum-Bayes-risk decoding against
pseudo-references, or reranking by a quality-estimation metric, with any metric of xling's
registry as the utility or the QE score.

Each utility matrix (candidates x pseudo-references) is computed once per source, in calls of
the metric over groups of sources (one model load, length-sorted batches for COMET or MetricX).
A candidate's expected utility is its row's mean (uniform weights over the pseudo-references);
the best is picked in the metric's own direction, ties resolved as mbrs 0.1.8's naive MBR and
rerank decoders resolve them (`torch.topk` over the expected scores), so choices equal mbrs's
(tested against it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..backends.base import Sampling
from ..errors import XlingError
from ..metrics.registry import get


def selection_problem(select: str, candidates: int | None, unit: str = "segment",
                      pseudo_refs: int | None = None, sampling: str | None = None) -> str | None:
    """What is wrong with choosing `select` among `candidates` per `unit`, or None: greedy
    makes one, mbr and rerank choose among two or more, segment by segment; pseudo-references
    serve MBR only (else they were drawn and never used). (Run configs, the command line and
    the translator all ask here.)"""
    if pseudo_refs and select != "mbr":
        return f"--pseudo-refs are MBR's pseudo-references; --select {select} would draw them for nothing"
    if pseudo_refs and sampling == "beam":   # they would be beams N+1.. of one wider search (and change the N)
        return "--pseudo-refs are separate samples; --sampling beam draws none (MBR against the beams themselves: " \
               "leave --pseudo-refs out)"
    if select == "greedy" and candidates not in (None, 1):
        return f"{candidates} candidates need --select mbr or rerank (greedy makes one)"
    if select in ("mbr", "rerank") and (candidates is None or candidates < 2):
        return f"--select {select} needs --candidates 2 or more"
    if select in ("mbr", "rerank") and unit == "document":
        return "candidates are drawn per segment; --unit document takes --select greedy"
    return None


@dataclass(frozen=True)
class Selection:
    """How one translation per source is made: greedy, or chosen among `candidates` drawn as
    `sampling` says, by MBR with `utility` (against the candidates or `pseudo_refs` more
    samples) or by reranking with the QE metric `qe`. `metric_options`: the chooser metric's
    options (its model, batch size, ...), from the run's metric settings."""

    select: str = "greedy"
    candidates: int = 1
    sampling: Any = None                # a backends.base.Sampling (None with greedy)
    utility: str = "chrf"
    qe: str = "cometkiwi"
    pseudo_refs: int | None = None
    metric_options: dict = field(default_factory=dict, compare=False)

    @property
    def chooser(self) -> str:
        return self.utility if self.select == "mbr" else self.qe

    @property
    def greedy(self) -> bool:
        return self.select == "greedy"

    @classmethod
    def from_settings(cls, settings, select: str | None = None, **given) -> "Selection":
        """The selection a run config (or the same settings as keywords) asks for, checked:
        select, candidates, sampling, temperature, top_p, epsilon, seed, utility, qe,
        pseudo_refs; the chooser's options come from the metric settings in `settings`."""

        def value(name, default=None):
            return given[name] if name in given else getattr(settings, name, default) \
                if not isinstance(settings, dict) else settings.get(name, default)

        select = select or value("select", "greedy")
        candidates = value("candidates", 1)
        problem = selection_problem(select, candidates, value("unit", "segment"), value("pseudo_refs"),
                                    value("sampling"))
        if problem:
            raise XlingError(problem)
        if select == "greedy":
            # a sampling or choosing setting would be dropped without a word (and still split the
            # identity of two runs with the same outputs)
            ignored = [flag for name, default, flag in _CANDIDATE_SETTINGS
                       if value(name, default) not in (default, None)]
            if ignored:
                raise XlingError(f"{', '.join(ignored)} appl{'ies' if len(ignored) == 1 else 'y'} to candidates "
                                 "(--select mbr or rerank with --candidates N); greedy decoding takes none")
            return cls()
        if value("sampling", "sample") == "beam":   # beams are the model's most likely, not drawn
            ignored = [flag for name, default, flag in _CANDIDATE_SETTINGS[1:4]
                       if value(name, default) not in (default, None)]
            if ignored:
                raise XlingError(f"{', '.join(ignored)} appl{'ies' if len(ignored) == 1 else 'y'} to sampled "
                                 "candidates; --sampling beam draws none")
        utility, qe = value("utility", "chrf"), value("qe", "cometkiwi")
        other = ("qe", "cometkiwi", "--qe", "rerank") if select == "mbr" else ("utility", "chrf", "--utility", "mbr")
        if value(other[0], other[1]) not in (other[1], None):   # the other chooser's setting, dropped unsaid
            raise XlingError(f"{other[2]} chooses in --select {other[3]}; --select {select} takes "
                             f"{'--utility' if select == 'mbr' else '--qe'}")
        chooser = utility if select == "mbr" else qe
        _check_chooser(select, chooser)   # before any candidate is sampled
        sampling = Sampling(value("sampling", "sample"), value("temperature", 1.0), value("top_p", 1.0),
                            value("epsilon", 0.0), value("seed", 0))
        return cls(select, candidates, sampling, utility, qe, value("pseudo_refs"),
                   {chooser: get(chooser).options_from(settings)})


# Settings only candidates use: (name, default, option).
_CANDIDATE_SETTINGS = (("sampling", "sample", "--sampling"), ("temperature", 1.0, "--temperature"),
                   ("top_p", 1.0, "--top-p"), ("epsilon", 0.0, "--epsilon"), ("utility", "chrf", "--utility"),
                   ("qe", "cometkiwi", "--qe"), ("pseudo_refs", None, "--pseudo-refs"))
CANDIDATE_ONLY = tuple(name for name, _, _ in _CANDIDATE_SETTINGS)
SAMPLED_ONLY = tuple(name for name, _, _ in _CANDIDATE_SETTINGS[1:4])   # beams draw nothing


def _check_chooser(select: str, name: str) -> None:
    """An MBR utility compares with a reference; a reranker scores without one."""
    spec = get(name)
    if select == "mbr" and spec.needs_refs is False:
        raise XlingError(f"{spec.display} takes no reference, so it cannot be an MBR utility; "
                         "rerank with it instead (--select rerank --qe ...)")
    if select == "rerank" and spec.needs_refs:
        raise XlingError(f"{spec.display} needs a reference; rerank with a QE metric (cometkiwi, "
                         "xcomet-qe, metricx-qe) or use it as an MBR utility")


@dataclass
class Choice:
    index: int                 # the chosen candidate
    scores: list[float]        # each candidate's expected utility (MBR) or QE score (rerank)


def best_index(values, higher_is_better: bool) -> int:
    """The best of a source's scores in the metric's direction. Ties resolve as mbrs's n-best
    selector resolves them: the same `torch.topk` call over values of the same precision."""
    import torch

    return int(torch.topk(values, k=1, largest=higher_is_better).indices[0])


def _flat_scores(metric: str, hyps, refs, srcs, tgt_lang, options) -> list[float]:

    spec = get(metric)
    result = spec(hyps, refs, srcs if spec.needs_srcs or srcs else None, tgt_lang, **options)
    segments = result.segments
    if segments is None or len(segments) != len(hyps) or any(s is None for s in segments):
        raise XlingError(f"{spec.display} gives no score for every segment, so it cannot choose "
                         "among candidates")
    return [float(s) for s in segments if s is not None]   # (none is None: checked above)


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

    from ..progress import bar


    spec = get(utility)
    _check_chooser("mbr", utility)
    shape = [(len(cands), len(prefs)) for cands, prefs in zip(candidates, pseudo_refs)]
    choices, evaluations = [], 0
    with bar(total=sum(h * r for h, r in shape), desc=progress, unit="pair",
             disable=progress is None, leave=False) as done:
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
                done.update(len(hyps[part]))
            evaluations += len(flat)
            start = 0
            for i in group:
                h, r = shape[i]
                utilities = flat[start:start + h * r]
                start += h * r
                expected = torch.tensor(utilities, dtype=torch.float64).view(h, r).mean(dim=-1)
                # chosen as mbrs chooses: float32 means, so that texts whose utilities tie exactly
                # (the same words in another order) tie, where float64 sums differ in the last bit
                as_mbrs = torch.tensor(utilities, dtype=torch.float32).view(h, r).mean(dim=-1)
                choices.append(Choice(best_index(as_mbrs, spec.higher_is_better), expected.tolist()))
    return choices, evaluations


def rerank(candidates: list[list[str]], sources: list[str], tgt_lang: str, qe: str = "cometkiwi",
           options: dict | None = None) -> tuple[list[Choice], int]:
    """The candidate a reference-free metric scores best, per source."""
    import torch


    spec = get(qe)
    _check_chooser("rerank", qe)
    hyps = [h for cands in candidates for h in cands]
    srcs = [src for cands, src in zip(candidates, sources) for _ in cands]
    flat = _flat_scores(qe, hyps, None, srcs, tgt_lang, options or {})
    choices, start = [], 0
    for cands in candidates:
        values = torch.tensor(flat[start:start + len(cands)], dtype=torch.float64)
        start += len(cands)
        choices.append(Choice(best_index(values, spec.higher_is_better), values.tolist()))
    return choices, len(flat)
