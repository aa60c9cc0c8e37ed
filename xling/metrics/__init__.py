"""MT metrics with one interface: `metric(hyps, refs, ...) -> MetricResult`.

    from xling.metrics import bleu, chrf, comet, off_target
    bleu(hyps, refs, tgt_lang="ko").score          # ko-mecab chosen for you
    bleu(hyps, refs, tgt_lang="ko").signature      # sacrebleu's signature

Every metric is also a spec in `xling.metrics.registry` (what it needs, which way is better),
called the same way: `get("ter")(hyps, refs, srcs, tgt_lang="ko")`.
Heavy dependencies (sacrebleu's tokenizers, COMET, lingua) load on first use.
"""
from .base import MetricResult
# Bound eagerly (the module is light): a function named like its submodule would be replaced by
# the module as soon as anything imported `xling.metrics.comet`.
from .comet import comet
from .offtarget import off_target, on_target_mask
from .registry import REGISTRY, MetricSpec, get, parse_metric_names, register
from .sacre import bleu, chrf, chrfpp, spbleu, ter
from .significance import PairedResult, bootstrap_ci, paired_test


def xcomet(hyps, refs, srcs, **kwargs) -> MetricResult:
    return get("xcomet")(hyps, refs, srcs, **kwargs)


__all__ = ["MetricResult", "MetricSpec", "PairedResult", "REGISTRY", "bleu", "spbleu", "chrf", "chrfpp",
           "ter", "comet", "xcomet", "off_target", "on_target_mask", "paired_test", "bootstrap_ci", "get",
           "parse_metric_names", "register"]
