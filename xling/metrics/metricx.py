"""MetricX-24 (Google's WMT24 metric; MetricX-23 too), scored by xling itself.

MetricX scores 0 (best) to 25 (worst): lower is better. The MetricX-24 hybrid models score with
a reference (`metricx`) or without one (`metricx-qe`, source and translation only).

The arithmetic is MetricX's (as the `mbrs` package, the oracle the tests compare with, runs
it): the inputs are "source: ...", " candidate: ..." and " reference: ..." (MetricX-24; -23
puts the candidate first), tokenized without an end-of-sequence token, joined and cut at 1,536
tokens (1,024 for -23); the mT5 encoder-decoder takes one decoder step from token 0, and the
score is the logit of token 250089 (<extra_id_10>) clipped to [0, 25]. The weights load into
transformers' MT5ForConditionalGeneration (the same parameters: shared, encoder, decoder,
lm_head), from a hub name or a local folder, with the folder's own tokenizer when it has one.
"""
from __future__ import annotations

import numbers
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from .. import __version__
from ..data import hub
from ..errors import XlingError
from ..store.filehash import model_fingerprint
from .base import (
    Signature,
    apply_mask,
    check_lengths,
    mask_extra,
    mean_result,
    one_reference_stream,
    refuse_non_finite,
)
from .settings import METRICX_MODEL

DEFAULT_MODEL = METRICX_MODEL.default
HUB_TOKENIZER = "google/mt5-xl"        # the tokenizer every released MetricX model uses
PRECISIONS = ("32", "16", "bf16")
SCORE_TOKEN = 250089                   # <extra_id_10>: its logit is the score
INPUT_LENGTH = {"24": 1536, "23": 1024}
PREFIXES = {"24": {"hyp": " candidate: ", "ref": " reference: ", "src": "source: "},
            "23": {"hyp": "candidate: ", "ref": " reference: ", "src": " source: "}}


def _version(model: str, explicit: str | None) -> str:
    if explicit:
        explicit = str(explicit)   # (23 as a number from Python or YAML)
        if explicit not in ("23", "24"):
            raise XlingError(f"MetricX version must be 23 or 24, not {explicit!r}")
        return explicit
    names = [name.lower() for name in _own_names(model)]
    for version in ("23", "24"):   # (a folder above the model, "metricx-23-vs-24/", says nothing)
        if any(f"metricx-{version}" in name for name in names):
            return version
    if Path(model).expanduser().exists():   # the same weights would score otherwise by their folder's name
        raise XlingError(f"MetricX model folder {model!r}: its name says neither metricx-23 nor metricx-24; "
                         "pass --metricx-version 23 or 24")
    return "24"


def check_kind(model: str, version: str | None, refs: bool) -> str:
    """The version a model scores as (its name's, or the one given), checked to score as asked
    (`refs`: with references): by its name alone, no weights loaded."""
    v = _version(model, version)
    qe23 = v == "23" and _names_qe(model)
    if v == "23" and not refs and not qe23:
        raise XlingError(f"MetricX-23 model {model!r} needs references; MetricX-24 hybrid models "
                         "score without them")
    if qe23 and refs:   # (its scores were labelled reference-based, refs:yes)
        raise XlingError(f"MetricX-23 model {model!r} is a QE model: it reads no reference; score it as "
                         "metricx-qe (-m metricx-qe)")
    return v


def _own_names(model: str) -> list[str]:
    """The names a model goes by: its own (the last part of what was given) and, for a folder,
    its real folder's (a link) or its hub cache entry's (models--google--metricx-23-qe-.../
    snapshots/HASH) — never a folder above it."""
    path = Path(model).expanduser()
    names = [model.rstrip("/").rsplit("/", 1)[-1]]
    if path.exists():
        real = path.resolve()
        names += [real.name, *[part for part in real.parts if part.startswith("models--")][-1:]]
    return names


def _names_qe(model: str) -> bool:
    """A MetricX-23 QE model by its own name (metricx-23-qe-large-v2p0), never by a folder above
    it: a reference-based model kept under ~/qe-study/ is not fed QE inputs."""
    return any(re.search(r"(?:^|[-_.])qe(?:[-_.]|$)", name.lower()) for name in _own_names(model))


