"""Evaluation data from a local folder (the official layouts) or, when online, the hub.

The local root is `--data-dir`, else $XLING_DATA, else the `shared/data` folder beside a source
checkout. Nothing here copies data into the project.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, overload

from ..errors import XlingError
from . import hub
from .corpus import ParallelData
from .languages import Language, all_languages, is_language, named_with_region, resolve
from .registry import DataOptions, load_dataset, register_dataset
from .resources import REPO_ROOT
from .textio import json_line, read_lines


@overload
def data_root(explicit: str | Path | None = None, required: Literal[True] = True) -> Path: ...


@overload
def data_root(explicit: str | Path | None = None, required: bool = True) -> Path | None: ...


def data_root(explicit: str | Path | None = None, required: bool = True) -> Path | None:
    """The local data root: the folder named explicitly, else $XLING_DATA, else ../shared/data
    beside a checkout. A folder *named* (argument or variable) must exist: a typo never falls
    back silently to another folder."""
    from_env = os.environ.get("XLING_DATA")
    for candidate, named in ((explicit, "data folder"), (from_env, "XLING_DATA folder")):
        if candidate:
            if not Path(candidate).is_dir():
                what = "is a file, not a folder" if Path(candidate).exists() else "does not exist"
                raise XlingError(f"{named} {candidate} {what}")
            return Path(candidate)
    fallback = REPO_ROOT.parent / "shared" / "data"
    if fallback.is_dir():
        return fallback
    if required:
        raise XlingError("no local data folder: pass --data-dir or set XLING_DATA to a folder "
                         "holding flores200/, xnli/, ... (see the README)")
    return None


def flores_dir(root: Path | None = None) -> Path:
    root = root or data_root()
    folder = root / "flores200" if (root / "flores200").is_dir() else root
    if not (folder / "dev").is_dir() and not (folder / "devtest").is_dir():
        raise XlingError(f"{folder} is not a FLORES-200 folder (expected dev/ and devtest/ inside)")
    return folder


FLORES_SPLITS = ("dev", "devtest")

# Codes FLORES+ renamed from FLORES-200's (the macrolanguage's member, as its later releases
# name them), tried when FLORES-200's own is not a configuration on the hub, or not a file in a
# local folder laid out as FLORES+.
FLORES_PLUS_NAMES = {"zho_Hans": ("cmn_Hans",), "zho_Hant": ("cmn_Hant",), "est_Latn": ("ekk_Latn",),
                     "tgl_Latn": ("fil_Latn",)}
_FLORES_FROM_PLUS = {plus: code for code, names in FLORES_PLUS_NAMES.items() for plus in names}


def _flores_file_code(path: Path) -> str:
    """The FLORES-200 code of a local file (FLORES+ names its Chinese cmn_Hans, ...)."""
    code = path.name.split(".")[0]
    return _FLORES_FROM_PLUS.get(code, code)


def _flores_path(folder: Path, split: str, lang: Language) -> Path:
    """A language's file in a FLORES folder (by its FLORES-200 or FLORES+ name)."""
    candidates = [folder / split / f"{name}.{split}" for name in (lang.flores, *FLORES_PLUS_NAMES.get(lang.flores, ()))]
    return next((p for p in candidates if p.is_file()), candidates[0])


class _LaterData:
    """A data set read when first used: FLORES-200 dev beside devtest (a zero-shot run never
    reads it, and a damaged dev folder refused such runs)."""

    def __init__(self, spec: str, load):
        self.spec, self._load = spec, load
        self._data: ParallelData | None = None

    def pairs(self, src, tgt) -> list[tuple[str, str]]:
        if self._data is None:
            self._data = self._load()
        return self._data.pairs(src, tgt)


def flores200(split: str, lang: str | Language, root: Path | None = None) -> list[str]:
    """The sentences of one FLORES-200 split in one language, line-aligned across languages."""
    lang = resolve(lang)
    folder = flores_dir(root)
    if split not in FLORES_SPLITS or not (folder / split).is_dir():
        present = [s for s in FLORES_SPLITS if (folder / s).is_dir()]
        raise XlingError(f"FLORES-200 has no split {split!r} here; available: {', '.join(present)}")
    path = _flores_path(folder, split, lang)
    if not path.is_file():
        have = sorted(p.name.split(".")[0] for p in (folder / split).glob(f"*.{split}"))
        raise XlingError(f"FLORES-200 {split} has no {lang.name} ({lang.flores}) in {folder}; "
                         f"available: {', '.join(have)}")
    return read_lines(path)


