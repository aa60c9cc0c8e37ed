"""LLM judges as metrics: GEMBA-MQM (error spans with severity and category, scored with MQM
weights) and GEMBA-ESA (error spans and a 0-100 score), run through any backend.

Every answer is parsed, never guessed: an answer with no severity heading, no error line and no
"no error" statement (MQM), or no score (ESA), or one that marks the template's own example
words as errors (a judge repeating its instructions), is *unparseable*; it is counted and its segment
gets no score (None), so the corpus score is the mean over the segments that were parsed. Raw
answers are kept. Answers go through the content cache, so re-scoring is free and an
interrupted judgment resumes. With `samples` > 1 the judge draws N answers (sample k from a seed
made of k and the prompt, so never dependent on its batch) and each segment's score is the mean
of its parsed samples, their standard deviation kept beside it.
"""
from __future__ import annotations

import re
import statistics
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Sequence, Union

import numpy as np

from .. import __version__
from ..backends import Batching, load_backend, ready
from ..backends.base import CutAnswer, Decoding, GenerationRequest, Sampling
from ..data.languages import resolve
from ..errors import XlingError
from ..prompts.templates import load_template
from .base import MetricResult, Signature, check_lengths, register_scorer
from .langid import detect
from .settings import JUDGE_PARSER

# GEMBA-MQM's scoring as its authors' code does it (MicrosoftTranslator/GEMBA,
# gemba_mqm_utils.parse_mqm_answer): severity weights 25/5/1; errors counted critical first,
# then major, then minor, and only the first five of them; the total capped at 25, so scores
# lie in [-25, 0]; an error naming "non-translation" is critical whatever heading it is under.
# All of it is recorded in every signature.
MQM_WEIGHTS = {"critical": 25.0, "major": 5.0, "minor": 1.0}
MQM_FLOOR = -25.0
MQM_COUNTED = 5
NON_TRANSLATION = "non-translation"
SEVERITIES = tuple(MQM_WEIGHTS)


@dataclass(frozen=True)
class ErrorSpan:
    severity: str          # critical | major | minor
    category: str          # "accuracy/mistranslation", "" when not given
    span: str              # the erroneous words, "" when not given


# -- parsing ------------------------------------------------------------------------------------
_MARKUP = re.compile(r"[*_`#>]+")
_BULLET = re.compile(r"^\s*(?:[-•*+]|\d+[.)]|\(\d+\)|[a-z][.)])\s+")
# (and in Korean, Japanese and Chinese, which a judge asked about such a translation may answer in)
_NO_ERROR = re.compile(r"^(?:no[- ]?errors?(?: found)?|none|n/?a|nothing|[-–—]|(?:오류\s*)?없음|(?:오류가\s*)?없습니다"
                       r"|(?:エラー)?な[しい]|無し|ありません|无(?:错误)?|没有(?:错误)?|無(?:錯誤)?|沒有(?:錯誤)?"
                       r")[.。]?$", re.I)
# "None" in other languages a judge may answer in ("Keine", "Aucune", "Нет"): as a whole line
# under a severity only, never as an error's span ('accuracy/mistranslation - "keine"' is the
# negation the translation got wrong)
_NONE_SAID = re.compile(r"^(?:nil|zero|keine?(?: fehler)?|aucune?(?: erreur)?|rien|néant|ningun[oa]|nada|sin errores"
                        r"|nessun[oa]?(?: errore)?|nenhum[a]?(?: erro)?|нет(?: ошибок)?|отсутствуют|brak(?: błędów)?"
                        r"|geen(?: fouten)?"
                        r"|(?:hata )?yok|ingen(?: fel| feil| fejl)?|inga(?: fel)?|ei mitään|không có(?: lỗi)?|không"
                        r"|tidak ada|ไม่มี|لا يوجد|कोई नहीं"
                        r")[.。]?$", re.I)
# "Major errors:", "Major issues:", "Major Error(s):", "Major (1):" (a count), "Major (continued):":
# a severity named unmistakably, read as that severity (its errors were dropped under known ones)
_SEVERITY_NAMED = (r"(critical|major|minor)(?:\s+(?:errors?|issues?|mistakes?|problems?|error\(s\)|issue\(s\)))?"
                   r"(?:\s*\((?:(?P<count>\d+)|continued|cont\.?)\))?")
_HEADING = re.compile(r"^" + _SEVERITY_NAMED + r"\s*(?::|-|–|$)\s*(?P<rest>.*)$", re.I)
# "category[/subcategory] - span": a category is one to three words, never a sentence.
_ITEM = re.compile(r"""^(?P<category>[A-Za-z][A-Za-z/&_-]*(?: [A-Za-z/&_-]+){0,2})\s*(?:-|–|:|—)\s*(?P<span>.+)$""")
# A quoted span, closed by its own kind of mark; a single quote closes only where no letter
# follows, so "l'homme", 'don't' and 'сім'я' stay whole (an apostrophe is not a closing quote),
# but Korean and Japanese write their particle right after it ('사과'를).
_LETTER = r"(?![\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3])[^\W\d_]"
_QUOTED = re.compile(r""""(.+?)"|“(.+?)[”“]|„(.+?)[“”]|「(.+?)」|『(.+?)』"""
                     r"""|‘(.+?)’(?!{_LETTER})|'(.+?)'(?!{_LETTER})""".replace("{_LETTER}", _LETTER))


def _inner(match) -> str:
    return next(g for g in match.groups() if g is not None)


# A line under a severity that says there is nothing there, in a judge's own words: "No major
# errors.", "None found.", "None - the translation is accurate", "Nothing to report", "No issues".
# Whole lines only ("None of the numbers match" and "No issues, but ..." report errors).
_DONE = r"(?:\s+(?:found|identified|detected|noted|to report|here))?(?:\s+in (?:the|this) translation)?\s*[.!]?\s*"
_NOTHING = re.compile(r"^(?:(?:there (?:are|is|were) )?no(?:\s+[\w-]+){0,3}?\s+(?:errors?|issues?|mistakes?|problems?)"
                      + _DONE + r"$|(?:none|nothing|n/a)(?:" + _DONE + r"$|\s*[-–—:]\s)"
                      r"|(?:none|nothing) (?:that )?i (?:can )?(?:see|find|notice)\s*[.!]?$|not applicable\s*[.!]?$"
                      r"|i (?:don't|do not|can't|cannot) (?:see|find) any(?: errors?)?\s*[.!]?$)", re.I)


