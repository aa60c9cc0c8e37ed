"""Model backends: every task talks only to the small interface in `base`."""
from ..errors import XlingError
from ..store.cache import OutputCache
from .base import Backend, Decoding, GenerationRequest, Prompt
from .batching import Batching
from .cached import CachedBackend
from .settings import BackendChoice, BackendSettings

__all__ = ["Backend", "Batching", "Decoding", "GenerationRequest", "Prompt", "load_backend", "ready"]


def ready(backend: Backend, *, batching: Batching | None = None, cache=None) -> CachedBackend:
    """The one place a backend is made ready for a task: batched as `batching` says (None:
    as it was built) and wrapped in a `CachedBackend` — with `cache` (an OutputCache, a
    path, or True for the default store) answers come from the output cache first; without
    one (None, False) every request reaches the model. A wrapped backend is unwrapped first,
    so its old cache never leaks into a new task."""

    import os

    if isinstance(backend, CachedBackend):
        backend = backend.backend
    if batching is not None:
        backend = backend.with_batching(batching)
    check_cache(cache)
    if cache is True or isinstance(cache, (str, os.PathLike)):
        cache = OutputCache() if cache is True else OutputCache(os.fspath(cache))
    return CachedBackend(backend, cache if isinstance(cache, OutputCache) else None)


def check_cache(cache) -> None:
    """A `cache` argument ready() takes, else one XlingError (cache=1 or a Path kept nothing)."""
    import os

    if not (cache is None or isinstance(cache, (bool, str, os.PathLike, OutputCache))):
        raise XlingError(f"cache must be True, False, a file path or an OutputCache, not {cache!r}")


def check_settings(settings) -> None:
    """A `settings` argument load_backend takes, else one XlingError (settings=5 was an
    AttributeError: 'int' object has no attribute 'section')."""
    from .settings import _BackendSettingsBase

    if not (settings is None or isinstance(settings, (BackendChoice, _BackendSettingsBase, dict))):
        raise XlingError("settings must be a BackendSettings, a run config or a dict (of backend settings), "
                         f"not {type(settings).__name__}")


def check_options(options, also=()) -> None:
    """A loading option no backend takes (a typo) is one XlingError, never a TypeError that
    names an internal class."""
    import dataclasses

    known = {f.name for f in dataclasses.fields(BackendSettings)} | {"static_cache", "quiet", *also}
    unknown = sorted(set(options) - known)
    if unknown:
        raise XlingError(f"unknown option(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}")


def load_backend(model: str | None = None, settings=None, *, static_cache: bool = False,
                 quiet: bool = False, batching: Batching | None = None, cache=None,
                 **overrides) -> CachedBackend:
    """Load a backend for `model` as `settings` say: a BackendChoice (a backend with its own
    settings, from a config's `section()`), a BackendSettings or any run config, a dict of
    backend settings, or None;
    keywords override single settings: load_backend("m", backend="http", base_url=URL).

    backend "auto" (the default): "vllm" where a CUDA device is present and vLLM imports, else
    "hf" (resolved when the settings are built; said on stderr when the weights load); the
    backends and their settings are registered in `registry` (hf: a local path or hub name,
    None: $XLING_MODEL or the embedded default model; vllm: the same models, run by vLLM in
    this process; http: the model name an OpenAI-compatible server serves).
    A setting of another backend is refused, never silently dropped. `batching` and `cache`:
    see `ready`."""
    import dataclasses

    check_settings(settings)
    if isinstance(settings, dict):   # settings={"base_url": ...}: the same as giving them one by one
        overrides, settings = {**settings, **overrides}, None
    for name, value in (("static_cache", static_cache), ("quiet", quiet)):
        if not isinstance(value, bool):
            raise XlingError(f"{name} must be True or False, not {value!r}")
    if not isinstance(settings, BackendChoice):
        if settings is None or overrides:
            known = {f.name for f in dataclasses.fields(BackendSettings)}
            check_options(overrides)
            base = {k: getattr(settings, k) for k in known} if settings is not None else {}
            settings = BackendSettings(**{**base, **overrides})
        settings = settings.section(static_cache)
    elif static_cache and "static_cache" not in settings.kind.load_options:
        raise XlingError(f"static_cache applies to --backend hf, not to --backend {settings.name}")
    backend = settings.kind.load(model, settings.settings, quiet=quiet, batching=batching,
                                 static_cache=static_cache)
    if settings.kind.plugin:   # a plugin's new version, or its code edited in place, makes new outputs
        backend.fingerprint = {**backend.fingerprint, "plugin": settings.kind.plugin,
                               "plugin_content": settings.kind.plugin_content}
    return ready(backend, cache=cache)
