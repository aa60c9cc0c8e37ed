"""Classification and multiple-choice data: XNLI (15 languages, row-aligned), KorNLI's Korean
XNLI (row-aligned with XNLI), X-CSQA (joined by id) from the local data folder, and a user's
own NLI file (PAWS-X and XCOPA have modules of their own).

An item's options are texts; its gold answer is an index into them. Cross-lingual NLI items take
the premise from one language and the hypothesis from another: the rows are aligned."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import XlingError
from .languages import resolve
from .parallel import data_root
from .registry import DataOptions, load_dataset, register_dataset
from .textio import file_record, json_line, read_lines

NLI_LABELS = ("entailment", "neutral", "contradiction")


@dataclass(frozen=True)
class ChoiceItem:
    id: str
    label: int                       # gold index into the task's labels / the item's options
    fields: dict = field(default_factory=dict, hash=False, compare=False)
    option_lang: str = field(default="", compare=False)   # the options' language, where it matters


def _xnli_file(root: Path, split: str, lang: str) -> Path:
    """KorNLI's file for Korean where it is here, else xnli/<split>/<lang>.tsv."""
    kornli = root / "kornli_xnli_ko" / f"xnli.{split}.ko.tsv"
    return kornli if lang == "ko" and kornli.is_file() else root / "xnli" / split / f"{lang}.tsv"


def xnli_languages(root: Path, split: str) -> list[str]:
    codes = sorted(p.stem for p in (root / "xnli" / split).glob("*.tsv"))
    if "ko" not in codes and (root / "kornli_xnli_ko" / f"xnli.{split}.ko.tsv").is_file():
        codes.append("ko")
    return codes


def xnli_rows(split: str, lang: str, root: Path | None = None) -> list[tuple[str, str, int]]:
    """(premise, hypothesis, label index) rows of XNLI (KorNLI for Korean), row-aligned."""
    root = root or data_root()
    code = resolve(lang).code
    if split not in ("dev", "test"):
        raise XlingError(f"XNLI has no split {split!r}; available: dev, test")
    path = _xnli_file(root, split, code)
    if not path.is_file() and _root_or_none(root) is None:
        raise XlingError(f"no xnli/ (or kornli_xnli_ko/) folder under {root} (pass --data-dir or set XLING_DATA)")
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
        if not line.strip():
            continue   # a blank line (one at the end, most often) holds no item
        cells = line.split("\t")
        if len(cells) != 3:
            raise XlingError(f"{path}:{number}: expected premise<TAB>hypothesis<TAB>label")
        if cells[2] not in NLI_LABELS:
            raise XlingError(f"{path}:{number}: label {cells[2]!r} is not one of {', '.join(NLI_LABELS)}")
        if not cells[0].strip() or not cells[1].strip():
            raise XlingError(f"{path}:{number}: the {'premise' if not cells[0].strip() else 'hypothesis'} is empty")
        items.append(ChoiceItem(id=f"{Path(path).name}-{number}", label=NLI_LABELS.index(cells[2]),
                                fields={"premise": cells[0], "hypothesis": cells[1]}))
    return items


# -- X-CSQA ---------------------------------------------------------------------------------------
XCSQA_NOTE = ("X-CSQA: English is the official dev set; other languages here are machine "
              "translations by a third party (CLiKA), NOT the official X-CSQA translations")
CLIKA = "mt_clika_NOT_OFFICIAL"


def xcsqa_note(languages: set[str], root: Path) -> str:
    """What a run's X-CSQA languages are: the official files, or CLiKA's machine translations
    (named per language: official files put at xcsqa/<lang>/dev.jsonl are no CLiKA text)."""
    clika = sorted(c for c in languages if c != "en" and CLIKA in _xcsqa_path(root, c).parts)
    official = sorted(c for c in languages if c != "en" and c not in clika)
    parts = ["X-CSQA: English is the official dev set"]
    if official:
        parts.append(f"{', '.join(official)} from the official X-CSQA files")
    if clika:
        parts.append(f"{', '.join(clika)} here are machine translations by a third party (CLiKA), NOT the "
                     "official X-CSQA translations")
    return "; ".join(parts)