def _says_nothing(text: str, whole_line: bool = True) -> bool:
    bare = text.strip("()[] ")
    said = _NO_ERROR.match(bare) or _NOTHING.match(bare) or whole_line and _NONE_SAID.match(bare)
    return bool(said) and not _QUOTED.search(text)


def _clean(line: str) -> str:
    return _BULLET.sub("", _unmarked(line)).strip()


# The quotes whose marks are kept: as _QUOTED, but a single quote after a letter is an apostrophe,
# never an opening one ("the river's edge ... **Minor:**" kept the heading's marks, and its errors
# were read into the error before it)
_KEPT_QUOTED = re.compile(_QUOTED.pattern.replace("|‘(", "|(?<![^\\W_])‘(").replace("|'(", "|(?<![^\\W_])'("))


def _unmarked(line: str) -> str:
    """The line without markdown's marks, but for quoted words: a span "config_v2.yaml", "x > 5" or
    "C#" is the translation's own (stored, and marked on the page, as the judge quoted it)."""
    pieces, at = [], 0
    for quoted in _KEPT_QUOTED.finditer(line):
        pieces += [_MARKUP.sub("", line[at:quoted.start()]), _unbolded(quoted)]
        at = quoted.end()
    return "".join(pieces) + _MARKUP.sub("", line[at:])


# A quoted span a judge put in bold, italics or code whole ("**bank**"): the words inside. (Not
# "_x_": "__init__" is a name.)
_WRAPPED = re.compile(r"\*\*([^*]+)\*\*|\*([^*]+)\*|`([^`]+)`")


def _unbolded(quoted: re.Match) -> str:
    k = next(i for i, g in enumerate(quoted.groups(), 1) if g is not None)
    wrapped = _WRAPPED.fullmatch(quoted.group(k))
    if wrapped is None:
        return quoted.group(0)
    line = quoted.string
    return line[quoted.start():quoted.start(k)] + _inner(wrapped) + line[quoted.end(k):quoted.end()]


# A category said to be without fault ("Grammar - fine"): no error.
_FINE = re.compile(r"(?:fine|ok|okay|good|correct|acceptable|no issues?)[.!]?", re.I)


def _item(text: str, severity: str) -> ErrorSpan | None:
    if not text or _says_nothing(text):
        return None
    match = _ITEM.match(text)
    if match is None:
        # under a severity, any line is an error unless it says there is none (as GEMBA's own
        # parser counts): "Omission of 'the supply'" is a major error, not nothing
        if re.search(r"\bno[- ]errors?\b", text, re.I):
            return None
        quoted = _QUOTED.fullmatch(text.strip())
        return ErrorSpan(severity, "", _inner(quoted) if quoted else text.strip())
    span = match.group("span").strip()
    # "non-translation: none"; a quoted span is words of the translation, never "none"
    if _says_nothing(span, whole_line=False) or _FINE.fullmatch(span):
        return None
    quoted = _QUOTED.search(span)
    return ErrorSpan(severity, match.group("category").strip().lower(),
                     _inner(quoted) if quoted else span.strip("\"' "))


def _critical_if_non_translation(error: ErrorSpan | None, line: str) -> ErrorSpan | None:
    if error is not None and NON_TRANSLATION in line.lower() and error.severity != "critical":
        return ErrorSpan("critical", error.category, error.span)
    return error


_COUNT = re.compile(r"^(\d+|zero|one|two|three|four|five)(?:\s+errors?)?\s*\.?$", re.I)
_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def _count(match: re.Match) -> int:
    """A count under a severity, in digits or words ("Major: one" is a count, not an error "one")."""
    word = match.group(1).lower()
    return _NUMBER_WORDS[word] if word in _NUMBER_WORDS else int(word)
# "Critical: no-error, Major: no-error, Minor: no-error" on one line: one heading per line
_NEXT_HEADING = re.compile(r"[,;.]?\s+(?:(?:\d+|[a-z])[.)]\s+|\(\d+\)\s+)?"
                           r"(?=" + _SEVERITY_NAMED.replace("?P<count>", "") + r"\s*:)", re.I)


def _answer_lines(answer: str) -> list[str]:
    """The answer's lines, a line holding several severity headings split before each."""
    lines: list[str] = []
    for raw in answer.splitlines():
        if not _HEADING.match(_clean(raw)):
            lines.append(raw)
            continue
        raw = _clean(raw)   # (split raw, "1. Critical: ...\n2. Major:" gave the list number "2" as an error)
        start = 0
        for cut in _NEXT_HEADING.finditer(raw):   # (never inside a quoted span: "the minor: a child")
            before = raw[:cut.start()]   # (a quote after a digit is an inch mark: 5" screen)
            if len(re.findall(r'(?<!\d)"', before)) % 2 == 0 and before.count("“") <= before.count("”"):
                lines.append(raw[start:cut.start()])
                start = cut.end()
        lines.append(raw[start:])
    return lines
# "MQM score: -5", "Total score: 0": the judge's own sum, not an error (xling scores the errors)
_SCORE_LINE = re.compile(r"^(?:(?:total|overall|final|mqm)\s+)+score\b|^score\s*[:=]", re.I)
# MQM's categories and subcategories: a "category - span" line after a blank line is an item.
CATEGORIES = {"accuracy", "fluency", "terminology", "style", "locale", "non-translation", "other",
              "mistranslation", "omission", "addition", "untranslated", "grammar", "spelling", "punctuation",
              "register", "inconsistency", "awkward", "character", "encoding"}
