"""WMT test sets: WMT24++ (paragraph segments in documents and domains, post-edited references)
and any test set sacrebleu lists, read through sacrebleu's own dataset API."""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import XlingError
from . import hub
from .corpus import ParallelData
from .languages import Language, resolve
from .parallel import FloresDev, data_root
from .registry import DataOptions, register_dataset
from .textio import counted, read_jsonl, read_lines

WMT24PP_HUB = "google/wmt24pp"
WMT24PP_FIELDS = ("lp", "domain", "document_id", "segment_id", "is_bad_source", "source", "target",
                  "original_target")
REFERENCES = {"post-edit": "target", "original": "original_target"}


# Locales whose post-edits are written in a regional variety (measured on ar_SA: colloquial words
# such as اللي and الحين, 2-12 per 1,000 tokens, absent from its original references and from
# FLORES arb_Arab; other Arabic locales are not here to measure).
DIALECTS = {"ar_SA": "Saudi Arabic"}


def locale_language(locale: str) -> Language:
    """The xling language of a WMT24++ locale: ko_KR -> ko, zh_TW -> zh-Hant (Traditional)."""
    if not re.fullmatch(r"[a-z]{2,3}(_[A-Za-z]{2,4})+", locale):
        raise XlingError(f"{locale!r} is not a WMT24++ locale (like ko_KR, ja_JP, zh_TW)")
    for candidate in (locale, locale.split("_")[0]):
        try:
            return resolve(candidate)      # aliases first: zh_TW is Traditional Chinese
        except XlingError:
            continue
    raise XlingError(f"WMT24++ locale {locale}: xling has no language {locale.split('_')[0]!r} "
                     "(add a row to langpairs/languages.tsv)")


def _by_script(lang: Language, references: list[str]) -> Language:
    """Serbian is written in Cyrillic or in Latin letters (sr_RS says neither): the variant in
    the script its references are written in."""
    if lang.code not in ("sr", "sr-Latn"):
        return lang
    text = "".join(references)
    cyrillic = len(re.findall("[\u0400-\u04ff]", text))
    latin = len(re.findall("[A-Za-z\u00c0-\u024f]", text))
    return resolve("sr-Latn" if latin > cyrillic else "sr")


def _wmt24pp_folder(root: Path | None) -> Path | None:
    if root is None:
        return None
    for folder in (root / "wmt24pp", root):
        if any(folder.glob("en-*.jsonl")):
            return folder
    return None


# The type of each field of a WMT24++ row, as google/wmt24pp publishes it.
WMT24PP_TYPES = {"lp": str, "domain": str, "document_id": str, "segment_id": int, "is_bad_source": bool,
                 "source": str, "target": str, "original_target": str}


def check_wmt24pp_rows(rows: list[tuple[str, dict]], locale: str | None = None) -> list[dict]:
    """Rows given with where each one is (file:line, or the hub row): every field present and of
    its type, domain and document id non-empty, segment ids unique (records are named by them),
    and each row's `lp` the locale's (en-ja_JP rows in a file named en-ko_KR were read as Korean
    references). The first bad row is named."""
    seen: dict = {}
    for where, row in rows:
        missing = [f for f in WMT24PP_FIELDS if f not in row]
        if missing:
            raise XlingError(f"{where}: a WMT24++ row needs {', '.join(missing)}")
        for field, kind in WMT24PP_TYPES.items():
            value = row[field]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                name = {str: "text", int: "a whole number", bool: "true or false"}[kind]
                raise XlingError(f"{where}: '{field}' must be {name}, not {value!r}")
        for field in ("domain", "document_id"):
            if not row[field].strip():
                raise XlingError(f"{where}: '{field}' is empty")
        if locale is not None and row["lp"] != f"en-{locale}":
            raise XlingError(f"{where}: its lp is {row['lp']!r}, not en-{locale} (a file of another locale?)")
        if row["segment_id"] in seen:
            raise XlingError(f"{where}: segment_id {row['segment_id']} was already used at "
                             f"{seen[row['segment_id']]}; each segment needs its own id")
        seen[row["segment_id"]] = where
    return [row for _, row in rows]


