"""A content-addressed store of model outputs.

The key hashes everything that determines an output: the exact text the model sees, the model
and its revision, the backend, the decoding parameters and the token budget. A changed prompt
therefore never reuses a stale output, and an interrupted run (even SIGKILL: SQLite commits are
atomic) resumes from what it had finished.

A cache is disposable, a run folder is not: a damaged database is moved aside
(`<name>.corrupt-<time>`) with one warning and a fresh one is started; where no database can be
written (read-only folder, full disk) the work goes on without a cache, said once, reading the
database that is there where its folder is read-only (a shared cache of finished answers).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import sys
import threading
import time
from pathlib import Path

from ..data.resources import cache_dir


def content_key(**parts) -> str:
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _warn(message: str) -> None:
    print(f"xling: warning: {message}", file=sys.stderr)


# (folder, reason) said: once for a folder's stores (outputs and file digests side by side), again
# for another reason there; (folder, "") for the folder's own trouble (full disk, not writable)
_unusable_folders: set[tuple[Path, str]] = set()

# Free space under which a failure to write is the disk being full (a fresh database with its
# -wal and -shm files needs about 50 KB)
FULL_DISK_BYTES = 1 << 20


def _warn_read_only(folder: Path) -> None:
    """Once for a folder's stores, whichever opens first: those with a database are read."""
    if (folder, "") not in _unusable_folders:
        _unusable_folders.add((folder, ""))
        _warn(f"the cache folder {folder} is not writable: what its databases hold is read, nothing new is kept "
              "(results made now are not kept for a resume)")


def _disk_trouble(reason: str) -> bool:
    reason = reason.lower()
    return any(words in reason for words in ("disk i/o error", "disk is full", "no space left", "unable to open"))


def _free_bytes(folder: Path) -> int:
    """Free space on the disk of folder (or of its nearest existing parent: it may not exist yet)."""
    for place in (folder, *folder.parents):
        try:
            return shutil.disk_usage(place).free
        except OSError:
            continue
    return FULL_DISK_BYTES


