"""Components from other packages: a package adds a backend, a metric or a data set by naming a
module under the entry point group "xling.backends", "xling.metrics" or "xling.datasets" (in
its setup.cfg or pyproject.toml); importing that module registers the component."""
from __future__ import annotations

import hashlib
import importlib
import sys
import threading
from importlib.metadata import entry_points
from pathlib import Path

from .errors import XlingError

_loaded: set[str] = set()
_discovering = threading.RLock()   # reentrant: a built-in module looking its registry up re-enters
# The registries plugins add to (dicts, by `track`): what a plugin that fails halfway through
# its import registered is taken out again, so "skipped" means skipped.
_TRACKED: list[dict] = []
_BUILTIN: list[str] = []
# Every registry's module, imported before any plugin: one a plugin's own import first brought in
# was tracked only during that import, and what the failed plugin had put in it stayed.
_REGISTRIES = ("xling.metrics.registry", "xling.backends.registry", "xling.data.registry")


def track(*registries: dict, builtin: tuple[str, ...] = ()) -> None:
    """Registries plugins add to, and the modules that fill them with xling's own components
    (imported before any plugin, so that a plugin's failure never takes a built-in with it)."""
    _TRACKED.extend(registries)
    _BUILTIN.extend(builtin)


def discover(group: str, builtin: tuple[str, ...] = ()) -> None:
    """Fill a registry once per process: import its built-in modules, then every module named
    under entry point `group` (each registers itself as it is imported)."""
    with _discovering:   # (another thread's first lookup found the group marked loaded and empty)
        _discover(group, builtin)


def _discover(group: str, builtin: tuple[str, ...]) -> None:
    if group in _loaded:
        return
    _loaded.add(group)   # (first: a built-in module that looks its registry up finds it filling)
    try:
        for module in _REGISTRIES:
            importlib.import_module(module)
        for module in (*builtin, *_BUILTIN):
            importlib.import_module(module)
    except BaseException:
        # not remembered as loaded: every later lookup would have answered without the built-ins
        _loaded.discard(group)
        raise
    global _importing, _importing_content
    # in the order of their distributions' names (then their own), not of sys.path and folder
    # listings: of two plugins registering one name, the same one keeps it on every machine
    points = sorted(entry_points(group=group), key=lambda p: (p.dist.name.lower() if p.dist else "", p.name))
    for point in points:
        module = point.value.partition(":")[0]
        _importing = f"{point.dist.name}=={point.dist.version}" if point.dist is not None else point.name
        _importing_content = source_digest(module)
        before = [set(registry) for registry in _TRACKED]
        try:
            importlib.import_module(module)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - a broken plugin is named, never a traceback
            # skipped, so that commands which do not need it (--help, langs, the built-ins) work;
            # a command naming its component then gets "unknown metric/backend/data set"
            for registry, keys in zip(_TRACKED, before):
                for key in set(registry) - keys:
                    del registry[key]
            said = " ".join(str(exc).split())   # (one line: a YAML or numpy error spans several)
            print(f"xling: warning: plugin {point.name!r} ({group}: {point.value}) does not load, skipped: "
                  f"{type(exc).__name__}: {said[:300]}{'...' if len(said) > 300 else ''}", file=sys.stderr)
            if point.dist is not None:
                FAILED[group, point.dist.name] = point.dist.version
            continue
        finally:
            _importing = _importing_content = None
        if point.dist is not None:
            LOADED[point.dist.name] = point.dist.version


_importing: str | None = None
_importing_content: str | None = None


def importing() -> str | None:
    """The plugin ("distribution==version") whose module is being imported now, if any: a
    component registered meanwhile is that plugin's (its scores record the version)."""
    return _importing


def importing_content() -> str | None:
    """A digest of the source of the plugin being imported now (see `source_digest`)."""
    return _importing_content


