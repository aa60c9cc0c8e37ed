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
# Chinese and Japanese write "翻訳：本文" (a fullwidth colon, no space after), French "Traduction : ...";
# a colon that opens a quotation (他补充道：“…”, « Il a déclaré : « … ») introduces speech, not a label.
_QUOTE_OPENS = "“「『\"«"
_SOURCE_LABEL = re.compile(rf"^\s*[^\n:：/{_QUOTE_OPENS}]{{0,39}}[^\n:：/\d\s{_QUOTE_OPENS}]"
                           rf"(?::(?:\s|$)|：(?![{_QUOTE_OPENS}])| :(?:\s|$)(?!\s*[{_QUOTE_OPENS}]))")
# Words that mark a line as talk about the translation rather than the translation itself.
_TRANSLATION_WORDS = (r"translation|translated|translate|traduction|traducción|übersetzung|traduzione|tradução|"
                      r"vertaling|tłumaczenie|çeviri|překlad|preklad|översättning|oversettelse|oversættelse|"
                      r"käännös|fordítás|traducere|tafsiri|перевод|переклад|превод|μετάφραση|"
                      r"번역|翻訳|翻译|翻譯|译文|譯文|訳文|dịch|terjemahan|การแปล|คำแปล|ترجمة|ترجمه|תרגום|अनुवाद")
_PREAMBLE_LINE = re.compile(
    rf"^\s*(?:(?:sure|okay|ok|certainly|of course)[!,.]?\s*)?"
    rf"[^\n]{{0,60}}(?:{_TRANSLATION_WORDS})[^\n]{{0,60}}[:：]\s*$", re.I)
# A chatty first line ending in a colon ("Sure, here it is:"), stripped only as a line the
# source does not have.
_CHATTY_LINE = re.compile(r"^\s*(?:sure|okay|ok|certainly|of course|here)\b[^\n]{0,60}[:：]\s*$", re.I)
# "Translation:", "**Translation:**", "Translation (German):", and with one word before or a
# few letters after the word: "Deutsche Übersetzung:", "Bản dịch:", "الترجمة:", "日本語訳：", "번역문:"
_EMPHASIS = r"(?:\*\*|__|\*)?"
# (only these compounds: "내역", "Giao dịch" (a transaction), "Переводы" (money transfers) are words)
_LABEL_WORD = rf"(?:bản |ال)?(?:{_TRANSLATION_WORDS})(?:문|nya|文)?"
# ("Translated text:", "翻訳すると：": a few words after it)
_INLINE_LABEL = re.compile(rf"^\s*{_EMPHASIS}\s*{_LABEL_WORD}(?:\s+(?:text|version|output|result)|すると|結果)?"
                           rf"(?:\s*[(（][^)）\n]{{0,30}}[)）])?\s*[:：]\s*{_EMPHASIS}\s*", re.I)
# A one-line preamble before the text, as the same words on a line of their own would be cut:
# "Here's the Korean translation: ...", "Here's the translation into Japanese: ...", "Here is
# the Japanese version: ...", "The translation is: ...", "Sure, here you go: ...", "以下は日本語訳です：..."
# The colon must end the preamble ("The new version launches at 10:30" is a sentence): after
# "translation" only words of the same sentence, after "the ... translation" and "version" only
# "into/in LANGUAGE" and the like, never a digit after the colon; "here you go" needs the chatty
# opener, and a "here is ..." preamble is cut only where the answer has a colon the source lacks.
_OPENER = r"(?:sure|okay|ok|certainly|of course)[!,.]?\s*"
_IN_SENTENCE = r"(?:[^\n:：.!?]|\.(?=\w))"   # a character that does not end a sentence
_INLINE_PREAMBLE = re.compile(rf"^\s*(?:{_OPENER}here (?:you go|you are|it is)|(?:{_OPENER})?"
                              rf"(?:here(?:'s| is)\b[^\n:：]{{0,40}}(?:(?:{_TRANSLATION_WORDS}){_IN_SENTENCE}{{0,60}}"
                              rf"|version(?:\s+in(?:to)?\s+[^\W\d]+)?(?:\s*\([^)\n]{{0,20}}\))?(?:\s+is)?)"
                              rf"|the\s+(?:[^\W\d]+\s+)?(?:{_TRANSLATION_WORDS})(?:\s+(?:text|sentence|version))?"
                              rf"(?:\s+(?:of the (?:text|sentence|passage|above)|from [^\W\d]+ (?:in)?to [^\W\d]+"
                              rf"|(?:in|into|to) [^\W\d]+))?(?:\s*\([^)\n]{{0,20}}\))?(?:\s+(?:is|would be|reads))?"
                              rf"|以下は[^\n:：]{{0,20}}訳(?:です|になります)?))"
                              rf"\s*[:：](?!\d)\s*", re.I)
_NOTE_WORDS = (r"note|notes|explanation|translator'?s note|literal(?:ly)?|literal translation|"
               r"romanization|romanized|transliteration|romaji|pinyin|anmerkung|hinweis|erklärung|remarque|nota|"
               r"explicación|примечание|пояснение|참고|주석|설명|注|注意|注释|说明|解释|説明|解説|備考|※|"
               r"拼音|ローマ字|로마자|alternative(?: translation)?|alternatively|or")