def _read_local(path: Path) -> list[dict]:

    return check_wmt24pp_rows([(f"{path}:{number}", row) for number, row in read_jsonl(path)],
                              path.stem.partition("-")[2])


def _local_file(folder: Path | None, locale: str) -> Path | None:
    """The locale's file in the local folder; None where there is none (the hub is asked)."""
    path = folder / f"en-{locale}.jsonl" if folder is not None else None
    if path is None or path.is_file():
        return path
    if path.exists():   # (not "has no en-ja_JP.jsonl (present: ja_JP, ...)")
        kind = "a folder, not a JSON lines file" if path.is_dir() else "not a regular file"
        raise XlingError(f"WMT24++ locale {locale}: {path} is {kind}")
    return None


def _read_hub(locale: str, folder: Path | None, present: list[str]) -> list[dict]:

    if not hub.reachable():
        here = (f"{folder} has no en-{locale}.jsonl (present: {', '.join(present)})" if folder else
                "no local wmt24pp/ folder (pass --data-dir or set XLING_DATA)")
        raise XlingError(f"WMT24++ locale {locale}: {here}, and the Hugging Face hub cannot be "
                         f"reached for {WMT24PP_HUB} (offline?)")
    from datasets import load_dataset

    try:
        rows = [dict(row) for row in load_dataset(WMT24PP_HUB, f"en-{locale}", split="train")]
    except Exception as exc:  # noqa: BLE001 - a missing config or a network error: one line
        raise XlingError(f"{WMT24PP_HUB} en-{locale} could not be loaded from the hub: "
                         f"{exc}".splitlines()[0]) from exc
    return check_wmt24pp_rows([(f"{WMT24PP_HUB} en-{locale}, row {i}", row) for i, row in enumerate(rows)], locale)


def _wmt24pp_languages(root: Path | None) -> list[str] | None:
    folder = _wmt24pp_folder(root)
    return ["en", *sorted(p.stem[3:] for p in folder.glob("en-*.jsonl"))] if folder else None


@register_dataset("wmt24pp", task="mt", grammar="wmt24pp:en-LOCALE (en-* for every local locale)",
                  aliases=("wmt24++",), splits=("test",), languages=_wmt24pp_languages,
                  help="WMT24++: English into 55 locales, documents and domains, post-edited references")
def _load_wmt24pp(arg: str, spec: str, options: DataOptions) -> ParallelData:

    root = data_root(options.data_dir, required=False)
    return load_wmt24pp(arg, root, keep_bad_sources=options.keep_bad_sources, reference=options.reference,
                        dev=FloresDev(root, f"wmt24pp:{arg}"))


