"""BLEU, spBLEU, chrF, chrF++ and TER through sacrebleu, with the tokenizer chosen from the target
language (ko → ko-mecab, ja → ja-mecab, zh → zh, else 13a) and sacrebleu's own signatures."""
from __future__ import annotations

import numbers
import os
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np

from ..data.languages import Language, resolve
from ..errors import XlingError
from . import spm
from .base import (
    MetricResult,
    apply_mask,
    as_reference_streams,
    check_flag,
    check_lengths,
    check_reference_layout,
    mask_extra,
    register_scorer,
    texts,
    texts_digest,
)


def bleu_tokenizer_for(tgt_lang: str | None) -> str:
    target = _target(tgt_lang)
    return resolve(target).bleu_tokenizer if target else "13a"


def _target(tgt_lang: str | Language | None) -> str | Language | None:
    """`tgt_lang` as given, when it is a language code (or None): sources passed third, as COMET
    takes them (hyps, refs, srcs), are refused by name rather than read as a language."""
    if tgt_lang is not None and not isinstance(tgt_lang, (str, Language)):
        given = f"a {type(tgt_lang).__name__} of {len(tgt_lang)}" if hasattr(tgt_lang, "__len__") \
            else f"{str(repr(tgt_lang))[:40]}"
        raise XlingError(f"tgt_lang (the third argument) is a language code such as 'ko', not {given} "
                         "(BLEU, chrF and TER take no sources: hyps, refs, tgt_lang=...)")
    return tgt_lang


def _bleu(tokenize: str, lowercase: bool, effective_order: bool, spm_model: str | None = None):
    """The BLEU metric object, built once per process and SentencePiece file version."""
    # keyed by the version of the file read, sacrebleu's cached one too (replaced: built anew)
    read = spm_model or (spm.cache_path(tokenize) if tokenize in spm.SPM_TOKENIZERS else None)
    return _bleu_built(tokenize, lowercase, effective_order, spm_model, spm.file_version(read))


@lru_cache(maxsize=None)
def _bleu_built(tokenize: str, lowercase: bool, effective_order: bool, spm_model: str | None, version):
    # Built once per process: rebuilding the ko-mecab tokenizer many times is known to break.
    from sacrebleu.metrics import BLEU

    if tokenize not in BLEU.TOKENIZERS:
        raise XlingError(f"unknown BLEU tokenizer {tokenize!r}; sacrebleu's are: "
                         f"{', '.join(BLEU.TOKENIZERS)}")
    if tokenize not in spm.SPM_TOKENIZERS:
        return BLEU(tokenize=tokenize, lowercase=lowercase, effective_order=effective_order)
    # spBLEU: the model from the file given, else from sacrebleu's cache (downloaded there once,
    # as sacrebleu does); sacrebleu's own tokenizer reads it either way.
    path = spm_model or spm.cache_path(tokenize)
    if spm_model is None and not _nonempty(path):
        _download(tokenize, path)
    metric = BLEU(tokenize="none", lowercase=lowercase, effective_order=effective_order)
    metric.tokenizer = spm.tokenizer_from_file(tokenize, path)
    metric.tokenizer_signature = metric.tokenizer.signature()
    return metric


def _nonempty(path: str) -> bool:
    return os.path.isfile(path) and os.path.getsize(path) > 0


def _download(tokenize: str, path: str) -> None:
    from sacrebleu.tokenizers.tokenizer_spm import SPM_MODELS
    from sacrebleu.utils import download_file

    try:
        download_file(SPM_MODELS[tokenize]["url"], path)
    except (OSError, SystemExit):   # URLError offline; sacrebleu exits on an SSL error
        raise spm.missing_model(tokenize) from None
    if not _nonempty(path):
        raise spm.missing_model(tokenize)


@lru_cache(maxsize=None)
def _chrf(word_order: int, lowercase: bool):
    from sacrebleu.metrics import CHRF
    return CHRF(word_order=word_order, lowercase=lowercase)


def _sacrebleu_metric(scorer: tuple):
    """The (cached) sacrebleu metric object a scorer description names."""
    _, kind, *params = scorer
    builders: dict[str, Callable[..., Any]] = {"bleu": _bleu, "chrf": _chrf, "ter": _ter}
    return builders[kind](*params)


@lru_cache(maxsize=None)
def _bleu_from_stats(effective_order: bool):
    """A BLEU object to score statistics with: that needs no tokenizer, so segment scores and
    resamples of an spBLEU result never read its SentencePiece file again (removed since: an error)."""
    from sacrebleu.metrics import BLEU
    return BLEU(tokenize="none", effective_order=effective_order)


