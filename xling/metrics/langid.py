"""Language identification for MT outputs: script counts first, a statistical model second.

Korean, Japanese, Chinese, Thai, Lao, Khmer, Burmese, Greek, Hebrew, Tamil and Hindi are told
apart by their scripts (Hangul; Kana with or without Han; Han alone; ...), which is exact and
instant. Only text whose main script several candidate languages share (Latin, Cyrillic, Arabic)
goes to lingua, and then only with the candidates of that script, which keeps it fast and avoids
absurd answers.
Han text without kana, when Japanese is expected, is Chinese when it has a Simplified form
Japanese does not write or lingua is sure of Chinese, and undetermined when too short to tell
(FLORES-200 rates in NOTES.md, issue 31).
Korean written with Hanja (Hangul touching Han: 大韓民國은) is Korean; Han text with forms only
Japanese writes (発, 駅, 読) is Japanese (mixing Simplified-only and Traditional-only characters
is no sign of Japanese: LLM Chinese leaks the other script); Latin words that are all names
(Samsung, S24, iPhone) beside another script are set aside and the rest is judged ("Samsung
Galaxy S24 출시": Korean).
Chinese comes out as "zh" (Simplified) or "zh-Hant" (Traditional), told apart by CC-CEDICT's
character inventory (xling.metrics.zhscript); Chinese that is valid in both scripts is
undetermined when Chinese is expected (its script cannot be told), else "zh".
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from ..data.languages import plain_code, resolve
from .settings import LANGID_RULES
from .zhscript import chinese_script as by_inventory

_SCRIPTS = {
    "Hang": "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f",
    # Hiragana and Katakana only: U+30FB ・ and U+30FC ー (and the voicing marks, U+30A0, the
    # halfwidth ｰ) are Script=Common, and Chinese writes ・ in foreign names (萨辛・坦都卡).
    "Kana": "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fd-\u30ff\u31f0-\u31ff\uff66-\uff6f\uff71-\uff9d",
    "Hani": "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff",
    "Thai": "\u0e00-\u0e7f",
    "Laoo": "\u0e80-\u0eff",
    "Khmr": "\u1780-\u17ff\u19e0-\u19ff",
    "Mymr": "\u1000-\u109f\ua9e0-\ua9ff\uaa60-\uaa7f",
    # (Presentation Forms-B end at U+FEFC: U+FEFF is the byte order mark, no letter)
    "Arab": "\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc",
    "Deva": "\u0900-\u097f",
    "Beng": "\u0980-\u09ff",
    "Guru": "\u0a00-\u0a7f",
    "Gujr": "\u0a80-\u0aff",
    "Telu": "\u0c00-\u0c7f",
    "Knda": "\u0c80-\u0cff",
    "Mlym": "\u0d00-\u0d7f",
    "Cyrl": "\u0400-\u04ff",
    "Grek": "\u0370-\u03ff",
    "Hebr": "\u0590-\u05ff",
    "Taml": "\u0b80-\u0bff",
    "Latn": "A-Za-z\u00c0-\u024f\u1e00-\u1eff",
}
_PATTERNS = {name: re.compile(f"[{chars}]") for name, chars in _SCRIPTS.items()}
# Scripts that name one language here (Han alone is Chinese, "zh" or "zh-Hant" by its
# characters); the others need a statistical model.
# Devanagari is Hindi unless Marathi is expected (then lingua tells them apart).
_SCRIPT_LANGUAGE = {"Hang": "ko", "Jpan": "ja", "Thai": "th", "Laoo": "lo", "Khmr": "km", "Mymr": "my",
                    "Grek": "el", "Hebr": "he", "Taml": "ta", "Deva": "hi", "Beng": "bn", "Guru": "pa",
                    "Gujr": "gu", "Telu": "te", "Knda": "kn", "Mlym": "ml"}
# lingua candidates per shared script: the registry's languages plus near neighbours that
# outputs are often confused with (so those are not forced onto a wrong registry language).
LINGUA_CANDIDATES = {
    "Latn": ["ENGLISH", "GERMAN", "FRENCH", "SPANISH", "ITALIAN", "PORTUGUESE", "DUTCH", "POLISH",
             "VIETNAMESE", "INDONESIAN", "MALAY", "TURKISH", "SWAHILI", "ESTONIAN", "TAGALOG",
             "CZECH", "ICELANDIC", "CATALAN", "DANISH", "FINNISH", "CROATIAN", "BOSNIAN", "HUNGARIAN",
             "LITHUANIAN", "LATVIAN", "BOKMAL", "ROMANIAN", "SLOVAK", "SLOVENE", "SWEDISH", "ZULU",
             "AZERBAIJANI"],   # (Azerbaijani passed as Turkish 98% of the time without it)
    "Cyrl": ["RUSSIAN", "BULGARIAN", "UKRAINIAN", "SERBIAN", "MACEDONIAN", "BELARUSIAN",
             "MONGOLIAN", "KAZAKH"],   # (they passed as Russian, and Kyrgyz and Tatar with them)
    "Arab": ["ARABIC", "URDU", "PERSIAN"],
    "Deva": ["HINDI", "MARATHI"],
    "Jpan": ["CHINESE", "JAPANESE"],   # Han text without kana, when Japanese is expected
}
LINGUA_CODES = {"MALAY": "ms", "PORTUGUESE": "pt", "DUTCH": "nl", "UKRAINIAN": "uk",
                "PERSIAN": "fa", "TAGALOG": "fil", "BOKMAL": "no"}


@dataclass(frozen=True)
class Detection:
    lang: str      # ISO 639-1 code, "und" when the text has no letters
    script: str    # dominant script ("Jpan" = Kana with Han)


def script_counts(text: str) -> dict[str, int]:
    return {name: len(pattern.findall(text)) for name, pattern in _PATTERNS.items()}


def weighted_script_counts(text: str) -> dict[str, int]:
    """Letters per script, Kana with Han counted as Japanese ("Jpan") when the text has Kana,
    and dense scripts weighted: a Han character or Hangul syllable carries about what three
    Latin letters do, so a Chinese sentence with one English name ("免费的 Matt Gray 贴纸") is
    Chinese."""
    counts = script_counts(text)
    kana, han = counts.pop("Kana"), counts.pop("Hani")
    # Japanese mixes Kana into Han text; Chinese has (almost) none, but for a Japanese word or
    # title it keeps ("这个问题需要用コンピュータ来解决。", "《となりのトトロ》"): Chinese still
    if kana and kana >= 0.05 * (kana + han) and _chinese_around_kana(text):
        counts["Hani"], counts["Kana"] = han + kana, 0
    elif kana and kana >= 0.05 * (kana + han):
        counts["Jpan"] = kana + han
    else:
        counts["Hani"], counts["Kana"] = han, kana
    for dense in ("Jpan", "Hani", "Kana", "Hang"):
        if dense in counts:
            counts[dense] *= 3
    return counts


# What the scripts are called in messages.
SCRIPT_NAMES = {"Hang": "Hangul", "Kana": "Kana", "Hani": "Han characters", "Thai": "Thai script",
                "Laoo": "Lao script", "Khmr": "Khmer script", "Mymr": "Myanmar script", "Arab": "Arabic script",
                "Deva": "Devanagari", "Beng": "Bengali script", "Guru": "Gurmukhi", "Gujr": "Gujarati script",
                "Telu": "Telugu script", "Knda": "Kannada script", "Mlym": "Malayalam script",
                "Cyrl": "Cyrillic", "Grek": "Greek script", "Hebr": "Hebrew script", "Taml": "Tamil script",
                "Latn": "Latin script", "Hans": "Simplified Chinese characters",
                "Hant": "Traditional Chinese characters"}
# The scripts (as script_counts counts them) a language's text may be mostly in: Han is shared by
# Chinese, Japanese and Korean (Hanja), and Kana by Japanese and Chinese quoting it, so none of
# them is told from another by Han alone.
_WRITTEN_IN = {"Hang": {"Hang", "Hani"}, "Jpan": {"Kana", "Hani"}, "Hans": {"Hani", "Kana"},
               "Hant": {"Hani", "Kana"}}
# Plainly another script: this share of a text's letters in one script its language is not
# written in, over at least this many letters (a few lines of names or numbers say nothing).
WRONG_SCRIPT_SHARE = 0.8
WRONG_SCRIPT_LETTERS = 50
# Chinese in the other script (Traditional scored with -t zh): this many lines told apart by
# their characters at least (most Chinese lines are: zhscript), the share above of them the other's.
WRONG_SCRIPT_CHINESE_LINES = 5
_SCRIPT_SAMPLE = 50_000   # characters looked at: enough for any file, cheap for a large one


def wrong_script(lines: list[str], code: str) -> str | None:
    """The name of the script `lines` are plainly written in when `code`'s language is not written
    in it ("Hangul" for Korean text and "en"), else None: a cheap script count, no model. Only a
    clearly different script counts: Han text is never wrong for Japanese or Korean, and for
    Chinese only when its lines are plainly the other Chinese script (Traditional for zh)."""
    lang = resolve(code).plain   # (a regional variety, pt_BR: its language)
    allowed = _WRITTEN_IN.get(lang.script, {lang.script})
    if not allowed & set(_SCRIPTS):   # a script not counted here: nothing to compare
        return None
    text, size = [], 0
    for line in lines:
        text.append(line)
        size += len(line)
        if size >= _SCRIPT_SAMPLE:
            break
    counts = script_counts(_NOT_LANGUAGE.sub(" ", "\n".join(text)))
    for dense in ("Hani", "Kana", "Hang"):   # (a Han character or Hangul syllable carries about three
        counts[dense] = 3 * counts.get(dense, 0)   # Latin letters: product names in Chinese are no Latin text)
    letters = sum(counts.values())
    if letters < WRONG_SCRIPT_LETTERS:
        return None
    # Han is Korean only beside Hangul (Hanja), and Chinese has Kana only in a quoted Japanese
    # word: a file of Chinese or Japanese scored as Korean, or of Japanese as Chinese, changes
    # BLEU's tokenizer as much as any other script does
    if lang.script == "Hang" and counts["Hani"] + counts["Kana"] >= WRONG_SCRIPT_SHARE * letters \
            and counts["Hang"] < 0.05 * letters:
        return "Kana" if counts["Kana"] >= 0.2 * (counts["Hani"] + counts["Kana"]) else SCRIPT_NAMES["Hani"]
    # (kana of a Japanese word kept in a Chinese sentence, "这家店的招牌菜是たこ焼き。", are not
    # Japanese text: detect() reads the line as Chinese, and so does this)
    japanese_kana = 3 * sum(len(_PATTERNS["Kana"].findall(line)) for line in text
                            if _PATTERNS["Kana"].search(line) and not _chinese_around_kana(line)) \
        if lang.script in ("Hans", "Hant") else 0
    if lang.script in ("Hans", "Hant") and japanese_kana >= 0.2 * (counts["Hani"] + counts["Kana"]) \
            and counts["Hani"] + counts["Kana"] >= WRONG_SCRIPT_SHARE * letters:
        return "Kana"
    script, most = max(counts.items(), key=lambda item: item[1])
    if most < WRONG_SCRIPT_SHARE * letters:
        return None
    if script in allowed:
        return _other_chinese_script(text, lang.script) if lang.code in CHINESE else None
    return SCRIPT_NAMES[script]


def _other_chinese_script(lines: list[str], script: str) -> str | None:
    """The name of the other Chinese script ("Traditional Chinese characters" for a Simplified
    target) when most lines that CC-CEDICT's characters place are written in it, else None. By
    lines: Chinese of either script quotes a few characters of the other, and a line valid in
    both (no character of one script only) says nothing."""
    found = Counter(by_inventory(line) for line in lines)
    found.pop(None, None)
    placed = sum(found.values())
    other = next(name for name in ("Hans", "Hant") if name != script)
    if placed >= WRONG_SCRIPT_CHINESE_LINES and found[other] >= WRONG_SCRIPT_SHARE * placed:
        return SCRIPT_NAMES[other]
    return None


CHINESE = ("zh", "zh-Hant")
# The script a language's text is counted under above.
_COUNTED_AS = {"Hans": "Hani", "Hant": "Hani"}
# The expected language's own script holding this share of the dominant script's (weighted)
# letters means a text in that language with foreign names or terms in it, not another language.
MIXED = 0.5


@lru_cache(maxsize=None)
def _detector(script: str):
    from lingua import Language, LanguageDetectorBuilder

    languages = [getattr(Language, name) for name in LINGUA_CANDIDATES[script]]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def _lingua_code(language) -> str:
    return LINGUA_CODES.get(language.name) or language.iso_code_639_1.name.lower()


def can_confirm(code: str) -> bool:
    """Whether detection can tell text in `code` from other languages of its script: a script
    of its own, or a lingua candidate of its script. Outputs for other targets (a row added to
    langpairs/ only, Haitian Creole, Quechua) are undetermined whatever language of the target's
    script they are in, English included; another script is still caught."""
    from lingua import Language

    lang = resolve(code).plain
    script = _COUNTED_AS.get(lang.script, lang.script)
    if lang.code in CHINESE or _SCRIPT_LANGUAGE.get(script) == lang.code or lang.code in _STANDS_FOR:
        return True
    return lang.code in {_lingua_code(getattr(Language, name)) for name in LINGUA_CANDIDATES.get(script, ())}


# Enough text to tell any language (paragraphs included); a runaway output of megabytes would
# otherwise stall detection for minutes.
MAX_CHARS = 2000


# What says nothing of a text's language and would outweigh a short sentence's letters: markup
# tags (<div id=sec1>), web addresses and domains, e-mail addresses, @handles and #hashtags
# (WMT24++'s social segments).
# Addresses, handles and tags are taken in ASCII only: "请发送邮件至support@example.com获取帮助。" keeps
# its Chinese (\S and \w match CJK characters, which made the whole sentence an "address").
_NOT_LANGUAGE = re.compile(r"</?[A-Za-z][^<>]*>|(?:https?://|www\.)[!-~]+|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
                           r"|(?<![A-Za-z0-9_])(?:[@#][A-Za-z0-9_][A-Za-z0-9_-]*)+"
                           r"|(?<![A-Za-z0-9-])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|org|net|edu|gov|io|co|ai|dev|app|info)"
                           r"(?![A-Za-z0-9])(?:[/?#][!-~]*)?", re.I)
# lingua's best guess must be this many times as likely as the expected language to overrule it:
# short texts and names are ambiguous ("Kapitel 1", "Daten von FlightAware" for German).
OVERRULE = 2.0


def detect(text: str, expected: str | None = None) -> Detection:
    """The language of `text`, judged on its first MAX_CHARS characters, web addresses, handles
    and hashtags left out. With `expected` (the target language), a statistical guess of
    another language of the same script counts only when clearly more likely."""
    return _detect(text[:MAX_CHARS], plain_code(expected) if expected else expected)


# Detection is a pure function of the text: a report that scores two runs against the same
# references, or runs that share outputs, detects each text once.
@lru_cache(maxsize=1 << 15)
def _detect(text: str, expected: str | None) -> Detection:
    text = _NOT_LANGUAGE.sub(" ", text)
    if _FULLWIDTH.search(text):   # Ｔｈｅ ｗｅａｔｈｅｒ is Latin
        text = unicodedata.normalize("NFKC", text)
    counts = weighted_script_counts(text)
    script = max(counts, key=counts.__getitem__) if any(counts.values()) else "Zyyy"
    if script == "Zyyy":
        other = _other_script(text)
        if other and expected is not None and _listed(resolve(expected).script):
            # letters of a script none of the candidates writes (Armenian for a Korean target)
            return Detection(OTHER, other)
        return Detection("und", script)
    if expected is not None:
        own = _COUNTED_AS.get(resolve(expected).script, resolve(expected).script)
        # a gloss in brackets is the target's ("Tokyo Tower (東京タワー)"); Japanese writes kanji
        # without kana too ("男性:" before a quote)
        unglossed = weighted_script_counts(_GLOSS.sub(" ", text))
        mine = {own, "Hani", "Kana"} if own == "Jpan" else {own}
        others = {k: v for k, v in unglossed.items() if k not in mine and v}
        if own != "Latn" and script in mine and counts.get("Latn") and _running_english(text):
            # running English beside the target's script, which leads (Han and Hangul weigh 3x):
            # a paragraph with a sentence left untranslated is as partly translated as when
            # English has more letters (below); 0 of 32,048 human FLORES/NTREX lines of ar, hi,
            # ja, ko, ru, th, zh, zh-Hant hold such English
            return _detect(_only_script(text, "Latn"), expected)
        if own == script and len(others) >= 2 and sum(others.values()) > sum(unglossed.get(k, 0) for k in mine):
            # the target's script leads, yet two or more others outweigh it together: words of
            # the target among other languages ("le monde" between Arabic and Hebrew), judged by
            # the largest of those (no human reference line of FLORES, NTREX or WMT24++ is so)
            largest = max(others, key=others.__getitem__)
            return _detect(_only_script(text, largest), expected)
        chinese_with_korean = own == "Hang" and script == "Hani" and _count(_CHINESE_NOT_HANJA, text)
        if own != script and counts.get(own, 0) >= MIXED * counts[script] and not chinese_with_korean:
            if script == "Latn" and _running_english(text):
                # not names or terms: sentences left untranslated beside the translated ones (a
                # paragraph partly translated); no human reference line of FLORES, NTREX or
                # WMT24++ in another script holds such English (titles are capitalised)
                return _detect(_only_script(text, "Latn"), expected)
            part = _only_script(text, own)
            names = own == "Latn" and _only_names(part)
            if names and _other_letters(_BRACKETED.sub(" ", text), own):
                pass   # names beside another script's sentence (Serbian Cyrillic with "(Microsoft)"): it decides
            elif own in LINGUA_CANDIDATES and not names:
                # a script several languages write: which of them is its part? ("Огляд Microsoft
                # Surface Laptop: швидкий і тихий" is Ukrainian, not the Russian expected)
                return _detect(part, expected)
            else:   # the target's script with foreign names or a gloss ("Tokyo Tower (東京タワー)")
                code = resolve(expected).code
                return Detection(_chinese(text, code) if code in CHINESE else code, own)
    if script == "Hani" and _KOREAN_MIXED.search(text) and not _count(_CHINESE_NOT_HANJA, text):
        # (not Chinese keeping an unspaced Korean name, "我很喜欢아이유的歌": Hanja is Traditional)
        return Detection("ko", "Hang")   # Hanja with Hangul particles: Korean in mixed script
    if expected is not None and script not in LINGUA_CANDIDATES and not can_confirm(expected) \
            and _COUNTED_AS.get(resolve(expected).script, resolve(expected).script) == script:
        # a language added in langpairs/ only, written in a script that names another language
        # here (Cantonese in Han, Assamese in Bengali script): the rules below would name that
        # one (zh-Hant, bn) for a perfect output; as score warns, only another script is caught
        return Detection("und", script)
    if script == "Hani" and expected == "ja":
        return Detection(_han_for_japanese(text), script)
    if script == "Hani" and _japanese_forms(text):
        return Detection("ja", script)
    if script == "Hani":
        return Detection(_chinese(text, expected), script)
    if script == "Latn" and expected is not None and _only_names(text):
        # the names aside, what language is the rest? For a Latin target only where the rest is
        # more than a bracketed gloss: Serbian Cyrillic around "iPhone 16 Pro Max" is Serbian in
        # Cyrillic; "Samsung Unveils New Galaxy S24 Ultra (삼성전자)" is an English headline.
        rest = _LATIN_WORD.sub(" ", text)
        if _other_letters(rest if resolve(expected).script != "Latn" else _BRACKETED.sub(" ", rest), "Latn"):
            return _detect(rest, expected)
    # A script's own language unless another of that script is expected (Marathi in Devanagari:
    # lingua tells it from Hindi). Hindi targets keep the script rule: lingua called 1.35% of
    # human WMT24++ Hindi Marathi, so Marathi written for a Hindi target passes as Hindi.
    if script in _SCRIPT_LANGUAGE and not (script in LINGUA_CANDIDATES and expected is not None
                                           and expected != _SCRIPT_LANGUAGE[script]
                                           and resolve(expected).script == script):
        return Detection(_SCRIPT_LANGUAGE[script], script)
    if script == "Kana":
        return Detection("ja", script)
    confidences = _confidences(script, text)
    if not confidences or max(confidences.values()) == 0:
        rest = _only_script(text, script)
        if rest.split() != text.split():   # English words beside Arabic ones left lingua at 0 for all
            return _detect(rest, expected)
        return Detection("und", script)
    if expected is not None and expected not in confidences and expected not in _STANDS_FOR \
            and _COUNTED_AS.get(resolve(expected).script, resolve(expected).script) == script:
        # lingua does not know the expected language (Haitian Creole, Quechua): its best guess
        # among the languages it knows says nothing of whether the text is in the target
        return Detection("und", script)
    best = max(confidences, key=confidences.__getitem__)
    if expected in confidences and best != expected and \
            confidences[best] < OVERRULE * confidences[expected]:
        best = expected
    if expected in confidences and best != expected:
        # names in the text ("... the United Nations Framework Convention on Climate Change")
        # shift lingua's odds between neighbours (Norwegian read as Danish), and English names
        # toward English ("Je ne supporte pas les Black Eyed Peas."): judged without them
        plain = _without_names(text)
        again = _confidences(script, plain) if plain != text and len(_WORD.findall(plain)) >= MIN_WORDS else {}
        if best == "en" and again:   # English with its names gone is often function words alone
            content = [w for w in _WORD.findall(plain) if w.lower() not in _FUNCTION_WORDS]
            if len(content) < MIN_WORDS or again[expected] < 1.3 * again.get("en", 0.0):
                again = {}   # ("Indonesia Tsunami and Quake Devastate an Island": "Indonesia and an")
        if again and max(again, key=again.__getitem__) == expected:   # its best guess, not merely close
            best = expected
    words = _LATIN_WORD.findall(text)
    composed = _LATIN_WORD.findall(unicodedata.normalize("NFC", text)) if expected == "vi" else []   # (NFD text too)
    if best != "vi" and composed and \
            sum(bool(_VIETNAMESE_ONLY.search(w)) for w in composed) >= VIETNAMESE_SHARE * len(composed):
        # letters no other candidate writes (ơ, ư, ạ, ắ, ...), in a good share of its words:
        # lingua's odds on a few words ("Apple ra mắt iPhone mới": German) do not overrule them
        best = "vi"
    if best == "uk" and expected in ("ru", "bg", "sr") and len(_WORD.findall(text)) >= 6 \
            and not _UKRAINIAN_ONLY.search(text) and confidences.get(expected, 0.0) * 3 >= confidences["uk"]:
        best = expected   # six words without і, ї, є or ґ, and lingua unsure: hardly Ukrainian
    if best in _STANDS_FOR.get(expected or "", ()):
        best = cast(str, expected)
    # names alone ("Tesla Model Y": Slovak 0.3) say nothing of a language, whatever their number,
    # where the target writes another script (and them as they are)
    # (a few words, none a function word: "It Is Very Bad.", "THANK YOU FOR YOUR ORDER" are English)
    # and nothing else: a Cyrillic sentence around "Samsung Galaxy" is no names alone (it was
    # undetermined for sr-Latn, en, hr whenever lingua's Cyrillic guess was unsure)
    names_alone = expected is not None and _only_names(text) and len(words) <= 4 \
        and not _other_letters(text, "Latn") \
        and not any(w.lower() in _FUNCTION_WORDS for w in words) \
        and _COUNTED_AS.get(resolve(expected).script, resolve(expected).script) != script
    if expected is not None and best != expected and (len(_WORD.findall(text)) < MIN_WORDS or names_alone) \
            and confidences[best] < SURE_OF_SHORT \
            and (_COUNTED_AS.get(resolve(expected).script, resolve(expected).script) == script
                 or _only_names(text) or _a_sign(text)):
        # "Ja" (Estonian 0.07), "Na toll.", "ممتاز" (Urdu 0.52), "Wow!" (Polish 0.68): lingua's
        # guesses on a word or two are near uniform; "Merci beaucoup" (French 0.87) is not.
        # In another script than the target's only names are ("Samsung", "COVID-19"): "Thank
        # you" for a Korean target is off-target whichever Latin language it is.
        return Detection("und", script)
    return Detection(best, script)


# Fewer words than this, judged another language of the target's script by lingua with less
# confidence than SURE_OF_SHORT, are undetermined.
MIN_WORDS = 3
SURE_OF_SHORT = 0.7
# Letters of Vietnamese alone among the candidates (ơ, ư and the precomposed vowels with tone
# marks; not ă, â, đ, ê, ô, which Romanian, French, Portuguese or Croatian write too), and the
# share of a text's words that must hold one for it to be Vietnamese whatever lingua's odds.
# (the dotted ẹ ị ọ ụ left out: Yoruba and Igbo write them)
_VIETNAMESE_ONLY = re.compile("[ƠơƯư\u1ea0-\u1eb7\u1eba-\u1ec9\u1ece-\u1ee3\u1ee6-\u1ef9]")
VIETNAMESE_SHARE = 0.25
# (a Latin i or ï typed between Cyrillic letters, "вранцi", is Ukrainian's і)
_UKRAINIAN_ONLY = re.compile("[іїєґІЇЄҐ]|(?<=[\u0400-\u04ff])[iïIÏ]|[iïIÏ](?=[\u0400-\u04ff])")
_WORD = re.compile(r"[^\W\d_]+")
_FULLWIDTH = re.compile("[\uff01-\uff5e]")
# The language of letters in a script no candidate writes: off-target where the target's own
# script is one of the listed ones (else it cannot be told: undetermined).
OTHER = "other"


def _listed(script: str) -> bool:
    return _COUNTED_AS.get(script, script) in _SCRIPTS or script == "Jpan"


def _other_script(text: str) -> str | None:
    """The Unicode script (by character name: ARMENIAN, GEORGIAN, ...) of most letters of a text
    none of whose letters is in a listed script, or None without letters."""
    names = Counter(unicodedata.name(c, "?").split(" ")[0] for c in text
                    if unicodedata.category(c) in ("Lu", "Ll", "Lt", "Lo"))
    for sign in _NOT_A_SCRIPT:
        names.pop(sign, None)
    best = max(names, key=names.__getitem__) if names else None
    return best.title() if best and names[best] >= 2 else None   # "1º", "2ª": no word of a script


# Letters by Unicode category that are not the writing of a language: ordinal signs (º ª) and
# Bopomofo (Mandarin pronunciation marks beside Chinese characters).
_NOT_A_SCRIPT = ("MASCULINE", "FEMININE", "BOPOMOFO", "MODIFIER", "?")


# What lingua calls an expected language it does not tell apart from others: Serbian in Latin
# letters is its Bosnian or Croatian (it knows Serbian in Cyrillic only; the standards differ
# in a few words, which short sentences seldom show); Indonesian is often its Malay (on human
# FLORES-200 Indonesian, 10% of the lines by lingua's odds); Croatian is often its Bosnian (4.6%
# of human NTREX-128 Croatian), so Bosnian written for a Croatian target passes.
_STANDS_FOR = {"sr-Latn": {"bs", "hr"}, "id": {"ms"}, "hr": {"bs"}}
# Bumped whenever the rules or the candidates change what is detected (in off-target signatures).
RULES = LANGID_RULES


# Common Simplified forms that Japanese writes otherwise (a few Han characters with one of them
# are Chinese). Forms Japanese shares (国 会 学 体 点 万 与 来 写 没: 来週, 写真, 沈没) are not in it.
_SIMPLIFIED_NOT_JAPANESE = set("这们说时为个对发经过还进动现开关问长见东车门书马鸟鱼语话读"
                               "听买卖钱电实业头气爱认让边应该从请谢难样种产两兴")
# Japanese forms (shinjitai) that Chinese writes in neither script: 発 (发/發), 駅 (驿/驛), 読 (读/讀).
# Kanji-only Japanese (headlines, names of offices: "東京都知事選挙投票日程発表") carries them.
# Forms that either Chinese script shares (国 条 層 並 残 恋 麦) are not in it.
_JAPANESE_NOT_CHINESE = set("発挙駅読関円様楽歩歳戦図広売済伝転県権黒鉄徳恵桜乗塩択拝続総緑絵訳譲賛"
                            "隠雑騒験変単営労巻拡薬沢検険稲闘気歴両亜悪圧囲栄応価覚勧歓観帰拠継軽"
                            "撃剣圏厳鉱砕剤歯児実釈従縦処証奨専対帯団遅庁聴脳髪払豊満黙頼覧竜猟涙"
                            "霊齢録姫郷")


# Traditional forms modern Japanese writes otherwise (國 is 国, 說 is 説, 讀 is 読), and words of
# Chinese that Japanese does not write (你 她 很 吗 呢 吧): with the Simplified ones above, what
# tells Chinese from kanji-only Japanese. (Korean Hanja writes the Traditional forms too.)
_TRADITIONAL_NOT_JAPANESE = set("國會們對來發將說與學區讓當數亞經參禮關沒體總稱應歐兩戰內從聯舉黨帶擊"
                                "點據這麼裡實氣樣產讀聽賣錢變歲處觀權驗屬鐵圖廣傳轉續絕價歷舊醫壓萬灣臺"
                                "歡畫覺樂專幫媽")
_CHINESE_WORDS = set("你她很吗嗎呢吧啊您咱爸哪怎這們麼")
# more Simplified forms (Japanese: 歓 楽 覚 場 報 導 給 飯 館)
_SIMPLIFIED_MORE = set("欢么谁觉乐妈钟华饭馆场报导级张专节农员务给帮网")
# Chinese, never Korean Hanja (which writes the Traditional forms): Chinese keeping a Korean name
_CHINESE_NOT_HANJA = _SIMPLIFIED_NOT_JAPANESE | _SIMPLIFIED_MORE | _CHINESE_WORDS
_CHINESE_ONLY = _CHINESE_NOT_HANJA | _TRADITIONAL_NOT_JAPANESE
# What a quoted title or a bracketed gloss holds is a name, not the sentence's language.
_QUOTED_SPANS = re.compile(r"《[^》]*》|〈[^〉]*〉|「[^」]*」|『[^』]*』|（[^）]*）|\([^)]*\)|“[^”]*”|\"[^\"]*\"")
_HIRAGANA = re.compile("[\u3041-\u309f]")
_HIRAGANA_RUN = re.compile("[\u3041-\u309f]+")
_CHINESE_TITLES = re.compile(r"《[^》]*》|〈[^〉]*〉")


def _count(chars: set, text: str) -> int:
    return sum(c in chars for c in text)


def _chinese_around_kana(text: str) -> bool:
    """Chinese that keeps a Japanese word or title: outside quoted spans, more of what only Chinese
    writes than hiragana and Japanese-only forms (Japanese sentences are full of hiragana). Where
    kana stand outside a quote, Traditional forms do not count: Japanese names keep them
    (國學院大學の学生)."""
    rest = _QUOTED_SPANS.sub(" ", text)
    japanese = len(_HIRAGANA.findall(rest)) + _count(_JAPANESE_NOT_CHINESE, rest)
    if not _PATTERNS["Kana"].search(rest):   # kana only in a quoted title or gloss
        if not japanese and len(_PATTERNS["Hani"].findall(rest)) >= QUOTED_KANA_HAN \
                and _count(_CHINESE_FUNCTION_WORDS, rest) \
                and not _PATTERNS["Kana"].search(_CHINESE_TITLES.sub(" ", text)):
            # kana only in Chinese title marks, nothing Japanese outside, a Chinese function word
            # and enough Han to be a sentence of its own ("《となりのトトロ》是宫崎骏的作品。": none
            # of the listed Chinese-only forms in it); a kanji-only Japanese headline around a
            # title (〈もののけ姫〉公開記念特別上映) has no such word, and Japanese quotes a title
            # in 「」 or 『』 too (「千と千尋の神隠し」海外公開決定 stays Japanese)
            return True
        return _count(_CHINESE_ONLY, rest) > japanese
    # Kana outside quotes: weighed by words, not characters. A Japanese word left unquoted in a
    # Chinese sentence is one run of hiragana however long ("这家店的招牌菜是たこ焼き，味道很好。" was
    # Japanese: 3 hiragana against 这 and 很), and Chinese function words outside it (的 是 在) are
    # Chinese's; at half a Chinese-only form each, as Japanese compounds write them too (現在,
    # 都市, 効果的): no line of FLORES-200, NTREX-128, WMT24++ or PAWS-X Japanese changes.
    runs = len(_HIRAGANA_RUN.findall(rest)) + _count(_JAPANESE_NOT_CHINESE, rest)
    return 2 * _count(_CHINESE_NOT_HANJA, rest) + _count(_CHINESE_FUNCTION_WORDS, rest) > 2 * runs


# Han characters outside the quoted spans, none of them Japanese-only and no hiragana among
# them, from which a text whose kana are all in Chinese title marks (《》, 〈〉) is Chinese.
QUOTED_KANA_HAN = 4
# Chinese function words a Japanese kanji-only headline does not hold (the text around a title
# in 《》 or 〈〉 must have one to be read as Chinese)
_CHINESE_FUNCTION_WORDS = set("的了是把被也都就在")


def _japanese_forms(text: str) -> bool:
    """Han text written with more Japanese-only forms than Chinese-only ones, a quoted name
    aside ("我在大阪駅附近等你" and "《読売新聞》報導" are Chinese with a Japanese name in them)."""
    rest = _QUOTED_SPANS.sub(" ", text)
    return _count(_JAPANESE_NOT_CHINESE, rest) > _count(_CHINESE_ONLY, rest)


# A Hangul syllable touching a Han character: a Korean particle or ending on a Hanja word
# (大韓民國은, 民主共和國이다), a Hangul word compounded with one (서울市長); Chinese that quotes a
# Korean name sets it apart with a space.
_KOREAN_MIXED = re.compile(f"[{_SCRIPTS['Hani']}][\uac00-\ud7a3]|[\uac00-\ud7a3][{_SCRIPTS['Hani']}]")
# A Latin word that names rather than says (Samsung, S24, iPhone, COVID-19): with a capital or a
# digit. Latin text made only of such words beside another script is judged by the rest
# ("Samsung Galaxy S24 Ultra 출시" is Korean).
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff][A-Za-z0-9\u00c0-\u024f\u1e00-\u1eff'-]*")


def _a_sign(text: str) -> bool:
    """One short token that a text in any language writes as it is: a unit or abbreviation
    ("kg", "km/h", "etc.", "ok", "e-mail"), not a word of a language."""
    words = text.split()
    if len(words) != 1:
        return False
    word = words[0].strip(".,!?;:()[]\"'")
    return len(word) <= 4 or bool(re.search(r"[/\d]|\w[.-]\w", word))


def _other_letters(text: str, script: str) -> bool:
    """Whether a text has letters of a listed script other than `script`."""
    return any(n for name, n in script_counts(text).items() if name != script)


_BRACKETED = re.compile(r"[(\[（【「『][^)\]）】」』]*[)\]）】」』]")


def _confidences(script: str, text: str) -> dict[str, float]:
    return {_lingua_code(c.language): c.value for c in _detector(script).compute_language_confidence_values(text)}


def _only_script(text: str, script: str) -> str:
    """The text with the letters of every other listed script taken out (kept: its own, and
    what is in no script: digits, punctuation, spaces)."""
    others = "".join(chars for name, chars in _SCRIPTS.items() if name != script and
                     not (script == "Jpan" and name in ("Kana", "Hani")))
    return re.sub(f"[{others}]+", " ", text)


# A capitalised word inside a sentence (not its first): a name or a term, as said of no language.
_NAME_INSIDE = re.compile(r"(?<=[^\s.!?¡¿:;«»\"“”„(])(\s+)[A-Z\u00c0-\u00de][\w'-]*")


def _without_names(text: str) -> str:
    return _NAME_INSIDE.sub(r"\1", text)


_FUNCTION_WORDS = {"the", "a", "an", "it", "is", "are", "was", "be", "to", "of", "for", "and", "or", "in", "on",
                   "at", "by", "with", "from", "this", "that", "your", "our", "my", "you", "we", "i", "he",
                   "she", "they", "not", "how", "what"}


# Brackets around a gloss (not 「」『』: Japanese and Chinese quotation marks), and quoted spans
_GLOSS = re.compile(r"[(\[（【][^)\]）】]*[)\]）】]")
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”|„[^“”]*[“”]|«[^»]*»|「[^」]*」|『[^』]*』|`[^`]*`')


def _running_english(text: str) -> bool:
    """Whether the Latin letters of a text outside brackets and quotes hold running English
    text: eight words or more, three of them function words, half of them lower case (a title's
    words are capitalised: "Just the Funny Parts: And a Few Hard Truths"; a message quoted as it
    is - 에러 메시지는 "the file is not found"였다 - is part of a translation)."""
    words = _LATIN_WORD.findall(_only_script(_QUOTED.sub(" ", _BRACKETED.sub(" ", text)), "Latn"))
    return len(words) >= 8 and sum(w.lower() in _FUNCTION_WORDS for w in words) >= 3 \
        and sum(w[0].islower() for w in words) >= 0.5 * len(words)


def _only_names(text: str) -> bool:
    """Whether a text's Latin words are all names (a capital or a digit in each), with at least
    one such word: Cyrillic or Arabic with no Latin word is not "names only" (it was, vacuously,
    and a short Russian answer for an English or Korean target came out undetermined)."""
    words = _LATIN_WORD.findall(text)
    return bool(words) and all(any(c.isupper() or c.isdigit() for c in word) for word in words)


# Han characters up to which a text with no kana and no telling form cannot be placed: "序章",
# "東京" are Japanese as much as Chinese.
TOO_SHORT_TO_TELL = 4


def _han_for_japanese(text: str) -> str:
    """The language of Han text without kana when Japanese is expected. Japanese sentences
    carry kana; Han alone is Chinese when it has a Simplified form Japanese does not write, or
    when lingua (Chinese against Japanese) is sure of Chinese; a few characters with neither
    are undetermined ("und": not on-target, not off-target)."""
    han = _PATTERNS["Hani"].findall(text)
    if _japanese_forms(text):
        return "ja"
    if any(c in _CHINESE_ONLY for c in han):   # (Han with no kana, or kana only in a quoted title)
        return _chinese(text, None)
    if _PATTERNS["Kana"].search(text) and _chinese_around_kana(text):
        # kana only in a quoted title, nothing Japanese around it: lingua would read the title
        # ("《となりのトトロ》是宫崎骏的作品。" was on-target Japanese)
        return _chinese(text, None)
    if len(han) <= TOO_SHORT_TO_TELL:
        return "und"
    values = {c.language.name: c.value for c in _detector("Jpan").compute_language_confidence_values(text)}
    if values.get("JAPANESE", 0) >= 0.9:
        return "ja"
    if values.get("CHINESE", 0) >= 0.9:
        return _chinese(text, None)
    return "und"


def chinese_script(text: str) -> str | None:
    """"Hans", "Hant", or None when the text's Chinese is valid in both (see zhscript)."""
    return by_inventory(text[:MAX_CHARS])


def _chinese(text: str, expected: str | None) -> str:
    """"zh" or "zh-Hant" for a Chinese text.
    Text with no script-specific character (or as many of each) is valid in both scripts
    ("他在大阪工作。"; "什么", "里": forms Taiwan writes too), so its script cannot be told: for a
    Chinese expected language it is undetermined ("und": neither on- nor off-target, counted
    apart), for any other it is Chinese ("zh")."""
    script = chinese_script(text)
    if script is None:
        return "und" if expected in CHINESE else "zh"
    return "zh-Hant" if script == "Hant" else "zh"


def lingua_version() -> str:
    from importlib.metadata import version
    return version("lingua-language-detector")
