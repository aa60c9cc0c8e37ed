"""Classification and multiple-choice data: XNLI (15 languages, row-aligned), KorNLI's Korean
XNLI (row-aligned with XNLI), X-CSQA (joined by id) and XCOPA, from the local data folder.

An item's options are texts; its gold answer is an index into them. Cross-lingual NLI items take
the premise from one language and the hypothesis from another: the rows are aligned."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .parallel import data_root
from ..errors import XlingError
from .languages import resolve
from .textio import read_lines

NLI_LABELS = ("entailment", "neutral", "contradiction")


@dataclass(frozen=True)
class ChoiceItem:
    id: str
    label: int                       # gold index into the task's labels / the item's options
    fields: dict = field(default_factory=dict, hash=False, compare=False)


def _xnli_file(root: Path, split: str, lang: str) -> Path:
    if lang == "ko":
        return root / "kornli_xnli_ko" / f"xnli.{split}.ko.tsv"
    return root / "xnli" / split / f"{lang}.tsv"


def xnli_languages(root: Path, split: str) -> list[str]:
    codes = sorted(p.stem for p in (root / "xnli" / split).glob("*.tsv"))
    if (root / "kornli_xnli_ko" / f"xnli.{split}.ko.tsv").is_file():
        codes.append("ko")
    return codes


def xnli_rows(split: str, lang: str, root: Path | None = None) -> list[tuple[str, str, int]]:
    """(premise, hypothesis, label index) rows of XNLI (KorNLI for Korean), row-aligned."""
    root = root or data_root()
    code = resolve(lang).code
    if split not in ("dev", "test"):
        raise XlingError(f"XNLI has no split {split!r}; available: dev, test")
    path = _xnli_file(root, split, code)
    if not path.is_file():
        raise XlingError(f"XNLI {split} has no {resolve(lang).name} ({code}); available: "
                         f"{', '.join(xnli_languages(root, split))}")
    lines = read_lines(path)
    if code == "ko" and lines and lines[0].startswith("sentence1\t"):
        lines = lines[1:]   # KorNLI has a header row
    rows = []
    for number, line in enumerate(lines, 1):
        cells = line.split("\t")
        if len(cells) != 3 or cells[2] not in NLI_LABELS:
            raise XlingError(f"{path}:{number}: expected premise<TAB>hypothesis<TAB>label with a label "
                             f"in {', '.join(NLI_LABELS)}")
        rows.append((cells[0], cells[1], NLI_LABELS.index(cells[2])))
    return rows


def nli_items(split: str, premise_lang: str, hypothesis_lang: str | None = None,
              root: Path | None = None) -> list[ChoiceItem]:
    """XNLI items; premise and hypothesis may come from two languages (aligned rows)."""
    premises = xnli_rows(split, premise_lang, root)
    hypotheses = premises if hypothesis_lang in (None, premise_lang) else xnli_rows(split, hypothesis_lang, root)
    if len(premises) != len(hypotheses):
        raise XlingError(f"premise and hypothesis files differ in length ({len(premises)} vs {len(hypotheses)})")
    items = []
    for i, (p, h) in enumerate(zip(premises, hypotheses)):
        if p[2] != h[2]:
            raise XlingError(f"XNLI {split} row {i + 1}: labels differ between languages (rows not aligned)")
        items.append(ChoiceItem(id=f"{split}-{i + 1:05d}", label=p[2],
                                fields={"premise": p[0], "hypothesis": h[1]}))
    return items


def read_nli_file(path: str | Path) -> list[ChoiceItem]:
    """A user's NLI file: premise<TAB>hypothesis<TAB>label (label one of NLI_LABELS)."""
    items = []
    for number, line in enumerate(read_lines(path), 1):
        cells = line.split("\t")
        if len(cells) != 3:
            raise XlingError(f"{path}:{number}: expected premise<TAB>hypothesis<TAB>label")
        if cells[2] not in NLI_LABELS:
            raise XlingError(f"{path}:{number}: label {cells[2]!r} is not one of {', '.join(NLI_LABELS)}")
        items.append(ChoiceItem(id=f"{Path(path).name}-{number}", label=NLI_LABELS.index(cells[2]),
                                fields={"premise": cells[0], "hypothesis": cells[1]}))
    return items


# -- X-CSQA ---------------------------------------------------------------------------------------
XCSQA_NOTE = ("X-CSQA: English is the official dev set; other languages here are machine "
              "translations by a third party (CLiKA), NOT the official X-CSQA translations")


def _xcsqa_path(root: Path, lang: str) -> Path:
    """The official layout (xcsqa/<lang>/dev.jsonl) first, else the third-party translations."""
    folder = root / "xcsqa"
    official = folder / lang / "dev.jsonl"
    return official if official.is_file() else folder / "mt_clika_NOT_OFFICIAL" / lang / "validation.jsonl"


def xcsqa_languages(root: Path) -> list[str]:
    folder = root / "xcsqa"
    official = [p.parent.name for p in folder.glob("*/dev.jsonl")]
    translated = [p.name for p in (folder / "mt_clika_NOT_OFFICIAL").glob("*") if p.is_dir()]
    return sorted(set(official) | set(translated))


def xcsqa_items(lang: str, root: Path | None = None) -> list[ChoiceItem]:
    """X-CSQA dev items of one language, in the English file's id order (joined by id; the gold
    answer is located by its label within the same language's record, never by position)."""
    root = root or data_root()
    code = resolve(lang).code
    path = _xcsqa_path(root, code)
    if not path.is_file():
        raise XlingError(f"X-CSQA has no {resolve(lang).name} ({code}) here; available: "
                         f"{', '.join(xcsqa_languages(root))}")
    by_id = {}
    for number, line in enumerate(read_lines(path), 1):
        row = json.loads(line)
        choices = row["question"]["choices"]
        if isinstance(choices, dict):   # Hugging Face layout: {"label": [...], "text": [...]}
            choices = [{"label": l, "text": t} for l, t in zip(choices["label"], choices["text"])]
        labels = [c["label"] for c in choices]
        if row["answerKey"] not in labels:
            raise XlingError(f"{path}:{number}: answer {row['answerKey']!r} is not among {labels}")
        by_id[row["id"]] = ChoiceItem(id=row["id"], label=labels.index(row["answerKey"]), fields={
            "stem": row["question"]["stem"], "options": [c["text"] for c in choices],
            "letters": labels})
    order = [json.loads(line)["id"] for line in read_lines(_xcsqa_path(root, "en"))]
    missing = [i for i in order if i not in by_id]
    if missing:
        raise XlingError(f"X-CSQA {code}: {len(missing)} English ids are missing (first: {missing[0]})")
    return [by_id[i] for i in order]