# What a judge writes after its list (after a blank line): a label or remark that is no error.
_AFTER_LIST = re.compile(
    r"^(?:explanation|overall|in summary|summary|in conclusion|conclusion|notes?|comments?|reasoning|"
    r"analysis|justification|assessment|corrected|correction|revised|improved|better|suggested|suggestions?|"
    r"fixed|total|final|rating|quality|score|error count|source(?! errors?)|translation|reference|the translation|"
    r"this translation|the rest|everything else|other than that|otherwise|good|great|nice|excellent|"
    r"well done|in general|generally|therefore|so|thus|hence|i hope|hope this|let me know|feel free|"
    r"i would|i suggest|you could|consider|use)\b", re.I)


# A line of the prompt echoed ("Source: ...", "German translation:"): neither an error nor a heading of errors.
_ECHO = re.compile(r"^(?:\w+\s+)?(?:source|translation|reference|target)\b", re.I)


# A remark on the item above it, under a severity: no error of its own.
_REMARK = re.compile(r"^(?:explanation|notes?|comments?|corrections?|corrected|suggestions?|suggested|reasoning|"
                     r"justification|reason)\s*[:：]", re.I)


def _unread_heading(line: str) -> bool:
    """Whether `line` is a heading xling cannot read ("Other errors:", "Severe:"); "Source:",
    "Explanation:", "Corrected translation:" are the prompt echoed or a remark."""
    return line.endswith((":", "：")) and not (_ECHO.match(line) or _REMARK.match(line) or _AFTER_LIST.match(line))


# A heading xling cannot read that names errors or a severity ("Other errors:", "Severe:", "there is
# one issue:"): an error under it is lost wherever it stands; "Error summary:" names no severity.
_SEVERITY_LIKE = re.compile(r"\b(?:errors?|issues?|mistakes?|problems?|error\(s\)|issue\(s\))\s*[:：]$"
                            r"|\b(?:severe|serious|blocker|grave|moderate|medium|high|low|small|slight|trivial|"
                            r"significant|cosmetic|neutral|kritisch|schwer|leicht|mineur|majeur|leve)\b", re.I)


def _unread_kind(line: str, listed: bool, after_blank: bool) -> str:
    """What heading `line` is, if xling cannot read it: "severity" (what `_SEVERITY_LIKE` names),
    "category" ("accuracy/mistranslation:" inside the list), "heading", or "" for none (also for a
    heading set apart by a blank line after the severity headings: commentary after the list,
    "A better translation would be:", "Error categories:")."""
    if not _unread_heading(line):
        return ""
    if _SEVERITY_LIKE.search(line):
        return "severity"
    if listed and after_blank:
        return ""
    first = line.split()[0].lower().rstrip(":：")
    return "category" if listed and ("/" in first or first in CATEGORIES) else "heading"


def _item_shaped(line: str, loose: bool = False) -> bool:
    """Whether `line` has the shape of an MQM error item: "category/subcategory - span", or a
    category of MQM's with a quoted span ('accuracy - "x"'; `loose`: any span). Prose such as
    "Accuracy: mostly preserved." is none."""
    item = _ITEM.match(line)
    if item is None:
        return False
    category = item.group("category")
    return "/" in category or re.split(r"[/ ]", category.lower())[0] in CATEGORIES and (
        loose or bool(_QUOTED.search(item.group("span"))))


_LIST_MARK = re.compile(r"^(\s*)(?:(\d+)[.)]|\((\d+)\)|([-•*+]))\s+")


def _list_mark(raw: str) -> tuple[str, int] | None:
    """The kind of list mark opening `raw` ("1", or the bullet) and its indentation."""
    mark = _LIST_MARK.match(raw)
    if mark is None:
        return None
    return ("1" if mark.group(2) or mark.group(3) else mark.group(4)), len(mark.group(1).expandtabs())


def _continues_list(raw: str, line: str, categories: set[str], slashed: bool) -> bool:
    """After a blank line: whether `line` is another item of the error list, by its shape and
    that of the items above (`slashed`: they named "category/subcategory"). A remark or label
    after the list ("Corrected translation: ...", "Total: -5", "I hope this helps!", "Style:
    good" after "accuracy/..." items, a rule) ends it; a sentence naming an error goes on."""
    if _HEADING.match(line):
        return True
    if _AFTER_LIST.match(line) or re.fullmatch(r"[-*_=~]{3,}", line):
        return False
    item = _ITEM.match(line)
    if item is None:   # a sentence, or a category of four words or more ("terminology/inconsistent use of terms - x")
        return True
    category, span = item.group("category"), item.group("span").strip()
    return "/" in category or span.startswith(('"', "'", "“", "‘", "「", "『", "„")) \
        or (re.split(r"[/ ]", category.lower())[0] in CATEGORIES | categories and not slashed)


_LEADING_THINK = re.compile(r"^\s*<think>.*?(?:</think>|\Z)", re.S | re.I)
_THINK_END = re.compile(r"</think>", re.I)
_QUOTE_MARKS = re.compile(r"[\"“”„「」『』]")


def _quoted_at(text: str, position: int) -> bool:
    """Whether `position` of `text` is inside a double-quoted span of its line (an odd number of
    quote marks before it on that line)."""
    line = text[text.rfind("\n", 0, position) + 1:position]
    return len(_QUOTE_MARKS.findall(line)) % 2 == 1


def _wide_colons(line: str) -> str:
    """A line's full-width colons outside quoted spans as colons (headings, scores, categories;
    a span's own "价格：100元" is the translation's words)."""
    pieces = _QUOTE_MARKS.split(line)
    marks = _QUOTE_MARKS.findall(line)
    out = [piece if k % 2 else piece.replace("：", ":") for k, piece in enumerate(pieces)]
    return "".join(p + m for p, m in zip(out, marks + [""]))


