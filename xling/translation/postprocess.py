"""Clean raw LLM outputs into a bare translation.

Strips <think> blocks, preambles ("Here is the translation:", "번역:", "翻訳:"), wrapping
quotes and trailing notes. It never looks at a reference; it may look at the source (a quote
the source itself carries is kept). Every removal is recorded next to the cleaned text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..data.languages import Language

_THINK = re.compile(r"<think>.*?(</think>|$)", re.S | re.I)
_STRAY_THINK_END = re.compile(r"^.*?</think>", re.S | re.I)
# Words that mark a line as talk about the translation rather than the translation itself.
_TRANSLATION_WORDS = (r"translation|translated|translate|traduction|traducción|übersetzung|"
                      r"번역|翻訳|翻译|翻譯|译文|譯文|訳文|перевод|dịch|terjemahan|การแปล|ترجمة|अनुवाद")
_PREAMBLE_LINE = re.compile(
    rf"^\s*(?:(?:sure|okay|ok|certainly|of course)[!,.]?\s*)?"
    rf"[^\n]{{0,60}}(?:{_TRANSLATION_WORDS})[^\n]{{0,60}}[:：]\s*$", re.I)
_INLINE_LABEL = re.compile(rf"^\s*(?:{_TRANSLATION_WORDS})\s*[:：]\s*", re.I)
_NOTE = re.compile(
    r"\n\s*(?:\(|\*\*|\[)?\s*(?:note|notes|explanation|translator'?s note|참고|주석|설명|注|注意|注释|説明|"
    r"解説|備考|※)\s*[:：)\]*]", re.I)
_QUOTES = [('"', '"'), ("“", "”"), ("「", "」"), ("『", "』"), ("«", "»"), ("‘", "’"), ("'", "'")]


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

    for match in _THINK.finditer(text):
        cut("think", match.group(0))
    text = _THINK.sub("", text)
    stray = _STRAY_THINK_END.match(text)
    if stray:  # the opening tag was in the prompt (reasoning models that start inside a block)
        cut("think", stray.group(0))
        text = text[stray.end():]
    text = text.strip()

    lines = text.split("\n")
    labels = []
    if tgt is not None:
        labels = [tgt.name, tgt.native]
    while lines and (_PREAMBLE_LINE.match(lines[0]) or _is_label_line(lines[0], labels)) \
            and any(line.strip() for line in lines[1:]):
        cut("preamble", lines.pop(0))
    text = "\n".join(lines).strip()
    label = _INLINE_LABEL.match(text) or _inline_language_label(text, labels)
    # A source that itself starts with such a label ("번역: 제목") is translated with it: kept.
    if label and text[label.end():].strip() and not _INLINE_LABEL.match(source or ""):
        cut("preamble", label.group(0))
        text = text[label.end():].strip()

    note = _NOTE.search(text)
    if note and text[:note.start()].strip():
        cut("note", text[note.start():])
        text = text[:note.start()].strip()

    text = _strip_quotes(text, source, cut)
    out.text = text
    return out


def _is_label_line(line: str, labels: list[str]) -> bool:
    stripped = line.strip().rstrip(":：").strip()
    return bool(labels) and line.strip().endswith((":", "：")) and stripped in labels


def _inline_language_label(text: str, labels: list[str]):
    for label in labels:
        match = re.match(rf"^\s*{re.escape(label)}\s*[:：]\s*", text)
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
            if src.startswith(left) and src.endswith(right):
                continue  # the source itself is quoted: keep it
            cut("quotes", left + right)
            return inner.strip()
    return text


def one_line(text: str) -> str:
    """Collapse line breaks so that each output stays on its input's line."""
    return re.sub(r"\s*[\r\n]+\s*", " ", text).strip()