def _xcsqa_path(root: Path, lang: str) -> Path:
    """The official layout (xcsqa/<lang>/dev.jsonl) first, else the third-party translations."""
    folder = root / "xcsqa"
    official = folder / lang / "dev.jsonl"
    return official if official.is_file() else folder / CLIKA / lang / "validation.jsonl"


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
    if not path.is_file() and not (root / "xcsqa").is_dir():
        raise XlingError(f"no xcsqa/ folder under {root} (pass --data-dir or set XLING_DATA)")
    if not path.is_file():
        raise XlingError(f"X-CSQA has no {resolve(lang).name} ({code}) here; available: "
                         f"{', '.join(xcsqa_languages(root))}")
    by_id = {}
    for number, line in enumerate(read_lines(path), 1):
        row = _xcsqa_row(json_line(line, f"{path}:{number}"), f"{path}:{number}")
        by_id[row["id"]] = ChoiceItem(id=row["id"], label=row["letters"].index(row["answerKey"]), fields={
            "stem": row["stem"], "options": row["options"], "letters": row["letters"]})
    english = _xcsqa_path(root, "en")
    order = [_xcsqa_id(json_line(line, f"{english}:{n}"), f"{english}:{n}")
             for n, line in enumerate(read_lines(english), 1)]
    missing = [i for i in order if i not in by_id]
    if missing:
        raise XlingError(f"X-CSQA {code}: {len(missing)} English ids are missing (first: {missing[0]})")
    return [by_id[i] for i in order]


def _xcsqa_id(row, where: str) -> str:
    if not isinstance(row, dict) or not isinstance(row.get("id"), str):
        raise XlingError(f"{where}: expected an X-CSQA record with an \"id\"")
    return row["id"]


def _xcsqa_row(row, where: str) -> dict:
    """id, stem, options, letters and answerKey of one X-CSQA record (the official layout, or
    Hugging Face's {"label": [...], "text": [...]} choices), or one error line naming it."""
    _xcsqa_id(row, where)
    question = row.get("question")
    choices = question.get("choices") if isinstance(question, dict) else None
    if isinstance(choices, dict) and isinstance(choices.get("label"), list) and isinstance(choices.get("text"), list):
        choices = [{"label": label, "text": t} for label, t in zip(choices["label"], choices["text"])]
    if not (isinstance(question, dict) and isinstance(question.get("stem"), str) and isinstance(choices, list)
            and choices and all(isinstance(c, dict) and isinstance(c.get("label"), str)
                                and isinstance(c.get("text"), str) for c in choices)):
        raise XlingError(f"{where}: expected an X-CSQA record: question.stem and question.choices "
                         "(label and text each)")
    if "answerKey" not in row:
        raise XlingError(f"{where}: the record has no answerKey (X-CSQA's test split is unlabelled: use "
                         "its dev split)")
    letters = [c["label"] for c in choices]
    if row["answerKey"] not in letters:
        raise XlingError(f"{where}: answer {row['answerKey']!r} is not among {letters}")
    return {"id": row["id"], "stem": question["stem"], "options": [c["text"] for c in choices],
            "letters": letters, "answerKey": row["answerKey"]}


