"""Model backends: every task talks only to the small interface in `base`."""
from ..errors import XlingError
from .base import Backend, Decoding, GenerationRequest, Prompt
from .batching import Batching

__all__ = ["Backend", "Batching", "Decoding", "GenerationRequest", "Prompt", "load_backend", "ready"]


def ready(backend: Backend, *, batching: Batching | None = None, cache=None):
    """The one place a backend is made ready for a task: batched as `batching` says (None:
    as it was built) and wrapped in a `CachedBackend` — with `cache` (an OutputCache, a
    path, or True for the default store) answers come from the output cache first; without
    one (None, False) every request reaches the model. A wrapped backend is unwrapped first,
    so its old cache never leaks into a new task."""
    from .cached import CachedBackend
    from ..store.cache import OutputCache

    if isinstance(backend, CachedBackend):
        backend = backend.backend
    if batching is not None:
        backend = backend.with_batching(batching)
    if cache is True or isinstance(cache, str):
        cache = OutputCache() if cache is True else OutputCache(cache)
    return CachedBackend(backend, cache if isinstance(cache, OutputCache) else None)


def load_backend(model: str | None = None, settings=None, *, static_cache: bool = False,
                 quiet: bool = False, batching: Batching | None = None, cache=None,
                 **overrides) -> Backend:
    """Load a backend for `model` as `settings` (a BackendSettings, or any run config) say;
    keywords override single settings: load_backend("m", backend="http", base_url=URL).

    backend "auto" (the default): "vllm" where a CUDA device is present and vLLM imports, else
    "hf" (resolved when the settings are built; said on stderr when the weights load);
    "hf": a local path or hub name (None: $XLING_MODEL or the embedded default model;
    imports torch lazily); "vllm": the same models, run by vLLM in this process; "http": the
    model name an OpenAI-compatible server serves.
    Options of the other backend are refused, never silently dropped. `batching` and `cache`:
    see `ready`."""
    import dataclasses

    from .settings import BackendSettings

    if settings is None or overrides:
        known = {f.name for f in dataclasses.fields(BackendSettings)}
        base = {k: getattr(settings, k) for k in known} if settings is not None else {}
        settings = BackendSettings(**{**base, **overrides})
    _refuse_other_backends_settings(settings, static_cache)
    if settings.backend == "http":
        from .http import HTTPBackend, read_api_key

        if not settings.base_url or not model:
            raise XlingError("--backend http needs --base-url and --model (the served model name)")
        backend = HTTPBackend(model, settings.base_url,
                              api_key=read_api_key(settings.api_key_env, settings.api_key_file),
                              concurrency=settings.concurrency, timeout=settings.request_timeout,
                              max_retries=settings.max_retries)
    elif settings.backend == "vllm":
        from .vllm import load_vllm_backend

        backend = load_vllm_backend(model, settings, quiet=quiet)
    else:
        from .loading import load_hf_backend

        backend = load_hf_backend(model, revision=settings.revision, trust_remote_code=settings.trust_remote_code,
                                  static_cache=static_cache, batching=batching, quiet=quiet)
    return ready(backend, cache=cache)


def _refuse_other_backends_settings(settings, static_cache: bool) -> None:
    """A setting of one backend given with another is refused, never silently dropped."""
    import dataclasses

    defaults = {f.name: f.default for f in dataclasses.fields(settings)}
    given = {name for name in settings.ENGINE if getattr(settings, name) != defaults[name]}
    if settings.backend != "vllm" and given:
        names = ", ".join(sorted(given))
        raise XlingError(f"{names} appl{'ies' if len(given) == 1 else 'y'} to --backend vllm, not to "
                         f"--backend {settings.backend}")
    local_only = [name for name, value in (("revision", settings.revision), ("trust_remote_code",
                  settings.trust_remote_code)) if value]
    if settings.backend == "http" and (local_only or static_cache):
        names = ", ".join(local_only + (["static_cache"] if static_cache else []))
        raise XlingError(f"{names} appl{'ies' if names.count(',') == 0 else 'y'} to models loaded here "
                         "(--backend hf or vllm), not to a server (--backend http)")
    if settings.backend == "vllm" and static_cache:
        raise XlingError("static_cache applies to --backend hf; vLLM manages its own KV cache")
