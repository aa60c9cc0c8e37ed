"""Parallel MT data behind one interface (`ParallelData`), whichever loader read it
(`parallel`: FLORES-200, NTREX-128, text and JSON lines; `wmt`: WMT24++, sacrebleu sets)."""
from __future__ import annotations

from pathlib import Path

from ..errors import XlingError
from .languages import Language, resolve


class ShotPool(list):
    """(source, target) pairs to draw demonstrations from, and the sentences none may show
    (`withheld`: the test sentences of the data set the pool serves, every one, not only those
    --limit keeps). A withheld pair keeps its place in the pool, so the draw does not depend on
    --limit, and is the same as in every other direction but where a withheld pair is drawn
    (replaced there: select_shots)."""

    def __init__(self, pairs, withheld=()):
        super().__init__(pairs)
        self.withheld = frozenset(s.strip() for s in withheld)

    def key(self):
        """What a run's data digest holds of the pool: its pairs, and the places of those withheld
        where there are any (before round 23 they were dropped before the draw, which then drew
        otherwise: such a run's folder is another experiment, and says so on resume)."""
        held = [i for i, (s, t) in enumerate(self) if s.strip() in self.withheld or t.strip() in self.withheld]
        return {"pairs": list(self), "withheld": held} if held else list(self)


class ParallelData:
    """Line-aligned multi-way parallel text: `text(lang)` gives one language's segments, aligned
    with `ids`. `dev_pool(src, tgt)` gives few-shot demonstrations from a separate split (never
    the evaluated one), or None when the dataset has none.

    `meta` (aligned with `ids`, optional) holds what a data set says of each segment —
    `domain`, `document_id`, `segment_id` — and travels into every output record.
    `default_pairs` are the directions the data set was made for (WMT24++: English into the
    locale), used when a run names none."""

    def __init__(self, spec: str, ids: list[str], loader, languages: list[str], dev=None,
                 note: str = "", meta: list[dict] | None = None,
                 default_pairs: list[str] | None = None, dev_note: str = "",
                 files: dict[str, Path] | None = None, where=None):
        self.spec, self.ids, self._loader, self._languages = spec, ids, loader, languages
        self.files = files or {}     # one file per language (text:): named when they disagree
        self._where = where          # (FLORES, NTREX) a language's file, named when it is not aligned
        self._dev, self.note = dev, note
        self._cache: dict[str, list[str]] = {}
        self.dev_note = dev_note     # where demonstrations come from, when not the set's own dev
        self.meta = meta or [{} for _ in ids]
        self.default_pairs = default_pairs
        # why a document's segments have no order to translate it in (jsonl: names mixed with
        # numbers that run backwards); refused by --unit document only, segments need none
        self.unordered: str | None = None

    @property
    def has_documents(self) -> bool:
        return bool(self.meta) and all("document_id" in m for m in self.meta)

    def languages(self) -> list[str]:
        return list(self._languages)

    def missing(self, lang: Language) -> str:
        """Why `lang` is not here, with the spellings that would have found it."""
        spelled = f" (a file is named by {lang.code}, {lang.iso639_3} or {lang.flores})" if self.files else \
            " (a jsonl: file's key 'id' is each record's id: key Indonesian 'ind')" \
            if lang.code == "id" and self.spec.startswith("jsonl:") else ""
        return f"{self.spec} has no {lang.name} ({lang.code}){spelled}; available: {', '.join(self._languages)}"

    def text(self, lang: str | Language) -> list[str]:
        lang = resolve(lang)
        if lang.code not in self._languages:
            raise XlingError(self.missing(lang))
        if lang.code not in self._cache:
            lines = self._loader(lang)
            if len(lines) != len(self.ids):
                raise XlingError(self._misaligned(lang, lines))
            self._cache[lang.code] = lines
        return self._cache[lang.code]

    def _misaligned(self, lang: Language, lines: list[str]) -> str:
        if lang.code not in self.files:
            named = f"{self._where(lang)} ({lang.name})" if self._where else lang.name
            return f"{self.spec}: {named} has {len(lines)} segments, expected {len(self.ids)} (files not aligned)"
        first = next(iter(self.files))   # the language whose file gave the segment count
        longer = lang.code if len(lines) > len(self.ids) else first
        longer_lines = lines if longer == lang.code else self._loader(resolve(first))
        blank = " and ends with a blank line" if abs(len(lines) - len(self.ids)) == 1 and longer_lines[-1] == "" else ""
        return (f"{self.spec}: {self.files[lang.code]} has {len(lines)} lines, {self.files[first]} has "
                f"{len(self.ids)} (files not aligned: {self.files[longer]} is the longer{blank})")

    def dev_pool(self, src, tgt) -> ShotPool | None:
        """The demonstrations' pool of a direction, withholding this data set's own sentences in
        both languages (FLORES-200's Spanish dev and devtest share a sentence: shown, it gives a
        test item's answer away)."""
        if self._dev is None:
            return None
        return ShotPool(self._dev.pairs(src, tgt), withheld=[*self.text(src), *self.text(tgt)])

    def dev_source(self, directions) -> dict | None:
        """Where the demonstrations of these directions come from (for a run's config.json):
        the dev data set and each side's FLORES-style language code."""
        if self._dev is None:
            return None
        source = {"from": self._dev.spec,
                  "languages": {f"{resolve(s).code}-{resolve(t).code}": [resolve(s).flores, resolve(t).flores]
                                for s, t in directions}}
        return source | ({"note": self.dev_note} if self.dev_note else {})

    def pairs(self, src, tgt) -> list[tuple[str, str]]:
        return list(zip(self.text(src), self.text(tgt)))
