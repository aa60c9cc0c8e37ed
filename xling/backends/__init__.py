"""Model backends: every task talks only to the small interface in `base`."""
from ..errors import XlingError
from .base import Backend, Decoding, GenerationRequest, Prompt

__all__ = ["Backend", "Decoding", "GenerationRequest", "Prompt", "load_backend"]


def load_backend(model: str | None = None, *, kind: str = "hf", base_url: str | None = None,
                 api_key_env: str | None = None, api_key_file: str | None = None,
                 concurrency: int = 8, timeout: float = 120.0, max_retries: int = 5,
                 **options) -> Backend:
    """Load a backend for `model`. kind="hf": a local path or hub name (None: $XLING_MODEL or
    the embedded default model; imports torch lazily). kind="http": the model name an
    OpenAI-compatible server at `base_url` serves."""
    if kind == "http":
        for local_only in ("revision", "trust_remote_code", "static_cache", "quiet"):
            options.pop(local_only, None)
        from .http import HTTPBackend, read_api_key

        if not base_url or not model:
            raise XlingError("--backend http needs --base-url and --model (the served model name)")
        return HTTPBackend(model, base_url, api_key=read_api_key(api_key_env, api_key_file),
                           concurrency=concurrency, timeout=timeout, max_retries=max_retries)
    if kind != "hf":
        raise XlingError(f"unknown backend {kind!r}; known: hf, http")
    from .hf import load_hf_backend

    return load_hf_backend(model, **options)
