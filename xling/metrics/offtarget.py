"""Off-target rate: the share of outputs that are not in the target language, and beside it the
share that cannot be judged.

Each output gets a detected language (xling.metrics.langid: scripts first, lingua for shared
scripts) and flags: `empty`, `wrong_language`, `wrong_script` (Chinese in the other script:
Simplified for a zh-Hant target, Traditional for zh), `undetermined` (no letters at all: numbers,
punctuation, symbols; or letters no detector can place), `copy` (the output repeats the source).

Every output is exactly one of three, over the same denominator (all outputs, so the shares add
up to 100%):
- off-target: empty, in another language, or in the other Chinese script (the score, OffTarget%);
- undetermined: `extra["undetermined_rate"]`, in %; never counted as on-target;
- on-target: the rest (`on_target_mask`, which restricts other metrics to those segments).
Chinese valid in both scripts (no character of one script only, "他在大阪工作。") is undetermined for a
Chinese target: its script cannot be told, so it is neither on- nor off-target.
"""
from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Sequence

from .. import __version__
from ..data.languages import Language, plain_code, resolve
from ..data.textio import is_blank
from ..errors import XlingError
from .base import Signature, check_lengths, mean_result
from .langid import RULES, detect, lingua_version
from .zhscript import inventory_version

_CHINESE = {"zh", "zh-Hant"}


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\W_]+", "", text)


# Pure: a report scoring two runs against the same sources (and their references' floor)
# compares each pair once.
@lru_cache(maxsize=1 << 15)
def is_copy(output: str, source: str, threshold: float = 0.9) -> bool:
    a, b = _normalize(output), _normalize(source)
    if not a or not b:
        return False
    if a == b:
        return True
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold \
        and matcher.ratio() >= threshold


def _same_language(detected: str, target: str) -> bool:
    return detected == target or (detected in _CHINESE and target in _CHINESE)


# What `lang` says of an empty output, and of an empty output for a blank source line.
EMPTY, BLANK = "empty", "blank"


def segment_flags(output: str, tgt_code: str, source: str | None = None) -> dict:

    tgt_code = plain_code(tgt_code)   # (a regional variety, pt_BR: detected as its language)
    detection = detect(output, expected=tgt_code)
    # invisible format characters alone (a zero-width space, a BOM) are an empty output
    empty = is_blank(output)
    # a blank line kept as a segment (text:, jsonl: files): nothing to translate, so an empty
    # output is neither off-target nor undetermined (a perfect system scored 25% with one); its
    # "lang" (the `detected` key, the outputs file's "lang") is "blank", an empty output's "empty":
    # "und" is the undetermined ones' alone
    if empty and source is not None and not source.strip():
        return {"lang": BLANK, "script": detection.script, "empty": False, "undetermined": False,
                "wrong_language": False, "wrong_script": False, "copy": False, "off_target": False}
    undetermined = not empty and detection.lang == "und"
    wrong = not empty and not undetermined and not _same_language(detection.lang, tgt_code)
    # Chinese in the other script (Simplified for a zh-Hant target, or the reverse); text valid
    # in both scripts is undetermined (detect() says "und"), never flagged.
    wrong_script = not empty and not undetermined and not wrong and tgt_code in _CHINESE \
        and detection.lang != tgt_code
    return {"lang": EMPTY if empty else detection.lang, "script": detection.script, "empty": empty,
            "undetermined": undetermined, "wrong_language": wrong, "wrong_script": wrong_script,
            "copy": bool(source and is_copy(output, source)), "off_target": empty or wrong or wrong_script}


def off_target(hyps: Sequence[str], tgt_lang: str, srcs: Sequence[str] | None = None):
    """Percentage of off-target outputs among all outputs; segments are 1.0 (off-target) or 0.0.
    `extra["undetermined_rate"]` is the percentage of undetermined outputs, over the same
    denominator (they are 0.0 here, and not on-target either: see `on_target_mask`)."""
    if tgt_lang is None:
        raise XlingError("off_target needs the target language: tgt_lang, a code such as 'ko'")
    if not isinstance(tgt_lang, (str, Language)):   # off_target(hyps, refs, "ko"), as the other metrics take them
        given = f"a {type(tgt_lang).__name__} of {len(tgt_lang)}" if hasattr(tgt_lang, "__len__") \
            else str(repr(tgt_lang))[:40]
        raise XlingError(f"tgt_lang (the second argument) is a language code such as 'ko', not {given}; "
                         "off_target takes (hyps, tgt_lang, srcs=None), no references")
    tgt = resolve(tgt_lang).plain
    check_lengths(hypotheses=hyps, sources=srcs)
    sources = srcs if srcs is not None else [None] * len(hyps)
    flags = [segment_flags(h, tgt.code, s) for h, s in zip(hyps, sources)]

    counts = {key: sum(f[key] for f in flags)
              for key in ("empty", "undetermined", "wrong_language", "wrong_script", "copy", "off_target")}
    languages: dict[str, int] = {}
    for f in flags:   # (an empty output is off-target: "empty", not "und" with the undetermined)
        languages[f["lang"]] = languages.get(f["lang"], 0) + 1
    variant = {}
    if tgt.code in _CHINESE:      # Simplified vs Traditional checked, with this inventory
        variant = {"zhscript": inventory_version()}
    signature = Signature.of(tgt=tgt.code, langid=f"script+lingua-{lingua_version()}+expected+rules{RULES}",
                             copy="yes" if srcs is not None else "no", **variant, xling=__version__).format()
    extra = {"undetermined_rate": 100.0 * counts["undetermined"] / len(flags), "counts": counts,
             "detected": dict(sorted(languages.items(), key=lambda kv: -kv[1])), "flags": flags}
    result = mean_result("OffTarget%", [float(f["off_target"]) for f in flags], signature,
                         scale=100.0, extra=extra)
    result.higher_is_better = False   # also when called directly, not through the registry
    return result


def on_target_mask(result) -> list[bool]:
    """From an off_target() result: True where the output is in the target language (neither
    off-target nor undetermined)."""
    if "flags" not in getattr(result, "extra", {}):
        raise XlingError(f"on_target_mask takes an off_target() result, not {getattr(result, 'name', result)!r}")
    return [not f["off_target"] and not f["undetermined"] for f in result.extra["flags"]]
