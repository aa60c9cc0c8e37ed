"""XCOPA (Ponti et al. 2020): causal commonsense reasoning in eleven languages, translations of
English COPA, as a two-option multiple-choice data set (`xcopa:test|val`, `xling eval mc`).

Each item gives a premise, whether its cause or its effect is asked, and two alternatives.
Items are aligned across languages by `idx` (the same COPA item, the same label), so a cell may
take the premise from one language and the alternatives from another (`--premise-langs`,
`--hypothesis-langs`). The local layout is the official one, `xcopa/<split>.<lang>.jsonl`; an
English test file, where present, is `xcopa/third_party_en/test.en.jsonl` (not part of XCOPA:
see the data folder's SOURCE.md). Its own template, `copa`, is chosen unless another is asked.

Whether an item asks for the cause or the effect is a property of the COPA item, yet the official
files disagree on it: Thai marks all 500 test items "effect", Turkish 51 causes "effect", Swahili
37, Indonesian and Italian 4, while et, ht, qu, ta, vi, zh and English agree everywhere. A
connective chosen from a wrong field turns "because" into "so" (lm-evaluation-harness reads each
file's own field). Here an item's relation is the one those seven files give it (REFERENCE);
where a language's own field differs, or no reference file is present, the run's note says so."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import XlingError
from .choice import ChoiceItem, ChoiceSource
from .languages import resolve
from .parallel import data_root
from .registry import DataOptions, register_dataset
from .textio import json_line, read_lines

SPLITS = ("test", "val")
RELATIONS = ("cause", "effect")
ENGLISH_NOTE = ("XCOPA English: the English COPA test items from a third-party copy "
                "(xcopa/third_party_en), not part of XCOPA")


def _path(root: Path, split: str, code: str) -> Path:
    if code == "en":
        return root / "xcopa" / "third_party_en" / f"{split}.en.jsonl"
    return root / "xcopa" / f"{split}.{code}.jsonl"


def xcopa_languages(root: Path | None, split: str = "test") -> list[str] | None:
    if root is None or not (root / "xcopa").is_dir():
        return None
    folder = root / "xcopa"
    codes = {p.name.split(".")[1] for p in folder.glob(f"{split}.*.jsonl")}
    if _path(root, split, "en").is_file():
        codes.add("en")
    return sorted(codes)


def _rows(root: Path, split: str, lang: str) -> list[dict]:
    code = resolve(lang).code
    path = _path(root, split, code)
    if not path.is_file():
        have = xcopa_languages(root, split)
        if have is None:
            raise XlingError(f"no xcopa/ folder under {root} (pass --data-dir or set XLING_DATA)")
        raise XlingError(f"XCOPA {split} has no {resolve(lang).name} ({code}); available: {', '.join(have)}")
    return _read(path)


def _read(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(read_lines(path), 1):
        row = json_line(line, f"{path}:{number}")
        where = f"{path}:{number}"
        if not isinstance(row, dict) or any(not isinstance(row.get(k), str) or not row[k].strip()
                                            for k in ("premise", "choice1", "choice2")):
            raise XlingError(f"{where}: expected an object with the texts premise, choice1 and choice2")
        if row.get("question") not in RELATIONS:
            raise XlingError(f"{where}: question must be cause or effect, not {row.get('question')!r}")
        if row.get("label") not in (0, 1) or not isinstance(row.get("idx"), int):
            raise XlingError(f"{where}: expected label 0 or 1 and an integer idx")
        rows.append(row)
    return rows


# The files whose question fields agree with English COPA on every test and val item (checked on
# the official release, see the data folder's SOURCE.md). A relation is taken from these: a
# majority over all files could be wrong in a folder holding only some languages (th, tr and et:
# Thai and Turkish outvote Estonian on Turkish's 51 wrong items).
REFERENCE = ("en", "et", "ht", "qu", "ta", "vi", "zh")


def agreed_relations(root: Path, split: str) -> dict[int, str]:
    """Each idx's relation as the reference files present give it (where they disagree with each
    other, or none is present, the idx has none: its file's own field is used, and noted)."""
    codes = [code for code in xcopa_languages(root, split) or [] if code in REFERENCE]
    paths = [_path(root, split, code) for code in codes]
    return _agreed(tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths))


@lru_cache(maxsize=8)
def _agreed(files: tuple[tuple[str, int, int], ...]) -> dict[int, str]:
    """(keyed by the files' paths, times and sizes, so an edited file is read again)"""
    given: dict[int, set[str]] = {}
    for path, _, _ in files:
        for row in _read(Path(path)):
            given.setdefault(row["idx"], set()).add(row["question"])
    return {idx: next(iter(relations)) for idx, relations in given.items() if len(relations) == 1}


