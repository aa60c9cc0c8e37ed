"""Language identification for MT outputs: script counts first, a statistical model second.

Korean, Japanese, Chinese, Thai, Greek, Hebrew, Tamil and Hindi are told apart by their scripts
(Hangul; Kana with or without Han; Han alone; ...), which is exact and instant. Only text whose
main script several candidate languages share (Latin, Cyrillic, Arabic) goes to lingua, and then
only with the candidates of that script, which keeps it fast and avoids absurd answers.
Chinese in Simplified and Traditional characters both come out as "zh".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_SCRIPTS = {
    "Hang": "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f",
    "Kana": "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f",
    "Hani": "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff",
    "Thai": "\u0e00-\u0e7f",
    "Arab": "\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff",
    "Deva": "\u0900-\u097f",
    "Cyrl": "\u0400-\u04ff",
    "Grek": "\u0370-\u03ff",
    "Hebr": "\u0590-\u05ff",
    "Taml": "\u0b80-\u0bff",
    "Latn": "A-Za-z\u00c0-\u024f\u1e00-\u1eff",
}
_PATTERNS = {name: re.compile(f"[{chars}]") for name, chars in _SCRIPTS.items()}
# Scripts that name one language here; the others need a statistical model.
_SCRIPT_LANGUAGE = {"Hang": "ko", "Jpan": "ja", "Hani": "zh", "Thai": "th", "Grek": "el",
                    "Hebr": "he", "Taml": "ta", "Deva": "hi"}
# lingua candidates per shared script: the registry's languages plus near neighbours that
# outputs are often confused with (so those are not forced onto a wrong registry language).
LINGUA_CANDIDATES = {
    "Latn": ["ENGLISH", "GERMAN", "FRENCH", "SPANISH", "ITALIAN", "PORTUGUESE", "DUTCH", "POLISH",
             "VIETNAMESE", "INDONESIAN", "MALAY", "TURKISH", "SWAHILI", "ESTONIAN", "TAGALOG",
             "CZECH", "ICELANDIC"],
    "Cyrl": ["RUSSIAN", "BULGARIAN", "UKRAINIAN"],
    "Arab": ["ARABIC", "URDU", "PERSIAN"],
}
LINGUA_CODES = {"MALAY": "ms", "PORTUGUESE": "pt", "DUTCH": "nl", "UKRAINIAN": "uk",
                "PERSIAN": "fa", "TAGALOG": "tl"}


@dataclass(frozen=True)
class Detection:
    lang: str      # ISO 639-1 code, "und" when the text has no letters
    script: str    # dominant script ("Jpan" = Kana with Han)


def script_counts(text: str) -> dict[str, int]:
    return {name: len(pattern.findall(text)) for name, pattern in _PATTERNS.items()}


def dominant_script(text: str) -> str:
    counts = script_counts(text)
    kana, han = counts.pop("Kana"), counts.pop("Hani")
    # Japanese mixes Kana into Han text; Chinese has (almost) none.
    if kana and kana >= 0.05 * (kana + han):
        counts["Jpan"] = kana + han
    else:
        counts["Hani"], counts["Kana"] = han, kana
    script, count = max(counts.items(), key=lambda item: item[1])
    return script if count else "Zyyy"


@lru_cache(maxsize=None)
def _detector(script: str):
    from lingua import Language, LanguageDetectorBuilder

    languages = [getattr(Language, name) for name in LINGUA_CANDIDATES[script]]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def _lingua_code(language) -> str:
    return LINGUA_CODES.get(language.name) or language.iso_code_639_1.name.lower()


# Enough text to tell any language (paragraphs included); a runaway output of megabytes would
# otherwise stall detection for minutes.
MAX_CHARS = 2000


def detect(text: str) -> Detection:
    """The language of `text`, judged on its first MAX_CHARS characters."""
    text = text[:MAX_CHARS]
    script = dominant_script(text)
    if script == "Zyyy":
        return Detection("und", script)
    if script in _SCRIPT_LANGUAGE:
        return Detection(_SCRIPT_LANGUAGE[script], script)
    if script == "Kana":
        return Detection("ja", script)
    found = _detector(script).detect_language_of(text)
    return Detection(_lingua_code(found) if found else "und", script)


def detect_many(texts: list[str]) -> list[Detection]:
    return [detect(t) for t in texts]


def lingua_version() -> str:
    from importlib.metadata import version
    return version("lingua-language-detector")