def source_digest(module: str) -> str | None:
    """A digest of a plugin's source: every .py file of the top-level package of `module` (or
    the module's one file). A plugin edited in place (an editable install, its version kept)
    then scores again instead of keeping its old scores. None where there is no source."""
    from importlib.util import find_spec

    try:
        spec = find_spec(module.partition(".")[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        files = sorted((path.relative_to(root).as_posix(), path)
                       for root in map(Path, spec.submodule_search_locations) for path in root.rglob("*.py"))
    elif spec.origin and spec.origin.endswith(".py"):
        files = [(Path(spec.origin).name, Path(spec.origin))]
    else:
        return None
    digest = hashlib.sha256()
    try:
        for name, path in files:
            digest.update(name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    except OSError:
        return None
    return digest.hexdigest()[:16]


# The distributions whose plugins were loaded, with their versions (kept in each run's config.json).
LOADED: dict[str, str] = {}
# (entry point group, distribution) of each plugin installed but failing to import (warned), with
# its version: a run's scores that need it then say so, never "not installed".
FAILED: dict[tuple[str, str], str] = {}


# Who registered each component name ("xling" or a plugin's "distribution==version"), for the
# line that skips a plugin whose name is taken.
_OWNERS: dict[tuple[str, str], str] = {}


# The owner of a component registered from Python (not a plugin's import, nor xling's own).
FROM_PYTHON = "python"


def refuse_taken(kind: str, name: str, registry, builtin: bool = False, registering: str | None = None) -> None:
    """A component's name (or alias) must be new: a plugin, or a registration from Python,
    never silently replaces a built-in or a component registered before it; but one registered
    from Python under the name `registering` is replaced by another registration from Python of
    that name (a notebook cell run again: the registry then drops the old one, see
    `replaced_from_python`), never another component whose name or alias it reuses. `builtin`:
    xling's own registration."""
    if name in registry:
        owner = _OWNERS.get((kind, name), "xling")
        if owner == FROM_PYTHON and from_python(builtin) and _canonical(registry, name) == registering:
            return
        holder = {"xling": "xling's own", FROM_PYTHON: "one registered from Python"}.get(owner, f"plugin {owner}'s")
        who = "a plugin must choose another name" if importing() else "register yours under another name"
        raise XlingError(f"{kind} {name!r} is registered already ({holder}); {who}")
    _OWNERS[(kind, name)] = importing() or ("xling" if builtin else FROM_PYTHON)


def called_from(modules) -> bool:
    """Whether the decorator registering a component was applied by code of one of `modules`
    (xling's own), not by a plugin or a user reusing one of xling's loader functions: the
    loader's own module said "built-in" for `register_backend("mine", ...)(loading.load)`, whose
    settings then went unchecked. (Frames: this, the decorator's wrap, its caller.)"""
    return importing() is None and sys._getframe(2).f_globals.get("__name__") in modules


def from_python(builtin: bool) -> bool:
    """Whether a registration is made from Python (a user's code, not a plugin's import nor
    xling's own): it is checked as a plugin's is, against every built-in and plugin, which its
    registry then loads first."""
    return not builtin and importing() is None


def replaced_from_python(kind: str, names, registry: dict, builtin: bool = False) -> set:
    """Of `names` (a registration's name and aliases, each passed by `refuse_taken`), the
    entries of `registry` (by name, or by alias: their canonical name) that a registration from
    Python replaces: those registered from Python before it."""
    if not from_python(builtin):
        return set()
    return {_canonical(registry, name) for name in names
            if name in registry and _OWNERS.get((kind, name)) == FROM_PYTHON} & {names[0]}


def _canonical(registry: dict, name: str) -> str:
    """The name of the component `name` stands for in `registry` (an alias maps to it)."""
    return registry[name] if isinstance(registry[name], str) else name


def refuse_unreachable(kind: str, name: str, option: str, forbidden: str) -> None:
    """A name the command line's `option` could never give (empty, or holding one of
    `forbidden` or whitespace) is refused when it is registered, not unreachable later."""
    if not name or any(c in forbidden or c.isspace() for c in name):
        said = " or ".join([*(repr(c) for c in forbidden), "whitespace"])
        raise XlingError(f"{kind} {name!r}: {option} could never name it; a {kind}'s name and aliases are "
                         f"not empty and hold no {said}")
