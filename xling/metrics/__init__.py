"""MT metrics with one interface: `metric(hyps, refs, ...) -> MetricResult`.

    from xling.metrics import bleu, chrf, comet, off_target
    bleu(hyps, refs, tgt_lang="ko").score          # ko-mecab chosen for you
    bleu(hyps, refs, tgt_lang="ko").signature      # sacrebleu's signature

Every metric is also a spec in `xling.metrics.registry` (what it needs, which way is better,
the settings it takes), called the same way: `get("ter")(hyps, refs, srcs, tgt_lang="ko")`.
Names load on first use (the registry without numpy; sacrebleu, COMET, lingua when called), so
that `xling --help` and run configs import the registry alone.
"""
from __future__ import annotations

import importlib

# name -> the submodule that defines it
_WHERE = {"MetricResult": "base", "comet": "comet_scoring", "off_target": "offtarget",
          "on_target_mask": "offtarget", "REGISTRY": "registry", "MetricSpec": "registry", "get": "registry",
          "parse_metric_names": "registry", "register": "registry", "bleu": "sacre", "chrf": "sacre",
          "chrfpp": "sacre", "spbleu": "sacre", "ter": "sacre", "PairedResult": "significance",
          "bootstrap_ci": "significance", "paired_test": "significance"}

__all__ = ["MetricResult", "MetricSpec", "PairedResult", "REGISTRY", "bleu", "spbleu", "chrf", "chrfpp",
           "ter", "comet", "xcomet", "off_target", "on_target_mask", "paired_test", "bootstrap_ci", "get",
           "parse_metric_names", "register"]


def xcomet(hyps, refs, srcs, tgt_lang=None, **kwargs):
    """xCOMET with references: a score per segment, and its error spans in
    `extra["error_spans"]`; options as the registry's "xcomet" metric takes them (model,
    batch_size, gpus, precision, error_spans, progress). Without references: get("xcomet-qe").
    `tgt_lang` is taken as every metric takes it, and read by none (COMET is language-independent)."""
    from .comet_scoring import check_tgt_lang
    from .registry import get
    check_tgt_lang(tgt_lang, "xCOMET")
    return get("xcomet")(hyps, refs, srcs, tgt_lang, **kwargs)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'xling.metrics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():   # the lazy names too (a notebook's tab completion)
    return sorted(set(globals()) | set(__all__))
