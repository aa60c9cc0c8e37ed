"""One registry of languages, read from langpairs/languages.tsv.

`resolve("ko") == resolve("kor") == resolve("kor_Hang")`; lookups ignore case and treat `-` and
`_` alike. Unknown codes raise XlingError naming the known ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from ..errors import XlingError
from .resources import data_folder


@dataclass(frozen=True)
class Language:
    code: str            # ISO 639-1 (+ script subtag where needed): "ko", "zh-Hant"
    flores: str          # FLORES-200 code: "kor_Hang"
    iso639_3: str
    name: str            # English name
    native: str          # name in the language itself
    script: str          # ISO 15924
    bleu_tokenizer: str  # sacrebleu tokenizer for this target language
    targeted: bool       # targeted by the HyperCLOVA X report (ko, en)
    family: str
    aliases: tuple[str, ...] = ()
    base: str = ""       # a regional variety's language ("pt" of pt_BR); "" for a language itself
    region: str = ""     # a regional variety's region ("BR")

    def __str__(self) -> str:
        return self.code

    @property
    def plain(self) -> "Language":
        """The language itself, without a variety's region: what off-target detection, seq2seq
        language tokens and the choice tasks' data know (pt_BR -> pt)."""
        return resolve(self.base) if self.base else self


def _key(text: str) -> str:
    return text.strip().lower().replace("_", "-")


@lru_cache(maxsize=1)
def _registry() -> tuple[tuple[Language, ...], dict[str, Language]]:
    path = data_folder("langpairs") / "languages.tsv"
    languages: list[Language] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        cells += [""] * (10 - len(cells))
        code, flores, iso3, name, native, script, tok, targeted, family, aliases = cells[:10]
        languages.append(Language(
            code=code, flores=flores, iso639_3=iso3, name=name, native=native, script=script,
            bleu_tokenizer=tok, targeted=targeted == "yes", family=family,
            aliases=tuple(a for a in aliases.split(",") if a)))
    index: dict[str, Language] = {}
    # Aliases first, so a primary code (or FLORES code) always wins over an alias;
    # the first language to claim an ISO 639-3 code keeps it ("zho" -> Simplified Chinese).
    for lang in languages:
        for alias in lang.aliases:
            index.setdefault(_key(alias), lang)
        index.setdefault(_key(lang.iso639_3), lang)
    for lang in languages:
        index[_key(lang.flores)] = lang
    for lang in languages:
        index[_key(lang.code)] = lang
    return tuple(languages), index


def all_languages() -> tuple[Language, ...]:
    return _registry()[0]


def resolve(code: str | Language) -> Language:
    """Return the Language for an ISO 639-1/639-3 code, a FLORES code or an alias."""
    if isinstance(code, Language):
        return code
    lang = _registry()[1].get(_key(str(code))) or _variety(str(code)) or _by_region(str(code))
    if lang is None and (reason := _script_not_named(str(code))):
        raise XlingError(reason)
    if lang is None:
        known = ", ".join(lang.code for lang in all_languages())
        shown = str(repr(code))[:60]   # (a list of sources given as the language)
        raise XlingError(f"unknown language code {shown}{_did_you_mean(str(code))}; known codes: {known} "
                         "(FLORES codes such as kor_Hang and ISO 639-3 codes also work)")
    return lang


# Regional varieties xling keeps apart: WMT24++'s locales of a language it has in several
# (pt_BR and pt_PT, ...; the dataset card's REGION_BY_CODE names their regions), each with the
# region's name in English and in the language (CLDR's). Their references differ, so a run names
# the variety in its prompt ("Portuguese (Brazil)") and outputs (en-pt_BR), and scores it as its
# language. Written as WMT24++ writes them (pt_BR, por_BR); pt-BR and other regions stay the
# language itself. (zh_CN and zh_TW are two languages already: Simplified and Traditional.)
VARIETIES = {"pt_BR": ("Brazil", "Brasil"), "pt_PT": ("Portugal", "Portugal"),
             "fr_CA": ("Canada", "Canada"), "fr_FR": ("France", "France"),
             "ar_EG": ("Egypt", "مصر"), "ar_SA": ("Saudi Arabia", "المملكة العربية السعودية"),
             "sw_KE": ("Kenya", "Kenya"), "sw_TZ": ("Tanzania", "Tanzania"),
             "bn_BD": ("Bangladesh", "বাংলাদেশ"), "bn_IN": ("India", "ভারত")}


