"""Human judgments of MT output, for meta-evaluating metrics (task "judgments"):

- `mqm:FILE.tsv[:SRC-TGT]` — Google's MQM error annotations (google/wmt-mqm-human-evaluation):
  one row per error, or one `No-error` row, per (system, segment); scores computed here.
- `mqm-scores:FILE.tsv[:SRC-TGT]` — Google's per-segment MQM scores (`*.avg_seg_scores.tsv`):
  scores only, no texts.
- `mtme:ROOT:LP[:HUMAN]` — one test set in MT-metrics-eval's layout (google-research/
  mt-metrics-eval): sources, references, system outputs, documents and human scores.

Each gives a `HumanJudgments`: per system, its text and its human score per segment, HIGHER IS
BETTER (MQM is negated: 0 is a segment without errors). Bad data is one XlingError naming the
file and line.
"""
from __future__ import annotations

import csv
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import XlingError
from .languages import parse_pair, resolve
from .parallel import data_root
from .registry import DataOptions, register_dataset
from .textio import read_jsonl, read_lines


@dataclass
class HumanJudgments:
    spec: str
    src_lang: str | None           # xling language codes where known ("zh", "en")
    tgt_lang: str | None
    segment_ids: list[str]         # every segment, in order
    sources: list[str]             # one per segment
    documents: list[str] | None    # document id per segment, if known
    outputs: dict[str, list[str | None]]    # system -> its text per segment (None where unknown)
    scores: dict[str, list[float | None]]   # system -> human score per segment, higher is better; None: not rated
    system_scores: dict[str, float] | None = None   # system-level human scores when the data gives them
    note: str = ""
    human_systems: tuple[str, ...] = ()     # the systems known to be human translations (references)
    languages_note: str = ""                # said where the languages come from the file's name

    def systems(self) -> list[str]:
        """Every system (MT systems and human translations), in the data's order."""
        return list(dict.fromkeys([*self.outputs, *self.scores]))

    def common_segments(self, systems) -> list[int]:
        """Positions where every one of `systems` has a score and an output."""
        systems = list(systems)
        for name in systems:
            if name not in self.outputs and name not in self.scores:
                raise XlingError(f"{self.spec} has no system {name!r}; known: {', '.join(self.systems())}")
        none_out: list[str | None] = [None] * len(self.segment_ids)
        none_score: list[float | None] = [None] * len(self.segment_ids)
        return [i for i in range(len(self.segment_ids))
                if all(self.scores.get(s, none_score)[i] is not None and self.outputs.get(s, none_out)[i] is not None
                       for s in systems)]


# ---------------------------------------------------------------------------------------------
# Languages

# Words that name files and that two of languages.tsv's codes spell ("test" too, ready for Sotho's
# st): there they are the word, not a pair (`mqm_data.tsv` was read as Danish to Tamil, every
# English output off-target, no word said). Only these: other words are real directions as well
# (then th-en, rude ru-de, hide hi-de, guru gu-ru), and a pair read from a name is said anyway.
NAME_WORDS = frozenset("data date html note path task test".split())


def _name_pair(token: str) -> tuple[str, str] | None:
    """The pair a part of a file name spells: four lowercase letters, two codes of two different
    languages (a pair translates), and no English word (NAME_WORDS); None otherwise."""
    if not re.fullmatch(r"[a-z]{4}", token) or token in NAME_WORDS:
        return None
    try:
        src, tgt = resolve(token[:2]), resolve(token[2:])
    except XlingError:
        return None
    return (src.code, tgt.code) if src.iso639_3 != tgt.iso639_3 else None


def _pair_from_name(path: Path) -> tuple[str | None, str | None]:
    """(src, tgt) from a Google file name's language token, `mqm_ted_zhen.tsv` -> (zh, en): a
    `_`-separated part of the name that `_name_pair` reads as a pair; (None, None) when none is.
    Two such parts (`mqm_zhen_ende.tsv`) are refused: which one holds the pair is a guess."""
    stem = path.name.split(".")[0]
    pairs = [(token, *pair) for token in stem.split("_") if (pair := _name_pair(token))]
    if len(pairs) > 1:
        raise XlingError(f"{path.name} names two language pairs ({', '.join(p[0] for p in pairs)}): give "
                         f"the pair after the file, {path.name}:SRC-TGT (e.g. {path.name}:{pairs[0][1]}-{pairs[0][2]})")
    return pairs[0][1:] if pairs else (None, None)


