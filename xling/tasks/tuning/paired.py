"""Paired English/Korean instruction data: (instruction, response) in both languages, joined by id.

Local files: one JSONL per language (`{"id", "instruction", "response"}`), or one JSONL with
`{"id", "en": {...}, "ko": {...}}`. From the hub when online: the report's LIMA / ko-LIMA and
OpenOrca / OpenOrca-ko pairs."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...data import hub
from ...data.textio import read_jsonl
from ...errors import XlingError

LANGS = ("en", "ko")
HUB_PAIRS = {
    "lima": ("GAIR/lima", "taeshahn/ko-lima"),
    "openorca": ("Open-Orca/OpenOrca", "kyujinpy/OpenOrca-ko-v2"),
}


@dataclass(frozen=True)
class Pair:
    id: str
    en: tuple[str, str]     # (instruction, response)
    ko: tuple[str, str]

    def side(self, lang: str) -> tuple[str, str]:
        return self.en if lang == "en" else self.ko


def _records(path: str | Path) -> list[dict]:
    rows = []
    for number, row in read_jsonl(path):
        if "id" not in row:
            raise XlingError(f"{path}:{number}: expected a JSON object with an 'id'")
        rows.append(row)
    return rows


def _by_id(rows: list[dict], where: str) -> dict[str, dict]:
    out = {}
    for row in rows:
        key = str(row["id"])
        if key in out:
            raise XlingError(f"{where}: id {key!r} appears more than once")
        out[key] = row
    return out


def _text(row: dict, where: str) -> tuple[str, str]:
    try:
        return str(row["instruction"]).strip(), str(row["response"]).strip()
    except KeyError as exc:
        raise XlingError(f"{where}: record {row.get('id')!r} lacks {exc}") from exc


def load_pairs(en: str | None = None, ko: str | None = None, paired: str | None = None) -> tuple[list[Pair], dict]:
    """(pairs, report): report says how many records each side had, how many pairs survived and
    how many were dropped for an empty instruction or response."""
    if paired:
        rows = _by_id(_records(paired), paired)
        sides = {lang: {k: r[lang] for k, r in rows.items() if isinstance(r.get(lang), dict)} for lang in LANGS}
        for lang in LANGS:
            for k, r in sides[lang].items():
                r.setdefault("id", k)
        where = {lang: f"{paired} ({lang})" for lang in LANGS}
    elif en and ko:
        sides = {"en": _by_id(_records(en), en), "ko": _by_id(_records(ko), ko)}
        where = {"en": en, "ko": ko}
    else:
        raise XlingError("paired data needs an English and a Korean file (or one paired file)")
    for lang in LANGS:
        if not sides[lang]:
            raise XlingError(f"{where[lang]}: the {lang} side is empty")
    only = {lang: sorted(set(sides[lang]) - set(sides[other])) for lang, other in (("en", "ko"), ("ko", "en"))}
    for lang in LANGS:
        if only[lang]:
            raise XlingError(f"{len(only[lang])} id(s) have no {'Korean' if lang == 'en' else 'English'} "
                             f"side (first: {only[lang][0]!r}); every id needs both languages")
    pairs, dropped = [], 0
    for key in sorted(sides["en"]):
        en_side, ko_side = _text(sides["en"][key], where["en"]), _text(sides["ko"][key], where["ko"])
        if not all(en_side) or not all(ko_side):
            dropped += 1
            continue
        pairs.append(Pair(key, en_side, ko_side))
    if not pairs:
        raise XlingError("no usable pairs: every record has an empty instruction or response")
    report = {"en_records": len(sides["en"]), "ko_records": len(sides["ko"]), "pairs": len(pairs),
              "dropped_empty": dropped}
    return pairs, report


def load_hub_pairs(name: str, limit: int | None = None) -> tuple[list[Pair], dict]:
    """The report's hub datasets (train splits), joined by `join_hub_rows`."""

    if name not in HUB_PAIRS:
        raise XlingError(f"unknown paired dataset {name!r}; known: {', '.join(HUB_PAIRS)}")
    if not hub.reachable():
        raise XlingError(f"{name} comes from the Hugging Face hub, which cannot be reached (offline?); "
                         "replace train_hub with train_paired: FILE.jsonl (one object a line: id, and en/ko "
                         "each with instruction and response; or train_en: with train_ko:)")
    from datasets import load_dataset

    en_rows = load_dataset(HUB_PAIRS[name][0], split="train")
    ko_rows = load_dataset(HUB_PAIRS[name][1], split="train")
    pairs, report = join_hub_rows(en_rows, ko_rows, limit, HUB_PAIRS[name])
    return pairs, {**report, "source": HUB_PAIRS[name]}


def _pick(row) -> tuple[str, str]:
    """(instruction, response) of one hub row, whichever of the usual layouts it has."""
    conv = row.get("conversations")
    if conv:
        return conv[0], conv[1] if len(conv) > 1 else ""
    return row.get("question") or row.get("instruction", ""), row.get("response") or row.get("output", "")


def join_hub_rows(en_rows, ko_rows, limit: int | None, names=("English", "Korean")) -> tuple[list[Pair], dict]:
    """English and Korean rows (datasets.Dataset or lists of dicts) joined by their `id` when
    both have one (OpenOrca-ko-v2 is a 19.5k sample of OpenOrca's 4.2M rows, in its own order:
    row i of one is not row i of the other), else by position, only when both have as many rows
    (LIMA and its translation); anything else is refused, never paired by chance."""
    def column(rows, key):
        return list(rows[key]) if hasattr(rows, "column_names") else [r.get(key) for r in rows]

    def has_ids(rows):
        keys = rows.column_names if hasattr(rows, "column_names") else (rows[0].keys() if len(rows) else ())
        return "id" in keys

    if has_ids(en_rows) and has_ids(ko_rows):
        en_index = {str(k): i for i, k in enumerate(column(en_rows, "id")) if k is not None}
        order = [(str(k), en_index.get(str(k)), i) for i, k in enumerate(column(ko_rows, "id")) if k is not None]
        missing = [k for k, e, _ in order if e is None]
        joined = [(k, e, i) for k, e, i in order if e is not None]
        how = "id"
    elif len(en_rows) == len(ko_rows):
        joined, missing, how = [(str(i), i, i) for i in range(len(en_rows))], [], "position"
    else:
        raise XlingError(f"{names[0]} ({len(en_rows)} rows) and {names[1]} ({len(ko_rows)} rows) have no `id` "
                         "column to join them by, and not as many rows: their rows cannot be paired")
    if not joined:
        raise XlingError(f"no id of {names[1]} is in {names[0]}: nothing to pair")
    # the first `limit` usable pairs: a pair with an empty side is skipped, not counted
    usable: list[Pair] = []
    dropped = 0
    for k, e, i in joined:
        if limit and len(usable) >= limit:
            break
        pair = Pair(k, _pick(en_rows[e]), _pick(ko_rows[i]))
        if all(pair.en) and all(pair.ko):
            usable.append(pair)
        else:
            dropped += 1
    return usable, {"pairs": len(usable), "joined_by": how, "dropped_empty": dropped,
                    "unmatched_ids": len(missing)}
