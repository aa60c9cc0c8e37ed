"""Training mixes: for each Korean share, a training set of the same size in which every pair
appears exactly once, in Korean or in English; held-out test pairs never enter training."""
from __future__ import annotations

import random
from dataclasses import dataclass

from ...errors import XlingError
from .paired import Pair

# 15 Korean shares from 0 to 1, dense at the small end (the report's 0.5% finding) and including
# 0.25 / 0.5 / 0.75, which Table 16's mixed settings average.
DEFAULT_RATIOS = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.95, 0.99, 1.0)


@dataclass
class Mix:
    ratio: float
    seed: int
    examples: list[tuple[str, str, str, str]]   # (pair id, language, instruction, response)

    @property
    def korean_share(self) -> float:
        return sum(lang == "ko" for _, lang, _, _ in self.examples) / len(self.examples)


def check_ratios(ratios) -> list[float]:
    if not ratios:
        raise XlingError("ratios must name at least one Korean share (from 0 to 1)")
    out = []
    for r in ratios:
        if not isinstance(r, (int, float)) or not 0.0 <= float(r) <= 1.0:
            raise XlingError(f"Korean shares must lie in [0, 1]; got {r!r}")
        out.append(float(r))
    named = [f"{r:g}" for r in out]   # (each share trains in a unit named so: sweep.unit_name)
    twice = sorted({n for n in named if named.count(n) > 1})
    if twice:   # the second was skipped as finished, in the first's place
        raise XlingError(f"ratios names the Korean share {', '.join(twice)} twice (shares are told apart to "
                         "6 significant digits): give each share once")
    return out


def split_pairs(pairs: list[Pair], test_size: int, seed: int) -> tuple[list[Pair], list[Pair]]:
    if test_size >= len(pairs):
        raise XlingError(f"test_size {test_size} leaves no training pairs (only {len(pairs)} pairs)")
    order = sorted(pairs, key=lambda p: p.id)
    random.Random(f"split-{seed}").shuffle(order)
    return order[test_size:], order[:test_size]


def _instructions(pair: Pair) -> set[str]:
    return {" ".join(pair.en[0].split()), " ".join(pair.ko[0].split())}


def without_held_out_text(train: list[Pair], test: list[Pair]) -> list[Pair]:
    """Training pairs whose instruction (either language, spacing aside) is no held-out pair's:
    instruction data repeats questions under other ids, and a held-out question trained on
    scores a recalled answer."""
    held_out = set().union(*map(_instructions, test)) if test else set()
    return [p for p in train if not _instructions(p) & held_out]


def build_mix(train: list[Pair], ratio: float, seed: int, size: int | None = None) -> Mix:
    size = size or len(train)
    if size > len(train):
        raise XlingError(f"train_size {size} exceeds the {len(train)} training pairs")
    chosen = sorted(train, key=lambda p: p.id)
    rng = random.Random(f"mix-{seed}")
    rng.shuffle(chosen)
    chosen = chosen[:size]
    n_korean = round(ratio * size)
    examples = [(p.id, "ko" if i < n_korean else "en", *p.side("ko" if i < n_korean else "en"))
                for i, p in enumerate(chosen)]
    rng.shuffle(examples)
    return Mix(ratio, seed, examples)