def _name_note(path: Path, spec: str, pair: tuple[str | None, str | None]) -> str:
    """What is said when the pair comes from the file's name (`meta-eval` says it on stderr)."""
    if pair[0] is None or pair[1] is None:
        return ""
    return (f"{path.name} is read as {resolve(pair[0]).name} to {resolve(pair[1]).name}, from its name; "
            f"to read it as another pair, give it after the file: {spec}:SRC-TGT")


def _languages(path: Path, src_lang: str | None, tgt_lang: str | None) -> tuple[str | None, str | None]:
    """The pair a file is read with: the one given, else its name's. A given pair that is the name's
    reversed (`mqm_ted_zhen.tsv:en-zh`) is refused: English outputs were scored and language-checked
    as Chinese with nothing said; another pair than the name's is warned about."""
    if src_lang is None and tgt_lang is None:
        return _pair_from_name(path)
    try:
        named = _pair_from_name(path)
    except XlingError:   # two pairs in the name: the one given settles it
        return src_lang, tgt_lang
    if named[0] is None or named == (src_lang, tgt_lang):
        return src_lang, tgt_lang

    def same(a: str | None, b: str | None) -> bool:   # (zh-Hant given for a zhen file: a refinement)
        return a is not None and b is not None and resolve(a).iso639_3 == resolve(b).iso639_3

    if same(named[0], src_lang) and same(named[1], tgt_lang):
        return src_lang, tgt_lang

    def name(code: str | None) -> str:
        return resolve(code).name if code else "?"

    if named == (tgt_lang, src_lang):
        raise XlingError(f"{path.name} is named for {name(named[0])} to {name(named[1])}, and the pair given "
                         f"(:{src_lang}-{tgt_lang}) is its reverse, which would score the outputs as "
                         f"{name(tgt_lang)}: leave the pair out to use the name's (or rename the file if "
                         "the name is wrong)")
    print(f"xling: warning: {path.name} is named for {name(named[0])} to {name(named[1])}, and it is read as "
          f"{name(src_lang)} to {name(tgt_lang)} (:{src_lang}-{tgt_lang}: its outputs' tokenizer and "
          "off-target checks; if the name holds no language pair, ignore this)", file=sys.stderr)
    return src_lang, tgt_lang


def _split_pair(arg: str, grammar: str) -> tuple[Path, str | None, str | None]:
    """FILE[:SRC-TGT]: the file and the languages given (None: the reader takes them from the
    file name)."""
    if not arg:
        raise XlingError(f"name the file: {grammar}")
    path_text, colon, pair = arg.rpartition(":")
    if not colon:
        return Path(arg).expanduser(), None, None
    direction = parse_pair(pair)
    return Path(path_text).expanduser(), direction.src.code, direction.tgt.code


def _code(text: str) -> str | None:
    try:
        return resolve(text).code
    except XlingError:
        return None


# ---------------------------------------------------------------------------------------------
# Google MQM error annotations

MQM_COLUMNS = ("system", "doc", "doc_id", "seg_id", "rater", "source", "target", "category", "severity")
# Weights in tenths of an error point, so that sums are exact (0.1 + 0.1 + 0.1 is not 0.3).
MQM_WEIGHTS = {"major": 50, "minor": 10, "neutral": 0, "no-error": 0}
MINOR_PUNCTUATION = 1            # a Minor Fluency/Punctuation error: 0.1
NON_TRANSLATION = 250            # the whole segment, 25
MAX_ERRORS = 5


def _non_translation(category: str) -> bool:
    return category.strip().lower().rstrip("!") == "non-translation"


