"""Advisory locks, so that two xling processes never write one run folder or output file at
once (the second one is refused with one line). The OS drops a lock when its process dies, so a
killed run never leaves a stale lock behind."""
from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from pathlib import Path

from ..errors import XlingError
from ..data.resources import cache_dir


def try_lock(handle) -> bool:
    """An exclusive, non-blocking lock on an open file."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def acquire(lock_path: Path, what: str):
    """Open and lock `lock_path` (writing our pid into it); refuse if another process holds
    it. Returns the open handle: closing it releases the lock."""
    handle = open(lock_path, "a+", encoding="utf-8")
    if not try_lock(handle):
        handle.seek(0)
        holder = handle.read().strip()
        handle.close()
        raise XlingError(f"{what} is being written by another xling process"
                         f"{f' (pid {holder})' if holder else ''}; wait for it to finish or "
                         "choose another output")
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


@contextmanager
def output_lock(target: Path):
    """Lock an output file by its real path. The lock file lives in xling's cache (not beside
    the user's file); where the cache cannot be written, no lock is taken."""
    folder = cache_dir() / "locks"
    name = hashlib.sha256(str(target.resolve()).encode()).hexdigest()[:32]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = acquire(folder / f"{name}.lock", str(target))
    except OSError:
        handle = None
    try:
        yield
    finally:
        if handle is not None:
            handle.close()