def final_answer(answer: str) -> str:
    """What a judge answered, as parsed (its raw answer is what is stored): a reasoning model's
    <think> block left out (errors drafted and taken back there were counted, its "Score: 40"
    beside the final "Score: 85" made the answer unreadable; an unclosed block is all
    reasoning), and full-width colons read as colons ("Score：85", "Major：" of a judge
    answering in Chinese or Japanese were unreadable)."""
    text = _LEADING_THINK.sub("", answer, count=1)
    # reasoning before a stray </think> (the chat template opened the block: QwQ, R1 distills),
    # drafts of headings and scores included: cut; a quoted "</think>" (a source about tags) is a span
    end = next((m for m in _THINK_END.finditer(text) if not _quoted_at(text, m.start())), None)
    if end is not None:
        text = text[end.end():]
    return "\n".join(_wide_colons(line) for line in text.split("\n"))


def parse_mqm(answer: str) -> list[ErrorSpan] | None:
    """The errors of an MQM-style answer, [] for a translation without errors, None when the
    answer is not in the asked layout at all. A non-translation error is critical (GEMBA).
    A count under a severity ("Major: 0") is read as one: 0 is none; a count above 0 with no
    error listed under it, or another number of errors listed than it says, is unparseable
    (which errors, xling cannot tell)."""
    errors: list[ErrorSpan] = []
    severity = None
    understood = False
    blank = filled = False     # a blank line just passed; the current severity has a line under it
    counts: dict[str, int] = {}
    listed: Counter[str] = Counter()   # errors listed under each severity (before promotion)
    categories: set[str] = set()   # the first words of the categories used
    slashed = False                # an item named "category/subcategory"
    headings: set[str] = set()     # the severities given a heading
    said = False                   # a line under a heading, or "no errors" outside one
    stray = False                  # before any heading: what follows one xling cannot read, or an error item
    unknown = False                # a heading xling cannot read came (a preamble, or "Schwer:")
    unread = ""                    # the lines now are under a heading xling cannot read ("Other errors:"): its kind
    lost = False                   # an error stood under such a heading: which severity, xling cannot tell
    paused = None                  # the severity a remark block ("Explanation:" alone on its line) interrupted
    last_mark: tuple[str, int] | None = None   # the list mark of the last line under a severity
    for raw in _answer_lines(answer):
        line = _clean(raw)
        if not line:
            blank = True
            if paused is not None:   # the remark block ended: the list it interrupted may go on
                severity, paused = paused, None
            continue
        after_blank, blank = blank, False
        heading = _HEADING.match(line)
        if heading:
            severity, understood, filled = heading.group(1).lower(), True, False
            unread, paused = "", None
            headings.add(severity)
            if heading.group("count") is not None:   # "Major (1):"
                counts[severity] = counts.get(severity, 0) + int(heading.group("count"))
            rest = heading.group("rest").strip()
            if count := _COUNT.match(rest):
                counts[severity] = counts.get(severity, 0) + _count(count)
                filled = said = True
            elif rest:
                # "Major: accuracy/mistranslation - "x"", or "Major/accuracy - x" style lines
                filled = said = True
                error = _critical_if_non_translation(_item(rest, severity), rest)
                if error:
                    errors.append(error)
                    listed[severity] += 1
                    slashed = slashed or "/" in error.category
                    categories.add(re.split(r"[/ ]", error.category)[0])
            continue
        if severity is not None and not filled and (count := _COUNT.match(line)):   # "Major:\n0"
            counts[severity] = counts.get(severity, 0) + _count(count)
            filled = said = True
            continue
        # after a list that named no error at all, a remark ("Perfect.") is no error either
        remark = after_blank and filled and not errors and not _QUOTED.search(line) and not _ITEM.match(line)
        if severity is not None and (_SCORE_LINE.match(line) or remark
                                     or after_blank and filled and not _continues_list(raw, line, categories, slashed)):
            severity = None    # the judge's own total, or text after the list: the list ended
            unread = _unread_kind(line, bool(headings), after_blank)
            continue
        if paused is not None:   # a line of a remark block, unless it is the next error of the list
            mark = _list_mark(raw)
            if not ("/" in ((item := _ITEM.match(line)) and item.group("category") or "")
                    or mark and last_mark and mark[0] == last_mark[0] and mark[1] <= last_mark[1]):
                continue
            severity, paused = paused, None
        if severity is not None and (label := _REMARK.match(line)):   # "Explanation: ..." under an item: no error
            if not line[label.end():].strip():   # "Explanation:" alone: the lines after it are the remark
                severity, paused = None, severity
            continue
        if severity is None and not headings and not line.endswith((":", "：")) and not _says_nothing(line):
            # what stands under a heading xling cannot read ("Schwer:\nGenauigkeit/... - x"; a
            # remark quoting no words, or one set apart after "no errors", aside), an error item
            # under none, or a quoted span before "no (other) errors": an answer whose "keine"
            # alone xling read is no "no errors"
            item = _ITEM.match(line)
            remark = bool(_REMARK.match(line) or _AFTER_LIST.match(line))
            stray = stray or unknown and not (remark and (not _QUOTED.search(line) or said and after_blank)) \
                or bool(item and re.split(r"[/ ]", item.group("category").lower())[0] in CATEGORIES) \
                or bool(_QUOTED.search(line) and not said and not _ECHO.match(line))
        # ("Source:" / "German translation:" headings are the prompt echoed, not headings of errors)
        unknown = unknown or severity is None and not headings and line.endswith((":", "：")) \
            and not _ECHO.match(line)
        if line.endswith((":", "：")):      # another heading ("Source:"): the error list ended
            severity = None
            unread = _unread_kind(line, bool(headings), after_blank)
            continue
        if severity is None:
            # an error under a heading xling cannot read ("Other errors:", "Severe:",
            # "accuracy/mistranslation:"): only a line shaped as an error item, or a quoted one
            # under a heading naming errors or a severity; a preamble's "Accuracy: mostly
            # preserved." or a correction quoted under "A better translation would be:" is none
            lost = lost or bool(unread) and not _says_nothing(line) and (
                unread == "category" or _item_shaped(line, loose=unread == "severity")
                or unread == "severity" and bool(headings and _QUOTED.search(line)))
            if _says_nothing(line) or re.fullmatch(r"(?:the translation has )?no errors?\.?", line, re.I):
                understood = said = True
            continue
        filled = said = True
        last_mark = _list_mark(raw)
        error = _critical_if_non_translation(_item(line, severity), line)
        if error:
            errors.append(error)
            listed[severity] += 1
            slashed = slashed or "/" in error.category
            if error.category:
                categories.add(re.split(r"[/ ]", error.category)[0])
    if any(n != listed[sev] for sev, n in counts.items()):
        return None   # "Major: 3" over one error listed: which errors, xling cannot tell
    if stray and not headings or lost:
        return None
    if not said and "minor" not in headings:
        return None   # "Critical:" and nothing more: the answer stopped (a base model at its prefix)
    return errors if understood else None