def _error_weight(category: str, severity: str) -> int:
    """Google's MQM weights (the wmt-mqm-human-evaluation README; Freitag et al. 2021), in tenths.
    As MT-metrics-eval's converter: a Minor punctuation error with a subcategory
    (Fluency/Punctuation/Quotes) is one too."""
    if severity == "minor" and category.strip().lower().startswith("fluency/punctuation"):
        return MINOR_PUNCTUATION
    return MQM_WEIGHTS[severity]


def _unmark(text: str) -> str:
    return text.replace("<v>", "").replace("</v>", "")


def _segment_order(ids: list[str]) -> list[str]:
    """Whole-number ids in numeric order, other ids in the order first met."""
    if all(i.isdigit() for i in ids):
        return sorted(ids, key=int)
    return ids


def load_mqm(path: str | Path, spec: str, src_lang: str | None = None, tgt_lang: str | None = None) -> HumanJudgments:
    """Google's MQM TSV (header `system doc doc_id seg_id rater source target category severity`,
    further columns such as `comment` allowed; rows unquoted, read with csv.QUOTE_NONE).

    Score of a (system, segment) = -(sum of its error weights), 0 best; weights from the data's
    README (google/wmt-mqm-human-evaluation) and Freitag et al. (TACL 2021): Major 5, Minor 1,
    Minor Fluency/Punctuation 0.1, Neutral and No-error 0. The category `Non-translation!`
    ("Non-translation" also read) marks a whole segment too garbled to mark errors in: weight 25,
    "equivalent to five Major errors", and it replaces the segment's other errors (the
    annotation tool's rule: it "overrides any other marked errors for that sentence"), so the
    segment scores -25. Raters marked at most five errors per segment ("instructing raters to
    choose the five most severe errors"): a segment with more error rows counts its five
    heaviest, as the protocol defines the score (the TED zh-en and en-de files hold at most five).
    Severities are read without regard to case; any other severity is an error. `Source error`
    rows weigh by their severity like any other (Google's segment scores count them so).

    Each (system, segment) is rated once: a second rater for it, or a `No-error` row beside any
    other row of the segment (scored twice by one rater), is an error — Google's files with several
    ratings per segment (newstest2020, *.3ratingsPerSegment) are read through their
    `avg_seg_scores` file (`mqm-scores:`). The output is the target with its error marks `<v>`,
    `</v>` removed (the same in every row of the segment); the source likewise (omissions are marked
    in it). Only rated segments are in the file, so `segment_ids` lists those (numeric order)."""
    path = Path(path)
    named = src_lang is None and tgt_lang is None
    src_lang, tgt_lang = _languages(path, src_lang, tgt_lang)
    lines = read_lines(path)
    rows = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    try:
        header = next(rows)
    except csv.Error as exc:
        raise XlingError(f"{path}:1: not a TSV line ({exc})") from None
    missing = [c for c in MQM_COLUMNS if c not in header]
    if missing:
        raise XlingError(f"{path}:1: not an MQM TSV header: columns {', '.join(missing)} are missing "
                         f"(expected {' '.join(MQM_COLUMNS)})")
    col = {name: header.index(name) for name in MQM_COLUMNS}
    # (system, seg_id) -> rater, its first line, output, errors [(weight, line)], its No-error line
    ratings: dict[tuple[str, str], dict] = {}
    segments: dict[str, dict] = {}        # seg_id -> source, document, first line
    systems: dict[str, None] = {}
    for number in range(2, len(lines) + 1):
        try:
            cells = next(rows)
        except csv.Error as exc:
            raise XlingError(f"{path}:{number}: not a TSV line ({exc})") from None
        if not any(cell.strip() for cell in cells):
            continue
        where = f"{path}:{number}"
        if len(cells) != len(header):
            raise XlingError(f"{where}: {len(cells)} tab-separated columns, the header has {len(header)} "
                             f"({' '.join(header)})")
        # (a stray space made a system of its own: "Facebook-AI " beside "Facebook-AI")
        system, seg_id, rater = (cells[col[c]].strip() for c in ("system", "seg_id", "rater"))
        category, severity = cells[col["category"]], cells[col["severity"]].strip().lower()
        if (seg_id, severity) == ("seg_id", "severity"):   # (two files joined with cat)
            raise XlingError(f"{where}: the header line again (files joined together?): remove it")
        if not system or not seg_id:
            raise XlingError(f"{where}: empty system or seg_id")
        if not seg_id.isdigit():   # (a typo made a segment of its own, one system's alone)
            raise XlingError(f"{where}: seg_id {seg_id!r} is not a segment number (the MQM layout numbers them)")
        if severity not in MQM_WEIGHTS:
            raise XlingError(f"{where}: unknown severity {cells[col['severity']]!r} "
                             "(known: Major, Minor, Neutral, No-error)")
        source, output = _unmark(cells[col["source"]]), _unmark(cells[col["target"]])
        document = cells[col["doc"]].strip()
        segment = segments.setdefault(seg_id, {"source": source, "document": document, "line": number})
        if segment["source"] != source:
            raise XlingError(f"{where}: segment {seg_id}'s source differs from line {segment['line']}'s "
                             "(after removing the <v> marks)")
        if segment["document"] != document:
            raise XlingError(f"{where}: segment {seg_id} is in document {document!r} here, "
                             f"{segment['document']!r} at line {segment['line']}")
        systems.setdefault(system, None)
        rating = ratings.setdefault((system, seg_id), {"rater": rater, "line": number, "output": output,
                                                       "errors": [], "clean": None,
                                                       "non_translation": False})
        if rating["rater"] != rater:
            raise XlingError(f"{where}: {system} segment {seg_id} is rated by {rater} here and by "
                             f"{rating['rater']} at line {rating['line']}; this reader takes one rating per "
                             "(system, segment): read a multi-rater file's avg_seg_scores with mqm-scores:")
        if rating["output"] != output:
            raise XlingError(f"{where}: {system} segment {seg_id}'s target differs from line "
                             f"{rating['line']}'s (after removing the <v> marks)")
        if rating["clean"] is not None or (severity == "no-error" and rating["errors"]):
            first = rating["clean"] or rating["errors"][0][1]
            raise XlingError(f"{where}: {system} segment {seg_id} scored twice by one rater: a No-error "
                             f"row and another row (line {first}) for the same segment")
        if severity == "no-error":
            rating["clean"] = number
        elif _non_translation(category) and severity == "major":   # (Minor, Neutral: as any error, as
            rating["non_translation"] = True                           # MT-metrics-eval's converter)
            rating["errors"].append((NON_TRANSLATION, number))
        else:
            rating["errors"].append((_error_weight(category, severity), number))
    if not ratings:
        raise XlingError(f"{path} holds no ratings (only a header)")
    segment_ids = _segment_order(list(segments))
    position = {s: i for i, s in enumerate(segment_ids)}
    outputs: dict[str, list[str | None]] = {s: [None] * len(segment_ids) for s in systems}
    scores: dict[str, list[float | None]] = {s: [None] * len(segment_ids) for s in systems}
    for (system, seg_id), rating in ratings.items():
        weights = sorted((w for w, _ in rating["errors"]), reverse=True)
        total = NON_TRANSLATION if rating["non_translation"] else sum(weights[:MAX_ERRORS])
        outputs[system][position[seg_id]] = rating["output"]
        scores[system][position[seg_id]] = -total / 10
    return HumanJudgments(
        spec=spec, src_lang=src_lang, tgt_lang=tgt_lang, segment_ids=segment_ids,
        sources=[segments[s]["source"] for s in segment_ids],
        documents=[segments[s]["document"] for s in segment_ids], outputs=outputs, scores=scores,
        note=f"Google MQM annotations ({path.name}): score = -(weighted errors), 0 best; "
             f"{len(segment_ids)} rated segments",
        languages_note=_name_note(path, spec, (src_lang, tgt_lang)) if named else "")


