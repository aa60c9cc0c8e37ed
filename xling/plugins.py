"""Components from other packages: a package adds a backend, a metric or a data set by naming a
module under the entry point group "xling.backends", "xling.metrics" or "xling.datasets" (in
its setup.cfg or pyproject.toml); importing that module registers the component."""
from __future__ import annotations

import importlib
import sys
from importlib.metadata import entry_points

from .errors import XlingError

_loaded: set[str] = set()


def discover(group: str, builtin: tuple[str, ...] = ()) -> None:
    """Fill a registry once per process: import its built-in modules, then every module named
    under entry point `group` (each registers itself as it is imported)."""
    if group in _loaded:
        return
    _loaded.add(group)
    for module in builtin:
        importlib.import_module(module)
    global _importing
    for point in entry_points(group=group):
        _importing = f"{point.dist.name}=={point.dist.version}" if point.dist is not None else point.name
        try:
            importlib.import_module(point.value.partition(":")[0])
        except Exception as exc:  # noqa: BLE001 - a broken plugin is named, never a traceback
            # skipped, so that commands which do not need it (--help, langs, the built-ins) work;
            # a command naming its component then gets "unknown metric/backend/data set"
            print(f"xling: warning: plugin {point.name!r} ({group}: {point.value}) does not load, skipped: "
                  f"{type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        finally:
            _importing = None
        if point.dist is not None:
            LOADED[point.dist.name] = point.dist.version


_importing: str | None = None


def importing() -> str | None:
    """The plugin ("distribution==version") whose module is being imported now, if any: a
    component registered meanwhile is that plugin's (its scores record the version)."""
    return _importing


# The distributions whose plugins were loaded, with their versions (kept in each run's config.json).
LOADED: dict[str, str] = {}


def refuse_taken(kind: str, name: str, registry) -> None:
    """A component's name (or alias) must be new: a plugin never silently replaces a built-in."""
    if name in registry:
        raise XlingError(f"{kind} {name!r} is registered already; a plugin must choose another name")
