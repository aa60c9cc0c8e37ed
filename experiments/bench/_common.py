"""Shared helpers for the benchmarks: locating the real data, timing, printing ratios."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from xling.data.parallel import data_root  # noqa: E402


def require_data(explicit: str | None = None) -> Path:
    root = data_root(explicit, required=False)
    if root is None:
        print("skipped: no evaluation data (set XLING_DATA or pass --data-dir)")
        sys.exit(0)
    return root


@contextmanager
def timer(results: dict, name: str):
    start = time.perf_counter()
    yield
    results[name] = time.perf_counter() - start


def require_lm_eval() -> None:
    """Exit with a line saying so where lm-evaluation-harness is not importable."""
    try:
        import lm_eval  # noqa: F401
    except ImportError:
        print("skipped: lm-eval is not installed in this Python (see the script's docstring)")
        sys.exit(0)


def model_or_embedded(model: str | None) -> str:
    """The model folder asked for, else the embedded model's (converted on first use)."""
    if model is not None:
        return model
    from xling.backends.embedded import embedded_model_dir
    return str(embedded_model_dir())