@register_dataset("mqm", task="judgments", grammar="mqm:FILE.tsv[:SRC-TGT]",
                  help="Google MQM error annotations (wmt-mqm-human-evaluation TSV); MQM scored here, "
                       "languages from the file name (..._zhen...) unless given")
def _load_mqm(arg: str, spec: str, options: DataOptions) -> HumanJudgments:
    path, src, tgt = _split_pair(arg, "mqm:FILE.tsv[:SRC-TGT]")
    return load_mqm(path, spec, src, tgt)


# ---------------------------------------------------------------------------------------------
# Google per-segment MQM scores

def load_mqm_scores(path: str | Path, spec: str, src_lang: str | None = None,
                    tgt_lang: str | None = None) -> HumanJudgments:
    """Google's `*.avg_seg_scores.tsv`: a header `system mqm_avg_score seg_id`, then one line
    per (system, segment), `SYSTEM<TAB>SCORE SEG_ID` (score and id separated by a space; older
    files use spaces throughout), SCORE `None` where the segment was not rated. The file holds
    scores only: no sources (empty strings), no outputs (None), so `common_segments` is empty;
    use it to compare scores (its human translations are named `ref-A`, `ref-B` where the error
    file says `ref`, `refB`). A system with no rated segment, a segment listed twice for one
    system, or a score that is not a number is an error."""
    path = Path(path)
    named = src_lang is None and tgt_lang is None
    src_lang, tgt_lang = _languages(path, src_lang, tgt_lang)
    lines = read_lines(path)
    entries: dict[str, dict[str, tuple[float | None, int]]] = {}
    seg_order: dict[str, None] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        cells = line.replace("\t", " ").strip().rsplit(" ", 2)
        if number == 1 and cells[-2:] == ["mqm_avg_score", "seg_id"]:
            continue
        if len(cells) != 3 or not cells[0].strip():
            raise XlingError(f"{where}: expected SYSTEM<TAB>SCORE SEG_ID")
        system, score_text, seg_id = cells[0].strip(), cells[1], cells[2]
        score = _score(score_text, where)
        scored = entries.setdefault(system, {})
        if seg_id in scored:
            raise XlingError(f"{where}: {system} segment {seg_id} scored twice (also line {scored[seg_id][1]})")
        scored[seg_id] = (score, number)
        seg_order.setdefault(seg_id, None)
    if not entries:
        raise XlingError(f"{path} holds no scores")
    for system, scored in entries.items():
        if all(score is None for score, _ in scored.values()):
            first = min(line for _, line in scored.values())
            raise XlingError(f"{path}:{first}: system {system} has no rated segment (None-only system)")
    segment_ids = _segment_order(list(seg_order))
    scores = {system: [scored[s][0] if s in scored else None for s in segment_ids]
              for system, scored in entries.items()}
    outputs: dict[str, list[str | None]] = {system: [None] * len(segment_ids) for system in entries}
    return HumanJudgments(
        spec=spec, src_lang=src_lang, tgt_lang=tgt_lang, segment_ids=segment_ids,
        sources=[""] * len(segment_ids), documents=None, outputs=outputs, scores=scores,
        note=f"Google MQM segment scores ({path.name}): scores only, no source or output texts",
        languages_note=_name_note(path, spec, (src_lang, tgt_lang)) if named else "")


