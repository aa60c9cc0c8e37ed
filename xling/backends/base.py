"""The interface every backend implements, and the request shapes it takes."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol, runtime_checkable

from ..errors import ItemTooLong, XlingError


@dataclass(frozen=True)
class Prompt:
    """A prompt before the model's own formatting: plain text for completion models, or chat
    messages that the backend renders with the tokenizer's chat template."""

    text: str | None = None
    messages: tuple[tuple[str, str], ...] | None = None   # ((role, content), ...)

    def __post_init__(self):
        if (self.text is None) == (self.messages is None):
            raise ValueError("a Prompt holds either text or messages")

    @property
    def is_chat(self) -> bool:
        return self.messages is not None


# The lowest sampling temperature: logits divided by less overflow float32 (inf, then NaN
# probabilities); sampling at it is already greedy in all but name.
MIN_TEMPERATURE = 1e-3


@dataclass(frozen=True)
class Decoding:
    """Decoding parameters; part of every cache key. Greedy unless do_sample is set."""

    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int = 0
    max_new_tokens_cap: int = 512
    # The per-request budget is length_factor * source tokens + length_slack, capped above.
    length_factor: float = 2.5
    length_slack: int = 20

    def __post_init__(self):

        import math
        import numbers

        # (do_sample="no" sampled; seed="1" and temperature="0.7" raised a TypeError from deep inside)
        if not (isinstance(self.do_sample, bool) or type(self.do_sample).__name__ in ("bool", "bool_")):   # (numpy's)
            raise XlingError(f"decoding: do_sample must be True or False, not {self.do_sample!r}")
        object.__setattr__(self, "do_sample", bool(self.do_sample))
        for name in ("seed", "max_new_tokens_cap", "length_slack"):   # numpy integers as Python's (cache keys)
            value = getattr(self, name)
            if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                object.__setattr__(self, name, int(value))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise XlingError(f"decoding: seed must be a whole number of 0 or more, not {self.seed!r}")
        for name in ("temperature", "top_p", "length_factor"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise XlingError(f"decoding: {name} must be a number, not {value!r}")
            object.__setattr__(self, name, float(value))
        if isinstance(self.max_new_tokens_cap, bool) or not isinstance(self.max_new_tokens_cap, int) \
                or isinstance(self.length_slack, bool) or not isinstance(self.length_slack, int):
            raise XlingError("decoding: max_new_tokens_cap and length_slack must be whole numbers, not "
                             f"{self.max_new_tokens_cap!r} and {self.length_slack!r}")
        if not all(math.isfinite(v) for v in (self.temperature, self.top_p, self.length_factor)):
            raise XlingError("decoding: temperature, top_p and length_factor must be finite numbers")
        if self.max_new_tokens_cap < 1 or self.length_slack < 0 or self.length_factor <= 0:
            raise XlingError("decoding: max_new_tokens_cap must be at least 1, length_factor above "
                             "0 and length_slack 0 or more")
        if self.temperature < MIN_TEMPERATURE and self.do_sample or not 0 < self.top_p <= 1:
            raise XlingError(f"decoding: sampling needs a temperature of at least {MIN_TEMPERATURE} (below it, "
                             "logits / temperature overflow; greedy decoding is what it approaches) and top_p in "
                             "(0, 1]")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Sampling:
    """How N candidate translations of one prompt are drawn (MBR, reranking). Candidate k of a
    prompt depends only on the prompt, these settings and k — never on N or on the batch — so
    a run with a larger N reuses the first ones and generates only the new ones.

    method "sample": ancestral sampling with temperature, nucleus (top_p) and epsilon sampling
    (tokens below probability epsilon dropped); "beam": beam search returning the N best beams
    (the candidates then depend on N, which is part of their key)."""

    method: str = "sample"
    temperature: float = 1.0
    top_p: float = 1.0
    epsilon: float = 0.0
    seed: int = 0

    def __post_init__(self):

        import math

        if not all(math.isfinite(v) for v in (self.temperature, self.top_p, self.epsilon)):
            raise XlingError("sampling: temperature, top_p and epsilon must be finite numbers")
        if self.method not in ("sample", "beam"):
            raise XlingError(f"sampling method must be sample or beam, not {self.method!r}")
        if self.temperature < MIN_TEMPERATURE or not 0 < self.top_p <= 1 or not 0 <= self.epsilon < 1:
            raise XlingError(f"sampling needs a temperature of at least {MIN_TEMPERATURE} (below it, logits / "
                             "temperature overflow; use --select greedy instead), top_p in (0, 1] and epsilon in "
                             "[0, 1)")

    def as_dict(self) -> dict:
        return asdict(self)

    def row_seed(self, k: int) -> int:
        """The random seed of candidate k."""
        return (self.seed * 1_000_003 + k * 7919 + 12345) % (2 ** 63)


@dataclass(frozen=True)
class GenerationRequest:
    prompt: Prompt
    max_new_tokens: int
    stop_at_newline: bool = False
    # Text that ends the answer (cut off, never returned): the end marker of a completion
    # template's block, for segments of several lines that the line end cannot end.
    stop: tuple[str, ...] = ()
    # Encoder-decoder MT models translate the bare source sentence from source_lang into a
    # forced target language (language codes travel with each request).
    source: str | None = None
    source_lang: str | None = None
    target_lang: str | None = None


class CutAnswer(str):
    """An answer its token budget ended while the model was still writing (no end-of-sequence
    token, line end or stop string came first; a server's finish_reason "length"). It is text
    like any other; `was_cut` tells a judge that an MQM list lacks its later severities, and a
    run how many translations were cut short. The output cache keeps the mark. `reason` says what
    ended it: "length" (the budget), or a server's "content_filter" (a larger budget cannot help)."""
    __slots__ = ("reason",)
    reason: str

    def __new__(cls, text: str, reason: str = "length"):
        answer = super().__new__(cls, text)
        answer.reason = reason
        return answer


def was_cut(text) -> bool:
    return isinstance(text, CutAnswer)


def budget_cut(text) -> bool:
    """An answer its token budget ended (not a server's content filter): what a larger budget mends."""
    return isinstance(text, CutAnswer) and text.reason == "length"


def ended_answer(text: str, request: "GenerationRequest", budget_spent: bool, reason: str = "length") -> str:
    """The answer as every backend returns it (cut_answer), a CutAnswer where the budget (or what
    `reason` names) ended it and no line end or stop string inside it did."""
    final = cut_answer(text, request)
    return CutAnswer(final, reason) if budget_spent and final == text else final


def cut_answer(text: str, request: "GenerationRequest") -> str:
    """An answer cut where its request says it ends: at the first line end (\r\n, \n or \r)
    with stop_at_newline, then before the first stop string. Every backend cuts here."""
    import re

    if request.stop_at_newline:
        text = re.split(r"\r\n|\n|\r", text, maxsplit=1)[0]
    return cut_at_stop(text, request.stop)


def cut_at_stop(text: str, stops) -> str:
    """The text before the first stop string (all of it when there is none): the earliest in
    the text, whichever the list names first (cut in list order, "C" before "ABC" cut "xxABC" at
    the C, where a server stops at the ABC)."""
    found = [text.find(stop) for stop in stops if stop]
    found = [at for at in found if at >= 0]
    return text[:min(found)] if found else text


@runtime_checkable
class Backend(Protocol):
    """What every backend does (hf, seq2seq, vllm, http, and any registered one). Backends
    subclass it (a runtime check, `isinstance(b, Backend)`, holds for them, and they inherit
    the defaults below); tests/test_backend_conformance.py runs each through the same cases."""
    fingerprint: dict          # model, revision, backend: part of every cache key
    is_seq2seq: bool
    has_chat_template: bool
    context_window: int | None  # prompt + answer tokens the model attends over (None: unknown)
    counts_tokens_exactly: bool = True   # count_tokens is the model's tokenizer (not an estimate)

    def render(self, prompt: Prompt) -> str:
        """The exact text the model sees (chat template applied)."""

    def count_tokens(self, text: str) -> int: ...

    def prompt_tokens(self, prompt: Prompt) -> int:
        """Tokens the model is fed for `prompt`: its rendering, and what the tokenizer adds to
        plain text (a BOS token), which count against the context window too."""
        return self.count_tokens(self.render(prompt))

    def with_batching(self, batching) -> "Backend":
        """The same model batched as `batching` (a `batching.Batching`) says; batching is fixed
        when a backend is built, and this copy shares the loaded weights. A server's backend
        returns itself (the server batches)."""

    def generate(self, requests: list[GenerationRequest], decoding: Decoding, on_batch=None) -> list[str]:
        """Return one raw output per request, in request order; call on_batch(indices, texts)
        as each batch finishes."""

    def candidates(self, requests: list[GenerationRequest], sampling: Sampling, wanted: list[list[int]],
                   on_item=None) -> list[dict[int, str]]:
        """Candidates `wanted[i]` (their indices) of each request, {index: text} per request;
        candidate k of a request never depends on which others are drawn. Call on_item(i,
        {k: text}) as each request finishes."""

    def loglikelihood(self, requests: list[tuple[str, list[str]]], on_item=None) -> list[list[float]]:
        """For each (context, continuations): log p(continuation | context) per continuation;
        call on_item(index, scores) as each item finishes."""

    def sampling_problem(self, sampling: Sampling) -> str | None:
        """Why this backend cannot draw candidates as `sampling` says (one line), or None."""
        return None

    def direction_problem(self, src, tgt) -> str | None:
        """Why this model cannot translate src -> tgt (one line), asked before a run folder is
        written; None when it can (or when only trying would tell)."""
        return None

    def stats(self) -> dict:
        """What the backend's own batching did: {"batches": [{"rows": n, "refill": True?,
        "out_of_memory": True?}, ...] since it was built (appended to as it runs), "plan": the
        batch sizes chosen last}; {} for a backend that batches nothing itself (a server)."""


def render_chat(render, messages, model: str = "the model") -> str:
    """`render(chat)` (a chat template over {"role", "content"} turns, with the generation
    prompt) over (role, content) turns. A template that refuses a system turn (Gemma 1 and 2:
    "System role not supported") gets the system text at the head of the first user turn, as
    Gemma 3's own template writes it; any other refusal is one error line, not a traceback."""
    from jinja2 import TemplateError

    chat = [{"role": role, "content": content} for role, content in messages]
    try:
        return str(render(chat))
    except TemplateError as exc:
        refused = str(exc)
    systems = [m["content"] for m in chat if m["role"] == "system"]
    turns = [m for m in chat if m["role"] != "system"]
    if systems and turns and turns[0]["role"] == "user":
        turns[0] = {"role": "user", "content": "\n\n".join(systems + [turns[0]["content"]])}
        try:
            return str(render(turns))
        except TemplateError as exc:
            refused = str(exc)
    raise XlingError(f"the chat template of {model} refused the prompt ({refused}); use a completion "
                     "template, or a template without that turn")


def check_answers_fit(requests: "list[GenerationRequest]", encoded: list[list[int]], window: int | None) -> None:
    """Refuse, before any generation, a request whose prompt and answer budget pass the model's
    context window (a judge's or tune-ratio's requests come unchecked: a model with learned
    positions crashed past them, one with rotary positions wrote on past them, and vLLM stopped
    at its window with the answer marked cut at its budget)."""
    for i, (request, ids) in enumerate(zip(requests, encoded)):
        if window and len(ids) + request.max_new_tokens > window:
            raise ItemTooLong(i, f"({len(ids):,} tokens of prompt and {request.max_new_tokens:,} of answer) "
                                 f"does not fit the model's context window of {window:,} tokens; shorten it, "
                                 "allow a shorter answer, or use a model with a longer context")
