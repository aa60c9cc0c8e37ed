"""Reading and writing the user's text files: strict UTF-8, clear errors, atomic writes."""
from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .errors import XlingError


def decode_utf8(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise XlingError(f"{where} is not valid UTF-8 (line {line}, byte {exc.start})") from exc


def split_lines(text: str) -> list[str]:
    """Lines without their terminators (\\n, \\r\\n); a final newline adds no empty line."""
    text = text.lstrip("\ufeff")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_lines(path: str | Path, *, allow_empty: bool = False) -> list[str]:
    path = Path(path)
    if path.is_dir():
        raise XlingError(f"{path} is a folder, not a text file")
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise XlingError(f"input file {path} does not exist") from exc
    except OSError as exc:
        raise XlingError(f"cannot read {path}: {exc.strerror}") from exc
    lines = split_lines(decode_utf8(data, str(path)))
    if not lines and not allow_empty:
        raise XlingError(f"{path} is empty")
    return lines


def read_jsonl(path: str | Path) -> list[tuple[int, dict]]:
    """(line number, object) for each non-empty line of a JSONL file."""
    import json

    rows = []
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise XlingError(f"{path}:{number}: not valid JSON") from exc
        if not isinstance(row, dict):
            raise XlingError(f"{path}:{number}: expected a JSON object")
        rows.append((number, row))
    return rows


def read_stdin_lines() -> list[str]:
    return split_lines(decode_utf8(sys.stdin.buffer.read(), "standard input"))


def publish(tmp: str | Path, path: str | Path) -> None:
    """Move a finished temporary file into place with the usual permissions (mkstemp makes
    files private)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


@contextmanager
def atomic_writer(path: str | Path):
    """Write to a temporary file beside `path` and move it into place only on success, so a
    failure or an interrupt never leaves a half-written output."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise XlingError(f"cannot write {path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
