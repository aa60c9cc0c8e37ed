"""Simplified or Traditional Chinese, by CC-CEDICT's character inventory (hanzidentifier's).

A character is Simplified-only when CC-CEDICT has it as the Simplified form of some word and
never as a Traditional form (这, 们, 为), Traditional-only the other way round (這, 們, 為);
every other character (人, 的, 台, 群, ...) is written the same in both and says nothing. A text
leans to the script whose own characters it has more of.

Chosen over OpenCC's conversion tables after measuring both (NOTES.md, issue 25;
experiments/bench/zh_script.py): both classify ≥ 99.2% of the FLORES-200 and NTREX-128 lines
right, but OpenCC's s2t also rewrites characters that Traditional text uses as they are
(群→羣, 台→臺, 布→佈), so it "finds" Simplified characters in Traditional text: on short pieces
(8 characters) it called 42 of 19,229 Traditional pieces Simplified, CC-CEDICT's sets 1 (a
Simplified 宫 in a Traditional reference).
"""
from __future__ import annotations

from functools import lru_cache

from ..errors import XlingError

SIMPLIFIED, TRADITIONAL = "Hans", "Hant"


@lru_cache(maxsize=1)
def _inventory() -> dict[str, str]:
    """Each script-specific character -> "Hans" or "Hant" (loaded on first use: ~20 ms)."""
    try:
        from hanzidentifier import helpers
    except ImportError:   # an install without xling's requirements
        raise XlingError("telling Simplified from Traditional Chinese needs hanzidentifier: "
                         "pip install 'hanzidentifier>=1.2'") from None

    simplified, traditional = helpers.SIMPLIFIED_CHARACTERS, helpers.TRADITIONAL_CHARACTERS
    table = dict.fromkeys(simplified - traditional, SIMPLIFIED)
    table.update(dict.fromkeys(traditional - simplified, TRADITIONAL))
    return table


def script_votes(text: str) -> tuple[int, int]:
    """(Simplified-only, Traditional-only) characters in `text`."""
    table = _inventory()
    simplified = traditional = 0
    for char in text:
        script = table.get(char)
        if script == SIMPLIFIED:
            simplified += 1
        elif script == TRADITIONAL:
            traditional += 1
    return simplified, traditional


def chinese_script(text: str) -> str | None:
    """"Hans" or "Hant": the script with more of its own characters in `text`. None when
    undecided: no script-specific character at all ("他在大阪工作。"; "明天见" is Hans by 见), or as
    many of each. Undecided text is valid in either script, so callers count it as either
    (never off-target for its script alone)."""
    simplified, traditional = script_votes(text)
    if simplified > traditional:
        return SIMPLIFIED
    if traditional > simplified:
        return TRADITIONAL
    return None


def inventory_version() -> str:
    """For signatures: hanzidentifier reads the characters from zhon's CC-CEDICT snapshot."""
    from importlib.metadata import version
    return f"hanzidentifier-{version('hanzidentifier')}+zhon-{version('zhon')}"