def mqm_score(errors: list[ErrorSpan]) -> float:
    """Minus the weights of the first MQM_COUNTED errors, most severe first, at least -25."""
    ranked = sorted(errors, key=lambda e: SEVERITIES.index(e.severity))   # stable within a severity
    return max(MQM_FLOOR, -sum(MQM_WEIGHTS[e.severity] for e in ranked[:MQM_COUNTED]))


# A whole number as written (sign, decimals, exponent), so that "1000", "-50" and "1e999" are
# read as what they are — out of range, hence unparseable — never as a clamped or cut "100" or "1".
# Thousands separators are read too ("1,000" is 1000, out of range), never cut at the comma.
_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# A score line: "Score:", "Score (0-100):", "Final score:", "ESA score:", "- Score:", "1. Score:",
# then one number, "/100" or "out of 100" or a remark after it; a range ("70-80", "70 to 80") is
# not a score. A denominator other than 100 ("8.5/10") is another scale, which is not converted:
# the answer counts as unparseable.
_SCORE = re.compile(r"^(?:(?:final|overall|translation|esa|quality|total)\s+){0,2}score\s*"
                    r"(?:\(?\s*0\s*[-–]\s*100\s*\)?)?\s*[:=]?\s*(" + _NUMBER + r")"
                    r"(?:\s*/\s*(\d+(?:\.\d+)?)|\s*\(?\s*out of\s+(\d+(?:\.\d+)?)\s*\)?)?"
                    r"(?!\s*(?:[-–]|to)\s*\d)(?![\w.,]*\d)", re.I)
# Another number straight after the score, joined by at most a separator or a word such as
# "and", "bis", "或" ("Score: 70—80", "Score: 85, 90", "Score: 85 (90)"), or another score out
# of 100 after it ("Score: 85/100 (revised: 70/100)"): two scores, neither of them the answer's.
# A remark with a number in it ("Score: 85. Two minor errors", "(fluent, 2 minor errors)", "85, 2
# minor errors": a number before a word counts something) and the scale ("Score: 85 (0-100)") are none.
_NEXT_NUMBER = re.compile(r"\s*(?:[-–—~～,;&+/]|\b(?:and|or|to|bis|à|a|y|e|et|und|oder|ou|o|или|и)\b|[或到至和與与])?"
                          r"\s*[(\[]?\s*[-+]?\d+(?:[.,]\d+)?(?![\d.,])"
                          r"(?!\s*(?!(?:points?|pts|punkte|puntos|points?)\b)[^\W\d_])", re.I)
_OUT_OF_100 = re.compile(r"(" + _NUMBER + r")\s*(?:/\s*100|out of 100)\b", re.I)
_SCALE = re.compile(r"\(?\s*(?:on a\s+)?0\s*(?:[-–—]|to)\s*100\b(?:\s*scale)?\s*\)?|\(\s*100\s*=[^()]*\)", re.I)


def _another_score(match: re.Match, line: str) -> bool:
    """Whether the score line `line` states another score after the one `match` found (after a
    full stop, "Score: 85. 2 minor errors.", a sentence begins: only a score out of 100 counts)."""
    rest, score = _SCALE.sub(" ", line[match.end():]), _stated_score(match)
    return not match.group(1).endswith(".") and bool(_NEXT_NUMBER.match(rest)) or any(
        float(m.group(1).replace(",", "")) != score for m in _OUT_OF_100.finditer(rest))


def _stated_score(match) -> float | None:
    denominator = match.group(2) or match.group(3)
    if denominator is not None and float(denominator) != 100:
        return None
    return float(match.group(1).replace(",", ""))


# A score stated again anywhere ("Revised score: 60", "Actually, Score: 7", "...; Score: 40"), an
# aspect's own score aside ("Fluency score: 9/10") and quoted words; and a score line hedged with
# another score ending it ("Score: 85 or 90", "Score: 85 - but honestly 40"), not a remark with
# a number in it ("Score: 85 (fluent, but 2 minor errors)")
_ANY_SCORE = re.compile(r"(?:(\w+)\s+)?score\s*(?:\(?\s*0\s*[-–]\s*100\s*\)?)?\s*[:=]\s*(" + _NUMBER + r")", re.I)
# what an aspect's own score is named by (not the answer's score)
_ASPECTS = {"fluency", "accuracy", "adequacy", "grammar", "style", "terminology", "coherence", "readability",
            "faithfulness", "fidelity", "meaning", "spelling", "punctuation", "consistency", "naturalness",
            "mqm", "error", "severity", "bleu", "chrf", "comet"}
# A score line hedged with another score ending it ("Score: 85 or 90", "Score: 85 - but honestly
# 40", "Score: 85 (I'd say 80)"); a hedge that agrees ("Score: 85 (I'd say 85)") or a number of
# another scale in a saying ("as they say, 10 out of 10") is none
_HEDGED = re.compile(r"\b(?:or|but|actually|maybe|perhaps|possibly|honestly|rather|instead|say|think)\b"
                     r"(?:[\s,—–-]+[^\W\d_][\w'’]*){0,6}?"
                     r"[\s,—–-]+\(?(" + _NUMBER + r")\s*(?:/\s*100|out of 100)?\s*\)?"
                     r"(?:\s*[.!]?\s*$|\s+(?:if|when|for|under|by)\b)", re.I)


