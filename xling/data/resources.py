"""Where xling's data folders live, in a source checkout and in an installed package."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import XlingError

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def data_folder(name: str) -> Path:
    """Return the top-level data folder `name` (e.g. "langpairs").

    In a checkout (and an editable install) it sits beside the package; a regular install puts
    it under `<prefix>/share/xling/` (setup.cfg's data_files).
    """
    for root in (REPO_ROOT, Path(sys.prefix) / "share" / "xling"):
        if (root / name).is_dir():
            return root / name
    raise FileNotFoundError(f"xling's data folder {name!r} is missing from the installation")


def cache_dir() -> Path:
    """xling's cache root: $XLING_CACHE, else ~/.cache/xling (created by whoever writes there)."""
    return Path(os.environ.get("XLING_CACHE") or Path.home() / ".cache" / "xling")


def models_path() -> Path:
    """Where converted models live: $XLING_MODEL_CACHE, else <cache>/models (not created)."""
    return Path(os.environ.get("XLING_MODEL_CACHE") or cache_dir() / "models")


def models_dir() -> Path:
    """`models_path`, created."""
    path = models_path()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise XlingError(f"cannot create the model folder {path}: {exc.strerror}; set "
                         "XLING_MODEL_CACHE to a writable folder") from exc
    return path