_NOTE = re.compile(rf"\n\s*(?:\(|（|\*\*|\[)?\s*(?:{_NOTE_WORDS})\s*[:：)）\]*]", re.I)
# The same note in brackets at the end of the translation's own line: "... (Note: casual register.)"
_END_NOTE = re.compile(rf"\s*[(（\[]\s*(?:{_NOTE_WORDS})\s*[:：][^()（）\[\]\n]*[)）\]]\s*$", re.I)
# A romanization beside a translation into another script: a last line of Latin letters alone in
# brackets ("(Neko wa matto no ue ni suwatta.)")
_LATIN_ASIDE = re.compile(r"\n\s*[(（][A-Za-z\u00c0-\u024f\u1e00-\u1eff][^()（）\n]*[)）]\s*$")
# Any bracketed aside a source ends with: its translation (in whatever words) is kept.
_ENDS_IN_ASIDE = re.compile(r"[(（\[][^()（）\[\]\n]*[)）\]]\s*$")
# A closing line of chat after the translation ("I hope this helps!"), cut as a line beyond the source's.
_SIGN_OFF = re.compile(r"\n\s*\(?(?:i hope (?:this|that|it) helps|hope (?:this|that|it) helps|let me know if|"
                       r"feel free to|if you (?:have|need) any|this translation\b|in this translation\b|"
                       r"this translates\b|i translated\b)[^\n]*$", re.I)
_RULE = re.compile(r"\n\s*(?:-{3,}|\*{3,}|_{3,})\s*$")   # a markdown rule a cut note left behind
_QUOTES = [('"', '"'), ("“", "”"), ("„", "“"), ("„", "”"), ("「", "」"), ("『", "』"), ("«", "»"), ("»", "«"),
           ("‘", "’"), ("‚", "‘"), ("'", "'")]
# Any quote that can open or close a quoted source ("Hello" is 「こんにちは」 or « Bonjour »).
_OPENING = tuple(left for left, _ in _QUOTES) + ("„", "‚", "‹", "《", "〈", "”")
_CLOSING = tuple(right for _, right in _QUOTES) + ("“", "›", "》", "〉", "‘")


@dataclass
class Cleaned:
    text: str
    raw: str
    removed: list[tuple[str, str]] = field(default_factory=list)   # (kind, text)


def without_reasoning(raw: str, source: str | None = None) -> tuple[str, list[str]]:
    """An answer without its <think> blocks, and the blocks; a source about the tag keeps them
    (its translation has it)."""
    if _THINK_TAG.search(source or ""):
        return raw, []
    thoughts = [match.group(0) for match in _THINK.finditer(raw)]
    text = _THINK.sub("", raw)
    stray = _STRAY_THINK_END.match(text)
    if stray:  # the opening tag was in the prompt (reasoning models that start inside a block)
        thoughts.append(stray.group(0))
        text = text[stray.end():]
    return text, thoughts


def clean_output(raw: str, tgt: Language | None = None, source: str | None = None) -> Cleaned:
    out = Cleaned(text=raw, raw=raw)
    text = raw

    def cut(kind: str, piece: str):
        if piece.strip():
            out.removed.append((kind, piece.strip()))

    text, thoughts = without_reasoning(text, source)
    for thought in thoughts:
        cut("think", thought)
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
        labels = list(dict.fromkeys([tgt.name, tgt.native, re.sub(r"\s*\(.*\)$", "", tgt.name),
                                     tgt.plain.native, *_OTHER_NAMES.get(tgt.plain.code, ())]))
    while lines and any(line.strip() for line in lines[1:]):
        extra = _line_count("\n".join(lines)) > source_lines
        strong = _PREAMBLE_LINE.match(lines[0]) or _is_label_line(lines[0], labels)
        if not (strong and (extra or not heading) or _CHATTY_LINE.match(lines[0]) and extra):
            break
        cut("preamble", lines.pop(0))
    text = "\n".join(lines).strip()
    label = _INLINE_LABEL.match(text) or _inline_language_label(text, labels)
    chatty = _INLINE_PREAMBLE.match(text)
    if label is None and chatty and _colons(text) > _colons(source or ""):
        label = chatty   # (a sentence "Here is the translation of the contract: ..." keeps the source's colon)
    # A source that itself starts with a label ("번역: 제목", "Korean: a language") is translated with it.
    if label and text[label.end():].strip() and not _SOURCE_LABEL.match(source or ""):
        cut("preamble", label.group(0))
        text = text[label.end():].strip()

    note = _NOTE.search(text)
    if note and text[:note.start()].strip() and not _NOTE.search("\n" + (source or "")) \
            and _line_count(text) > source_lines:
        cut("note", text[note.start():])
        text = text[:note.start()].strip()
    end_note = _END_NOTE.search(text)
    if end_note and text[:end_note.start()].strip() and not _ENDS_IN_ASIDE.search(source or ""):
        cut("note", text[end_note.start():])
        text = text[:end_note.start()].strip()
    latin = tgt is not None and tgt.script not in ("Latn", "Zyyy")
    for trailer in (_SIGN_OFF, _RULE, *((_LATIN_ASIDE,) if latin else ())):
        end = trailer.search(text)
        if end and trailer is _LATIN_ASIDE and not _romanized(end.group(0), source):
            continue
        if end and text[:end.start()].strip() and _line_count(text) > source_lines:
            cut("note", text[end.start():])
            text = text[:end.start()].strip()

    text = _unwrap_markdown(text, source, cut)
    text = _strip_quotes(text, source, cut)
    out.text = text
    return out


