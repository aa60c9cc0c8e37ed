"""`--backend auto` (the default): vLLM where a CUDA device is present and vLLM imports, else
transformers (hf). Resolved when a config is built, so a run's config.json and identity hold
the backend that actually runs (a cached run never changes its meaning), and said once on
stderr, with the reason when vLLM was not taken."""
from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Callable

_said: set[str] = set()


def choose_backend() -> tuple[str, str]:
    """("vllm" or "hf", why)."""
    import torch

    if not torch.cuda.is_available():
        return "hf", "no CUDA device"
    if importlib.util.find_spec("vllm") is None:
        return "hf", "vLLM is not installed (pip install 'xling[vllm]')"
    try:
        import vllm  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means: not vLLM
        return "hf", f"vLLM does not import ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})"
    return "vllm", "a CUDA device and vLLM are present"


def hf_only_reason(select: str, candidates: int, sampling: str | None, epsilon: float,
                   temperature: float = 1.0) -> str | None:
    """Why candidates drawn this way need transformers' path, which `auto` then takes (vLLM
    refuses beam-search candidates, epsilon sampling and temperatures below its floor); None
    where vLLM can draw them."""
    if select == "greedy" or candidates <= 1:
        return None
    if sampling == "beam":
        return "beam-search candidates are transformers' path"
    if epsilon > 0:
        return "epsilon sampling is transformers' path"
    if 0 < temperature < 0.01:   # (VLLM_MIN_TEMPERATURE; vllm.py is not imported for the choice)
        return f"temperature {temperature:g} (below vLLM's 0.01) is transformers' path"
    return None


def encoder_decoder_reason(model: str | None) -> str | None:
    """Why `model` needs transformers' path where its config says it is an encoder-decoder model
    (NLLB, M2M100, Marian: vLLM runs causal LMs here); None for a causal LM, the embedded model,
    or a hub model whose config is neither cached nor reachable (vLLM then says so itself)."""
    name = model or os.environ.get("XLING_MODEL") or None
    if name in (None, "embedded"):
        return None
    config = Path(name).expanduser() / "config.json"
    if not config.is_file():
        try:
            from huggingface_hub import hf_hub_download, try_to_load_from_cache

            from ..data import hub

            cached = try_to_load_from_cache(name, "config.json")
            if not isinstance(cached, str) and not hub.reachable():
                return None
            config = Path(cached if isinstance(cached, str) else hf_hub_download(name, "config.json"))
        except Exception:  # noqa: BLE001 - an unknown or unreachable name: the backend's own error says it
            return None
    try:
        encoder_decoder = json.loads(config.read_text(encoding="utf-8")).get("is_encoder_decoder", False)
    except (OSError, ValueError, AttributeError):
        return None
    return f"{name} is an encoder-decoder model, which xling runs with transformers" if encoder_decoder else None


def resolve_backend(name: str, static_cache: bool = False,
                    hf_only: str | Callable[[], str | None] | None = None) -> str:
    """The backend `name` stands for ("auto" chooses; others are themselves). `hf_only`: why the
    settings need transformers (beam-search candidates, epsilon sampling, an encoder-decoder
    model), or a function that says, asked only where vLLM could run. The line saying so waits
    for `announce()`, when the weights really load: a command refused for bad input still prints
    one error line only."""
    if name != "auto":
        return name
    chosen, why = choose_backend()
    if chosen != "hf":   # (where the machine takes hf anyway, that is the reason for every config)
        reason = hf_only() if callable(hf_only) else hf_only
        if static_cache:
            chosen, why = "hf", "--static-cache is transformers' path"
        elif reason:
            chosen, why = "hf", reason
    # one line per backend: of a file's variants (built before any loads), each is announced
    # with its own reason, never another variant's
    _pending[chosen] = (f"xling: backend hf (auto: {why}; --backend hf|vllm chooses)" if chosen == "hf"
                        else f"xling: backend vllm (auto: {why}; --backend hf forces transformers)")
    return chosen


_pending: dict[str, str] = {}


def announce(backend: str) -> None:
    """Say once per process which backend `auto` chose, as `backend` is loaded."""
    line = _pending.pop(backend, None)
    if line and line not in _said:
        _said.add(line)
        print(line, file=sys.stderr)
