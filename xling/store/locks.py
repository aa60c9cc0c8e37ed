"""Advisory locks, so that two xling processes never write one run folder or output file at
once (the second one is refused with one line). The OS drops a lock when its process dies, so a
killed run never leaves a stale lock behind."""
from __future__ import annotations

import errno
import os
import stat
from contextlib import contextmanager
from pathlib import Path

from ..data.textio import helper_stem, stale_temporaries
from ..errors import XlingError


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


def _open_own_file(lock_path: Path):
    """Open (or create) a lock file that can only be xling's own: never through a symbolic
    link, and never a file with other names (a hard link to a user's file), since its contents
    are replaced by a process id."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(lock_path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise XlingError(f"{lock_path} is a symbolic link; xling never writes through one: "
                             "remove it and run again") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
        os.close(fd)
        raise XlingError(f"{lock_path} is not xling's lock file (it is "
                         f"{'a file with other names' if stat.S_ISREG(info.st_mode) else 'not a regular file'}); "
                         "xling will not write it: remove it and run again")
    return os.fdopen(fd, "r+", encoding="utf-8")


def is_held(lock_path: Path) -> bool:
    """Whether a live process holds this lock now (the file is only read, never written)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        return False
    try:
        fd = os.open(lock_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def acquire(lock_path: Path, what: str):
    """Open and lock `lock_path` (writing our pid into it); refuse if another process holds
    it. Returns the open handle: closing it releases the lock."""
    handle = _open_own_file(lock_path)
    if not try_lock(handle):
        handle.seek(0)
        holder = handle.read(32).strip()
        handle.close()
        raise XlingError(f"{what} is being written by another xling process"
                         f"{f' (pid {holder})' if holder.isdigit() else ''}; wait for it to finish or "
                         "choose another output")
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
    except OSError:   # a full disk: the lock (held, so ours to remove) must not stay behind
        try:
            os.unlink(lock_path)
        except OSError:
            pass
        try:
            handle.close()
        except OSError:
            pass
        raise
    return handle


def output_lock_path(target: Path) -> Path:
    """Where the lock of an output file lives: beside it, in the file's own folder, so every
    process that writes the file finds the same lock whatever its cache or environment."""
    return target.parent / (helper_stem(target, ".xling-lock") + ".xling-lock")


@contextmanager
def output_lock(target: Path):
    """Lock an output file (by its real path) for as long as it is being made; the lock file is
    removed again when the work ends. Temporary files of this output that a killed run left are
    removed once the lock is held (no other process is writing the file then)."""
    real = Path(os.path.realpath(target))
    lock_path = output_lock_path(real)
    while True:
        try:
            handle = acquire(lock_path, str(target))
        except OSError as exc:
            raise XlingError(f"cannot write {target}: {exc.strerror}") from exc
        # A process that finished between our open and our lock has removed the file we hold:
        # lock the one now at that path instead.
        try:
            if os.path.samestat(os.fstat(handle.fileno()), os.stat(lock_path, follow_symlinks=False)):
                break
        except FileNotFoundError:
            pass
        handle.close()
    for stale in stale_temporaries(real):
        try:
            stale.unlink()
        except OSError:
            pass
    try:
        yield
    finally:
        try:
            os.unlink(lock_path)     # while still held: no other process can be holding it
        except OSError:
            pass
        handle.close()