def _romanized(aside: str, source: str | None) -> bool:
    """A bracketed line of Latin letters that reads as a romanization or gloss ("(Konnichiwa)",
    "(Thank you)"), not an acronym or citation ("(WHO)", "(WHO, 2023)"), nor words of the source
    (in any case), nor a line with letters of another script ("(Appendix B 참조)")."""
    inner = aside.strip().strip("()（）").strip()
    other_script = any(c.isalpha() and not ("a" <= c.lower() <= "z" or "\u00c0" <= c <= "\u024f"
                                            or "\u1e00" <= c <= "\u1eff") for c in inner)
    return not (other_script or re.fullmatch(r"[A-Z0-9][A-Z0-9&.,\- ]*", inner)
                or inner.casefold() in (source or "").casefold())


def _colons(text: str) -> int:
    return text.count(":") + text.count("：")


def _line_count(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.strip())


# Names a model labels its answer with beside the registry's name and native name.
_OTHER_NAMES = {"zh": ("中文", "汉语"), "zh-Hant": ("中文", "漢語"), "hi": ("हिंदी",)}


def _is_label_line(line: str, labels: list[str]) -> bool:
    """"Korean:", "In Korean:", "Korean (한국어):", "**Korean:**"."""
    stripped = line.strip().strip("*_").strip()
    if not labels or not stripped.endswith((":", "：")):
        return False
    name = re.sub(r"\s*[(（][^)）]*[)）]$", "", stripped.rstrip(":：").strip())
    return name in labels or re.sub(r"^in\s+", "", name, flags=re.I) in labels


def _inline_language_label(text: str, labels: list[str]):
    for label in labels:   # "German:", "German translation:", "**한국어 번역:**"
        # ("Deutsche Übersetzung": the name with an ending; "日本語訳": 訳 after a language name)
        match = re.match(rf"^\s*{_EMPHASIS}\s*(?:in\s+)?{re.escape(label)}(?:e|en|er)?"
                         rf"(?:\s*(?:{_TRANSLATION_WORDS}|訳))?(?:\s*[(（][^)）\n]{{0,30}}[)）])?\s*[:：]\s*"
                         rf"{_EMPHASIS}\s*", text, re.I)
        if match:
            return match
    return None


def _unwrap_markdown(text: str, source: str | None, cut) -> str:
    """Markdown the source does not have around the whole answer: a code fence, **bold**, or
    "> " quoting every line."""
    src = (source or "").strip()
    fence = re.fullmatch(r"```[\w-]*[ \t]*\n(.*?)\n?```", text, re.S)
    if fence and "```" not in src:
        cut("markdown", "```")
        text = fence.group(1).strip()
    inner = text[2:-2]
    if len(text) > 4 and text.startswith("**") and text.endswith("**") and "**" not in inner \
            and not src.startswith("**"):
        cut("markdown", "**")
        text = inner.strip()
    lines = text.split("\n")
    # ("> 5 mm", ">50%" are comparisons: a quote marker is "> " before a letter)
    written = [line for line in lines if line.strip()]   # (an empty answer is not a quotation)
    if any(re.match(r"\s*> [^\W\d]", line) for line in written) \
            and all(re.match(r"\s*> [^\W\d]|\s*>\s*$", line) for line in written) and not src.startswith(">"):
        cut("markdown", ">")
        text = "\n".join(re.sub(r"^\s*> ?", "", line) for line in lines).strip()
    return text


def _strip_quotes(text: str, source: str | None, cut) -> str:
    src = (source or "").strip()
    for left, right in _QUOTES:
        if len(text) >= 2 and text.startswith(left) and text.endswith(right):
            inner = text[len(left):-len(right)]
            if left in inner or right in inner:
                continue  # "a" and "b": the quotes are not one wrapping pair
            if src.startswith(_OPENING) or src.endswith(_CLOSING):
                # the source is quoted (in whatever style), or is one end of a quotation that runs
                # across segments ('"Remember her answer?', 'I didn't leak."', '"Yes," he said.'):
                # the translation's quotes may be the source's, so they are kept
                continue
            cut("quotes", left + right)
            return inner.strip()
    return text


def one_line(text: str) -> str:
    """Collapse line breaks so that each output stays on its input's line: every character
    `str.splitlines` breaks on (U+2028, U+2029, NEL, VT, FF, ...), not only CR and LF."""
    return re.sub(r"\s*[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+\s*", " ", text).strip()
