"""Components from other packages: a package adds a backend, a metric or a data set by naming a
module under the entry point group "xling.backends", "xling.metrics" or "xling.datasets" (in
its setup.cfg or pyproject.toml); importing that module registers the component."""
from __future__ import annotations

import importlib
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
    for point in entry_points(group=group):
        try:
            importlib.import_module(point.value.partition(":")[0])
        except Exception as exc:  # noqa: BLE001 - a broken plugin is named, never a traceback
            raise XlingError(f"plugin {point.name!r} ({group}: {point.value}) does not load: "
                             f"{type(exc).__name__}: {exc}") from exc