class KeyValueStore:
    """A string -> string table in SQLite that survives damage to its own file. Usable from any
    thread (a Translator in a web server's pool): one connection, one call at a time."""

    TABLE = "outputs"

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser().absolute()   # (a later os.chdir never moves it)
        self._db: sqlite3.Connection | None = None
        self._file: tuple[int, int] | None = None   # (device, inode) of the file opened
        self._lock = threading.RLock()
        self._closed = False
        self._read_only = False   # (a database in a read-only folder: read, never written)
        self._open()

    def __bool__(self) -> bool:   # a store is a store, empty or not (`if cache` never counts rows)
        return True

    def _follow(self) -> None:
        """Another process that found the file damaged moved it aside and started a fresh one:
        reconnect, so that what this one stores lands in the live cache, not in the moved file.
        A store closed (a Translator's `with` block ended) opens again when it is used again: it
        went on uncached, generating the same sentences at every call, without a word."""
        if self._closed:
            self._closed = False
            return self._open()
        if self._db is None or self._file is None:
            return
        try:
            info = os.stat(self.path)
            moved = (info.st_dev, info.st_ino) != self._file
        except OSError:
            moved = True
        if moved:
            self._db.close()
            self._db = None
            self._open()

    def _connect(self) -> sqlite3.Connection:
        if self.path.parent.exists() and not self.path.parent.is_dir():
            raise NotADirectoryError(0, f"{self.path.parent} is a file, not a folder (XLING_CACHE names the folder)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)   # (calls are serialised: _lock)
        self._file = _identity(self.path)   # the file these queries may find damaged (_move_aside)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"CREATE TABLE IF NOT EXISTS {self.TABLE} "
                       "(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute(f"SELECT COUNT(*) FROM {self.TABLE}").fetchone()
            db.commit()
            self._file = _identity(self.path)
        except BaseException:
            db.close()
            raise
        return db

    def _open(self) -> None:
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                return self._open_read_only(exc)
            self._move_aside(exc)
            try:
                self._db = self._connect()
            except (sqlite3.Error, OSError) as again:
                self._disable(again)
        except OSError as exc:
            self._open_read_only(exc)

    def _open_read_only(self, exc: Exception) -> None:
        """The database of a folder no one can write (a read-only mount, a shared cache of
        finished answers): read as it is, nothing new kept; anything else cannot be used."""
        folder = self.path.parent
        if not self.path.is_file() or not folder.is_dir() or os.access(folder, os.W_OK):
            return self._disable(exc)
        try:   # (immutable: no -shm or -wal file is made, and none can change it meanwhile)
            db = sqlite3.connect(f"{self.path.as_uri()}?immutable=1", uri=True, check_same_thread=False)
            try:
                db.execute(f"SELECT COUNT(*) FROM {self.TABLE}").fetchone()
            except BaseException:
                db.close()
                raise
        except sqlite3.Error:
            return self._disable(exc)
        self._db, self._file, self._read_only = db, _identity(self.path), True
        _warn_read_only(folder)

    def _move_aside(self, exc: Exception) -> None:
        if _identity(self.path) != self._file:
            return   # another process moved the damaged file aside first: its fresh one is healthy
        # (named to the nanosecond and process: a second process finding damage keeps the first copy)
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-"
                                    f"{os.getpid()}-{time.time_ns() % 10**9}")
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            _warn(f"the cache {self.path} was damaged ({exc}); moved it to {aside.name} and "
                  "started a fresh one")
        except OSError as move_error:
            _warn(f"the cache {self.path} is damaged ({exc}) and cannot be moved aside "
                  f"({move_error.strerror}); going on without a cache")

    def _disable(self, exc: Exception) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        folder = self.path.parent
        said = (folder, reason)
        if folder.is_dir() and not os.access(folder, os.W_OK):   # (sqlite says only "unable to open")
            return _warn_read_only(folder)
        if _disk_trouble(reason) and _free_bytes(folder) < FULL_DISK_BYTES:
            # (sqlite says "disk I/O error" when it cannot make the -shm or -wal file: no bad disk)
            reason, said = "the disk is full", (folder, "")
        if said in _unusable_folders:   # (folder, ""): said once for the folder's stores, whatever sqlite says
            return
        _unusable_folders.add(said)
        _warn(f"the cache {self.path} cannot be used ({reason}); going on without the cache folder {folder} "
              "(results are not kept for a resume, model files are hashed again at each load)")

    def _recover(self, exc: sqlite3.Error) -> None:
        """A failure mid-run: a damaged file is replaced; anything else (full disk, read-only)
        turns the cache off for the rest of the process."""
        failure: Exception = exc
        if isinstance(exc, sqlite3.DatabaseError) and _is_corruption(exc):
            if self._db is not None:
                self._db.close()
            self._db = None
            self._move_aside(exc)
            try:
                self._db = self._connect()
                return
            except (sqlite3.Error, OSError) as again:
                failure = again
        self._disable(failure)

    def get_many(self, keys: list[str]) -> dict[str, str]:
        with self._lock:
            return self._get_many(keys)

    def _get_many(self, keys: list[str]) -> dict[str, str]:
        self._follow()
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(keys))
        damaged = 0
        for start in range(0, len(unique), 500):
            if self._db is None:
                break
            chunk = unique[start:start + 500]
            try:
                # (as bytes: sqlite's own decoding failed the whole query on one damaged value,
                # which turned the cache off for the run, its healthy entries and new ones alike)
                rows = self._db.execute(f"SELECT key, CAST(value AS BLOB) FROM {self.TABLE} WHERE key IN "
                                        f"({','.join('?' * len(chunk))})", chunk).fetchall()
            except sqlite3.Error as exc:
                self._recover(exc)
                continue
            for key, value in rows:
                try:
                    found[key] = value.decode("utf-8")
                except UnicodeDecodeError:   # computed again, and replaced when stored
                    damaged += 1
        if damaged:
            _warn(f"{damaged} damaged cache entr{'y' if damaged == 1 else 'ies'} of {self.path} (not UTF-8 "
                  "text): computed again")
        return found

    def put_many(self, items: dict[str, str]) -> None:
        with self._lock:
            self._put_many(items)

    def _put_many(self, items: dict[str, str]) -> None:
        self._follow()
        if self._db is None or self._read_only or not items:
            return
        try:
            with self._db:  # one transaction: all of a batch or none of it
                self._db.executemany(f"INSERT OR REPLACE INTO {self.TABLE} (key, value) VALUES (?, ?)",
                                     list(items.items()))
        except sqlite3.Error as exc:
            self._recover(exc)
            if self._db is not None:   # a fresh database after damage: store the batch there
                self._put_many(items)

    def __len__(self) -> int:
        with self._lock:
            self._follow()
            if self._db is None:
                return 0
            try:
                return self._db.execute(f"SELECT COUNT(*) FROM {self.TABLE}").fetchone()[0]
            except sqlite3.Error as exc:
                self._recover(exc)
                return 0

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
                self._closed = True


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at path; None where there is none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _is_corruption(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "file is encrypted" in text


class OutputCache(KeyValueStore):
    """Model outputs by content key: <cache>/outputs.sqlite unless a path is given."""

    def __init__(self, path: str | Path | None = None):
        super().__init__(Path(path) if path else cache_dir() / "outputs.sqlite")
