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
    """"1", "2", "tie", or None when the verdict cannot be read: a reply opening with 1 or 2 is
    that verdict unless its opening names both answers or a tie, or a later sentence says the
    other answer is better or that they tie ("2 - more detailed than Answer 1" is 2)."""
    t = text.strip().strip("\"'*.` ").lower()
    t = re.sub(r"^(answer|verdict|winner)\s*[:：]?\s*", "", t)
    if re.fullmatch(r"(answer\s*)?1|first|one", t):
        return "1"
    if re.fullmatch(r"(answer\s*)?2|second|two", t):
        return "2"
    if t in ("tie", "draw", "equal", "both"):
        return "tie"
    match = re.match(r"^([12])\b(.*)$", t, re.S)
    if match is None:
        return None
    verdict, rest = match.groups()
    other = "2" if verdict == "1" else "1"
    # The opening (up to the first line end, sentence mark or parenthesis) is the verdict: it must
    # name one answer ("1 and 2 are equally good", "1 = 2", "1/2", "1 or 2" name two; "1 - both
    # are fine", "2 is the same as 1" a tie). What follows explains it and may name the other
    # answer ("more detailed than Answer 1"); it only undoes the verdict where it says the other
    # answer is better or preferred, or declares a tie.
    end = re.search(r"[\n.:;!?—(]", rest)
    head, tail = (rest[:end.start()], rest[end.start():]) if end else (rest, "")
    if _COORDINATED.search(verdict + head) or _TIE_WORD.search(head) or _prefers(head, other):
        return None
    sentences = [s for s in re.split(r"[\n.;!?—()]+", tail) if s.strip()]
    if any(_prefers(s, other) or _declares_tie(s) for s in sentences):
        return None
    return verdict


# two answers joined: "1 and 2", "1 or answer 2", "1, 2", "1/2", "1 = 2", "1 < 2", '"1" or "2"'
_COORDINATED = re.compile(r"\b[12][\"'*`]*\s*(?:and|or|vs\.?|versus|&|,|/|==?|<=?|>=?|≈|~)\s*"
                          r"(?:answer\s*|response\s*)?[\"'*`]*[12]\b")
_TIE_WORD = re.compile(r"\b(?:tie[ds]?|draw|equal(?:ly)?|same|both|neither|either)\b|[<>=≈/]")
_ORDINAL = {"1": "first", "2": "second"}
# a sentence that states a tie outright ("It's a tie", "Both are equally good", "Neither is better")
_TIE_SAID = re.compile(r"^\W*(?:tie|draw|equal|tied)\W*$|\b(?:it'?s|it is|this is|that'?s|a|call it a|they)\s+(?:a\s+)?"
                       r"(?:tie|draw)\b|\b(?:they|both|the two)\b(?:\s+(?:answers|responses))?\s+(?:are|seem|look)\s+"
                       r"(?:\w+\s+)?(?:equal|equally\s+\w+|the same|as good|identical)\b|\bequally\s+(?:good|bad|"
                       r"helpful|correct|fine|strong|weak|accurate|valid|useful)\b|\bneither\s+(?:answer\s+|response\s+|"
                       r"one\s+)?is\s+(?:\w+\s+)?(?:better|worse|preferable)\b|\bno\s+(?:clear\s+)?(?:winner|difference|"
                       r"preference)\b|\bthey\s+tie\b")
_CONTRAST = re.compile(r"\b(?:but|though|although|while|whereas|however|yet|except|slightly|more|less|better|worse)\b")
# (not "is not better", "better formatted", "better at first glance": praise of one side of it)
_BETTER = (r"(?:is|was|seems|looks|would be)\s+(?!(?:\w+\s+){0,2}?(?:not|never|hardly|no)\b)(?:\w+\s+){0,2}?"
           r"(?:better|preferred|preferable|superior|the winner|best)\b"
           r"(?!\s+(?:at|in|on|for|when|formatted|written|structured|presented|organi[sz]ed|looking)\b)")
# what follows a preference and takes it back ("Answer 2 seems better but contains an error")
_QUALIFIED = re.compile(r"\b(?:but|however|though|although|yet|except)\b")


def _prefers(sentence: str, other: str) -> bool:
    """Whether `sentence` says the `other` answer is the better one."""
    names = (rf"(?:(?:answer|response|option|candidate)\s*{other}\b|\b{other}\b"
             rf"|the\s+{_ORDINAL[other]}\b(?:\s+(?:answer|response|one))?"
             r"|the\s+other\b(?:\s+(?:answer|response|one))?)")
    said = re.search(names + r"\s+" + _BETTER + "|" + rf"\bprefer\s+(?:answer\s+|response\s+)?{other}\b"
                     + rf"|\b(?:answer\s+|response\s+)?{other}\s+wins\b", sentence)
    return said is not None and not _QUALIFIED.search(sentence[said.end():])


def _declares_tie(sentence: str) -> bool:
    return bool(_TIE_SAID.search(sentence)) and not _CONTRAST.search(sentence)


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
# unreadable verdict counted as a loss; 2: a reply's leading digit was its verdict whatever followed;
# 3: the opening must name one answer and no tie, and a later sentence preferring the other answer
# or declaring a tie makes it unreadable) is judged again (the judge's answers come from the cache).
JUDGE_RULE = 3