@lru_cache(maxsize=256)
def _variety(code: str) -> Language | None:
    """A regional variety (VARIETIES) named by its locale, the region in capitals: pt_BR."""
    import dataclasses
    import re

    found = re.fullmatch(r"([a-zA-Z]{2,3})_([A-Z]{2})", code.strip())
    lang = _registry()[1].get(_key(found.group(1))) if found else None
    if found is None or lang is None or f"{lang.code}_{found.group(2)}" not in VARIETIES:
        return None
    region, native_region = VARIETIES[f"{lang.code}_{found.group(2)}"]
    return dataclasses.replace(lang, code=f"{lang.code}_{found.group(2)}", name=f"{lang.name} ({region})",
                               native=f"{lang.native} ({native_region})", aliases=(), base=lang.code,
                               region=found.group(2))


def plain_code(code: str) -> str:
    """The code of a regional variety's language (pt_BR -> pt); any other code as it is."""
    variety = _variety(code)
    return variety.base if variety is not None else code


def _did_you_mean(code: str) -> str:
    """A close match for an unknown code: a region in lower case (pt-br, zh-hant-tw: regions are
    written in capitals, as "ko-en" is a direction), a country's code for its language's (jp), a
    language's English name ("korean", "chinese": both scripts), a typo ("englsh")."""
    import difflib
    import re

    found = re.fullmatch(r"([a-zA-Z]{2,3})(?:[-_]([a-zA-Z]{4}))?[-_]([a-zA-Z]{2})", code.strip())
    if found and "_" in code and not found.group(2):   # (pt_br: the WMT24++ variety, not pt-BR's plain pt)
        variety = f"{found.group(1).lower()}_{found.group(3).upper()}"
        if variety in VARIETIES:
            return f" (did you mean {variety}? a region is written in capitals)"
    if found and found.group(3).lower() not in _registry()[1]:   # (ko-en, zh-hant-ko are directions)
        language, script, region = found.groups()
        canonical = "-".join(part for part in (language.lower(), script and script.title(), region.upper()) if part)
        if _by_region(canonical):   # (said for the part written otherwise: PT-BR's language)
            # (with a script subtag the language may be any case: ZH-HANT-TW resolves)
            low, high = language != language.lower() and not script, region != region.upper()
            why = ("a language code is written in lower case, a region in capitals" if low and high else
                   "a language code is written in lower case" if low else "a region is written in capitals")
            return f" (did you mean {canonical}? {why})"
    if (country := _registry()[1].get(COUNTRY_CODES.get(_key(code), ""))) is not None:
        return f" (did you mean {country.code} ({country.name})? {code.strip()} is a country's code)"
    if not code.strip().isalpha() or len(code.strip()) <= 3:
        return ""   # a code's near miss (afr_Latn, kr) is another language, not a typo of one
    # names: native, English, and English without its form ("chinese": Simplified and Traditional)
    names: dict[str, list[Language]] = {}
    for lang in all_languages():
        for name in (lang.native, lang.name, lang.name.split(" (")[0]):
            if lang not in names.setdefault(_key(name), []):
                names[_key(name)].append(lang)
    names.update({key: [lang] for key, lang in _registry()[1].items()})
    close = difflib.get_close_matches(_key(code), list(names), n=1, cutoff=0.8)
    if not close:
        return ""
    return f" (did you mean {' or '.join(f'{lang.code} ({lang.name})' for lang in names[close[0]])}?)"


# Country codes written for their language's code, where the country names one language xling
# has (not kr: Kanuri's code; not in, ch, ...: several languages).
COUNTRY_CODES = {"jp": "ja", "cn": "zh", "ua": "uk", "vn": "vi", "cz": "cs", "dk": "da", "gr": "el"}


