"""COMET: a hub model name (default Unbabel/wmt22-comet-da; xCOMET and its error spans when
asked) or a local checkpoint in COMET's layout, scored by xling itself (xling.metrics.comet_native;
verified equal to unbabel-comet 2.2.7, which xling does not need). Each model loads once per
process. The signature records model, revision (hub commit or checkpoint hash), precision, batch
size and the implementation (`impl:xling-X.Y`), so a score is never passed off as
unbabel-comet's."""
from __future__ import annotations

import numbers
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from .. import __version__
from ..data import hub
from ..errors import XlingError
from ..store.filehash import file_digest, model_fingerprint
from .base import (
    Signature,
    apply_mask,
    check_flag,
    check_lengths,
    mask_extra,
    mean_result,
    no_such_folder,
    one_reference_stream,
    refuse_non_finite,
)
from .comet_native import load_scorer, read_hparams, unsupported
from .settings import COMET_MODEL, PRECISION, XCOMET_MODEL

DEFAULT_MODEL = COMET_MODEL.default
XCOMET = XCOMET_MODEL.default
PRECISIONS = PRECISION.choices


def _checkpoint_for(model: str) -> tuple[Path, str]:
    """(checkpoint file, revision) for a local path or a hub name."""
    path = Path(model).expanduser()
    if path.exists():
        ckpt = path / "checkpoints" / "model.ckpt" if path.is_dir() else path
        if not ckpt.is_file():
            kind = "; it holds config.json: a transformers model (MetricX: --metricx-model)" \
                if (path / "config.json").is_file() else ""
            raise XlingError(f"COMET model folder {model} has no checkpoints/model.ckpt{kind}")
        return ckpt, "sha256:" + checkpoint_content(ckpt)
    from huggingface_hub import snapshot_download

    hub.check_name(model, "COMET model")
    online = hub.reachable()
    try:
        ckpt = Path(snapshot_download(repo_id=model, local_files_only=not online)) / "checkpoints" / "model.ckpt"
        if not ckpt.is_file():
            raise FileNotFoundError(f"{model} has no checkpoints/model.ckpt")
    except Exception as exc:  # noqa: BLE001 - offline, gated or missing: say which, in one line
        if not online:
            raise XlingError(f"COMET model {model!r} is not a local checkpoint and the Hugging Face hub cannot "
                             f"be reached to fetch it (offline?){no_such_folder(model)}; pass a local checkpoint "
                             "folder (with checkpoints/model.ckpt) instead of the name, or go online") from exc
        if re.search(r"gated|401|403|restricted|authenticat", f"{type(exc).__name__} {exc}", re.I):
            raise XlingError(f"COMET model {model!r} is gated on the Hugging Face hub: accept its "
                             f"license at https://huggingface.co/{model}, log in (`huggingface-cli "
                             "login` or HF_TOKEN), or pass a local checkpoint folder") from exc
        raise XlingError(f"COMET model {model!r} could not be found on the hub") from exc
    revision = ckpt.parents[1].name if ckpt.parents[2].name == "snapshots" else "unknown"
    return ckpt, revision


def checkpoint_content(ckpt: Path) -> str:
    """A local checkpoint's content: the whole weights file's hash (remembered per file version:
    a model fine-tuned in place with frozen embeddings keeps its first megabytes), and what else
    shapes its scores: hparams.yaml (its layer mix, its pooling) and a local encoder folder it
    names (that folder's tokenizer and config)."""
    import hashlib

    import yaml

    digest = hashlib.sha256(file_digest(ckpt).encode())
    hparams = ckpt.absolute().parents[1] / "hparams.yaml"   # (a bare "model.ckpt" has no parents)
    if hparams.is_file():
        text = hparams.read_bytes()
        digest.update(b"\0" + text)
        try:
            encoder = (yaml.safe_load(text) or {}).get("pretrained_model")
        except (yaml.YAMLError, AttributeError):   # (read_hparams says what is wrong with it)
            encoder = None
        if isinstance(encoder, str) and Path(encoder).expanduser().is_dir():
            digest.update(b"\0" + model_fingerprint(Path(encoder).expanduser()).encode())
    return digest.hexdigest()[:16]


# the QE metrics' names (the registry's wrappers pass them): they are never given references
QE_NAMES = ("CometKiwi", "CometKiwi-XL", "xCOMET-QE")


def check_checkpoint(ckpt: Path, model: str, refs: bool, name: str | None = None, option: str = "") -> dict:
    """A checkpoint's hparams, checked to be scorable, and scorable as asked (`refs`: references
    are given; `name`: the metric's): read from hparams.yaml, no weights loaded. `option`: the
    command-line option that named the model, for a run's check before its work."""
    hparams = read_hparams(ckpt)
    reason = unsupported(hparams)
    if reason is not None:
        raise XlingError(f"COMET model {model!r} cannot be scored by xling: {reason}")
    if refs or hparams["class_identifier"] != "regression_metric":
        return hparams
    if name in QE_NAMES:   # (references would not help: a QE metric reads none)
        given = f" ({option})" if option else ""
        raise XlingError(f"{name} model {model!r}{given} is a reference-based COMET model, not a QE model: give "
                         "a CometKiwi or xCOMET checkpoint, or score it with the metric comet (it needs references)")
    raise XlingError(f"COMET model {model!r} is a reference-based regression model: give "
                     "references (-r), or use a QE model (cometkiwi, xcomet-qe)")


