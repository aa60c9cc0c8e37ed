"""Clean raw LLM outputs into a bare translation.

Strips <think> blocks, preambles ("Here is the translation:", "번역:", "翻訳:"), wrapping
quotes and trailing notes. It never looks at a reference; it looks at the source, so that what
translates the source is kept: a label the source starts with ("Korean: ...", "Traduzione: ..."),
a quote the source carries (in any quote style), a first line or a note line the source has too
(an answer with no more lines than its source has no extra line to strip), a literal <think>.
Every removal is recorded next to the cleaned text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..data.languages import Language

_THINK = re.compile(r"<think>.*?(</think>|$)", re.S | re.I)
_STRAY_THINK_END = re.compile(r"^.*?</think>", re.S | re.I)
_THINK_TAG = re.compile(r"</?think>", re.I)
# A source that opens with a short label ("Korean: a language ...", "번역: 제목"): its translation
# opens with one too.
_SOURCE_LABEL = re.compile(r"^\s*[^\n:：/]{0,39}[^\n:：/\d\s][:：](?:\s|$)")
# Words that mark a line as talk about the translation rather than the translation itself.
_TRANSLATION_WORDS = (r"translation|translated|translate|traduction|traducción|übersetzung|"
                      r"번역|翻訳|翻译|翻譯|译文|譯文|訳文|перевод|dịch|terjemahan|การแปล|ترجمة|अनुवाद")
_PREAMBLE_LINE = re.compile(
    rf"^\s*(?:(?:sure|okay|ok|certainly|of course)[!,.]?\s*)?"
    rf"[^\n]{{0,60}}(?:{_TRANSLATION_WORDS})[^\n]{{0,60}}[:：]\s*$", re.I)
# A chatty first line ending in a colon ("Sure, here it is:"), stripped only as a line the
# source does not have.
_CHATTY_LINE = re.compile(r"^\s*(?:sure|okay|ok|certainly|of course|here)\b[^\n]{0,60}[:：]\s*$", re.I)
# "Translation:", "**Translation:**", "Translation (German):"
_EMPHASIS = r"(?:\*\*|__|\*)?"
_INLINE_LABEL = re.compile(rf"^\s*{_EMPHASIS}\s*(?:{_TRANSLATION_WORDS})(?:\s*\([^)\n]{{0,30}}\))?\s*[:：]\s*"
                           rf"{_EMPHASIS}\s*", re.I)
_NOTE = re.compile(
    r"\n\s*(?:\(|\*\*|\[)?\s*(?:note|notes|explanation|translator'?s note|참고|주석|설명|注|注意|注释|説明|"
    r"解説|備考|※)\s*[:：)\]*]", re.I)
_QUOTES = [('"', '"'), ("“", "”"), ("「", "」"), ("『", "』"), ("«", "»"), ("‘", "’"), ("'", "'")]
# Any quote that can open or close a quoted source ("Hello" is 「こんにちは」 or « Bonjour »).
_OPENING = tuple(left for left, _ in _QUOTES) + ("„", "‚", "‹", "《", "〈", "”")
_CLOSING = tuple(right for _, right in _QUOTES) + ("“", "›", "》", "〉", "‘")


@dataclass
class Cleaned:
    text: str
    raw: str
    removed: list[tuple[str, str]] = field(default_factory=list)   # (kind, text)


def clean_output(raw: str, tgt: Language | None = None, source: str | None = None) -> Cleaned:
    out = Cleaned(text=raw, raw=raw)
    text = raw

    def cut(kind: str, piece: str):
        if piece.strip():
            out.removed.append((kind, piece.strip()))

    if not _THINK_TAG.search(source or ""):   # a source about the tag: its translation has it
        for match in _THINK.finditer(text):
            cut("think", match.group(0))
        text = _THINK.sub("", text)
        stray = _STRAY_THINK_END.match(text)
        if stray:  # the opening tag was in the prompt (reasoning models that start inside a block)
            cut("think", stray.group(0))
            text = text[stray.end():]
    text = text.strip()

    # A chatty line goes only as a line beyond the source's own; a preamble naming the translation
    # goes unless the source opens with a heading line of its own ("How to translate a file:").
    source_lines = _line_count(source) if source is not None else 0
    first = (source or "").strip().split("\n")[0].rstrip()
    # a first line that ends in a colon, or speaks of translation ("How to translate files",
    # "번역 팁"), may be translated into a line that reads like a preamble: kept where the
    # answer has no line beyond the source's
    heading = first.endswith((":", "：")) or bool(re.search(_TRANSLATION_WORDS, first, re.I))
    lines = text.split("\n")
    labels = []
    if tgt is not None:   # "Chinese (Simplified)" is also just "Chinese"
        labels = list(dict.fromkeys([tgt.name, tgt.native, re.sub(r"\s*\(.*\)$", "", tgt.name)]))
    while lines and any(line.strip() for line in lines[1:]):
        extra = _line_count("\n".join(lines)) > source_lines
        strong = _PREAMBLE_LINE.match(lines[0]) or _is_label_line(lines[0], labels)
        if not (strong and (extra or not heading) or _CHATTY_LINE.match(lines[0]) and extra):
            break
        cut("preamble", lines.pop(0))
    text = "\n".join(lines).strip()
    label = _INLINE_LABEL.match(text) or _inline_language_label(text, labels)
    # A source that itself starts with a label ("번역: 제목", "Korean: a language") is translated with it: kept.
    if label and text[label.end():].strip() and not _SOURCE_LABEL.match(source or ""):
        cut("preamble", label.group(0))
        text = text[label.end():].strip()

    note = _NOTE.search(text)
    if note and text[:note.start()].strip() and not _NOTE.search("\n" + (source or "")) \
            and _line_count(text) > source_lines:
        cut("note", text[note.start():])
        text = text[:note.start()].strip()

    text = _strip_quotes(text, source, cut)
    out.text = text
    return out


def _line_count(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.strip())


def _is_label_line(line: str, labels: list[str]) -> bool:
    stripped = line.strip().rstrip(":：").strip()
    return bool(labels) and line.strip().endswith((":", "：")) and stripped in labels


def _inline_language_label(text: str, labels: list[str]):
    for label in labels:   # "German:", "German translation:", "**한국어 번역:**"
        match = re.match(rf"^\s*{_EMPHASIS}\s*{re.escape(label)}(?:\s*(?:{_TRANSLATION_WORDS}))?\s*[:：]\s*"
                         rf"{_EMPHASIS}\s*", text, re.I)
        if match:
            return match
    return None


def _strip_quotes(text: str, source: str | None, cut) -> str:
    src = (source or "").strip()
    for left, right in _QUOTES:
        if len(text) >= 2 and text.startswith(left) and text.endswith(right):
            inner = text[len(left):-len(right)]
            if left in inner or right in inner:
                continue  # "a" and "b": the quotes are not one wrapping pair
            if src.startswith(_OPENING) and src.endswith(_CLOSING):
                continue  # the source itself is quoted (in whatever style): keep it
            cut("quotes", left + right)
            return inner.strip()
    return text


def one_line(text: str) -> str:
    """Collapse line breaks so that each output stays on its input's line: every character
    `str.splitlines` breaks on (U+2028, U+2029, NEL, VT, FF, ...), not only CR and LF."""
    return re.sub(r"\s*[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+\s*", " ", text).strip()
