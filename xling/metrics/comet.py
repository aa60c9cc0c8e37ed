"""COMET: a hub model name (default Unbabel/wmt22-comet-da; xCOMET and its error spans when
asked) or a local checkpoint in COMET's layout. Regression checkpoints (COMET-22 DA and its kind)
are scored by xling itself (xling.metrics.comet_native); unified ones (CometKiwi, xCOMET) still
through unbabel-comet. Each model loads once per process. The signature records model, revision
(hub commit or checkpoint hash), precision, batch size and the implementation that scored it
(`impl:xling-X.Y` or `impl:unbabel-comet-X.Y`), so a score is never passed off as another's."""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from ..data import hub
from ..errors import XlingError
from ..runs.filehash import file_digest
from .base import Signature, apply_mask, check_lengths, mean_result

DEFAULT_MODEL = "Unbabel/wmt22-comet-da"
XCOMET = "Unbabel/XCOMET-XL"
COMETKIWI = "Unbabel/wmt22-cometkiwi-da"          # gated on the hub: accept its license first
COMETKIWI_XL = "Unbabel/wmt23-cometkiwi-da-xl"
PRECISIONS = ("32", "16", "bf16")


def _checkpoint_for(model: str) -> tuple[Path, str]:
    """(checkpoint file, revision) for a local path or a hub name."""
    path = Path(model).expanduser()
    if path.exists():
        ckpt = path / "checkpoints" / "model.ckpt" if path.is_dir() else path
        if not ckpt.is_file():
            raise XlingError(f"COMET model folder {model} has no checkpoints/model.ckpt")
        # the whole file's hash (remembered per file version): a model fine-tuned in place with
        # frozen embeddings keeps its first megabytes
        return ckpt, "sha256:" + file_digest(ckpt)[:16]
    from huggingface_hub import snapshot_download

    online = hub.reachable()
    try:
        ckpt = Path(snapshot_download(repo_id=model, local_files_only=not online)) / "checkpoints" / "model.ckpt"
        if not ckpt.is_file():
            raise FileNotFoundError(f"{model} has no checkpoints/model.ckpt")
    except Exception as exc:  # noqa: BLE001 - offline, gated or missing: say which, in one line
        if not online:
            raise XlingError(f"COMET model {model!r} is not a local checkpoint and the Hugging Face "
                             "hub cannot be reached to fetch it (offline?); pass a local checkpoint "
                             "folder (with checkpoints/model.ckpt) instead of the name, or go online") from exc
        if re.search(r"gated|401|403|restricted|authenticat", f"{type(exc).__name__} {exc}", re.I):
            raise XlingError(f"COMET model {model!r} is gated on the Hugging Face hub: accept its "
                             f"license at https://huggingface.co/{model}, log in (`huggingface-cli "
                             "login` or HF_TOKEN), or pass a local checkpoint folder") from exc
        raise XlingError(f"COMET model {model!r} could not be found on the hub") from exc
    revision = ckpt.parents[1].name if ckpt.parents[2].name == "snapshots" else "unknown"
    return ckpt, revision


@lru_cache(maxsize=4)
def load_comet(model: str = DEFAULT_MODEL, precision: str = "32"):
    """Load a COMET model once per process; returns (model, revision)."""
    if precision not in PRECISIONS:
        raise XlingError(f"COMET precision must be one of {', '.join(PRECISIONS)}")
    _quiet_lightning()
    ckpt, revision = _checkpoint_for(model)
    from comet import load_from_checkpoint

    try:
        scorer = load_from_checkpoint(str(ckpt), local_files_only=not hub.reachable())
    except Exception as exc:  # noqa: BLE001 - a broken checkpoint is the user's to fix
        raise XlingError(f"cannot load COMET checkpoint {ckpt}: {exc}".splitlines()[0]) from exc
    if precision != "32":
        import torch
        scorer = scorer.to(torch.float16 if precision == "16" else torch.bfloat16)
    return scorer, revision


@lru_cache(maxsize=4)
def load_native(ckpt: str, revision: str, precision: str = "32", device: str | None = None):
    """xling's own scorer of a regression checkpoint, once per process (per file version)."""
    from .comet_native import load_scorer

    return load_scorer(Path(ckpt), precision, device, local_files_only=not hub.reachable())