def flores_pairs(split: str, src: str | Language, tgt: str | Language,
                 root: Path | None = None) -> list[tuple[str, str]]:
    sources, targets = flores200(split, src, root), flores200(split, tgt, root)
    if len(sources) != len(targets):   # zip would pair every line after a lost one with the wrong one
        raise XlingError(f"FLORES-200 {split}: {resolve(src).name} has {len(sources)} lines, "
                         f"{resolve(tgt).name} {len(targets)} (files not aligned) in {flores_dir(root)}")
    return list(zip(sources, targets))


class PairFile(list):
    """(source, target) pairs read from a user's file, and where each was read (`places`:
    "shots.jsonl:3"), for a message about one of them (a demonstration a template cannot show)."""

    def __init__(self, pairs=(), places=()):
        super().__init__(pairs)
        self.places = list(places)


def read_pair_file(path: str | Path) -> PairFile:
    """Parallel pairs from a user's file: TSV (source<TAB>target) or JSONL with
    "source"/"target" keys."""

    pairs, places = [], []
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        if str(path).endswith(".jsonl"):
            row = json_line(line, f"{path}:{number}")
            if not isinstance(row, dict) or "source" not in row or "target" not in row:
                raise XlingError(f"{path}:{number}: expected a JSON object with 'source' and 'target'")
            for key in ("source", "target"):   # (str() showed the model None, ['x', 'y'] or {'a': 1})
                if not isinstance(row[key], str):
                    raise XlingError(f"{path}:{number}: '{key}' must be text, not {row[key]!r:.40}")
            pairs.append((row["source"], row["target"]))
            places.append(f"{path}:{number}")
        else:
            cells = line.split("\t")
            if len(cells) != 2:
                raise XlingError(f"{path}:{number}: expected source<TAB>target")
            if not pairs and [c.strip().lower() for c in cells] == ["source", "target"]:
                continue   # a header (pandas writes one): no demonstration "source" -> "target"
            pairs.append((cells[0], cells[1]))
            places.append(f"{path}:{number}")
    return PairFile(pairs, places)


def shots_file_pool(pattern: str, src, tgt, data) -> tuple[str, PairFile, int]:
    """A direction's own shots file (`pattern` with {src} and {tgt} filled in), the pairs it
    gives and how many it dropped: a pair whose source or target is a sentence of `data` (any
    segment, not only those --limit keeps) would show the model a test item's answer, and make
    the prompts depend on --limit."""
    path = str(pattern).replace("{src}", resolve(src).code).replace("{tgt}", resolve(tgt).code)
    test = {t.strip() for lang in (src, tgt) for t in data.text(lang)}
    pairs = read_pair_file(path)
    shown = [i for i, (s, t) in enumerate(pairs) if s.strip() not in test and t.strip() not in test]
    kept = PairFile([pairs[i] for i in shown], [pairs.places[i] for i in shown])
    return path, kept, len(pairs) - len(kept)


def _files_by_code(folder: Path, pattern: str, to_code) -> dict[str, Path]:
    """The files a pattern finds, by the language code each one's name resolves to; a file named
    with a region (NTREX's fra-CA, por-BR, spa-MX) only where the language has no file of its own."""
    files: dict[str, Path] = {}
    for path in sorted(sorted(folder.glob(pattern)), key=lambda p: named_with_region(to_code(p))):
        try:
            files.setdefault(resolve(to_code(path)).code, path)
        except XlingError:
            continue  # a language the registry does not know
    return files


def _codes_in(folder: Path, pattern: str, to_code) -> list[str]:
    return list(_files_by_code(folder, pattern, to_code))


