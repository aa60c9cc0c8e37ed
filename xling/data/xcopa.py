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
file's own field). Here an item's relation is the one most of the split's language files give
it; where a language's own field differs, the run's note says how often."""
from __future__ import annotations

from collections import Counter
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


@lru_cache(maxsize=8)
def agreed_relations(root: Path, split: str) -> dict[int, str]:
    """Each idx's relation as most of the split's language files give it (a tie: none)."""
    votes: dict[int, Counter] = {}
    for code in xcopa_languages(root, split) or []:
        for row in _read(_path(root, split, code)):
            votes.setdefault(row["idx"], Counter())[row["question"]] += 1
    agreed = {}
    for idx, count in votes.items():
        (first, n), *rest = count.most_common()
        if not rest or rest[0][1] < n:
            agreed[idx] = first
    return agreed


def disagreements(root: Path, split: str, lang: str) -> int:
    """How many of a language's items give another relation than the one agreed."""
    agreed = agreed_relations(root, split)
    return sum(agreed.get(row["idx"], row["question"]) != row["question"] for row in _rows(root, split, lang))


def xcopa_items(split: str, premise_lang: str, option_lang: str | None = None,
                root: Path | None = None) -> list[ChoiceItem]:
    """Items with the premise from one language and the alternatives from another, joined by idx
    (the two must agree on every label); what each asks is the relation agreed across languages."""
    root = root or data_root()
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
        self._notes: dict[str, str] = {}
        if self.split not in SPLITS:
            raise XlingError(f"XCOPA has no split {self.split!r}; available: {', '.join(SPLITS)}")

    def items(self, premise: str, hypothesis: str) -> list[ChoiceItem]:
        items = xcopa_items(self.split, premise, hypothesis, self.root)
        codes = {resolve(premise).code, resolve(hypothesis).code}
        if "en" in codes:
            self._notes.setdefault("en", ENGLISH_NOTE)
        for code in sorted(codes):
            wrong = disagreements(self.root, self.split, code)
            if wrong:
                self._notes.setdefault(code, f"XCOPA {code}: the file's question field gives {wrong} of "
                                             f"{len(items)} items another relation (cause/effect) than the other "
                                             "languages; the agreed relation is used")
        self.note = "; ".join(self._notes.values())
        return items

    def own_dev_pool(self, premise: str, hypothesis: str) -> list[ChoiceItem] | None:
        if self.split != "test":
            return None
        if "en" in (resolve(premise).code, resolve(hypothesis).code):
            raise XlingError("XCOPA has no English validation items to draw few-shot examples from; "
                             "use shots: 0 for English")
        return xcopa_items("val", premise, hypothesis, self.root)
