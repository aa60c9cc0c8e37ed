"""`jsonl:file.jsonl`: a user's parallel data, one object per line: one key per language (any
codes, any directions), an optional "id", and optional metadata that travels into every record
as WMT's does — `document_id` (for `--unit document` and document-level scores), `segment_id`,
`domain` (for scores by domain)."""
from __future__ import annotations

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
            # (1 and "1" name one segment, as 5 and "5" name one document)
            name = (None if meta.get("document_id") is None else str(meta["document_id"]), str(meta["segment_id"]))
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
    order = _segment_order(metas)
    if order is not None:
        values, metas, ids = [values[i] for i in order], [metas[i] for i in order], [ids[i] for i in order]
    return ParallelData(spec, ids, lambda lang: [str(r[codes[lang.code]]) for r in values], list(codes),
                        meta=metas if any(metas) else None)


def _segment_order(metas: list[dict]) -> list[int] | None:
    """Records in document order (documents as they first appear, each by its numeric
    segment_id), where some document's numbers run backwards in the file: document mode reads
    a document's segments in order, and its "(doc)" scores join them so. None: the file's own
    order already is that order (kept as it is, so its runs' data digest does not change)."""
    last: dict = {}
    backwards = False
    for meta in metas:
        number = meta.get("segment_id")
        if "document_id" not in meta or not isinstance(number, int):
            return None   # no numbers to order by
        doc = meta["document_id"]
        backwards = backwards or (doc in last and number < last[doc])
        last[doc] = number
    if not backwards:
        return None
    first = {m["document_id"]: None for m in metas}
    rank = {doc: k for k, doc in enumerate(first)}
    return sorted(range(len(metas)), key=lambda i: (rank[metas[i]["document_id"]], metas[i]["segment_id"]))
