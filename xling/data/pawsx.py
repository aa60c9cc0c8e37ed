"""PAWS-X (Yang et al. 2019): paraphrase identification in seven languages, rows aligned across
languages, as a two-option multiple-choice data set (`pawsx:dev|test`, `xling eval mc`).

Each item asks, in its own language (or the prompt language, --prompt-lang), whether two
sentences mean the same; the options are that language's yes and no (label 1, paraphrase, is
"yes"). The local layout is the XTREME one:
`pawsx/<split>/<lang>.tsv` (sentence1<TAB>sentence2[<TAB>label], csv-quoted), the test split's
labels in `pawsx/test_labels_derived.txt` (one per row, NA where unknown). Rows a translator left
untranslated (the placeholder NS, or empty) and rows without a label are left out."""
from __future__ import annotations

import csv
from pathlib import Path

from ..errors import XlingError
from .choice import ChoiceItem, ChoiceSource
from .languages import resolve
from .parallel import data_root
from .registry import DataOptions, register_dataset
from .textio import read_lines

# The question and its two answers (yes, no) in each PAWS-X language.
QUESTIONS = {
    "en": ("Do these two sentences mean the same thing?", ("Yes", "No")),
    "de": ("Bedeuten diese beiden Sätze dasselbe?", ("Ja", "Nein")),
    "es": ("¿Significan lo mismo estas dos oraciones?", ("Sí", "No")),
    "fr": ("Ces deux phrases ont-elles le même sens ?", ("Oui", "Non")),
    "ja": ("この二つの文は同じ意味ですか？", ("はい", "いいえ")),
    "ko": ("이 두 문장은 같은 뜻입니까?", ("예", "아니요")),
    "zh": ("这两个句子的意思相同吗？", ("是", "否")),
}
# Answer words read as yes or no besides the options' own (not shown to the model). Chinese
# answers the question (意思相同吗) with 相同 "the same" or 不相同; a bare 不 is read alone only
# (the parser: 不知道 "I don't know" opens with it); 不是相同 whole (不是 + 相同 read as two options).
ALSO_ACCEPTED = {"ko": (["네"], ["아니오", "아뇨"]),
                 "zh": (["相同", "一样"], ["不是", "不", "不相同", "不一样", "不同", "不是相同", "不是一样"])}
SPLITS = ("dev", "test")
UNTRANSLATED = {"NS", ""}


def _folder(root: Path | None) -> Path | None:
    if root is None:
        return None
    return root / "pawsx" if (root / "pawsx").is_dir() else None


def _languages(root: Path | None, split: str = "test") -> list[str] | None:
    folder = _folder(root)
    return sorted(p.stem for p in (folder / split).glob("*.tsv") if p.stem in QUESTIONS) if folder else None


def _rows(path: Path) -> list[list[str]]:
    # read_lines: one clear line for a missing or non-UTF-8 file, the byte-order mark dropped
    return list(csv.reader(read_lines(path), delimiter="\t"))


def _labels(path: Path, rows: int, split: str) -> list[str]:
    if not path.is_file():
        raise XlingError(f"PAWS-X {split} labels are not here ({path} is missing): use pawsx:dev, or add "
                         "the file (one label per test row: 1, 0 or NA)")
    labels = [line.strip() for line in read_lines(path)]
    if len(labels) != rows:
        raise XlingError(f"{path} holds {len(labels)} labels for the {rows} rows of the {split} files")
    return labels


def pawsx_items(split: str, lang: str, root: Path) -> list[ChoiceItem]:
    """One language's items of a split (ids are row numbers, the same in every language)."""
    code = resolve(lang).code
    folder = _folder(root)
    if folder is None:
        raise XlingError(f"no pawsx/ folder under {root} (pass --data-dir or set XLING_DATA)")
    if code not in QUESTIONS or not (folder / split / f"{code}.tsv").is_file():
        raise XlingError(f"PAWS-X {split} has no {resolve(lang).name} ({code}); available in {split}: "
                         f"{', '.join(_languages(root, split) or []) or 'none'}")
    path = folder / split / f"{code}.tsv"
    rows = _rows(path)
    if split == "test":
        labels = _labels(folder / "test_labels_derived.txt", len(rows), split)
    else:
        labels = [row[2].strip() if len(row) > 2 else "" for row in rows]
    items = []
    for number, (row, label) in enumerate(zip(rows, labels), 1):
        if len(row) < 2:
            raise XlingError(f"{path}:{number}: expected sentence1<TAB>sentence2, got {len(row)} field(s)")
        if label not in ("0", "1", "NA", ""):   # only rows without a label are left out
            raise XlingError(f"{path}:{number}: label {label!r} is not 1 (paraphrase), 0 or NA")
        first, second = row[0].strip(), row[1].strip()
        if first in UNTRANSLATED or second in UNTRANSLATED or label not in ("0", "1"):
            continue
        items.append(ChoiceItem(id=f"{split}-{number:04d}", label=0 if label == "1" else 1,
                                fields=_asked(f"{first}\n{second}\n", code)))
    return items


