"""A content-addressed store of model outputs.

The key hashes everything that determines an output: the exact text the model sees, the model
and its revision, the backend, the decoding parameters and the token budget. A changed prompt
therefore never reuses a stale output, and an interrupted run (even SIGKILL: SQLite commits are
atomic) resumes from what it had finished.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from .resources import cache_dir


def content_key(**parts) -> str:
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class OutputCache:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else cache_dir() / "outputs.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS outputs (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._db.commit()

    def get_many(self, keys: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            rows = self._db.execute(
                f"SELECT key, value FROM outputs WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            found.update(rows.fetchall())
        return found

    def put_many(self, items: dict[str, str]) -> None:
        with self._db:  # one transaction: all of a batch or none of it
            self._db.executemany("INSERT OR REPLACE INTO outputs (key, value) VALUES (?, ?)",
                                 list(items.items()))

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM outputs").fetchone()[0]

    def close(self) -> None:
        self._db.close()