class ChoiceSource:
    """Evaluated items and the demonstrations' pool of one labelled data set (a registered
    family's loader returns one). A `shots_file` (premise<TAB>hypothesis<TAB>label) replaces
    the pool of any NLI data."""
    note = ""
    one_language = False          # one file holds one language: the run makes one cell
    crossable = True              # premise and hypothesis (options) may come from two languages
    template: str | None = None   # the data set's own template for both modes (None: the task's)

    def __init__(self, spec: str, options: DataOptions):
        self.spec, self.name = spec, spec.partition(":")[0].lower()
        self.shots_file = options.shots_file
        self._nli = options.task == "nli"
        if self.shots_file and options.task != "nli":
            raise XlingError("shots_file (--shots-file) holds NLI demonstrations "
                             "(premise<TAB>hypothesis<TAB>label); it is for `xling eval nli`")

    def items(self, premise: str, hypothesis: str) -> list[ChoiceItem]:
        raise NotImplementedError

    def asked_in(self, items: list[ChoiceItem], data_lang: str, prompt_lang: str) -> list[ChoiceItem]:
        """The items as a prompt in `prompt_lang` asks them. Most items hold no words of their own
        (the template's wording is the prompt language's); PAWS-X's question and options are its items'."""
        return items

    @property
    def user_pool(self) -> str | None:
        """The user's demonstrations file, if the pool is one."""
        return self.shots_file or None

    def own_dev_pool(self, premise: str, hypothesis: str) -> list[ChoiceItem] | None:
        """Demonstrations from the data set's own dev split (None: it has none)."""
        return None

    def dev_pool(self, premise: str, hypothesis: str) -> list[ChoiceItem]:
        if self.user_pool:
            return read_nli_file(self.user_pool)
        pool = self.own_dev_pool(premise, hypothesis)
        if pool is None:
            if not self._nli:   # (multiple choice takes no demonstrations file)
                raise XlingError(f"{self.spec} has no split to draw few-shot examples from"
                                 + (" (xcopa:test draws them from val)" if self.name == "xcopa" else "")
                                 + "; use --shots 0")
            raise XlingError(f"{self.spec} has no separate split to draw few-shot examples from; give a "
                             "demonstrations file (--shots-file, or nli-file:TEST,DEV), or use shots: 0")
        return pool

    def shots_source(self, shots: int) -> dict | None:
        """Where the demonstrations come from, for the run's config.json (None at 0 shots)."""
        if not shots:
            return None
        if self.user_pool:
            return {"from": "shots_file" if self.shots_file else "nli-file dev", **file_record(self.user_pool)}
        return {"from": f"{self.name}:dev"}


def choice_source(spec: str, data_dir: str | None, task: str, shots_file: str | None = None) -> ChoiceSource:
    """The labelled data a spec names, for `task` (nli or multiple_choice)."""
    return load_dataset(spec, DataOptions(data_dir, task=task, shots_file=shots_file))


def _root_or_none(root: Path | None) -> Path | None:
    return root if root is not None and ((root / "xnli").is_dir() or (root / "kornli_xnli_ko").is_dir()) else None


@register_dataset("xnli", task="nli", grammar="xnli[:dev|test]", aliases=("kornli",), splits=("dev", "test"),
                  help="XNLI, 15 languages (ko: KorNLI's XNLI translation); premise and hypothesis "
                       "languages may differ",
                  languages=lambda root, split="test": xnli_languages(root, split) if _root_or_none(root) else None)
class XNLISource(ChoiceSource):
    """XNLI test draws its demonstrations from XNLI dev."""

    def __init__(self, arg: str, spec: str, options: DataOptions):
        super().__init__(spec, options)
        self.split, self.root = arg or "test", data_root(options.data_dir)
        if self.split not in ("dev", "test"):
            raise XlingError(f"XNLI has no split {self.split!r}; available: dev, test")

    def items(self, premise: str, hypothesis: str) -> list[ChoiceItem]:
        others = [lang for lang in dict.fromkeys((premise, hypothesis)) if resolve(lang).code != "ko"]
        if self.name == "kornli" and others:   # (else English XNLI ran labelled "kornli")
            raise XlingError(f"{self.spec} is KorNLI's Korean XNLI (ko only), not {resolve(others[0]).name}: "
                             f"the other languages are under xnli (xnli{self.spec[len('kornli'):]})")
        return nli_items(self.split, premise, hypothesis, self.root)

    def own_dev_pool(self, premise: str, hypothesis: str) -> list[ChoiceItem] | None:
        return nli_items("dev", premise, hypothesis, self.root) if self.split == "test" else None