def _flores_local(split: str, root: Path, spec: str) -> ParallelData:
    folder = flores_dir(root)
    if split not in FLORES_SPLITS or not (folder / split).is_dir():
        present = [s for s in FLORES_SPLITS if (folder / s).is_dir()]
        raise XlingError(f"FLORES-200 has no split {split!r}; available: {', '.join(present)}")
    languages = _codes_in(folder / split, f"*.{split}", _flores_file_code)
    if not languages:
        raise XlingError(f"{folder / split} holds no FLORES-200 language file (such as "
                         f"kor_Hang.{split}, eng_Latn.{split})")
    # the segment count from English (a cut file of a language the run does not read was taken
    # as the count, and English or the metadata blamed for it)
    n = len(flores200(split, "en" if "en" in languages else languages[0], root))
    dev = None
    if split != "dev" and (folder / "dev").is_dir():   # read when demonstrations are drawn
        dev = _LaterData(spec.split(":")[0] + ":dev", lambda: _flores_local("dev", root, spec.split(":")[0] + ":dev"))
    domains = _metadata_column(folder / f"metadata_{split}.tsv", "domain", n)
    plus = sorted(p.name for p in (folder / split).glob(f"*.{split}") if p.name.split(".")[0] in _FLORES_FROM_PLUS)
    note = (f"a local FLORES+ folder ({', '.join(plus[:3])}{', ...' if len(plus) > 3 else ''} by FLORES+'s "
            "names): a revised release of FLORES-200, not the same text") if plus else ""
    return ParallelData(spec, [f"{split}-{i:04d}" for i in range(1, n + 1)],
                        lambda lang: flores200(split, lang, root), languages, dev, note=note,
                        where=lambda lang: _flores_path(folder, split, lang),
                        meta=[{"domain": d} for d in domains] if domains else None)


def _metadata_column(path: Path, column: str, n: int) -> list[str] | None:
    """One column of a data set's per-segment TSV (a header line, then one row per segment), or
    None when the file is absent; a file that does not match the segments is an error."""
    if not path.is_file():
        return None
    rows = [line.split("\t") for line in read_lines(path)]
    if not rows or column not in rows[0]:
        raise XlingError(f"{path}: no {column!r} column in its header line")
    index = rows[0].index(column)
    values = [row[index].strip() if index < len(row) else "" for row in rows[1:]]
    if len(values) != n or not all(values):
        raise XlingError(f"{path}: {len(values)} rows with a {column} for {n} segments (files not aligned)")
    return values


FLORES_HUB_NOTE = ("FLORES+ (openlanguagedata/flores_plus) from the Hugging Face hub: a revised release "
                   "of FLORES-200, not the same text")


def _flores_hub(split: str, spec: str) -> ParallelData:
    """FLORES+ from the hub (gated: needs `huggingface-cli login`), said so in its note (config.json
    keeps it), as its texts differ from FLORES-200's."""

    if not hub.reachable():
        where = f"XLING_DATA ({os.environ['XLING_DATA']}) holds no flores200/" if os.environ.get("XLING_DATA") \
            else "no local FLORES-200 folder (pass --data-dir or set XLING_DATA)"
        raise XlingError(f"{where}, and the Hugging Face hub cannot be reached for FLORES+ (offline?)")
    if split not in FLORES_SPLITS:
        raise XlingError(f"FLORES+ has no split {split!r}; available: dev, devtest")
    from datasets import load_dataset

    def load(lang: Language) -> list[str]:
        names = (lang.flores, *FLORES_PLUS_NAMES.get(lang.flores, ()))
        for name in names:   # FLORES-200's code first, then the name FLORES+ may have given it
            try:
                rows = load_dataset("openlanguagedata/flores_plus", name, split=split)
            except Exception as exc:  # noqa: BLE001 - gated, renamed or missing: say so in one line
                if name != names[-1]:
                    continue
                raise XlingError(f"FLORES+ {' / '.join(names)} {split} could not be loaded from the hub: "
                                 f"{exc}".splitlines()[0]) from exc
            return [row["text"] for row in rows]
        raise AssertionError("unreachable")

    n = len(load(resolve("en")))
    dev = _flores_hub("dev", "flores200:dev") if split != "dev" else None
    return ParallelData(spec, [f"{split}-{i:04d}" for i in range(1, n + 1)], load,
                        [lang.code for lang in all_languages()], dev, note=FLORES_HUB_NOTE)