def named_with_region(code: str) -> bool:
    """Whether `code` names its language only through a region (fra-CA, pt_BR), not as itself."""
    return _registry()[1].get(_key(code)) is None and _by_region(code) is not None


def _by_region(code: str) -> Language | None:
    """A language named with a region (de-DE, pt_BR, es-419, WMT24++'s locales): the language,
    where it is written one way only; zh-HK or sr-ME stay unknown (which script?) unless an
    alias names them."""
    import re

    # (the region in capitals, as BCP 47 and locales write it: "ko-en" is a direction, not Korean;
    # the language and script subtags in any case, as "ZH-HANT" resolves: ZH-HANT-TW, sr-latn-RS)
    scripted = re.fullmatch(r"(([a-zA-Z]{2,3})[-_]([a-zA-Z]{4}))(?:[-_](?:[A-Z]{2}|\d{3}))?", code.strip())
    if scripted:   # zh-Hant-TW, sr-Latn-RS: the script names the language's form, the region nothing more
        named = _registry()[1].get(_key(scripted.group(1)))
        # en-Latn(-US), ja-Jpan, ko-Kore: the script the language is written in anyway
        plain = _registry()[1].get(_key(scripted.group(2)))
        script = SCRIPT_ALIASES.get(scripted.group(3).title(), scripted.group(3).title())
        if named is None and plain is not None and plain.script == script \
                and sum(other.iso639_3 == plain.iso639_3 for other in all_languages()) == 1:
            return plain
        return named
    found = re.fullmatch(r"([a-z]{2,3})[-_]([A-Z]{2}|\d{3})", code.strip())
    lang = _registry()[1].get(_key(found.group(1))) if found else None
    region = found.group(2) if found else ""
    if lang is None or sum(other.iso639_3 == lang.iso639_3 for other in all_languages()) > 1 \
            or (lang.code, UN_M49.get(region, region)) in OTHER_SCRIPT_REGIONS:
        return None
    return lang


def _script_not_named(code: str) -> str | None:
    """Why a known language named with a region (sr-RS, pa-PK) is refused: the region does not
    say which script, of those xling lists or another; None for any other code."""
    import re

    found = re.fullmatch(r"([a-z]{2,3})[-_]([A-Z]{2}|\d{3})", code.strip())
    lang = _registry()[1].get(_key(found.group(1))) if found else None
    if found is None or lang is None:
        return None
    forms = [other for other in all_languages() if other.iso639_3 == lang.iso639_3]
    named = {other.code: SCRIPT_NAMES.get(other.script, other.script) for other in forms}
    if len(forms) > 1:
        scripts = " or ".join(f"{code} ({script})" for code, script in named.items())
        count = "two" if len(forms) == 2 else str(len(forms))
        return (f"{code.strip()}: {lang.name.split(' (')[0]} is written in {count} scripts there, and "
                f"the region does not say which; use {scripts}")
    region = found.group(2)
    if (lang.code, UN_M49.get(region, region)) in OTHER_SCRIPT_REGIONS:
        return (f"{code.strip()}: {lang.name} is written in another script there than the {named[lang.code]} "
                f"that xling's {lang.code} stands for, and xling has no {lang.name} in that script")
    return None


# Regions where a language xling lists in one script is written in another (Punjabi in
# Pakistan: Shahmukhi, not Gurmukhi): never resolved by the language alone (pa-PK, pan_PK, pa-586).
OTHER_SCRIPT_REGIONS = {("pa", "PK"), ("az", "IR"), ("uz", "AF"), ("sd", "IN"), ("mn", "CN"), ("ks", "IN"),
                        ("ku", "IQ"), ("ku", "IR"), ("ms", "BN"), ("tg", "AF"), ("ha", "SA")}
SCRIPT_NAMES = {"Cyrl": "Cyrillic", "Latn": "Latin", "Hans": "Simplified", "Hant": "Traditional", "Arab": "Arabic",
                "Guru": "Gurmukhi", "Deva": "Devanagari"}   # (in messages; other scripts by their code)
