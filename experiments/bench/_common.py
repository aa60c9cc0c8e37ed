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