class FloresDev:
    """FLORES-200 dev as the demonstrations of a test set that has no dev split of its own
    (WMT24++), in the same language and script as each side (zh_TW -> zho_Hant): the local
    folder, else FLORES+ on the hub, read only when shots are asked for."""

    def __init__(self, root: Path | None, for_spec: str):
        self.root, self.for_spec = root, for_spec
        self._data: ParallelData | None = None

    @property
    def local(self) -> bool:
        root = self.root
        return root is not None and ((root / "flores200" / "dev").is_dir() or (root / "dev").is_dir())

    @property
    def spec(self) -> str:
        """Where the demonstrations come from, as a run's config.json records it."""
        return "flores200:dev" if self.local else "flores_plus:dev (hub)"

    def pairs(self, src, tgt) -> list[tuple[str, str]]:
        try:
            if self._data is None:
                self._data = _flores_local("dev", self.root, self.spec) if self.root is not None and self.local \
                    else _flores_hub("dev", self.spec)
            # (FLORES has the language, not its regional varieties: pt_BR's demonstrations are pt's)
            return self._data.pairs(resolve(src).plain, resolve(tgt).plain)
        except XlingError as exc:
            raise XlingError(f"{self.for_spec} has no dev split, so its few-shot examples come from "
                             f"FLORES-200 dev, and {exc}; or pass your own (--shots-file)") from None


NTREX_CODES = {"zh": "zho-CN", "zh-Hant": "zho-TW", "ar": "arb"}


def _ntrex(split: str, root: Path, spec: str) -> ParallelData:
    folder = root / "ntrex128" if (root / "ntrex128").is_dir() else root
    if split != "test":
        raise XlingError("NTREX-128 has one split: test")
    source = folder / "newstest2019-src.eng.txt"
    if not source.is_file():
        raise XlingError(f"{folder} is not an NTREX-128 folder (no newstest2019-src.eng.txt)")

    def to_code(path: Path) -> str:
        code = path.name.split(".")[1]
        return {v: k for k, v in NTREX_CODES.items()}.get(code, code)

    # each language is read from the file it was listed from (Serbian: srp-Cyrl and srp-Latn)
    files = _files_by_code(folder, "newstest2019-ref.*.txt", to_code)
    files.pop("en", None)   # English is read from the source (eng-GB, eng-US: references of it)
    # regional references of a language read from another file (por-BR beside por): said, never read
    aside = sorted(to_code(p) for p in folder.glob("newstest2019-ref.*.txt") if p not in files.values()
                   and is_language(to_code(p)) and resolve(to_code(p)).code in {"en", *files})

    def path_for(lang: Language) -> Path:
        if lang.code == "en":
            return source
        return files.get(lang.code) or folder / f"newstest2019-ref.{NTREX_CODES.get(lang.code, lang.iso639_3)}.txt"

    languages = ["en"] + list(files)
    n = len(read_lines(source))  # read_lines strips the upstream CRLF line ends
    documents = None   # DOCUMENT_IDS.tsv: each line's news article (--unit document, document scores)
    if (folder / "DOCUMENT_IDS.tsv").is_file():
        documents = [d.strip() for d in read_lines(folder / "DOCUMENT_IDS.tsv")]
        if len(documents) != n or not all(documents):
            raise XlingError(f"{folder / 'DOCUMENT_IDS.tsv'}: {len(documents)} document ids for {n} "
                             "segments (files not aligned)")
    return ParallelData(spec, [f"test-{i:04d}" for i in range(1, n + 1)],
                        lambda lang: read_lines(path_for(lang)), languages, where=path_for,
                        note="English is the original; other sides are translations of it"
                        + (f" (regional references not read: {', '.join(aside)})" if aside else ""),
                        meta=[{"document_id": d} for d in documents] if documents else None)


def _resolves_to(spelling: str) -> str | None:
    try:
        return resolve(spelling).code
    except XlingError:
        return None


def _text_files(pattern: str, spec: str) -> ParallelData:
    """`text:corpus/test.{lang}`: one file per language; {lang} may be spelled as the ISO code,
    the ISO 639-3 code or the FLORES code."""
    if "{lang}" not in pattern:
        raise XlingError("a text: dataset needs a {lang} placeholder, e.g. text:data/test.{lang}")

    def path_for(lang: Language) -> Path | None:
        for spelling in (lang.code, lang.iso639_3, lang.flores):
            if _resolves_to(spelling) != lang.code:
                continue   # a spelling two languages share is the other's ("zho" is zh, not zh-Hant)
            path = Path(pattern.replace("{lang}", spelling)).expanduser()
            if path.is_file():
                return path
        return None

    paths = {lang.code: path for lang in all_languages() if (path := path_for(lang))}
    if not paths:
        raise XlingError(f"no files match {pattern}")
    first = next(iter(paths))
    lines = {first: read_lines(paths[first])}   # (read once: its warnings, a NUL byte, said once)
    return ParallelData(spec, [f"{i:05d}" for i in range(1, len(lines[first]) + 1)],
                        lambda lang: lines[lang.code] if lang.code in lines else read_lines(paths[lang.code]),
                        list(paths), files=paths)


