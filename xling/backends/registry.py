"""The backends xling knows. Each backend is one module that registers itself here under its
name, with the settings class it owns (the options it takes) and its loader:

    @register_backend("hf", settings=HFSettings, help="...", load_options=("static_cache",))
    def load(model, settings, *, quiet=False, batching=None, static_cache=False) -> Backend: ...

Run configs, YAML keys, the command line's options and the refusal of an option the chosen
backend does not take are all made from this table. Built-in backends are the modules in
BUILTIN; a backend in another package registers through the entry point group
"xling.backends" (each entry point names a module to import). Importing this module is light:
a backend module imports torch, vLLM or httpx only when a model loads.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import XlingError
from ..plugins import (
    called_from,
    discover,
    from_python,
    importing,
    importing_content,
    refuse_taken,
    replaced_from_python,
    track,
)
from ..settings import BUILTIN_METRIC_SETTINGS, refuse_reserved_setting, refuse_taken_setting

# The built-in backend modules, in the order their options appear in configs and in --help.
BUILTIN = ("xling.backends.loading", "xling.backends.vllm", "xling.backends.http")
ENTRY_POINTS = "xling.backends"


@dataclass(frozen=True)
class BackendKind:
    name: str
    help: str
    settings: type                           # a dataclass: the options this backend takes
    load: Callable[..., Any]                 # load(model, settings, *, quiet, batching, static_cache)
    load_options: tuple[str, ...] = ()       # task options it honours besides its settings
    plugin: str | None = None                # a plugin's "distribution==version", and a digest of
    plugin_content: str | None = None        # its source: both in its outputs' cache keys

    def setting_names(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self.settings)]


REGISTRY: dict[str, BackendKind] = {}
track(REGISTRY, builtin=BUILTIN)


def register_backend(name: str, *, settings: type, help: str, load_options: tuple[str, ...] = ()):
    """Decorator of a backend's loader: registers the backend under `name`."""
    if not dataclasses.is_dataclass(settings):
        raise TypeError(f"backend {name!r}: settings must be a dataclass")

    def wrap(load):
        builtin = called_from(BUILTIN)
        if from_python(builtin):   # checked against every backend, plugins' included
            backends()
        refuse_taken("backend", name, {**REGISTRY, "auto": None}, builtin, registering=name)
        # one registered from Python before (a notebook cell run again): this one replaces it below
        replaced = replaced_from_python("backend", (name,), REGISTRY, builtin)
        # a plugin's, or one registered from Python: every setting of its own, each with a default
        # (configs are flat); unchecked, a clash made every later run's settings a TypeError
        if not builtin:
            for f in dataclasses.fields(settings):
                refuse_reserved_setting("backend", name, f.name, isinstance(f.default, bool))
                refuse_taken_setting("backend", name, f.name, BUILTIN_METRIC_SETTINGS, "a metric")
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise XlingError(f"backend {name!r}: its setting {f.name!r} has no default (every "
                                     "backend's settings are options of every run)")
                # configs are flat: one value serves every backend (the one replaced aside)
                for other in (k for k in REGISTRY.values() if k.name not in replaced):
                    same = next((g for g in dataclasses.fields(other.settings) if g.name == f.name), None)
                    if same is not None and same.default != f.default:
                        raise XlingError(f"backend {name!r}: its setting {f.name!r} is backend {other.name!r}'s "
                                         f"too, with another default ({f.default!r}, not {same.default!r}): "
                                         "inherit that backend's settings class, or name it otherwise")
        REGISTRY[name] = BackendKind(name, help, settings, load, tuple(load_options),
                                     importing(), importing_content() if importing() else None)
        return load
    return wrap


def backends() -> dict[str, BackendKind]:
    """Every registered backend: the built-in ones in a fixed order (whichever module imported
    first registered first), then those of installed plugins."""
    discover(ENTRY_POINTS, BUILTIN)
    return {**{name: REGISTRY[name] for name in ("hf", "vllm", "http") if name in REGISTRY}, **REGISTRY}


def get_backend(name: str) -> BackendKind:
    kinds = backends()
    if name not in kinds:
        raise XlingError(f"unknown backend {name!r}; known: auto, {', '.join(kinds)}")
    return kinds[name]


def setting_fields() -> dict[str, dataclasses.Field]:
    """Every backend setting (the union of all backends' settings, first declaration wins;
    two backends that share a setting declare it with the same default)."""
    fields: dict[str, dataclasses.Field] = {}
    for kind in backends().values():
        for f in dataclasses.fields(kind.settings):
            first = fields.setdefault(f.name, f)
            if first.default != f.default:
                raise TypeError(f"backend {kind.name!r} declares {f.name!r} with another default")
    return fields


def takers(name: str) -> list[str]:
    """The backends whose settings (or load options) include `name`."""
    return [k.name for k in backends().values() if name in k.setting_names() or name in k.load_options]