@register_dataset("xcsqa", task="multiple_choice", grammar="xcsqa[:dev]", splits=("dev",),
                  help="X-CSQA: commonsense questions with five answers (dev: the labelled split)",
                  languages=lambda root: xcsqa_languages(root) or None if root is not None else None)
class XCSQASource(ChoiceSource):
    def __init__(self, arg: str, spec: str, options: DataOptions):
        super().__init__(spec, options)
        self.split, self.root = arg or "dev", data_root(options.data_dir)
        self.left_out: dict[str, list[str]] = {}   # cell: ids of items with an empty answer
        self.read: set[str] = set()   # the languages read so far (the note names where each came from)
        self.note = XCSQA_NOTE
        if self.split != "dev":
            raise XlingError("X-CSQA has labels for the dev split only (test labels are not public)")

    def items(self, premise: str, hypothesis: str) -> list[ChoiceItem]:
        """The question from `premise`'s file, the answers from `hypothesis`'s (joined by id: the
        official files order each language's answers in their own way, so the gold letter may
        differ between the two). An item with an empty answer is left out (and said): scored
        as the bare delimiter, it wins every log-likelihood comparison."""
        questions = xcsqa_items(premise, self.root)
        option_lang = resolve(hypothesis).code
        self.read |= {resolve(premise).code, option_lang}
        items = questions
        if option_lang != resolve(premise).code:
            items = [ChoiceItem(id=question.id, label=answers.label, option_lang=option_lang,
                                fields={**answers.fields, "stem": question.fields["stem"]})
                     for question, answers in zip(questions, xcsqa_items(option_lang, self.root))]
        # (a bare "." is as empty: three German items have one, and it won each of them)
        empty = [item.id for item in items
                 if not all(any(ch.isalnum() for ch in option) for option in item.fields["options"])]
        if empty:
            self.left_out[f"{resolve(premise).code}>{option_lang}" if option_lang != resolve(premise).code
                          else option_lang] = empty
        self.note = xcsqa_note(self.read, self.root) + "".join(
            f"; {cell}: {len(ids)} item(s) with an empty (or punctuation-only) answer option left out "
            f"({', '.join(ids)})"
            for cell, ids in sorted(self.left_out.items()))
        return [item for item in items if item.id not in empty]


@register_dataset("nli-file", task="nli", grammar="nli-file:TEST.tsv[,DEV.tsv]",
                  help="your own NLI file (premise<TAB>hypothesis<TAB>label), with demonstrations from DEV")
class NLIFileSource(ChoiceSource):
    one_language = True

    def __init__(self, arg: str, spec: str, options: DataOptions):
        super().__init__(spec, options)
        # TEST[,DEV]; a path that itself holds a comma is taken whole when it exists
        self.path, _, self.dev_path = (arg, "", "") if Path(arg).is_file() else arg.partition(",")
        if not self.path:
            raise XlingError("nli-file: needs a path: nli-file:TEST.tsv or nli-file:TEST.tsv,DEV.tsv")

    def items(self, premise: str, hypothesis: str) -> list[ChoiceItem]:
        return read_nli_file(self.path)

    @property
    def user_pool(self) -> str | None:
        return self.shots_file or self.dev_path or None


def exclusions(source: ChoiceSource, items: list[ChoiceItem], pool: list[ChoiceItem]):
    """The pool without the evaluated items, and the ids to exclude: by id, and by their texts
    too: a user's demonstrations file may share items with the test file (ids are file
    positions), and a data set's dev and test splits may hold the same text (PAWS-X zh: 14
    test pairs are word for word dev pairs, 3 with another label)."""
    def text(item: ChoiceItem) -> str:
        return json.dumps(item.fields, sort_keys=True, ensure_ascii=False)

    tested = {text(i) for i in items}
    kept = [x for x in pool if text(x) not in tested]
    return kept, (set() if source.user_pool else {i.id for i in items})
