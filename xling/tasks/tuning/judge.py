"""LLM-as-a-judge preference between two models' answers, as in the report: each pair judged
twice with the order swapped, 0.5 point per win for model A (so 0, 0.5 or 1 per sample).

A tie is half a win (0.25 of the sample), so that two equally good answers score 0.5, not 0 as
if A had lost twice. Raw verdicts are kept; verdicts that cannot be parsed are counted, never
guessed: a sample is scored on its readable verdicts alone (one readable verdict: 0, 0.5 or 1),
and a sample whose two verdicts are both unreadable is left out of the mean."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...backends.base import Decoding, GenerationRequest, Prompt

JUDGE_PROMPT = (
    "You are comparing two answers to the same instruction. Decide which answer follows the "
    "instruction better and is more helpful and correct.\n\n"
    "Instruction:\n{instruction}\n\nAnswer 1:\n{first}\n\nAnswer 2:\n{second}\n\n"
    "Reply with exactly one of: \"1\", \"2\" or \"tie\".")


def parse_verdict(text: str) -> str | None:
    """"1", "2", "tie", or None when the verdict cannot be read."""
    t = text.strip().strip("\"'*.` ").lower()
    t = re.sub(r"^(answer|verdict|winner)\s*[:：]?\s*", "", t)
    if re.fullmatch(r"(answer\s*)?1|first|one", t):
        return "1"
    if re.fullmatch(r"(answer\s*)?2|second|two", t):
        return "2"
    if t in ("tie", "draw", "equal", "both"):
        return "tie"
    match = re.match(r"^([12])\b(.*)$", t, re.S)
    # a leading digit is the verdict only where the rest names no other answer, tie or
    # comparison ("1 and 2 are equally good", "1 = 2", "1/2" were read as "1")
    if match is None or re.search(r"\b[12]\b|first|second|\b(?:tie[ds]?|equal(?:ly)?|same|both|neither|draw)\b"
                                  r"|[<>=≈/]", match.group(2)):
        return None
    return match.group(1)


@dataclass
class JudgeResult:
    scores: list[float | None]                 # per sample: A's share of the wins, 0 to 1
    verdicts: list[tuple[str, str]] = field(default_factory=list)   # raw (A first, B first)
    unparseable: int = 0

    @property
    def preference(self) -> float:
        valid = [s for s in self.scores if s is not None]
        return sum(valid) / len(valid) if valid else float("nan")


def judge_pairwise(backend, instructions, answers_a, answers_b, max_new_tokens: int = 8,
                   chat: bool | None = None) -> JudgeResult:
    """Ask `backend` (any xling backend) to compare A and B twice per sample, order swapped."""
    chat = backend.has_chat_template if chat is None else chat
    prompts = []
    for ins, a, b in zip(instructions, answers_a, answers_b):
        for first, second in ((a, b), (b, a)):
            text = JUDGE_PROMPT.format(instruction=ins, first=first, second=second)
            prompts.append(Prompt(messages=(("user", text),)) if chat else Prompt(text=text + "\nVerdict:"))
    raw = backend.generate([GenerationRequest(p, max_new_tokens, stop_at_newline=True) for p in prompts],
                           Decoding())
    result = JudgeResult(scores=[])
    for i in range(0, len(raw), 2):
        forward, backward = parse_verdict(raw[i]), parse_verdict(raw[i + 1])
        result.verdicts.append((raw[i], raw[i + 1]))
        result.unparseable += (forward is None) + (backward is None)
        if forward is None and backward is None:
            result.scores.append(None)
            continue
        shares = [_share_of_a(verdict, a_at) for verdict, a_at in ((forward, "1"), (backward, "2"))
                  if verdict is not None]
        result.scores.append(sum(shares) / len(shares))
    return result


def _share_of_a(verdict: str, position_of_a: str) -> float:
    """A's share of one verdict: 1 won, 0.5 tie, 0 lost."""
    return 0.5 if verdict == "tie" else float(verdict == position_of_a)


# Kept beside stored preferences: a sweep judged under an older rule (a tie gave A no point, an
# unreadable verdict counted as a loss; 2: a leading digit naming the other answer or a tie was
# read as a win) is judged again (the judge's answers come from the cache).
JUDGE_RULE = 3
