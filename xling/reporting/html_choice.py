"""The HTML report's view of NLI and multiple-choice runs (`xling eval nli`, `xling eval mc`)."""
from __future__ import annotations

from ..runs.records import ChoiceRun


def choice_data(runs: list[ChoiceRun]) -> dict | None:
    """What the page's choice view shows for these runs (None: no choice run)."""
    return None
