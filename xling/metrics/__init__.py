"""MT metrics with one interface: `metric(hyps, refs, ...) -> MetricResult`.

    from xling.metrics import bleu, chrf, comet, off_target
    bleu(hyps, refs, tgt_lang="ko").score          # ko-mecab chosen for you
    bleu(hyps, refs, tgt_lang="ko").signature      # sacrebleu's signature

Heavy dependencies (sacrebleu's tokenizers, COMET, lingua) load on first use.
"""
from .base import MetricResult
from .offtarget import off_target, on_target_mask
from .sacre import bleu, chrf, chrfpp, spbleu
from .significance import PairedResult, bootstrap_ci, paired_test


def comet(hyps, refs, srcs, **kwargs) -> MetricResult:
    from .comet import comet as _comet
    return _comet(hyps, refs, srcs, **kwargs)


def xcomet(hyps, refs, srcs, **kwargs) -> MetricResult:
    from .comet import XCOMET, comet as _comet
    kwargs.setdefault("model", XCOMET)
    return _comet(hyps, refs, srcs, **kwargs)


# name -> (function, what it needs); used by `xling score` and the run records.
METRICS = {
    "bleu": bleu, "spbleu": spbleu, "chrf": chrf, "chrf++": chrfpp, "chrfpp": chrfpp,
    "comet": comet, "xcomet": xcomet, "offtarget": off_target,
}

__all__ = ["MetricResult", "PairedResult", "bleu", "spbleu", "chrf", "chrfpp", "comet", "xcomet",
           "off_target", "on_target_mask", "paired_test", "bootstrap_ci", "METRICS"]
