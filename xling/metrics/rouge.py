"""Rouge-L that works for Korean (and other non-Latin scripts).

The common `rouge-score` tokenizer keeps only [a-z0-9] and so silently drops Hangul: a Korean
answer scores 0 against anything. Here tokens are Unicode word characters (Hangul, Latin, ...),
lower-cased; Chinese and Japanese text without spaces is split into characters."""
from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


# A word split at its CJK characters: each is a token, runs of other word characters stay whole
# ("東京タワーis" is 東 京 タ ワ ー is, not nine letters).
_PIECE = re.compile(rf"{_CJK.pattern}|[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _words(text: str) -> list[str]:
    """Runs of word characters with their combining marks (Devanagari and Thai vowel signs,
    Arabic harakat): `\\w` alone drops the marks and splits a word at each."""
    masked = "".join("a" if unicodedata.category(c)[0] == "M" else c for c in text)
    return [text[m.start():m.end()] for m in _WORD.finditer(masked)]


def tokenize(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    tokens: list[str] = []
    for word in _words(text):
        tokens += _PIECE.findall(word) if _CJK.search(word) else [word]
    return tokens


def lcs_length(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(hypothesis: str, reference: str) -> float:
    """Rouge-L F1 (β = 1) on the tokens above, in [0, 1]."""
    hyp, ref = tokenize(hypothesis), tokenize(reference)
    if not hyp or not ref:
        return 0.0
    lcs = lcs_length(hyp, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(hyp), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)
