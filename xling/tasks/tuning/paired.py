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
    """The report's hub datasets, joined by position within each dataset's train split."""

    if name not in HUB_PAIRS:
        raise XlingError(f"unknown paired dataset {name!r}; known: {', '.join(HUB_PAIRS)}")
    if not hub.reachable():
        raise XlingError(f"{name} comes from the Hugging Face hub, which cannot be reached (offline?); "
                         "use local JSONL files instead")
    from datasets import load_dataset

    en_rows = load_dataset(HUB_PAIRS[name][0], split="train")
    ko_rows = load_dataset(HUB_PAIRS[name][1], split="train")
    n = min(len(en_rows), len(ko_rows), limit or 10 ** 9)
    def pick(row):
        conv = row.get("conversations")
        if conv:
            return conv[0], conv[1] if len(conv) > 1 else ""
        return row.get("question") or row.get("instruction", ""), row.get("response") or row.get("output", "")
    pairs = [Pair(str(i), pick(en_rows[i]), pick(ko_rows[i])) for i in range(n)]
    pairs = [p for p in pairs if all(p.en) and all(p.ko)]
    return pairs, {"pairs": len(pairs), "source": HUB_PAIRS[name]}