class WMT24ppData(ParallelData):
    """WMT24++ data, whose note says of a locale's post-edits in a regional variety only where a
    run has its language (`run_note`)."""

    def __init__(self, *args, dialects: dict[str, str], field: str, left_out: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.dialects = dialects     # language code -> "ar_SA: Saudi Arabic"
        self.field, self.left_out = field, left_out   # the locales' texts read; "; left out of en-*: ..."
        self.head = self.note        # "WMT24++ (ko_KR): 960 of 998 segments; dropped ..."
        self.note = self.note_for(None, shots=1)   # (every locale: `xling data`, the API)

    def sides(self, directions) -> str:
        """What the source and the references of `directions` are (None: out of English, as the
        data set was made): into English, the locale's texts are the source, English the reference."""
        post_edits = self.field == "target"
        named = ("post-edits" if post_edits else "original references, before post-editing") + f" ('{self.field}')"
        texts = ("the post-edits" if post_edits else "the translations before post-editing") + f" ('{self.field}')"
        kinds = {"out": ["references: " + named, "English is the original side"],
                 "into": ["source: " + texts, "references: the English originals"],
                 "between": ["source and references: " + texts, "both translated from the English originals"]}
        found: dict[str, list[str]] = {}
        for src, tgt in ([] if directions is None else [(resolve(a), resolve(b)) for a, b in directions]):
            kind = "out" if src.code == "en" else "into" if tgt.code == "en" else "between"
            found.setdefault(kind, []).append(f"{src.code}-{tgt.code}")
        if len(found) <= 1:
            return "; ".join(kinds[next(iter(found), "out")])
        return "; ".join(f"{', '.join(names)}: " + ", ".join(kinds[kind]) for kind, names in found.items())

    def note_for(self, directions, shots: int | None) -> str:
        """The note, with what the source and references of `directions` are (None: all of them,
        out of English), naming the regional post-edits of their languages, and where
        demonstrations come from only when the run draws some (`shots`)."""
        note = f"{self.head}; {self.sides(directions)}{self.left_out}"
        codes = None if directions is None else {resolve(lang).code for d in directions for lang in d}
        dialects = [text for code, text in self.dialects.items() if codes is None or code in codes]
        if not dialects:
            return note
        return (note + "; post-edits in a regional variety (" + "; ".join(dialects) + "), scored as "
                "'ar'" + (" (demonstrations from FLORES-200 arb_Arab, Modern Standard Arabic)"
                                      if shots else ""))


def run_note(data: ParallelData, directions, shots: int | None) -> str:
    """What a run of these directions says of its data (config.json's data.note, and on stderr)."""
    return data.note_for(directions, shots) if isinstance(data, WMT24ppData) else data.note


def load_wmt24pp(arg: str, root: Path | None, keep_bad_sources: bool = False,
                 reference: str = "post-edit", dev=None) -> ParallelData:
    """`en-ko_KR` (one locale) or `en-*` (every locale of the local folder). English is the
    source; the canary row is always dropped, rows marked is_bad_source unless kept. WMT24++ has
    no dev split: `dev` (FLORES-200 dev, from data.parallel) gives the demonstrations."""
    if reference not in REFERENCES:
        raise XlingError(f"reference must be one of {', '.join(REFERENCES)}, not {reference!r}")
    src, _, locale = arg.partition("-")
    if src != "en" or not locale:
        spec = f"wmt24pp:{arg}" if arg else "wmt24pp"
        raise XlingError(f"{spec}: WMT24++ is English into a locale: wmt24pp:en-ko_KR, or "
                         "wmt24pp:en-* for every locale present")
    folder = _wmt24pp_folder(root)
    present = sorted(p.stem[3:] for p in folder.glob("en-*.jsonl")) if folder else []
    if locale == "*":
        if not present:
            raise XlingError("wmt24pp:en-* lists the locales of a local wmt24pp/ folder and there is "
                             "none (pass --data-dir or set XLING_DATA); name one locale to load it "
                             f"from the hub ({WMT24PP_HUB})")
        locales = present
    else:
        locales = [locale]
    field = REFERENCES[reference]
    left_out: list[str] = []   # en-*: locales that cannot sit beside the others, and why
    if locale == "*":
        known = {}
        for loc in locales:
            try:
                known[loc] = locale_language(loc)
            except XlingError:
                left_out.append(f"{loc} (a language xling does not list)")
        locales = [loc for loc in locales if loc in known]
    tables = {}
    for loc in locales:
        local = _local_file(folder, loc)
        tables[loc] = _read_local(local) if local else _read_hub(loc, folder, present)
    languages = {loc: _by_script(locale_language(loc), [r[field] for r in tables[loc] if r["domain"] != "canary"])
                 for loc in locales}
    by_code: dict[str, list[str]] = {}
    for loc, lang in languages.items():
        by_code.setdefault(lang.code, []).append(loc)
    for code, locs in by_code.items():
        if len(locs) > 1:
            if locale != "*":   # (one locale cannot clash with itself)
                raise XlingError(f"WMT24++ locales {', '.join(locs)} are all {languages[locs[0]].name}")
            # One language, one set of references per run: each locale is loaded by its name.
            left_out.append(f"{', '.join(locs)} (all {languages[locs[0]].name}: load one by name, "
                            f"wmt24pp:en-{locs[0]})")
            for loc in locs:
                del languages[loc], tables[loc]
    locales = [loc for loc in locales if loc in languages]
    if not locales:
        raise XlingError("wmt24pp:en-*: no locale could be loaded: " + "; ".join(left_out))
    first = tables[locales[0]]
    for loc in locales[1:]:
        if [(r["segment_id"], r["source"]) for r in tables[loc]] != \
                [(r["segment_id"], r["source"]) for r in first]:
            raise XlingError(f"WMT24++ en-{loc} and en-{locales[0]} do not have the same English "
                             "segments in the same order")
    keep = [i for i, r in enumerate(first)
            if r["domain"] != "canary" and (keep_bad_sources or not r["is_bad_source"])]
    bad = sum(1 for r in first if r["is_bad_source"] and r["domain"] != "canary")
    if not keep:
        raise XlingError(f"WMT24++ en-{locales[0]} holds no segment to translate: only the canary"
                         + (f" and {counted(bad, 'row')} marked is_bad_source (--keep-bad-sources keeps them)"
                            if bad else ""))
    texts = {"en": [first[i]["source"] for i in keep]}
    for loc, lang in languages.items():
        texts[lang.code] = [tables[loc][i][field] for i in keep]
    dropped = len(first) - len(keep)
    canary = any(r["domain"] == "canary" for r in first)
    what = (["the canary"] if canary else []) + ([f"{counted(bad, 'row')} marked is_bad_source"]
                                                 if bad and not keep_bad_sources else [])
    head = (f"WMT24++ ({', '.join(locales)}): {len(keep)} of {len(first)} segments; "
            + (f"dropped {' and '.join(what)} ({dropped} in all)" if what else "nothing dropped"))
    # the language code says Arabic; the post-edits are a spoken variety
    dialects = {languages[loc].code: f"{loc}: {DIALECTS[loc]}" for loc in locales
                if loc in DIALECTS and field == "target"}
    meta = [{"domain": first[i]["domain"], "document_id": first[i]["document_id"],
             "segment_id": first[i]["segment_id"]} for i in keep]
    ids = [f"{first[i]['segment_id']:04d}" if isinstance(first[i]["segment_id"], int)
           else str(first[i]["segment_id"]) for i in keep]
    return WMT24ppData(f"wmt24pp:en-{locale}", ids, lambda lang: texts[lang.code], list(texts),
                       dialects=dialects, note=head, meta=meta, dev=dev, field=field,
                       left_out="; left out of en-*: " + "; ".join(left_out) if left_out else "",
                        default_pairs=[f"en-{lang.code}" for lang in languages.values()],
                        dev_note="WMT24++ has no dev split: demonstrations from FLORES-200 dev, in "
                                 "each side's language and script")


# -- sacrebleu's test sets ---------------------------------------------------------------------------
SACREBLEU_META = {"docid": "document_id", "doc_id": "document_id", "origlang": "origlang",
                  "domain": "domain", "genre": "genre"}


def _sacrebleu_references(dataset, pair: str, fields: list[str], files: list[str]) -> list[str]:
    """The reference columns sacrebleu itself scores against (`get_reference_files`: a set's
    or pair's designated references, e.g. wmt23 en-he's refB), in a fixed order; the first is
    the one xling scores against. (The order of a set's fields follows Python's string hashing,
    so "the first ref column" changed from one process to the next.)"""
    chosen = set(dataset.get_reference_files(pair))
    refs = sorted(f for f, path in zip(fields, files) if path in chosen and f.startswith("ref"))
    return refs or sorted(f for f in fields if f.startswith("ref"))

@register_dataset("sacrebleu", task="mt", grammar="sacrebleu:SET:SRC-TGT",
                  help="any test set sacrebleu lists (downloaded into its cache): sacrebleu:wmt24:en-ja")
def _load_sacrebleu(arg: str, spec: str, options: DataOptions) -> ParallelData:
    return load_sacrebleu(arg)


def _remove_leftovers(cache: Path, before: set[Path]) -> None:
    """What a failed download made in sacrebleu's cache: its empty lock files and the empty
    folders around them (nothing that was there before, nothing with content)."""
    made = [p for p in ([cache, *cache.rglob("*")] if cache.exists() else []) if p not in before]
    for path in sorted(made, key=lambda p: len(p.parts), reverse=True):   # innermost first
        try:
            if path.is_file() and path.suffix == ".lock" and path.stat().st_size == 0:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        except OSError:
            continue


def load_sacrebleu(arg: str) -> ParallelData:
    """`wmt24:en-ja`: the source and first reference of a sacrebleu test set, with document ids
    where the set has them. sacrebleu downloads into its cache ($SACREBLEU, ~/.sacrebleu)."""
    name, _, pair = arg.rpartition(":")
    if not name or "-" not in pair:
        raise XlingError(f"sacrebleu:{arg}: expected sacrebleu:SET:SRC-TGT, e.g. sacrebleu:wmt24:en-ja")
    from sacrebleu.dataset import DATASETS
    from sacrebleu.utils import SACREBLEU_DIR

    if name not in DATASETS:
        raise XlingError(f"sacrebleu has no test set {name!r}; `sacrebleu --list` shows them")
    dataset = DATASETS[name]
    if pair not in dataset.langpairs:
        raise XlingError(f"sacrebleu test set {name} has no pair {pair}; it has: "
                         f"{', '.join(sorted(dataset.langpairs))}")
    src, tgt = (resolve(code) for code in pair.split("-", 1))
    cache = Path(SACREBLEU_DIR)
    before = {cache, *cache.rglob("*")} if cache.exists() else set()
    try:
        fields = dataset.fieldnames(pair)
        files = dataset.get_files(pair)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - sacrebleu exits or raises offline
        _remove_leftovers(cache, before)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise XlingError(f"sacrebleu test set {name} ({pair}) is not in sacrebleu's cache "
                         f"({Path(SACREBLEU_DIR) / name}) and could not be downloaded ({reason}); "
                         "run once online, or copy that folder here (its place is set by $SACREBLEU)") from None

    # The set's own columns only: WMT's XML sets also carry every submitted system's output
    # (a column per system), which is neither metadata nor a reference.
    wanted = {"src"} | {f for f in fields if f.startswith("ref")} | set(SACREBLEU_META)
    columns = {f: read_lines(path, allow_empty=True) for f, path in zip(fields, files) if f in wanted}
    refs = _sacrebleu_references(dataset, pair, fields, files)
    if "src" not in columns or not refs:
        raise XlingError(f"sacrebleu test set {name} ({pair}) has no source or no reference")
    n = len(columns["src"])
    if any(len(lines) != n for lines in columns.values()):
        raise XlingError(f"sacrebleu test set {name} ({pair}): its files have different line counts")
    extra = [f for f in fields if f in SACREBLEU_META]
    meta = [{SACREBLEU_META[f]: columns[f][i] for f in extra} for i in range(n)]
    texts = {src.code: columns["src"], tgt.code: columns[refs[0]]}
    others = sorted(f for f in fields if f.startswith("ref") and f != refs[0])
    note = f"sacrebleu {name} {pair}: reference {refs[0]}" + (
        f" (sacrebleu's; the set also has {', '.join(others)})" if others else "") + (
        f"; sacrebleu itself scores against all of {', '.join(refs)}, xling against {refs[0]}"
        if len(refs) > 1 else "")
    return ParallelData(f"sacrebleu:{name}:{pair}", [f"{i:05d}" for i in range(1, n + 1)],
                        lambda lang: texts[lang.code], list(texts), note=note, meta=meta,
                        default_pairs=[f"{src.code}-{tgt.code}"])