def in_hub_cache(name: str) -> bool:
    """Whether a MetricX model's or tokenizer's hub repo is in the local hub cache."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return any(isinstance(try_to_load_from_cache(name, file), str)
                   for file in ("config.json", "tokenizer_config.json", "spiece.model"))
    except Exception:  # noqa: BLE001 - a name the hub would refuse is not cached
        return False


def _tokenizer_source(model: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    folder = Path(model).expanduser()
    if folder.is_dir() and any((folder / name).is_file() for name in
                               ("tokenizer.json", "spiece.model", "tokenizer_config.json")):
        return str(folder)
    return HUB_TOKENIZER


def check_folder(model: str, option: str = "--metricx-model") -> None:
    """A local MetricX folder is a transformers one (config.json); a COMET checkpoint given here
    was reported as a missing mT5 tokenizer (offline), which it was not."""
    folder = Path(model).expanduser()
    if (folder / "config.json").is_file():
        return
    if (folder / "hparams.yaml").is_file() or (folder / "checkpoints" / "model.ckpt").is_file():
        raise XlingError(f"{model} is a COMET checkpoint (hparams.yaml, checkpoints/model.ckpt), not a MetricX "
                         f"model ({option}): give it as --comet-model, --xcomet-model or --cometkiwi-model")
    raise XlingError(f"MetricX model folder {model} has no config.json ({option}): not a transformers (mT5) model")


def load_tokenizer(source: str, local_files_only: bool = True):
    """MetricX's tokenizer (google/mt5-xl's, or a folder's own), as MetricX and mbrs load it:
    AutoTokenizer with legacy=False (transformers 5 builds it from the SentencePiece model; its
    ids are checked against 4.x's slow tokenizer in the tests)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(source, legacy=False, use_fast=False, local_files_only=local_files_only)


def load_metricx(model: str = DEFAULT_MODEL, precision: str = "32", tokenizer: str | None = None,
                 version: str | None = None):
    """(mT5 model, tokenizer, revision, version, device), loaded once per process and local
    checkpoint content (one replaced at the same path is loaded anew)."""
    from ..store.filehash import model_fingerprint

    path = Path(model).expanduser()
    if path.is_dir():
        check_folder(model)
    return _load_metricx(model, precision, tokenizer, version, model_fingerprint(path) if path.is_dir() else None)


@lru_cache(maxsize=2)
@hub.quieted
def _load_metricx(model: str, precision: str, tokenizer: str | None, version: str | None, content: str | None):
    if precision not in PRECISIONS:
        raise XlingError(f"MetricX precision must be one of {', '.join(PRECISIONS)}")
    import torch
    from transformers import MT5ForConditionalGeneration

    local = Path(model).expanduser().is_dir()
    online = hub.reachable()
    tokenizer_source = _tokenizer_source(model, tokenizer)
    for name in dict.fromkeys((model, tokenizer_source)):
        if not Path(name).expanduser().is_dir():
            hub.check_name(name, "MetricX model")
        # (a hub name in the local hub cache loads offline, as COMET's does)
        if not Path(name).expanduser().is_dir() and not online and not in_hub_cache(name):
            raise XlingError(f"MetricX needs {name!r}, which is neither a local folder nor in the hub "
                             "cache, and the Hugging Face hub cannot be reached to fetch it (offline?); "
                             "pass a local folder (--metricx-model PATH; a folder holding its tokenizer "
                             "needs no hub)")
    # (MetricX's head is not tied to its embeddings, though mT5's 5.x config says it is:
    # transformers finds both in the checkpoint, keeps them apart and warns: quieted)
    try:
        # eager attention: MetricX's own arithmetic (transformers 4.x had no other for mT5);
        # 5.x's default sdpa differs in the last float digits, times the head's large weights
        weights = MT5ForConditionalGeneration.from_pretrained(
            str(Path(model).expanduser()) if local else model, local_files_only=not online,
            attn_implementation="eager")
        tok = load_tokenizer(tokenizer_source, local_files_only=not online)
    except Exception as exc:  # noqa: BLE001 - gated, missing or broken: one line
        raise XlingError(f"cannot load MetricX model {model!r}: {exc}".splitlines()[0]) from exc
    if weights.config.vocab_size <= SCORE_TOKEN:
        raise XlingError(f"{model!r} is not a MetricX model: its vocabulary has no token {SCORE_TOKEN}")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    weights.eval().requires_grad_(False)
    if device == "cuda":   # half precision on a GPU only, as MetricX's own runs do
        # transformers types PreTrainedModel.to as @wraps(nn.Module.to), whose signature mypy
        # reads unbound (self first): a gap in its typing, the call is nn.Module.to's
        weights = weights.to(device, dtype={"32": torch.float32, "16": torch.float16,  # type: ignore[arg-type]
                                            "bf16": torch.bfloat16}[precision])
    if local:
        revision = model_fingerprint(Path(model).expanduser())
    else:
        revision = getattr(weights.config, "_commit_hash", None) or "unknown"
    return weights, tok, revision, _version(model, version), device


def _input_ids(tok, version: str, qe23: bool, hyp: str, ref: str | None, src: str | None) -> list[int]:
    """One segment's input as MetricX builds it (no end-of-sequence token), cut to its length."""
    prefix = PREFIXES[version]
    encode = lambda side, text: tok.encode(prefix[side] + text, add_special_tokens=False)  # noqa: E731
    if version == "24":
        ids = encode("src", src) + encode("hyp", hyp) + (encode("ref", ref) if ref is not None else [])
    else:
        ids = encode("hyp", hyp) + (encode("src", src) if qe23 else encode("ref", ref))
    # MetricX tokenizes with the end-of-sequence token, truncates to the input length, then drops
    # the last token (predict.py, _remove_eos): a long input keeps INPUT_LENGTH - 1 tokens
    return ids[:INPUT_LENGTH[version] - 1]


def _scores(weights, tok, device: str, examples: list[list[int]]):
    import torch

    batch = tok.pad({"input_ids": examples}, padding=True, return_tensors="pt")
    ids, mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
    start = torch.zeros((ids.shape[0], 1), dtype=torch.long, device=device)
    logits = weights(input_ids=ids, attention_mask=mask, decoder_input_ids=start).logits
    return torch.clamp(logits[:, 0, SCORE_TOKEN], 0, 25).float().cpu().tolist()


def metricx(hyps: Sequence[str], refs: Sequence[str] | None, srcs: Sequence[str] | None,
            model: str | os.PathLike = DEFAULT_MODEL, batch_size: int = 8, precision: str = "32",
            tokenizer: str | None = None, version: str | None = None,
            keep: Sequence[bool] | None = None):
    """Segment and corpus MetricX scores (0-25, lower is better); without refs, QE mode."""
    if srcs is None:
        raise XlingError("MetricX needs the source sentences (-s/--source)")
    if isinstance(model, os.PathLike):   # (a pathlib folder, as comet() takes it)
        model = os.fspath(model)
    if not isinstance(model, str) or not model.strip():
        raise XlingError(f"MetricX model must be a hub name or a local folder, not {model!r}")
    if refs is not None:   # (sacrebleu's layout, [refs], too: as comet() takes it)
        refs = one_reference_stream(refs, "MetricX")
    hyps, refs, srcs = apply_mask(keep, hyps, refs, srcs)
    check_lengths(hypotheses=hyps, references=refs, sources=srcs)
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise XlingError(f"MetricX batch_size must be a whole number of 1 or more, not {batch_size!r}")
    batch_size = int(batch_size)   # (a numpy integer from a notebook)
    if Path(model).expanduser().is_dir():   # (a COMET folder is named so before its name is read)
        check_folder(model)
    check_kind(model, version, refs is not None)   # before the weights load
    weights, tok, revision, v, device = load_metricx(model, precision, tokenizer, version)
    qe23 = v == "23" and _names_qe(model)
    if precision != "32" and device != "cuda":
        print(f"xling: note: MetricX runs in float32 on the CPU (precision {precision} applies on a GPU, as "
              "MetricX's own runs)", file=sys.stderr)
    examples = [_input_ids(tok, v, qe23, h, refs[i] if refs is not None else None, srcs[i])
                for i, h in enumerate(hyps)]
    # Longest inputs first, so each batch holds inputs of similar length.
    order = sorted(range(len(examples)), key=lambda i: -len(examples[i]))
    import torch

    scores = [0.0] * len(hyps)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            for i, value in zip(rows, _scores(weights, tok, device, [examples[i] for i in rows])):
                scores[i] = value

    # half precision on a GPU only (load_metricx): the signature says what was computed
    computed = precision if device == "cuda" else "32"
    # (clipping to [0, 25] keeps a NaN a NaN)
    refuse_non_finite("MetricX" if refs is not None else "MetricX-QE", scores,
                      f"at precision {computed} the model overflows: score in float32 (--precision 32)"
                      if computed != "32" else
                      "in float32: the model's weights hold NaN/inf or overflow (a damaged checkpoint?)", keep)
    fields = dict(model=model, rev=revision, version=f"metricx-{v}", prec=computed,
                  bs=batch_size,
                  refs="yes" if refs is not None else "no", impl=f"xling-{__version__}")
    if tokenizer and _tokenizer_source(model, tokenizer) != _tokenizer_source(model, None):
        # another tokenizer than the one the model takes: other ids, other scores
        local = Path(tokenizer).expanduser()
        fields["tok"] = f"{tokenizer}@{model_fingerprint(local)}" if local.is_dir() else tokenizer
    extra = {}
    if keep is not None:
        extra = mask_extra(keep)
        fields["subset"] = f"{len(hyps)}/{len(list(keep))}"
    name = "MetricX" if refs is not None else "MetricX-QE"
    result = mean_result(name, scores, Signature.of(**fields).format(), extra=extra)
    result.higher_is_better = False   # an error score: also when called directly
    return result
