"""Off-target rate: the share of outputs that are not in the target language.

Each output gets a detected language (xling.metrics.langid: scripts first, lingua for shared scripts)
and flags: `empty`, `wrong_language`, `copy` (the output repeats the source). The corpus figure is
the percentage of off-target outputs (empty or in another language); outputs with no letters at
all (numbers, punctuation) cannot be judged and count as on-target. `on_target_mask` gives the
mask that restricts other metrics to on-target segments.
"""
from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from typing import Sequence

from ..data.languages import resolve
from .base import Signature, check_lengths, mean_result

_CHINESE = {"zh", "zh-Hant"}


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\W_]+", "", text)


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


def segment_flags(output: str, tgt_code: str, source: str | None = None) -> dict:
    from .langid import chinese_script, detect

    detection = detect(output, expected=tgt_code)
    empty = not output.strip()
    wrong = not empty and detection.lang != "und" and not _same_language(detection.lang, tgt_code)
    # Chinese in the other script (Simplified for a zh-Hant target, or the reverse) is off-target.
    wrong_script = not empty and not wrong and tgt_code in _CHINESE and \
        chinese_script(output) not in (None, resolve(tgt_code).script)
    return {"lang": detection.lang, "script": detection.script, "empty": empty,
            "wrong_language": wrong, "wrong_script": wrong_script,
            "copy": bool(source) and is_copy(output, source), "off_target": empty or wrong or wrong_script}


def off_target(hyps: Sequence[str], tgt_lang: str, srcs: Sequence[str] | None = None):
    """Percentage of off-target outputs; segments are 1.0 (off-target) or 0.0."""
    tgt = resolve(tgt_lang)
    check_lengths(hypotheses=hyps, sources=srcs)
    sources = srcs if srcs is not None else [None] * len(hyps)
    flags = [segment_flags(h, tgt.code, s) for h, s in zip(hyps, sources)]
    from .langid import lingua_version
    from .. import __version__

    counts = {key: sum(f[key] for f in flags) for key in ("empty", "wrong_language", "wrong_script", "copy", "off_target")}
    languages: dict[str, int] = {}
    for f in flags:
        languages[f["lang"]] = languages.get(f["lang"], 0) + 1
    variant = {"zhscript": "yes"} if tgt.code in _CHINESE else {}   # Simplified vs Traditional checked
    signature = Signature.of(tgt=tgt.code, langid=f"script+lingua-{lingua_version()}+expected",
                             copy="yes" if srcs is not None else "no", **variant, xling=__version__).format()
    extra = {"counts": counts, "detected": dict(sorted(languages.items(), key=lambda kv: -kv[1])),
             "flags": flags}
    return mean_result("OffTarget%", [float(f["off_target"]) for f in flags], signature,
                       scale=100.0, extra=extra)


def on_target_mask(result) -> list[bool]:
    """From an off_target() result: True where the output is in the target language."""
    return [not f["off_target"] for f in result.extra["flags"]]