def load_parallel(spec: str, data_dir: str | Path | None = None, *, keep_bad_sources: bool = False,
                  reference: str = "post-edit") -> ParallelData:
    """The parallel data a spec names (`xling data` lists the families: flores200[:dev|devtest],
    ntrex128, wmt24pp:en-LOCALE, sacrebleu:SET:PAIR, text:PATTERN, jsonl:PATH, ...).
    `keep_bad_sources` and `reference` apply to WMT24++."""
    return load_dataset(spec, DataOptions(data_dir, keep_bad_sources, reference, task="mt"))


def _local_root(root: Path | None, folder: str) -> Path | None:
    """The family's folder under a data root (None where there is none)."""
    if root is None:
        return None
    return root / folder if (root / folder).is_dir() else None


def _local_flores(root: Path | None) -> Path | None:
    """The FLORES folder a data root gives: its flores200/, or the root itself where it holds
    dev/ (`--data-dir .../flores200` loads; `xling data` listed nothing for it)."""
    if root is None:
        return None
    return _local_root(root, "flores200") or (root if (root / "dev").is_dir() else None)


@register_dataset("flores200", task="mt", grammar="flores200[:dev|devtest]", splits=FLORES_SPLITS,
                  aliases=("flores", "flores_plus", "flores+"),
                  help="FLORES-200 (FLORES+ on the hub when there is no local folder): every direction",
                  languages=lambda root, split="devtest": _codes_in(folder / split, f"*.{split}", _flores_file_code)
                  if (folder := _local_flores(root)) else None)
def _load_flores(arg: str, spec: str, options: DataOptions) -> ParallelData:
    split = arg or "devtest"
    root = data_root(options.data_dir, required=False)
    if root is not None and _local_flores(root):
        data = _flores_local(split, root, f"flores200:{split}")
        if spec.split(":")[0].strip().lower() in ("flores_plus", "flores+") and not data.note:
            # (read and recorded as FLORES+ before: its numbers labelled with the other release)
            raise XlingError(f"{spec.split(':')[0]} names FLORES+, a revised release of FLORES-200; "
                             f"{flores_dir(root)} holds files by FLORES-200's names: ask for flores200, name a "
                             "folder of FLORES+ files with --data-dir, or set XLING_DATA to a folder without "
                             "flores200/ to read FLORES+ from the hub")
        return data
    if options.data_dir:   # a folder named on purpose never falls through to another data set
        fallback = data_root(None, required=False)   # what leaving --data-dir out reads
        instead = f"the data in {fallback}" if fallback else "FLORES+ from the hub"
        raise XlingError(f"{options.data_dir} holds no flores200/ folder (FLORES-200's dev/ and devtest/); "
                         f"name the folder that does, or leave --data-dir out to read {instead}")
    return _flores_hub(split, f"flores200:{split}")


def _ntrex_languages(root: Path | None) -> list[str] | None:
    # (the root itself where it is the NTREX folder, as the loader reads it)
    folder = _local_root(root, "ntrex128") or (root if root and (root / "newstest2019-src.eng.txt").is_file() else None)
    if folder is None:
        return None
    to_code = {v: k for k, v in NTREX_CODES.items()}
    return ["en"] + [code for code in _codes_in(folder, "newstest2019-ref.*.txt",
                                                lambda p: to_code.get(p.name.split(".")[1], p.name.split(".")[1]))
                     if code != "en"]   # (eng-GB, eng-US: references of the English source, not read)


@register_dataset("ntrex128", task="mt", grammar="ntrex128[:test]", splits=("test",), aliases=("ntrex",),
                  help="NTREX-128: English news into 128 languages (local folder)", languages=_ntrex_languages)
def _load_ntrex(arg: str, spec: str, options: DataOptions) -> ParallelData:
    return _ntrex(arg or "test", data_root(options.data_dir), f"ntrex128:{arg or 'test'}")


@register_dataset("text", task="mt", grammar="text:PATTERN_WITH_{lang}",
                  help="your own files, one per language, one segment per line: text:corpus/test.{lang}")
def _load_text(arg: str, spec: str, options: DataOptions) -> ParallelData:
    return _text_files(arg, spec)