def stats_metric(scorer: tuple):
    """The sacrebleu object that turns a scorer's statistics into its score."""
    return _bleu_from_stats(scorer[4]) if scorer[1] == "bleu" else _sacrebleu_metric(scorer)


def _aggregate(scorer, summed, n) -> float:
    return float(stats_metric(scorer)._compute_score_from_stats(summed.tolist()).score)


# Sentence scores: BLEU with effective order (the corpus metric has it off), others as they are.
# A BLEU scorer is ("sacrebleu", "bleu", tokenize, lowercase, effective_order, spm_model).
def _segment(scorer, row) -> float:
    if scorer[1] == "bleu":
        scorer = (*scorer[:4], True, *scorer[5:])
    return _aggregate(scorer, row, 1)


register_scorer("sacrebleu", _aggregate, _segment)


def _score(params: tuple, name, hyps, refs, extra) -> MetricResult:
    scorer = ("sacrebleu", *params)
    metric = _sacrebleu_metric(scorer)
    hyps = texts(hyps, "hypotheses")
    streams = as_reference_streams(refs)
    check_reference_layout(hyps, streams)
    check_lengths(hypotheses=hyps, **{f"references[{i}]": s for i, s in enumerate(streams)})
    # Per-segment sufficient statistics: sacrebleu has no public call that returns them (its
    # own paired tests use this method too), and they make resampling exact and fast.
    found, signature = _statistics(scorer, metric, list(hyps), streams)
    stats = np.asarray(found, dtype=np.float64)
    corpus = metric._compute_score_from_stats(stats.sum(0).tolist())
    extra = {**extra, "references_digest": texts_digest(streams)}
    if params[0] == "bleu" and params[1] in spm.SPM_TOKENIZERS:   # which model file made the pieces
        path = params[-1] or spm.cache_path(params[1])
        signature += f"|spm:sha256-{spm.file_digest(path)[:12]}"
    if "segments_kept" in extra:
        signature += f"|subset:{extra['segments_kept']}/{extra['segments_total']}"
    return MetricResult(name=name, score=float(corpus.score), signature=signature, extra=extra,
                        stats=stats, scorer=scorer)


# The references' n-grams of the last few reference sets, by scorer: a report comparing runs on
# the same references extracts them once, as sacrebleu's own paired tests reuse its reference
# cache across systems.
_REFERENCES: OrderedDict[tuple, tuple[list, int]] = OrderedDict()
KEPT_REFERENCE_SETS = 8
_REFERENCES_LOCK = threading.Lock()


def _statistics(scorer: tuple, metric, hyps: list[str], streams: list[list[str]]) -> tuple[list, str]:
    """Per-segment statistics and the signature (its nrefs is the shared metric object's: both
    are read under the lock, or another thread's reference count is signed)."""
    with _REFERENCES_LOCK:    # the metric object is shared: one reference set on it at a time
        if not hyps:
            return metric._extract_corpus_statistics(hyps, streams), metric.get_signature().format()
        # id(metric): a metric object lives as long as its builder's cache, and a new one (another
        # SentencePiece file version, say) tokenizes differently
        key = (scorer, id(metric), tuple(tuple(stream) for stream in streams))
        cached = _REFERENCES.get(key)
        if cached is None:
            cached = (metric._cache_references(streams), metric.num_refs)
            _REFERENCES[key] = cached
            while len(_REFERENCES) > KEPT_REFERENCE_SETS:
                _REFERENCES.popitem(last=False)
        _REFERENCES.move_to_end(key)
        metric._ref_cache, metric.num_refs = cached    # num_refs: the signature's nrefs
        try:
            return metric._extract_corpus_statistics(hyps, None), metric.get_signature().format()
        finally:
            metric._ref_cache = None


def _stream_names(streams: list) -> tuple[str, ...]:
    return ("hypotheses", *(f"references[{i}]" for i in range(len(streams))))