def _quiet_lightning():
    """COMET runs through PyTorch Lightning, which chats on stderr; keep only errors."""
    import warnings

    for name in ("lightning", "pytorch_lightning", "lightning.pytorch", "lightning_fabric", "comet",
                 "pytorch_lightning.utilities.rank_zero", "lightning.pytorch.utilities.rank_zero",
                 "lightning_fabric.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for pattern in (".*LeafSpec.*", ".*pkg_resources is deprecated.*", ".*num_workers.*"):
        warnings.filterwarnings("ignore", message=pattern)


def comet(hyps: Sequence[str], refs: Sequence[str] | None, srcs: Sequence[str] | None,
          model: str = DEFAULT_MODEL, batch_size: int = 16, gpus: int | None = None,
          precision: str = "32", error_spans: bool = False, keep: Sequence[bool] | None = None,
          progress: bool = False, name: str | None = None):
    """Segment and corpus COMET scores (COMET's own 0–1 scale). Without references (refs=None)
    a QE model (CometKiwi) or a unified one (xCOMET) scores source and translation only."""
    if srcs is None:
        raise XlingError("COMET needs the source sentences (-s/--source)")
    hyps, refs, srcs = apply_mask(keep, hyps, refs, srcs)
    check_lengths(hypotheses=hyps, references=refs, sources=srcs)
    if precision not in PRECISIONS:
        raise XlingError(f"COMET precision must be one of {', '.join(PRECISIONS)}")
    from .comet_native import read_hparams, supports

    ckpt, revision = _checkpoint_for(model)
    metadata = None
    hparams = read_hparams(ckpt)
    if supports(hparams):
        if refs is None and hparams["class_identifier"] == "regression_metric":
            raise XlingError(f"COMET model {model!r} is a reference-based regression model: give "
                             "references (-r), or use a QE model (cometkiwi, xcomet-qe)")
        from .. import __version__

        scorer = load_native(str(ckpt), revision, precision, "cpu" if gpus == 0 else None)
        if getattr(scorer, "tagger", None) is not None:     # xCOMET and its kind: error spans too
            spans: list = []
            scores = scorer.predict(srcs, hyps, refs, batch_size, progress, spans=spans)
            metadata = {"error_spans": spans}
        else:
            scores = scorer.predict(srcs, hyps, refs, batch_size, progress)
        impl = f"xling-{__version__}"
    else:
        scores, metadata = _unbabel_predict(model, srcs, hyps, refs, batch_size, gpus, precision, progress)
        from importlib.metadata import version
        impl = f"unbabel-comet-{version('unbabel-comet')}"
    fields = dict(model=model, rev=revision, prec=precision, bs=batch_size,
                  refs="yes" if refs is not None else "no", impl=impl)
    extra = {}
    if keep is not None:
        extra = {"segments_kept": len(hyps), "segments_total": len(list(keep))}
        fields["subset"] = f"{len(hyps)}/{len(list(keep))}"
    signature = Signature.of(**fields).format()
    if error_spans and metadata is not None and "error_spans" in metadata:
        extra["error_spans"] = metadata["error_spans"]
    name = name or ("xCOMET" if "xcomet" in model.lower() else "COMET")
    return mean_result(name, scores, signature, extra=extra)


def _unbabel_predict(model, srcs, hyps, refs, batch_size, gpus, precision, progress):
    """Scores (and metadata: error spans) through unbabel-comet's predict."""
    scorer, _ = load_comet(model, precision)
    if gpus is None:
        import torch
        gpus = 1 if torch.cuda.is_available() else 0
    samples = [{"src": s, "mt": h} | ({"ref": r} if refs is not None else {})
               for s, h, r in zip(srcs, hyps, refs if refs is not None else [None] * len(hyps))]
    try:
        prediction = scorer.predict(samples, batch_size=batch_size, gpus=gpus,
                                    progress_bar=progress, num_workers=0 if gpus == 0 else None)
    except KeyError as exc:
        raise XlingError(f"COMET model {model!r} needs {exc} for every segment") from exc
    metadata = prediction.get("metadata") if hasattr(prediction, "get") else None
    return list(prediction["scores"]), metadata