@lru_cache(maxsize=4)
def load_native(ckpt: str, revision: str, precision: str = "32", device: str | None = None):
    """xling's scorer of a checkpoint, once per process (per file version)."""

    return load_scorer(Path(ckpt), precision, device, local_files_only=not hub.reachable())


def check_tgt_lang(tgt_lang, metric: str = "COMET") -> None:
    """A target language, or None: a checkpoint given fourth, where the model once went, scored
    the default model."""
    if tgt_lang is None:
        return
    from ..data.languages import resolve
    try:
        resolve(tgt_lang)
    except XlingError:
        if isinstance(tgt_lang, str) and ("/" in tgt_lang or Path(tgt_lang).expanduser().exists()):
            raise XlingError(f"{metric}'s fourth argument is the target language (tgt_lang), not "
                             f"{tgt_lang!r}: name a checkpoint with model=...") from None
        raise


def comet(hyps: Sequence[str], refs: Sequence[str] | None, srcs: Sequence[str] | None,
          tgt_lang: str | None = None, *, model: str | os.PathLike = DEFAULT_MODEL, batch_size: int = 16,
          gpus: int | None = None, precision: str = "32", error_spans: bool = False,
          keep: Sequence[bool] | None = None, progress: bool = False, name: str | None = None):
    """Segment and corpus COMET scores (COMET's own 0–1 scale). Without references (refs=None)
    a QE model (CometKiwi) or a unified one (xCOMET) scores source and translation only.
    `tgt_lang` is taken, as every metric takes it (get(name)(hyps, refs, srcs, tgt_lang)), and
    read by none: COMET is language-independent. An xCOMET checkpoint's error spans are kept in
    `extra["error_spans"]` with error_spans=True. The result is named by the checkpoint's kind
    (xCOMET or COMET), whatever its folder is called."""
    if srcs is None:
        raise XlingError("COMET needs the source sentences (srcs; -s/--source on the command line)")
    check_tgt_lang(tgt_lang)
    if isinstance(model, os.PathLike):   # (a pathlib folder, as metricx and bleu's spm_model take it)
        model = os.fspath(model)
    if not isinstance(model, str) or not model.strip():
        raise XlingError(f"COMET model must be a hub name or a local checkpoint folder, not {model!r}")
    if name is not None and not isinstance(name, str):
        raise XlingError(f"COMET name must be text, not {name!r}")
    check_flag("progress", progress)
    check_flag("error_spans", error_spans)
    if refs is not None:   # (sacrebleu's layout, [refs], too)
        refs = one_reference_stream(refs, name or "COMET")
    hyps, refs, srcs = apply_mask(keep, hyps, refs, srcs)
    check_lengths(hypotheses=hyps, references=refs, sources=srcs)
    precision = str(precision) if isinstance(precision, numbers.Integral) else precision   # 32 as a number
    if precision not in PRECISIONS:
        raise XlingError(f"COMET precision must be one of {', '.join(PRECISIONS)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise XlingError(f"COMET batch_size must be a whole number of 1 or more, not {batch_size!r}")
    if gpus is not None and (isinstance(gpus, bool) or not isinstance(gpus, numbers.Integral) or gpus < 0):
        raise XlingError(f"COMET gpus must be a whole number of 0 (the CPU) or more, not {gpus!r}")

    batch_size, gpus = int(batch_size), None if gpus is None else int(gpus)   # (numpy integers from a notebook)
    ckpt, revision = _checkpoint_for(model)
    hparams = check_checkpoint(ckpt, model, refs is not None, name)
    if gpus is not None and gpus > 1:   # (unbabel-comet's --gpus N splits the work; xling does not)
        import sys
        print(f"xling: note: COMET scores on one device here; --gpus {gpus} acts as --gpus 1", file=sys.stderr)
    scorer = load_native(str(ckpt), revision, precision, "cpu" if gpus == 0 else None)
    reads_refs = hparams["class_identifier"] == "regression_metric" or getattr(scorer, "is_xcomet", False) or (
        hparams["class_identifier"] == "unified_metric" and "ref" in (hparams.get("input_segments") or []))
    if not reads_refs:
        refs = None        # it reads none (CometKiwi's kinds): say so in the signature
    spans: list | None = None
    if getattr(scorer, "tagger", None) is not None:     # xCOMET and its kind: error spans too
        spans = []
        scores = scorer.predict(srcs, hyps, refs, batch_size, progress, spans=spans)
    else:
        scores = scorer.predict(srcs, hyps, refs, batch_size, progress)
    name = name or ("xCOMET" if getattr(scorer, "is_xcomet", False) else "COMET")
    refuse_non_finite(name, scores, f"at precision {precision} the model overflows: score in float32 "
                      "(--precision 32)" if precision != "32" else
                      "in float32: the checkpoint's weights hold NaN/inf or overflow (a damaged checkpoint?)", keep)
    fields = dict(model=model, rev=revision, prec=precision, bs=batch_size,
                  refs="yes" if refs is not None else "no", impl=f"xling-{__version__}")
    extra: dict[str, object] = {}
    if keep is not None:
        extra = mask_extra(keep)
        fields["subset"] = f"{len(hyps)}/{len(list(keep))}"
    signature = Signature.of(**fields).format()
    if error_spans and spans is not None:
        extra["error_spans"] = spans
    result = mean_result(name, scores, signature, extra=extra)
    result.digits = 4   # a 0-1 scale: 0.8512 and 0.8549 are not both "0.85" (also called directly)
    return result