def bleu(hyps: Sequence[str], refs, tgt_lang: str | None = None, tokenize: str | None = None,
         lowercase: bool = False, keep: Sequence[bool] | None = None,
         spm_model: str | None = None) -> MetricResult:
    """Corpus BLEU. Segment scores are sentence BLEU (effective order) from the same statistics.
    SentencePiece tokenizers (flores200, flores101: spBLEU) read `spm_model` if given, else
    sacrebleu's cached model (downloaded once where it is missing); the signature then carries
    the model file's digest."""
    check_flag("lowercase", lowercase)
    if tokenize is not None and (not isinstance(tokenize, str) or not tokenize.strip()):
        # ("" took the target language's tokenizer without a word; the command line refuses it)
        raise XlingError(f"tokenize must name a BLEU tokenizer (or be None: the target language's), not {tokenize!r}")
    tokenize = tokenize or bleu_tokenizer_for(tgt_lang)
    streams = as_reference_streams(refs, required=True)
    hyps, *streams = apply_mask(keep, hyps, *streams, names=_stream_names(streams))
    sentencepiece = tokenize in spm.SPM_TOKENIZERS
    if spm_model and not sentencepiece:   # a user who meant spBLEU would get BLEU without a word
        raise XlingError(f"spm_model applies to a SentencePiece tokenizer ({', '.join(spm.SPM_TOKENIZERS)}), "
                         f"not to tokenize={tokenize!r}; use spbleu() or tokenize='flores200'")
    spm_file = os.path.abspath(spm_model) if spm_model else None
    _bleu(tokenize, lowercase, False, spm_file)   # an unknown tokenizer or a missing model fails here
    extra = mask_extra(keep)
    if spm_file:   # kept with the result, so that a report recomputing subsets finds the file
        extra["spm_model"] = spm_file
    return _score(("bleu", tokenize, lowercase, False, spm_file), "spBLEU" if sentencepiece else "BLEU",
                  hyps, streams, extra)


def spbleu(hyps: Sequence[str], refs, tgt_lang: str | None = None, **kwargs) -> MetricResult:
    """BLEU on sacrebleu's FLORES-200 SentencePiece pieces: the model from `spm_model`, else
    sacrebleu's cache (downloaded by sacrebleu once)."""
    return bleu(hyps, refs, tgt_lang, tokenize="flores200", **kwargs)


def chrf(hyps: Sequence[str], refs, tgt_lang: str | None = None, word_order: int = 0,
         lowercase: bool = False, keep: Sequence[bool] | None = None) -> MetricResult:
    """chrF (word_order=0) or chrF++ (word_order=2). Language-independent: tgt_lang is accepted
    for a uniform interface."""
    check_flag("lowercase", lowercase)
    _target(tgt_lang)
    if isinstance(word_order, bool) or not isinstance(word_order, numbers.Integral) or word_order < 0:
        raise XlingError(f"word_order must be a whole number, 0 or more (0: chrF, 2: chrF++), not {word_order!r}")
    word_order = int(word_order)   # (a numpy integer from a notebook)
    streams = as_reference_streams(refs, required=True)
    hyps, *streams = apply_mask(keep, hyps, *streams, names=_stream_names(streams))
    name = "chrF++" if word_order == 2 else ("chrF" if word_order == 0 else f"chrF+{word_order}")
    return _score(("chrf", word_order, lowercase), name, hyps, streams, mask_extra(keep))


def chrfpp(hyps: Sequence[str], refs, tgt_lang: str | None = None, **kwargs) -> MetricResult:
    """chrF++: chrF with word bigrams (word_order=2), sacrebleu's CHRF(word_order=2)."""
    return chrf(hyps, refs, tgt_lang, word_order=2, **kwargs)


@lru_cache(maxsize=None)
def _ter(asian_support: bool, case_sensitive: bool, normalized: bool = False):
    # (normalized defaults to off: scorers stored before it was a parameter were computed so)
    from sacrebleu.metrics import TER
    return TER(asian_support=asian_support, case_sensitive=case_sensitive, normalized=normalized)


def ter(hyps: Sequence[str], refs, tgt_lang: str | None = None, asian_support: bool | None = None,
        case_sensitive: bool = False, normalized: bool | None = None,
        keep: Sequence[bool] | None = None) -> MetricResult:
    """Translation edit rate (lower is better). Chinese and Japanese targets get sacrebleu's
    Asian-script tokenization unless told otherwise: `asian_support` with `normalized` (sacrebleu's Asian
    support acts only through normalization; alone, an unspaced Chinese or Japanese sentence
    would be one token and TER an exact-match test)."""
    check_flag("case_sensitive", case_sensitive)
    for name, value in (("asian_support", asian_support), ("normalized", normalized)):
        if value is not None:
            check_flag(name, value)
    # (Korean is spaced, and sacrebleu's Asian support splits no Hangul: sacrebleu's default there)
    target = _target(tgt_lang)
    cjk = target is not None and resolve(target).code.split("-")[0] in ("ja", "zh")
    if asian_support is None:
        asian_support = cjk
    if normalized is None:
        normalized = asian_support
    streams = as_reference_streams(refs, required=True)
    hyps, *streams = apply_mask(keep, hyps, *streams, names=_stream_names(streams))
    # (plain bools: sacrebleu writes yes/no in the signature only for a bool, not numpy's; and the
    # lru_cache would keep whichever spelling came first)
    scorer = ("ter", bool(asian_support), bool(case_sensitive), bool(normalized))
    result = _score(scorer, "TER", hyps, streams, mask_extra(keep))
    result.higher_is_better = False   # also when called directly, not through the registry
    return result


