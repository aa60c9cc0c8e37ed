"""Which Hugging Face backend a model needs, and loading it: a local folder, a hub name (offline:
from the local hub cache, or one clear error) or the embedded default model; causal LMs get
`hf.HFBackend`, encoder-decoder MT models `seq2seq.HFSeq2SeqBackend`."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ..data import hub
from ..errors import XlingError
from ..settings import setting
from .batching import Batching
from .embedded import NOTICE, embedded_model_dir
from .hf import HFBackend
from .hfmodel import LocalBackend, load_config
from .registry import register_backend
from .seq2seq import HFSeq2SeqBackend


@dataclass(kw_only=True)
class LocalModelSettings:
    """The options of a model loaded in this process (--backend hf; vLLM's settings add its own)."""
    revision: str | None = setting(None, "Hub revision of the model (hf, vllm).")
    trust_remote_code: bool = setting(False, "Allow model code from the hub to run (hf, vllm).")


@register_backend("hf", settings=LocalModelSettings, load_options=("static_cache",),
                  help="load the model here with transformers (causal LMs and encoder-decoder MT models)")
def load(model: str | None, settings: LocalModelSettings, *, quiet: bool = False,
         batching: Batching | None = None, static_cache: bool = False) -> LocalBackend:
    return load_hf_backend(model, revision=settings.revision, trust_remote_code=settings.trust_remote_code,
                           static_cache=static_cache, batching=batching, quiet=quiet)


def resolve_model_name(model: str | None) -> str | None:
    """None (or "embedded") means $XLING_MODEL, else the embedded default model."""
    model = model or os.environ.get("XLING_MODEL") or None
    return None if model in (None, "embedded") else model


def locate_model(model: str | None, revision: str | None = None, quiet: bool = False) -> tuple[str, str]:
    """(source to load, name to show and fingerprint) of a model: the embedded default model's
    converted folder, a local folder, or a hub name (offline: only from the local hub cache,
    else one clear error)."""
    name = resolve_model_name(model)
    if name is None:
        if not quiet:
            print(NOTICE, file=sys.stderr)
        return str(embedded_model_dir()), "embedded:gemma3-270m"
    path = Path(name).expanduser()
    if path.is_file():
        raise XlingError(f"model {name!r} is a file; pass the folder that holds its config.json")
    if path.is_dir() and not (path / "config.json").is_file():
        raise XlingError(f"model folder {name!r} has no config.json: it is not a transformers "
                         "checkpoint (config.json, weights and tokenizer files)")
    if path.exists():   # (spelled as typed: cache keys hold it; runs compare it normalised)
        return str(path), name
    hub.check_name(name)
    if not hub.reachable() and not hub.cached(name, revision):
        raise hub.error_for(name)
    return name, name   # offline, loaders read it from the local hub cache (hub.load_options)


def check_weights(source: str) -> None:
    """A local model folder's weights, found and their headers read (not the tensors): a missing
    or cut-short file is one line before any work (a sweep trained for hours, then failed)."""
    path = Path(source)
    if not path.is_dir():
        return   # a hub name: its own loader's message
    shards = sorted(path.glob("*.safetensors"))
    if not shards and not any((path / name).is_file() for name in ("pytorch_model.bin",
                                                                   "pytorch_model.bin.index.json")):
        raise XlingError(f"cannot load model weights from {source!r}: no *.safetensors or pytorch_model.bin in it")
    from safetensors import safe_open

    for shard in shards:
        try:
            with safe_open(str(shard), "pt") as weights:
                weights.keys()
        except Exception as exc:  # noqa: BLE001 - a damaged file, whatever safetensors calls it
            raise XlingError(f"cannot load model weights from {source!r}: {shard.name}: {exc}") from exc


def load_hf_backend(model: str | None = None, *, revision: str | None = None,
                    trust_remote_code: bool = False, device: str | None = None,
                    static_cache: bool = False, batching: Batching | None = None,
                    quiet: bool = False) -> LocalBackend:
    # (the embedded model's notice whatever `quiet`: a quiet judge from Python used it unsaid)
    source, display = locate_model(model, revision)
    return open_hf_backend(source, display=display, revision=revision,
                           trust_remote_code=trust_remote_code, device=device,
                           static_cache=static_cache, batching=batching)


def open_hf_backend(source: str, **options) -> LocalBackend:
    """The backend class the checkpoint needs: a causal LM (prompts) or an encoder-decoder MT
    model (bare sources, forced target language)."""
    common = hub.load_options(source, options.get("revision"), options.get("trust_remote_code", False))
    config, tokenizer = load_config(source, common)
    cls = HFSeq2SeqBackend if getattr(config, "is_encoder_decoder", False) else HFBackend
    return cls(source, config=config, tokenizer=tokenizer, **options)