def relation_notes(root: Path, split: str, lang: str) -> str | None:
    """What the run should say about a language's relations: how many of its items' own fields
    the reference files overrule, and how many could not be checked."""
    agreed = agreed_relations(root, split)
    rows = _rows(root, split, lang)
    wrong = sum(agreed.get(row["idx"], row["question"]) != row["question"] for row in rows)
    unchecked = sum(row["idx"] not in agreed for row in rows)
    parts = []
    if wrong:
        parts.append(f"its question field gives {wrong} of {len(rows)} items another relation (cause/effect) "
                     f"than {', '.join(REFERENCE)} do; theirs is used")
    if unchecked:
        parts.append(f"{unchecked} of {len(rows)} items' relations could not be checked (no file of "
                     f"{', '.join(REFERENCE)} here gives them), so its own field is used (the official th, tr, "
                     "sw, id and it fields are wrong for some items)")
    return f"XCOPA {split} {lang}: " + "; ".join(parts) if parts else None


def xcopa_items(split: str, premise_lang: str, option_lang: str | None = None,
                root: Path | None = None) -> list[ChoiceItem]:
    """Items with the premise from one language and the alternatives from another, joined by idx
    (the two must agree on every label); what each asks is the relation agreed across languages."""
    root = Path(root) if root is not None else data_root()
    premises = _rows(root, split, premise_lang)
    option_code = resolve(option_lang or premise_lang).code
    options = premises if option_code == resolve(premise_lang).code else _rows(root, split, option_code)
    by_idx = {row["idx"]: row for row in options}
    agreed = agreed_relations(root, split)
    items = []
    for row in premises:
        other = by_idx.get(row["idx"])
        if other is None:
            raise XlingError(f"XCOPA {split} idx {row['idx']} is missing in {resolve(option_code).name}")
        if other["label"] != row["label"]:
            raise XlingError(f"XCOPA {split} idx {row['idx']}: the label differs between "
                             f"{resolve(premise_lang).code} and {option_code} (items not aligned)")
        relation = agreed.get(row["idx"], row["question"])
        items.append(ChoiceItem(id=f"{split}-{row['idx']:03d}", label=row["label"], option_lang=option_code,
                                fields={"premise": row["premise"].strip(), "relation": relation,
                                        "options": [other["choice1"].strip(), other["choice2"].strip()]}))
    return items


@register_dataset("xcopa", task="multiple_choice", grammar="xcopa[:test|val]", splits=SPLITS,
                  help="XCOPA: cause or effect of a premise, two alternatives, 11 languages (en: "
                       "third-party COPA copy); premise and alternatives may differ in language",
                  languages=xcopa_languages)
class XCOPASource(ChoiceSource):
    """XCOPA test draws its demonstrations from XCOPA val (100 items per language)."""
    template = "copa"

    def __init__(self, arg: str, spec: str, options: DataOptions):
        super().__init__(spec, options)
        self.split, self.root = arg or "test", data_root(options.data_dir)
        self._notes: dict[str, None] = {}   # in order, once each
        if self.split not in SPLITS:
            raise XlingError(f"XCOPA has no split {self.split!r}; available: {', '.join(SPLITS)}")

    def items(self, premise: str, hypothesis: str) -> list[ChoiceItem]:
        items = xcopa_items(self.split, premise, hypothesis, self.root)
        self._add_notes(self.split, premise, hypothesis)
        return items

    def shots_source(self, shots: int) -> dict | None:
        return {"from": "xcopa:val"} if shots else None

    def own_dev_pool(self, premise: str, hypothesis: str) -> list[ChoiceItem] | None:
        if self.split != "test":
            return None
        if "en" in (resolve(premise).code, resolve(hypothesis).code):
            raise XlingError("XCOPA has no English validation items to draw few-shot examples from; "
                             "use shots: 0 for English")
        pool = xcopa_items("val", premise, hypothesis, self.root)
        self._add_notes("val", premise, hypothesis)
        return pool

    def _add_notes(self, split: str, premise: str, hypothesis: str) -> None:
        """The run's note: where English comes from, and each language's overruled relations."""
        for code in sorted({resolve(premise).code, resolve(hypothesis).code}):
            for text in (ENGLISH_NOTE if code == "en" else None, relation_notes(self.root, split, code)):
                if text:
                    self._notes.setdefault(text, None)
        self.note = "; ".join(self._notes)