def _hedged(rest: str, score: float | None) -> bool:
    hedge = _HEDGED.search(rest)
    return hedge is not None and float(hedge.group(1).replace(",", "")) != score


# A number that is a score, not a count of something ("Correction: 3 apples", "the final 2
# sentences"): out of 100, or followed by no word (points aside), and not a share, another
# scale, a range, a sum or a list's number ("I'd say 90% of the meaning", "Overall: 4/5", "2-3
# words", "100 - 25 (major) - 5 = 70", "5 points off", "I think 1) the ...")
_AS_SCORE = (r"(" + _NUMBER + r")(?![\d.,]*\d)"
             r"(?:\s*/\s*100\b|\s*out of 100\b|(?!\s*(?!(?:points?|pts|is|would|seems)\b)[^\W\d_])"
             r"(?!\s*(?:%|percent\b|/\s*\d|out of\s+\d|[-–+*×=]\s*\d|\)\s*[^\W\d_]"
             r"|(?:points?|pts)\s+(?:off|back|lower|higher|less|more|deducted|down|up)\b)))")
# A score restated under a label of its own, at the line's start ("Revised: 60 (one major error)",
# "Updated score - 60", "Final answer: 60", "Final verdict: 60", "Revised score (after checking
# the terminology): 60"); after the label and a colon, a score out of 100 anywhere on the line
# ("Correction: given the meaning error, 60/100")
_RELABELED = re.compile(r"^(?:(?:my|the|so|and)\s+)?(?:revised|revision|corrected|correction|updated|update|adjusted|"
                        r"final answer|final score|final verdict|final rating|final|overall|verdict)"
                        r"(?:\s+(?:score|rating|verdict|answer|grade))?(?:\s*\([^()]*\))?\s*([:=\-–—]|\bis\b)?\s*",
                        re.I)
# A score given in the judge's own words: "I'd give it 60 out of 100", "I would rate this 60/100",
# "I'd say 80", "I think 88 is fair", "it deserves 60/100" (not "a native speaker might rate it 80/100")
_RATED = re.compile(r"(?:\b(?:i|we)(?:['’]d|['’]ll|\s+would|\s+will|\s+now|\s+then|\s+still)?\s+"
                    r"(?:say|think|give|rate|score|grade|assign|award|put|go with|settle on)"
                    r"|\b(?:deserves|merits|earns|warrants))\b"
                    r"(?:\s+(?:it|this|that|the|translation|a|an|solid|strong|fair|generous|around|about|roughly"
                    r"|approximately|at|as|only|just|score|of|rating))*?\s+" + _AS_SCORE, re.I)
_OUT_OF_100_LINE = re.compile(r"^(?:(?:so|thus|hence|therefore)\s*,?\s*)?(" + _NUMBER + r")\s*(?:/\s*100|out of 100)"
                              r"\s*[.!]?$", re.I)


def _aspect_named(line: str, start: int, end: int) -> bool:
    """Whether the number at line[start:end] is an aspect's ("Fluency: 90/100", "accuracy 45/50",
    "85/100 fluency"), not the answer's score."""
    before = re.search(r"([^\W\d_]+)(?:\s+score)?\s*[:=]?\s*$", line[:start])
    after = re.match(r"\s*([^\W\d_]+)", line[end:])
    return any(m is not None and m.group(1).lower() in _ASPECTS for m in (before, after))


def _restated_scores(lines: list[str]) -> set[float]:
    """Every score an answer states, wherever ("Revised score: 60", "Actually, Score: 7", "My
    score: 40", "Correction: 60/100", "I'd give it 60 out of 100", "Revised: 60"), but an
    aspect's ("Fluency score: 9/10", "Fluency: 90/100"), one inside quoted words (any quote
    marks), and a number in prose that gives no score ("not a perfect 100/100", "(For reference,
    100/100 means a perfect translation)", "scores above 90/100 are reserved")."""
    found = set()
    for line in lines:
        numbers = [m for m in _ANY_SCORE.finditer(line) if (m.group(1) or "").lower() not in _ASPECTS]
        scores = [(m.group(2), m.start(2), m.end(2)) for m in numbers]
        label = _RELABELED.match(line)
        if label:
            first = re.match(_AS_SCORE, line[label.end():], re.I)
            if first:
                scores.append((first.group(1), label.end() + first.start(1), label.end() + first.end(1)))
            elif label.group(1):
                scores += [(m.group(1), label.end() + m.start(1), label.end() + m.end(1))
                           for m in _OUT_OF_100.finditer(line[label.end():])]
        scores += [(m.group(1), m.start(1), m.end(1))
                   for m in (*_RATED.finditer(line), *_OUT_OF_100_LINE.finditer(line))]
        for number, start, end in scores:
            if not _quoted_at(line, start) and not _aspect_named(line, start, end):
                found.add(float(number.replace(",", "")))
    return found


def parse_esa(answer: str) -> tuple[list[ErrorSpan], float] | None:
    """(error spans, 0-100 score) of an ESA-style answer, or None without one score in range: a
    range, two different stated scores (a revised one too), a score line hedged with another
    number, or a fraction below 1 (a 0-1 scale) is no score."""
    lines = [_BULLET.sub("", _MARKUP.sub("", line)).strip() for line in answer.splitlines()]
    lines = [line for line in lines if line]
    matches = [(m, line) for m, line in ((_SCORE.match(line), line) for line in lines) if m]
    if any(_hedged(line[m.end():], _stated_score(m)) or _another_score(m, line) for m, line in matches):
        return None
    scores = {_stated_score(m) for m, _ in matches}
    stated = _restated_scores(lines)
    if scores and stated - {s for s in scores if s is not None}:
        return None
    bare = [line for line in lines if re.fullmatch(_NUMBER, line)]
    if not scores and lines and bare == lines[-1:]:   # a bare number alone on the last line, and on no other
        scores = {float(lines[-1].replace(",", ""))}
    if len(scores) != 1:
        return None
    score = scores.pop()
    if score is None or not 0 <= score <= 100 or 0 < score < 1:
        return None
    spans = []
    for raw in answer.splitlines():
        line = _clean(raw)
        heading = re.match(r"^(major|minor|critical)\s*(?:-|–|:)\s*(.+)$", line, re.I)
        if heading and not _says_nothing(heading.group(2).strip()):
            spans.append(_item(heading.group(2).strip(), heading.group(1).lower())
                         or ErrorSpan(heading.group(1).lower(), "", ""))
    return spans, score


