"""Components from other packages: a package adds a backend, a metric or a data set by naming a
module under the entry point group "xling.backends", "xling.metrics" or "xling.datasets" (in
its setup.cfg or pyproject.toml); importing that module registers the component."""
from __future__ import annotations

import hashlib
import importlib
import sys
import threading
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import FrameType

from .errors import XlingError

_loaded: set[str] = set()
_discovering = threading.RLock()   # reentrant: a built-in module looking its registry up re-enters
# The registries plugins add to (dicts, by `track`): what a plugin that fails halfway through
# its import registered is taken out again, so "skipped" means skipped (see `claim`).
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
    # in the order of their distributions' names (then their own), not of sys.path and folder
    # listings: of two plugins registering one name, the same one keeps it on every machine
    points = sorted(entry_points(group=group), key=lambda p: (p.dist.name.lower() if p.dist else "", p.name))
    for point in points:
        _load(group, _point(group, point))


@dataclass(frozen=True)
class _Point:
    """An entry point of a plugin, and its distribution's name and version (None without one)."""
    group: str
    name: str
    value: str
    dist: str | None
    version: str = ""

    @property
    def module(self) -> str:
        return self.value.partition(":")[0]

    @property
    def plugin(self) -> str:
        """"distribution==version" (a component's scores and outputs record it)."""
        return f"{self.dist}=={self.version}" if self.dist is not None else self.name


def _point(group: str, point) -> _Point:
    dist = point.dist
    return _Point(group, point.name, point.value, dist.name if dist else None, dist.version if dist else "")


def _load(group: str, point: _Point) -> None:
    """Import one entry point's module. A module already imported (another plugin imported it)
    counts as loaded too: its components registered then are its own (see `registrant`)."""
    before = [set(registry) for registry in _TRACKED]
    _importing.append(point)
    try:
        importlib.import_module(point.module)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - a broken plugin is named, never a traceback
        # skipped, so that commands which do not need it (--help, langs, the built-ins) work;
        # a command naming its component then gets "unknown metric/backend/data set"
        _roll_back(before, point)
        said = " ".join(str(exc).split())   # (one line: a YAML or numpy error spans several)
        print(f"xling: warning: plugin {point.name!r} ({group}: {point.value}) does not load, skipped: "
              f"{type(exc).__name__}: {said[:300]}{'...' if len(said) > 300 else ''}", file=sys.stderr)
        if point.dist is not None:
            FAILED[group, point.dist] = point.version
        return
    finally:
        _importing.pop()
    _roll_back(before, None)   # (what a module it imported and caught the failure of had registered)
    if point.dist is not None:
        LOADED[point.dist] = point.version


def _roll_back(before: list[set], failed: _Point | None) -> None:
    """Take out what was registered since `before` by the plugin of the entry point `failed`
    (its import failed), and by any module whose import failed meanwhile; never what another
    plugin, whose module the failed one imported, registered (its entry point, already imported
    when its turn comes, registers nothing again)."""
    for registry, keys in zip(_TRACKED, before):
        for key in set(registry) - keys:
            claims = _CLAIMS.pop((id(registry), key), [])
            kept = [c for c in claims if c.module in sys.modules and c.point != failed]
            if kept:
                _CLAIMS[id(registry), key] = kept
            elif claims or failed is not None:   # (unclaimed: the failed plugin's own)
                del registry[key]


@dataclass(frozen=True)
class Owner:
    """The plugin a registration is attributed to: its "distribution==version", a digest of its
    package's source, its entry point, and the module whose code registered."""
    plugin: str
    content: str | None
    point: _Point
    module: str


# (id of a tracked registry, key) -> the plugins whose registrations put the key there
_CLAIMS: dict[tuple[int, object], list[Owner]] = {}


def claim(owner: Owner | None, registry: dict, keys) -> None:
    """`keys` of `registry` were put there (or are shared) by `owner`'s registration: taken out
    again only with that plugin (see `_roll_back`). None: not a plugin's (nothing to do)."""
    if owner is not None:
        for key in keys:
            _CLAIMS.setdefault((id(registry), key), []).append(owner)


# The entry points being imported now, innermost last (a plugin's registration may look
# another registry up, which imports that group's plugins).
_importing: list[_Point] = []


def importing() -> str | None:
    """The plugin ("distribution==version") whose entry point is being imported now, if any: a
    component registered meanwhile is a plugin's (see `registrant` for which)."""
    return _importing[-1].plugin if _importing else None


def registrant() -> Owner | None:
    """The plugin registering a component now (None outside a plugin's import): the one whose
    module is the innermost caller that is a plugin's, else the entry point being imported. A
    plugin importing another plugin's module never takes that plugin's components (nor its
    version and source digest, by which its scores are told stale)."""
    if not _importing:
        return None
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__")
        point = _point_of(module) if isinstance(module, str) else None
        if point is not None:
            return _owner(point, str(module))
        frame = frame.f_back
    return _owner(_importing[-1], _importing[-1].module)


def _owner(point: _Point, module: str) -> Owner:
    top = point.module.partition(".")[0]
    if top not in _DIGESTS:
        _DIGESTS[top] = source_digest(top)
    return Owner(point.plugin, _DIGESTS[top], point, module)


_DIGESTS: dict[str, str | None] = {}   # top-level package -> its source digest (once a process)


def _point_of(module: str) -> _Point | None:
    """The plugin entry point `module` belongs to: the one naming it or the package holding it
    (the innermost), else the one distribution whose entry points lie in its top-level package."""
    points = _plugin_points()
    parts = module.split(".")
    for size in range(len(parts), 0, -1):
        named = [p for p in points if p.module == ".".join(parts[:size])]
        if named:
            return _prefer_importing(named)
    top = [p for p in points if p.module.partition(".")[0] == parts[0]]
    if parts[0] != "xling" and len({p.plugin for p in top}) == 1:
        return _prefer_importing(top)
    return None


def _prefer_importing(points: list[_Point]) -> _Point:
    return next((p for p in reversed(_importing) if p in points), points[0])


_POINTS: list[_Point] = []
GROUPS = ("xling.backends", "xling.metrics", "xling.datasets")


def _plugin_points() -> list[_Point]:
    """Every plugin entry point of every group (read once a process, when first needed)."""
    if not _POINTS:
        _POINTS.extend(_point(group, p) for group in GROUPS for p in entry_points(group=group))
    return _POINTS


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
    plugin = registrant()   # (the plugin whose code registers it: not one importing that plugin's module)
    _OWNERS[(kind, name)] = plugin.plugin if plugin else ("xling" if builtin else FROM_PYTHON)


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