SCRIPT_ALIASES = {"Kore": "Hang"}   # (ISO 15924 Kore: Hangul with Hanja, how Korean is tagged)
UN_M49 = {"586": "PK", "364": "IR", "004": "AF", "356": "IN", "156": "CN", "368": "IQ", "096": "BN", "682": "SA"}


class Direction(NamedTuple):
    """A translation direction. Its `name` ("ko-en") names its outputs file and metrics entry;
    `Direction.parse` reads such a name back (the one place direction names are parsed)."""
    src: Language
    tgt: Language

    @property
    def name(self) -> str:
        return f"{self.src.code}-{self.tgt.code}"

    @classmethod
    def parse(cls, text: str) -> "Direction":
        return parse_pair(text)


def is_language(text: str) -> bool:
    """Whether `text` names one language xling knows (a code, a FLORES code, "zh-Hant"), not a
    direction ("ko-en") or anything else."""
    try:
        resolve(text)
        return True
    except XlingError:
        return False


def parse_pair(text: str) -> Direction:
    """Parse a direction such as "ko-en" or "kor_Hang-eng_Latn"."""
    parts = text.strip().split("-")
    # Try every split point so that codes containing "-" ("zh-Hant-ko") still parse.
    for cut in range(1, len(parts)):
        try:
            src, tgt = resolve("-".join(parts[:cut])), resolve("-".join(parts[cut:]))
        except XlingError:
            continue
        return check_direction(src, tgt)
    if len(parts) > 2 and all(is_language(part) for part in parts):    # ko-en-ja
        raise XlingError(f"cannot read language pair {text!r}: a direction is SRC-TGT, one language on each "
                         "side (e.g. ko-en)")
    # A side refused because its region does not name a script (pa-PK-en): that reason, not a
    # fragment ("PK-en") left over from a shorter side that resolves.
    for cut in range(1, len(parts)):
        for side in ("-".join(parts[:cut]), "-".join(parts[cut:])):
            if not is_language(side) and (reason := _script_not_named(side)):   # (zh-CN resolves)
                raise XlingError(reason)
    # No split gives two languages: where one side is a language (the longest that is), name
    # the other one; first a side with a suggestion (zh-hant-tw-en: zh-hant-tw, not "tw-en")
    sides = [("-".join(parts[:cut]), "-".join(parts[cut:])) for cut in range(1, len(parts))]
    for known, unknown in sorted(sides + [(b, a) for a, b in sides],
                                 key=lambda s: (not _did_you_mean(s[1]), -len(s[0]))):
        if known and unknown:
            try:
                resolve(known)
            except XlingError:
                continue
            resolve(unknown)        # raises: unknown language ...
    raise XlingError(f"cannot read language pair {text!r}; write it as SRC-TGT, e.g. ko-en")


def check_direction(src: str | Language, tgt: str | Language) -> Direction:
    src, tgt = resolve(src), resolve(tgt)
    if src == tgt:
        raise XlingError(f"source and target language are both {src.code}; choose two different languages")
    return Direction(src, tgt)


def named_pairs(name: str) -> list[Direction]:
    """A named set of directions from langpairs/pairs.tsv."""
    path = data_folder("langpairs") / "pairs.tsv"
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("\t", 1)
            table[key] = value.strip()
    if name not in table:
        halves = name.replace("_", "-", 1).split("-") if "_" in name else []
        try:   # ko_en: a direction written with an underscore (ko_KR is a language, not a direction)
            hint = f": did you mean {name.replace('_', '-', 1)}?" if len(halves) == 2 and all(map(resolve, halves)) \
                and name.count("_") == 1 else ", e.g. ko-en"
        except XlingError:
            hint = ", e.g. ko-en"
        raise XlingError(f"unknown pair set {name!r}; known: {', '.join(sorted(table))} (a direction is "
                         f"SRC-TGT{hint})")
    return [parse_pair(p) for p in table[name].split(",")]
