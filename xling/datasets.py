"""Evaluation data from a local folder (the official layouts) or, when online, the hub.

The local root is `--data-dir`, else $XLING_DATA, else the `shared/data` folder beside a source
checkout. Nothing here copies data into the project.
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import XlingError
from .languages import Language, resolve
from .resources import _REPO_ROOT
from .textio import read_lines


def data_root(explicit: str | Path | None = None, required: bool = True) -> Path | None:
    candidates = [explicit, os.environ.get("XLING_DATA"), _REPO_ROOT.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
        if candidate and candidate is explicit:
            raise XlingError(f"data folder {candidate} does not exist")
    if required:
        raise XlingError("no local data folder: pass --data-dir or set XLING_DATA to a folder "
                         "holding flores200/, xnli/, ... (see the README)")
    return None


def flores_dir(root: Path | None = None) -> Path:
    root = root or data_root()
    folder = root / "flores200" if (root / "flores200").is_dir() else root
    if not (folder / "dev").is_dir() and not (folder / "devtest").is_dir():
        raise XlingError(f"{folder} is not a FLORES-200 folder (expected dev/ and devtest/ inside)")
    return folder


FLORES_SPLITS = ("dev", "devtest")


def flores200(split: str, lang: str | Language, root: Path | None = None) -> list[str]:
    """The sentences of one FLORES-200 split in one language, line-aligned across languages."""
    lang = resolve(lang)
    folder = flores_dir(root)
    if split not in FLORES_SPLITS or not (folder / split).is_dir():
        present = [s for s in FLORES_SPLITS if (folder / s).is_dir()]
        raise XlingError(f"FLORES-200 has no split {split!r} here; available: {', '.join(present)}")
    path = folder / split / f"{lang.flores}.{split}"
    if not path.is_file():
        have = sorted(p.name.split(".")[0] for p in (folder / split).glob(f"*.{split}"))
        raise XlingError(f"FLORES-200 {split} has no {lang.name} ({lang.flores}) in {folder}; "
                         f"available: {', '.join(have)}")
    return read_lines(path)


def flores_pairs(split: str, src: str | Language, tgt: str | Language,
                 root: Path | None = None) -> list[tuple[str, str]]:
    return list(zip(flores200(split, src, root), flores200(split, tgt, root)))


def read_pair_file(path: str | Path) -> list[tuple[str, str]]:
    """Parallel pairs from a user's file: TSV (source<TAB>target) or JSONL with
    "source"/"target" keys."""
    import json

    pairs = []
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        if str(path).endswith(".jsonl"):
            try:
                row = json.loads(line)
                pairs.append((str(row["source"]), str(row["target"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise XlingError(f"{path}:{number}: expected a JSON object with 'source' and "
                                 "'target'") from exc
        else:
            cells = line.split("\t")
            if len(cells) != 2:
                raise XlingError(f"{path}:{number}: expected source<TAB>target")
            pairs.append((cells[0], cells[1]))
    return pairs