# One parsed answer: parse_mqm's error spans, or parse_esa's (error spans, score).
Judgment = Union[list[ErrorSpan], tuple[list[ErrorSpan], float]]


def _judged_errors(judgment: Judgment) -> list[ErrorSpan]:
    return judgment[0] if isinstance(judgment, tuple) else judgment


def _judged_score(judgment: Judgment) -> float:
    """An ESA answer's stated score, or an MQM answer's score from its errors."""
    return judgment[1] if isinstance(judgment, tuple) else mqm_score(judgment)


# -- the metric ---------------------------------------------------------------------------------
# Per-segment statistics (value, parsed): the corpus score is the mean over parsed segments, and
# resampling for significance keeps that ratio.
register_scorer("parsed-mean",
                lambda scorer, summed, n: float(summed[0] / summed[1]) if summed[1] else float("nan"),
                lambda scorer, row: float(row[0]) if row[1] else None)


def parsed_mean_result(name: str, values: Sequence[float | None], signature: str,
                       extra: dict | None = None) -> MetricResult:
    stats = np.array([[v if v is not None else 0.0, v is not None] for v in values], dtype=np.float64)
    parsed = [v for v in values if v is not None]
    return MetricResult(name=name, score=float(np.mean(parsed)) if parsed else float("nan"),
                        signature=signature, extra=extra or {}, stats=stats.reshape(-1, 2),
                        scorer=("parsed-mean",), _segments=list(values))


KINDS = {"mqm": ("gemba-mqm", "GEMBA-MQM"), "esa": ("gemba-esa", "GEMBA-ESA")}


def judge_template(template: str | None, kind: str):
    """The judge's prompt template (its name or file; default gemba-mqm / gemba-esa), checked to
    be a judge template of this kind."""
    prompt_template = load_template(template or KINDS[kind][0])
    if prompt_template.format != "judge" or prompt_template.data.get("kind") != kind:
        raise XlingError(f"template {prompt_template.name!r} is not a {kind.upper()} judge template "
                         "(format: judge, kind: " + kind + ")")
    return prompt_template