def _asked(pair: str, lang: str, data_lang: str | None = None) -> dict:
    """An item's fields: the sentence pair, then the question and its yes/no options in `lang`.
    Asked in another language than the sentences' (`data_lang`), an answer in theirs is read too."""
    question, answers = QUESTIONS[lang]
    accepted = ALSO_ACCEPTED.get(lang)
    if data_lang not in (None, lang):
        theirs = ALSO_ACCEPTED.get(data_lang, ([], []))
        yes, no = ([*(accepted[i] if accepted else []), QUESTIONS[data_lang][1][i], *theirs[i]] for i in (0, 1))
        accepted = (list(dict.fromkeys(yes)), list(dict.fromkeys(no)))
    return {"stem": pair + question, "options": list(answers), **({"also_accepted": accepted} if accepted else {})}


def asked_in(items: list[ChoiceItem], data_lang: str, prompt_lang: str) -> list[ChoiceItem]:
    """One language's items with their question and options in the prompt language (the
    sentences stay as they are): --prompt-lang en asked a German question with German options."""
    data, asked = resolve(data_lang).code, resolve(prompt_lang).code
    if asked == data:   # (the items as they were: a data-language run keeps its prompts and identity)
        return items
    if asked not in QUESTIONS:
        raise XlingError(f"PAWS-X asks its question in {', '.join(sorted(QUESTIONS))}, not in "
                         f"{resolve(prompt_lang).name} ({asked}): give --prompt-lang one of these, or data")
    cut = len(QUESTIONS[data][0])
    return [ChoiceItem(id=item.id, label=item.label, option_lang=item.option_lang,
                       fields={**item.fields, **_asked(item.fields["stem"][:-cut], asked, data)}) for item in items]


@register_dataset("pawsx", task="multiple_choice", grammar="pawsx[:dev|test]", splits=SPLITS, aliases=("paws-x",),
                  help="PAWS-X paraphrase identification as yes/no questions in each language (test "
                       "labels from the derived file)", languages=_languages)
class PAWSXSource(ChoiceSource):
    crossable = False   # each item is one language's sentence pair and its question
    def __init__(self, arg: str, spec: str, options: DataOptions):
        super().__init__(spec, options)
        self.split, self.root = arg or "test", data_root(options.data_dir)
        self._shared_rows: set[str] | None = None
        if self.split not in SPLITS:
            raise XlingError(f"PAWS-X has no split {self.split!r}; available: dev, test")

    def items(self, premise: str, hypothesis: str) -> list[ChoiceItem]:
        return pawsx_items(self.split, premise, self.root)

    def asked_in(self, items: list[ChoiceItem], data_lang: str, prompt_lang: str) -> list[ChoiceItem]:
        return asked_in(items, data_lang, prompt_lang)

    def own_dev_pool(self, premise: str, hypothesis: str) -> list[ChoiceItem] | None:
        """The dev rows usable in every language here, none of which repeats a test item in any
        language: the same demonstrations (by row) in every language, as XNLI's."""
        if self.split != "test":
            return None
        if self._shared_rows is None:
            usable: set[str] | None = None
            repeated: set[str] = set()
            for lang in _languages(self.root) or []:
                dev = pawsx_items("dev", lang, self.root)
                tested = {item.fields["stem"] for item in pawsx_items("test", lang, self.root)}
                usable = {item.id for item in dev} & (usable if usable is not None else {item.id for item in dev})
                repeated |= {item.id for item in dev if item.fields["stem"] in tested}
            self._shared_rows = (usable or set()) - repeated
        return [item for item in pawsx_items("dev", premise, self.root) if item.id in self._shared_rows]
