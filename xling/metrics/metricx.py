"""MetricX-24 (Google's WMT24 metric; MetricX-23 too) through the `mbrs` package's model code.

MetricX scores 0 (best) to 25 (worst): lower is better. The MetricX-24 hybrid models score with
a reference (`metricx`) or without one (`metricx-qe`, source and translation only).

What is written here rather than taken from mbrs, and why: mbrs's `MetricMetricX` accepts only
the hub names it lists and always fetches the `google/mt5-xl` tokenizer from the hub, so a
local folder (offline machines, fine-tuned or converted checkpoints) could not be used. xling
loads the same `MT5ForRegression` weights itself — from a hub name or a local folder, with the
folder's own tokenizer when it has one — and hands them to mbrs's scoring code unchanged.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

from ..data import hub
from ..errors import XlingError
from .base import Signature, apply_mask, check_lengths, mean_result

DEFAULT_MODEL = "google/metricx-24-hybrid-large-v2p6"
HUB_TOKENIZER = "google/mt5-xl"        # the tokenizer every released MetricX model uses
PRECISIONS = {"32": None, "16": "fp16", "bf16": "bf16"}


def _version(model: str, explicit: str | None) -> str:
    from mbrs.metrics.metricx import MetricMetricX   # imported (quietly) by load_metricx first

    if explicit:
        if explicit not in ("23", "24"):
            raise XlingError(f"MetricX version must be 23 or 24, not {explicit!r}")
        return explicit
    known = MetricMetricX.METRICX_VERSION_MAP.get(model)
    if known is not None:
        return "24" if known.value == "metricx_24" else "23"
    return "23" if "metricx-23" in model.lower() else "24"


def _tokenizer_source(model: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    folder = Path(model).expanduser()
    if folder.is_dir() and any((folder / name).is_file() for name in
                               ("tokenizer.json", "spiece.model", "tokenizer_config.json")):
        return str(folder)
    return HUB_TOKENIZER


@lru_cache(maxsize=2)
def load_metricx(model: str = DEFAULT_MODEL, precision: str = "32", batch_size: int = 8,
                 tokenizer: str | None = None, version: str | None = None):
    """An mbrs MetricMetricX scorer around weights loaded here; (scorer, revision)."""
    if precision not in PRECISIONS:
        raise XlingError(f"MetricX precision must be one of {', '.join(PRECISIONS)}")
    import torch
    import warnings

    with warnings.catch_warnings():   # mbrs imports COMET's and torchmetrics' deprecated helpers
        warnings.simplefilter("ignore")
        from mbrs.metrics.metricx import MetricMetricX, MT5ForRegression
    from transformers import AutoTokenizer

    local = Path(model).expanduser().is_dir()
    online = hub.reachable()
    tokenizer_source = _tokenizer_source(model, tokenizer)
    for name in dict.fromkeys((model, tokenizer_source)):
        if not Path(name).expanduser().is_dir() and not online:
            raise XlingError(f"MetricX needs {name!r}, which is not a local folder, and the Hugging "
                             "Face hub cannot be reached to fetch it (offline?); pass a local folder "
                             "(--metricx-model PATH; a folder holding its tokenizer needs no hub)")
    try:
        weights = MT5ForRegression.from_pretrained(str(Path(model).expanduser()) if local else model,
                                                   local_files_only=not online)
        tok = AutoTokenizer.from_pretrained(tokenizer_source, legacy=False, use_fast=False,
                                            local_files_only=not online)
    except Exception as exc:  # noqa: BLE001 - gated, missing or broken: one line
        raise XlingError(f"cannot load MetricX model {model!r}: {exc}".splitlines()[0]) from exc
    cfg = MetricMetricX.Config(model=model, batch_size=batch_size,
                               fp16=precision == "16", bf16=precision == "bf16",
                               cpu=not torch.cuda.is_available())
    scorer = MetricMetricX.__new__(MetricMetricX)   # mbrs's scoring code, our loading (see above)
    scorer.cfg = cfg
    scorer.scorer = weights.eval()
    for param in weights.parameters():
        param.requires_grad = False
    if not cfg.cpu:
        if cfg.fp16:
            scorer.scorer = scorer.scorer.half()
        elif cfg.bf16:
            scorer.scorer = scorer.scorer.bfloat16()
        scorer.scorer = scorer.scorer.cuda()
    scorer.tokenizer = tok
    v = _version(model, version)
    scorer.metricx_version = MetricMetricX.MetricXVersion.metricx_24 if v == "24" \
        else MetricMetricX.MetricXVersion.metricx_23
    scorer.max_length = MetricMetricX.METRICX_INPUT_LENGTH_MAP[scorer.metricx_version]
    scorer.input_prefix = MetricMetricX.METRICX_INPUT_PREFIX_MAP[scorer.metricx_version]
    if local:
        from ..backends.hf import _local_revision
        revision = _local_revision(Path(model).expanduser())
    else:
        revision = getattr(weights.config, "_commit_hash", None) or "unknown"
    return scorer, revision, v


def metricx(hyps: Sequence[str], refs: Sequence[str] | None, srcs: Sequence[str] | None,
            model: str = DEFAULT_MODEL, batch_size: int = 8, precision: str = "32",
            tokenizer: str | None = None, version: str | None = None,
            keep: Sequence[bool] | None = None):
    """Segment and corpus MetricX scores (0-25, lower is better); without refs, QE mode."""
    if srcs is None:
        raise XlingError("MetricX-24 needs the source sentences (-s/--source)")
    hyps, refs, srcs = apply_mask(keep, hyps, refs, srcs)
    check_lengths(hypotheses=hyps, references=refs, sources=srcs)
    scorer, revision, v = load_metricx(model, precision, batch_size, tokenizer, version)
    if v == "23" and refs is None and "qe" not in model.lower():
        raise XlingError(f"MetricX-23 model {model!r} needs references; MetricX-24 hybrid models "
                         "score without them")
    # Longest inputs first, so each batch holds inputs of similar length (as COMET's predict).
    order = sorted(range(len(hyps)), key=lambda i: -len(hyps[i]) - len(srcs[i]) - len(refs[i] if refs else ""))
    import torch

    with torch.inference_mode():
        sorted_scores = scorer.scores([hyps[i] for i in order],
                                      [refs[i] for i in order] if refs is not None else None,
                                      [srcs[i] for i in order]).float().cpu().tolist() if hyps else []
    scores = [0.0] * len(hyps)
    for position, i in enumerate(order):
        scores[i] = sorted_scores[position]
    from importlib.metadata import version as package_version

    fields = dict(model=model, rev=revision, version=f"metricx-{v}", prec=precision, bs=batch_size,
                  refs="yes" if refs is not None else "no", mbrs=package_version("mbrs"))
    extra = {}
    if keep is not None:
        extra = {"segments_kept": len(hyps), "segments_total": len(list(keep))}
        fields["subset"] = f"{len(hyps)}/{len(list(keep))}"
    name = "MetricX" if refs is not None else "MetricX-QE"
    return mean_result(name, scores, Signature.of(**fields).format(), extra=extra)