def judge(hyps: Sequence[str], srcs: Sequence[str], tgt_lang: str, kind: str = "mqm",
          src_lang: str | None = None, refs: Sequence[str] | None = None, model: str | None = None,
          template: str | None = None, samples: int = 1, temperature: float = 0.7,
          max_new_tokens: int = 512, batch_size: int = 8, backend=None, settings=None,
          progress: bool = False) -> MetricResult:
    """Judge each translation with an LLM; see the module docstring."""

    if srcs is None:
        raise XlingError(f"{KINDS[kind][1]} needs the source sentences (-s/--source)")
    check_lengths(hypotheses=hyps, sources=srcs, references=refs)
    if samples < 1:
        raise XlingError("judge samples must be at least 1")
    tgt = resolve(tgt_lang)
    src = resolve(src_lang) if src_lang else _majority_language(srcs)
    prompt_template = judge_template(template, kind)
    shows_reference = any("{reference}" in (prompt_template.data.get(key) or "") for key in ("system", "user"))
    if shows_reference and refs is None:   # the judge would be shown an empty reference, and score
        raise XlingError(f"judge template {prompt_template.name!r} shows a reference ({{reference}}): "
                         "give references (refs; -r on the command line)")

    opened = backend is None   # (an engine or connections this call opens, it closes)
    chosen: dict[str, Any] = {}
    if backend is None and settings is None and samples > 1:   # a local judge: auto chooses its backend
        from ..backends.choice import hf_only_reason, resolve_backend

        # judge samples vLLM cannot draw take transformers' path, as a run's candidates do (never
        # a refusal at scoring time, after the translations)
        chosen = {"backend": resolve_backend("auto", hf_only=hf_only_reason("sample", samples, "sample", 0.0,
                                                                              temperature))}
    cached = ready(backend or load_backend(model, settings, quiet=not progress, **chosen),
                   batching=Batching(batch_size), cache=True)
    backend = cached.backend
    if getattr(backend, "is_seq2seq", False):   # (`xling score`, judge(): a run's preflight refused it before)
        from .preflight import judge_needs_causal

        if opened and hasattr(backend, "close"):
            backend.close()
        raise XlingError(judge_needs_causal(model or backend.fingerprint.get("model", "model"), KINDS[kind][1]))
    chat = backend.has_chat_template
    stop = () if chat else _base_model_stops(prompt_template)
    requests = [GenerationRequest(prompt=prompt_template.render_judgment(
        src, tgt, s, h, r, chat=chat), max_new_tokens=max_new_tokens, stop=stop)
        for s, h, r in zip(srcs, hyps, refs if refs is not None else [None] * len(hyps))]
    label = f"judging ({KINDS[kind][1]}" + (f", {samples} samples)" if samples > 1 else ")")
    try:
        if samples == 1:
            answers = [cached.generate(requests, Decoding(), progress=label if progress else None)]
        else:   # sample k of a prompt depends on the prompt and k alone, never on its batch
            drawn = cached.candidates(requests, Sampling("sample", temperature), [list(range(samples))] * len(requests),
                                      progress=label if progress else None)
            answers = [[texts[k] for texts in drawn] for k in range(samples)]
    finally:
        if opened and hasattr(backend, "close"):
            backend.close()
    # an answer cut at max_new_tokens lacks what came after (an MQM list's later severities):
    # unparseable, never scored as complete (the backend says so, a server by its finish_reason;
    # answers cached before it did: where the token count is the model's own); a server's content
    # filter cuts one too, which no larger budget mends
    ended = [[a.reason if isinstance(a, CutAnswer) else (
        "length" if backend.counts_tokens_exactly and backend.count_tokens(a) >= max_new_tokens - 2 else None)
        for a in row] for row in answers]
    cut = [[reason is not None for reason in row] for row in ended]
    if not chat:    # a base model continued the template's answer prefix
        prefix = prompt_template.data.get("answer_prefix", "")
        answers = [[prefix + a for a in row] for row in answers]
    judgments: list[dict] = []
    values: list[float | None] = []
    stds: list[float | None] = []
    unparseable = 0
    # The template's own example spans ("the wrong words", its demonstrations' errors): not any
    # word of its instructions, since a real error span ("clear", "text") may well occur in them.
    shown = [prompt_template.data["user"], *(shot["assistant"] for shot in prompt_template.data.get("shots") or [])]
    examples = {_inner(m).strip() for text in shown for m in _QUOTED.finditer(text)}

    def copied(errors, i) -> bool:
        """An error whose words are the template's own example, in neither the translation nor
        the source: the judge repeated the instructions instead of judging."""
        return any(e.span and e.span.strip() in examples and e.span not in hyps[i] and e.span not in srcs[i]
                   for e in errors)

    for i in range(len(hyps)):
        parsed: list[Judgment | None] = [None if c[i] else (parse_mqm if kind == "mqm" else parse_esa)(
            final_answer(a[i])) for a, c in zip(answers, cut)]
        parsed = [None if p is not None and copied(_judged_errors(p), i) else p for p in parsed]
        unparseable += sum(p is None for p in parsed)
        scores = [_judged_score(p) for p in parsed if p is not None]
        spans = [_judged_errors(p) for p in parsed if p is not None]
        value = statistics.fmean(scores) if scores else None
        values.append(value)
        stds.append(statistics.pstdev(scores) if len(scores) > 1 else None)   # one parsed sample: no spread known
        judgments.append({"answers": [a[i] for a in answers], "score": value,
                          "sample_scores": scores if samples > 1 else None,
                          "errors": [asdict(e) for e in spans[0]] if spans else None})
    total = len(hyps) * samples
    reasons = Counter(reason for row in ended for reason in row if reason is not None)
    truncated, filtered = reasons["length"], reasons["content_filter"]
    if hyps and unparseable == total:
        first = answers[0][0].strip().replace("\n", " ")[:120]
        why = "".join((f"; {truncated} of its {total} answers reached {max_new_tokens} tokens (cut answers are "
                       "unparseable): raise --judge-max-tokens" if truncated else "",
                       f"; {filtered} of its {total} answers were stopped by the server's content filter "
                       "(finish_reason content_filter): a larger --judge-max-tokens cannot help" if filtered else "")) \
            or "; try a stronger judge model or check its template"
        raise XlingError(f"the judge {backend.fingerprint.get('model')!r} gave no parseable "
                         f"{KINDS[kind][1]} answer for any of {len(hyps)} segments (e.g. {first!r}){why}")
    fields = dict(judge=backend.fingerprint.get("model"), rev=backend.fingerprint.get("revision"),
                  template=f"{prompt_template.name}@{prompt_template.hash}", samples=samples)
    if shows_reference:
        fields["ref"] = "yes"
    if samples > 1:
        fields["temp"] = temperature
    if kind == "mqm":
        fields["weights"] = ",".join(f"{k}={v:g}" for k, v in MQM_WEIGHTS.items()) + f",floor={MQM_FLOOR:g}"
        fields["rules"] = f"first{MQM_COUNTED}+{NON_TRANSLATION}=critical"
    fields["parser"] = JUDGE_PARSER
    fields["parsed"] = f"{total - unparseable}/{total}"
    fields["xling"] = __version__
    spread = [s for s in stds if s is not None]
    extra = {"unparseable": unparseable, "answers": total, "judgments": judgments}
    if samples > 1:
        extra["judge_std_mean"] = statistics.fmean(spread) if spread else None
        extra["judge_std"] = stds
    if truncated:
        extra["truncated"] = truncated
    if filtered:
        extra["filtered"] = filtered
    if unparseable:
        # (with several samples a segment keeps a score while one of its samples is readable)
        unscored = sum(v is None for v in values)
        thinner = sum(j["sample_scores"] is not None and len(j["sample_scores"]) < samples for j in judgments
                      if j["score"] is not None)
        print(f"xling: {unparseable} of {total} judge answers could not be parsed"
              + (f"; {unscored} segments have no score, {thinner} were scored from fewer than {samples} samples"
                 if samples > 1 else "; their segments have no score")
              + (f" ({truncated} reached {max_new_tokens} tokens: --judge-max-tokens)" if truncated else "")
              + (f" ({filtered} stopped by the server's content filter)" if filtered else ""),
              file=sys.stderr)
    return parsed_mean_result(KINDS[kind][1], values, Signature.of(**fields).format(), extra)


def _base_model_stops(prompt_template) -> tuple[str, ...]:
    """Where a base model continuing the layout has ended its answer: where it starts another
    prompt (the template's first words, "Answer:", the layout's first heading again) or leaves
    two blank lines. Not at a blank line: judges leave one between severities, and the errors
    after it were lost (a segment scored 0, "no errors")."""
    data = prompt_template.data
    stops = ["\n\n\n", "\nAnswer:"]
    for text in (data.get("system") or "", data["user"]):
        head = text.split("\n")[0].split("{")[0].strip()
        if len(head) >= 8:
            stops.append("\n" + head)
    prefix = data.get("answer_prefix", "").strip().split("\n")[0].strip()
    if prefix:
        stops.append("\n" + prefix)
    return tuple(stops)


def _majority_language(texts: Sequence[str]):
    """The source language when none is given: the most frequent detected language."""
    from collections import Counter


    found = Counter(detect(t).lang for t in texts[:200] if t.strip()).most_common()
    for code, _ in found:
        try:
            return resolve(code)
        except XlingError:
            continue
    raise XlingError("cannot tell the source language of the judge's inputs: pass --src-lang")
