"""`jsonl:file.jsonl`: a user's parallel data, one object per line: one key per language (any
codes, any directions), an optional "id", and optional metadata that travels into every record
as WMT's does — `document_id` (for `--unit document` and document-level scores), `segment_id`,
`domain` (for scores by domain)."""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import XlingError
from .corpus import ParallelData
from .languages import resolve
from .registry import DataOptions, register_dataset
from .textio import read_jsonl

META_FIELDS = ("document_id", "segment_id", "domain")


def _check_meta(where: str, row: dict) -> dict:
    meta = {}
    for key in META_FIELDS:
        if key not in row:
            continue
        value = row[key]
        if key == "segment_id":
            if isinstance(value, bool) or not isinstance(value, (int, str)) or str(value).strip() == "":
                raise XlingError(f"{where}: 'segment_id' must be a whole number or a non-empty text, not {value!r}")
        elif isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            raise XlingError(f"{where}: '{key}' must be a non-empty text, not {value!r}")
        meta[key] = value if key == "segment_id" else str(value)
    return meta


@register_dataset("jsonl", task="mt", grammar="jsonl:PATH",
                  help="your own JSON lines: one key per language, optional id, document_id, segment_id, domain")
def _load(arg: str, spec: str, options: DataOptions) -> ParallelData:
    return load_jsonl(str(Path(arg).expanduser()), spec)   # (~/x.jsonl as text:~/t.{lang} reads)


def load_jsonl(path: str, spec: str) -> ParallelData:
    rows = read_jsonl(path)
    if not rows:
        raise XlingError(f"{path} holds no records")
    first_number, first = rows[0]
    language_keys = [k for k in first if k != "id" and k not in META_FIELDS]
    cased = [k for k in language_keys if k.lower() == "id"]
    # ("ID" was read as Indonesian text, the records numbered by position; beside an 'id' it can
    # only be Indonesian)
    if cased and "id" not in first:
        raise XlingError(f"{path}:{first_number}: key {cased[0]!r}: a record's id is keyed 'id' (lower case); "
                         "key Indonesian 'ind'")
    codes: dict[str, str] = {}
    for key in language_keys:
        try:
            code = resolve(key).code
        except XlingError:
            raise XlingError(f"{path}:{first_number}: key {key!r} is neither a language code nor one of "
                             f"id, {', '.join(META_FIELDS)}") from None
        if code in codes:   # "ko" and "kor": one would silently replace the other
            raise XlingError(f"{path}:{first_number}: keys {codes[code]!r} and {key!r} both name "
                             f"{resolve(key).name}; keep one")
        codes[code] = key
    if not codes:
        raise XlingError(f"{path}:{first_number}: no language keys (one per language: \"en\", \"ko\", ...)")
    metas: list[dict] = []
    seen: dict[tuple, str] = {}   # (document_id, segment_id) -> where first used
    for number, row in rows:
        where = f"{path}:{number}"
        if set(row) != set(first):
            raise XlingError(f"{where}: keys {sorted(row)}, but the first record has {sorted(first)}")
        for key in language_keys:
            if not isinstance(row[key], (str, int)) or isinstance(row[key], bool):
                hint = " (a JSON number loses its spelling: 3.50 reads as 3.5; quote it)" \
                    if isinstance(row[key], float) else ""
                raise XlingError(f"{where}: '{key}' must be text, not {row[key]!r}{hint}")
        meta = _check_meta(where, row)
        if "segment_id" in meta:   # a segment is named by its id (within its document, if any)
            # (1, "1" and "01" name one segment, as 5 and "5" name one document: numbers order
            # a document's segments, so two spellings of one number would have no order)
            as_number = _number(meta["segment_id"])
            name = (meta.get("document_id"), str(meta["segment_id"]) if as_number is None else as_number)
            if name in seen:
                inside = f" of document {name[0]}" if name[0] is not None else ""
                raise XlingError(f"{where}: segment_id {meta['segment_id']!r}{inside} was already used at {seen[name]}")
            seen[name] = where
        metas.append(meta)
    ids: list[str] = []
    first_use: dict[str, int] = {}
    for i, (number, row) in enumerate(rows, 1):
        value = row.get("id", i)
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip():
            raise XlingError(f"{path}:{number}: 'id' must be a whole number or a non-empty text, not {value!r}")
        if str(value) in first_use:
            raise XlingError(f"{path}:{number}: id {value!r} was already used at line {first_use[str(value)]}")
        first_use[str(value)] = number
        ids.append(str(value))
    values = [row for _, row in rows]
    unordered: list[str] = []
    order = _segment_order(metas, [f"{path}:{number}" for number, _ in rows], unordered)
    if order is not None:
        values, metas, ids = [values[i] for i in order], [metas[i] for i in order], [ids[i] for i in order]
    data = ParallelData(spec, ids, lambda lang: [str(r[codes[lang.code]]) for r in values], list(codes),
                        meta=metas if any(metas) else None)
    data.unordered = unordered[0] if unordered else None
    return data


_WHOLE = re.compile(r"[+-]?[0-9]+")


def _number(segment_id) -> int | None:
    """A segment_id as a whole number (3, "3", "03"; 1 and "1" name one segment), or None (a name)."""
    if isinstance(segment_id, int):
        return segment_id
    return int(segment_id) if _WHOLE.fullmatch(segment_id.strip()) else None


def _segment_order(metas: list[dict], where: list[str], unordered: list[str]) -> list[int] | None:
    """Records in document order (documents as they first appear), where some document's
    numeric segment_ids run backwards in the file: document mode reads a document's segments in
    order, and its "(doc)" scores join them so. Decided per document: one whose ids are all whole
    numbers (3 or "3") is ordered by them; one whose ids are names ("intro") keeps the file's
    order, which is the only order names give. A document mixing the two whose numbers run
    backwards has no order to tell: it keeps the file's order, and why goes into `unordered`
    (--unit document refuses it; a segment run, which needs no order, reads the file as before).
    None: the file's own order already is document order (kept as it is, so its runs' data
    digest does not change)."""
    if not metas or any("document_id" not in m or "segment_id" not in m for m in metas):
        return None   # no numbers to order by
    numbers: dict[str, list[tuple[int | None, int]]] = {}
    for i, meta in enumerate(metas):
        numbers.setdefault(meta["document_id"], []).append((_number(meta["segment_id"]), i))
    place: dict[int, int] = {}   # a record of a document ordered by its numbers: its number
    for doc, segments in numbers.items():
        numbered = [(n, i) for n, i in segments if n is not None]
        backwards = next(((j, i) for (m, j), (n, i) in zip(numbered, numbered[1:]) if n < m), None)
        if backwards is None:
            continue
        if len(numbered) < len(segments):
            name = next(metas[i]["segment_id"] for n, i in segments if n is None)
            before, later = (metas[k]["segment_id"] for k in backwards)
            unordered.append(f"{where[backwards[1]]}: segment_id {later!r} of document {doc} comes after "
                             f"{before!r} in the file, and the document also has segment_id {name!r}, which is "
                             "not a number, so its order cannot be told for --unit document: number every "
                             "segment of it, or put its numbered records in order")
            continue
        place.update((i, n) for n, i in numbered)
    if not place:
        return None
    rank = {doc: k for k, doc in enumerate(numbers)}
    return sorted(range(len(metas)), key=lambda i: (rank[metas[i]["document_id"]], place.get(i, 0), i))