@register_dataset("mqm-scores", task="judgments", grammar="mqm-scores:FILE.tsv[:SRC-TGT]",
                  help="Google's per-segment MQM scores (*.avg_seg_scores.tsv): scores only, no texts")
def _load_mqm_scores(arg: str, spec: str, options: DataOptions) -> HumanJudgments:
    path, src, tgt = _split_pair(arg, "mqm-scores:FILE.tsv[:SRC-TGT]")
    return load_mqm_scores(path, spec, src, tgt)


# ---------------------------------------------------------------------------------------------
# MT-metrics-eval

NO_TRANSLATION = "[No translation supplied]"   # MTME's marker of a missing output line


def _mtme_text(path: Path, field: str) -> list[str | None]:
    """One text per line (trailing blanks dropped, MTME's missing-output marker read as None),
    or the `field` of each JSON line of a .jsonl file."""
    if path.suffix == ".jsonl":
        texts: list[str | None] = []
        for number, row in read_jsonl(path):
            value = row.get(field)
            if value is not None and not isinstance(value, str):
                raise XlingError(f"{path}:{number}: '{field}' must be text")
            texts.append(value)
        return texts
    lines = read_lines(path, allow_empty=True)
    return [None if line.rstrip() == NO_TRANSLATION else line.rstrip() for line in lines]


def _one_file(folder: Path, stem: str, field: str, what: str) -> Path:
    for suffix in (".txt", ".jsonl"):
        if (folder / f"{stem}{suffix}").is_file():
            return folder / f"{stem}{suffix}"
    raise XlingError(f"{folder} has no {what} {stem}.txt (or .jsonl)")


def _mtme_scores(path: Path, n: int, known: dict[str, None], level: str) -> dict[str, list[float | None]]:
    """A human-score file, lines `SYSTEM SCORE` (SCORE may be None): per system, its scores in
    file order; `n` per system (1 for `sys`), every system one of `known`."""
    scores: dict[str, list[float | None]] = {}
    last: dict[str, int] = {}
    for number, line in enumerate(read_lines(path, allow_empty=True), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        cells = line.split()
        if len(cells) != 2:
            raise XlingError(f"{where}: expected SYSTEM SCORE")
        system, text = cells
        if system not in known:
            raise XlingError(f"{where}: system {system!r} has no output in system-outputs/ or references/")
        scores.setdefault(system, []).append(_score(text, where))
        last[system] = number
        if len(scores[system]) > n:
            raise XlingError(f"{where}: more than {n} {level} score{'s' if n > 1 else ''} for {system}")
    for system, values in scores.items():
        if len(values) != n:
            raise XlingError(f"{path}:{last[system]}: {system} has {len(values)} {level} scores, "
                             f"the source has {n} segments")
    return scores


def load_mtme(root: str | Path, lp: str, human: str | None, spec: str) -> HumanJudgments:
    """One test set in MT-metrics-eval's layout (its README, "File organization and naming
    convention"), ROOT being the test set's folder (…/mt-metrics-eval-v2/wmt22):
    `sources/LP.txt`, `references/LP.REF.txt`, `system-outputs/LP/SYS.txt` (a .jsonl of
    "source"/"target"/"hypothesis" also read), optional `documents/LP.docs` (lines `DOMAIN DOC`),
    and `human-scores/LP.HUMAN.seg.score` (lines `SYSTEM SCORE`, a block of one score per segment
    per system, `None` where not rated) with, when present, `LP.HUMAN.sys.score` (one line per
    system). HUMAN defaults to mqm, else the one human score the folder has.

    Every system output is a system; every reference is one too (named by its REF name, as
    MTME scores a reference copied into system-outputs/), so a caller can pick one as the
    reference. A system with no human scores has None for every segment."""
    root = Path(root)
    src_lang, _, tgt_lang = lp.partition("-")
    if not tgt_lang:
        raise XlingError(f"{spec}: {lp!r} is not a language pair (SRC-TGT, e.g. zh-en)")
    for part in ("sources", "system-outputs", "human-scores"):
        if not (root / part).is_dir():
            raise XlingError(f"{root} is not an MT-metrics-eval test set folder (no {part}/ inside)")
    sources = _mtme_text(_one_file(root / "sources", lp, "source", "source file"), "source")
    if any(s is None for s in sources):
        raise XlingError(f"{root / 'sources'}: a source line is {NO_TRANSLATION!r}")
    n = len(sources)

    def checked(path: Path, texts: list) -> list:
        if len(texts) != n:
            raise XlingError(f"{path}: {len(texts)} lines, the source has {n}")
        return texts

    outputs: dict[str, list[str | None]] = {}
    folder = root / "system-outputs" / lp
    if not folder.is_dir():
        raise XlingError(f"{root / 'system-outputs'} has no folder {lp}")
    for path in sorted(folder.iterdir()):
        if path.suffix in (".txt", ".jsonl") and path.is_file():
            outputs[path.stem] = checked(path, _mtme_text(path, "hypothesis"))
    references = sorted((root / "references").glob(f"{lp}.*.*")) if (root / "references").is_dir() else []
    humans = []
    for path in references:
        name = path.name[len(lp) + 1:].rsplit(".", 1)[0]
        if path.suffix in (".txt", ".jsonl") and "." not in name:
            humans.append(name)
            if name not in outputs:
                outputs[name] = checked(path, _mtme_text(path, "target"))
    if not outputs:
        raise XlingError(f"{folder} holds no system outputs")

    documents = None
    docs = root / "documents" / f"{lp}.docs"
    if docs.is_file():
        documents = []
        for number, line in enumerate(read_lines(docs, allow_empty=True), 1):
            cells = line.split()
            if len(cells) != 2:
                raise XlingError(f"{docs}:{number}: expected DOMAIN DOCUMENT")
            documents.append(cells[1])
        checked(docs, documents)

    found = sorted(p.name[len(lp) + 1:-len(".seg.score")]
                   for p in (root / "human-scores").glob(f"{lp}.*.seg.score"))
    if human is None:
        if "mqm" in found or not found:
            human = "mqm"
        elif len(found) == 1:
            human = found[0]
        else:
            raise XlingError(f"{spec}: {root / 'human-scores'} has several human scores for {lp} "
                             f"({', '.join(found)}): name one, mtme:ROOT:{lp}:NAME")
    seg_file = root / "human-scores" / f"{lp}.{human}.seg.score"
    if not seg_file.is_file():
        raise XlingError(f"{root / 'human-scores'} has no {seg_file.name}; human scores for {lp}: "
                         f"{', '.join(found) or 'none'}")
    known = dict.fromkeys(outputs)
    seg_scores = _mtme_scores(seg_file, n, known, "seg")
    scores = {system: seg_scores.get(system, [None] * n) for system in outputs}
    system_scores = None
    sys_file = root / "human-scores" / f"{lp}.{human}.sys.score"
    if sys_file.is_file():
        system_scores = {system: values[0] for system, values in _mtme_scores(sys_file, 1, known, "sys").items()
                         if values[0] is not None}
    return HumanJudgments(
        spec=spec, src_lang=_code(src_lang), tgt_lang=_code(tgt_lang),
        segment_ids=[str(i) for i in range(1, n + 1)], sources=[s or "" for s in sources],
        documents=documents, outputs=outputs, scores=scores, system_scores=system_scores,
        note=f"MT-metrics-eval {root.name} {lp}, human scores {human!r}", human_systems=tuple(humans))


@register_dataset("mtme", task="judgments", grammar="mtme:ROOT:LP[:HUMAN]",
                  help="an MT-metrics-eval test set folder (ROOT, e.g. .../wmt22) for one language pair; "
                       "HUMAN score name defaults to mqm; references are systems too")
def _load_mtme(arg: str, spec: str, options: DataOptions) -> HumanJudgments:
    parts = arg.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise XlingError(f"{spec}: write mtme:ROOT:LP[:HUMAN], e.g. mtme:~/.mt-metrics-eval/mt-metrics-eval-v2/"
                         "wmt22:zh-en:mqm (ROOT may not contain ':')")
    root = Path(parts[0]).expanduser()
    if not root.is_dir():

        local = data_root(options.data_dir, required=False)
        if local is not None and not root.is_absolute() and (local / root).is_dir():
            root = local / root
        else:
            raise XlingError(f"MT-metrics-eval folder {parts[0]} does not exist")
    return load_mtme(root, parts[1], parts[2] if len(parts) == 3 else None, spec)


def _score(text: str, where: str) -> float | None:
    """A human score as the files write it: a finite number, or None (not rated)."""
    if text == "None":
        return None
    try:
        value = float(text)
    except ValueError:
        raise XlingError(f"{where}: score {text!r} is neither a number nor None") from None
    if not math.isfinite(value):
        raise XlingError(f"{where}: score {text!r} is not a finite number")
    return value
