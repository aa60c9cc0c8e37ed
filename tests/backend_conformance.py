"""The cases every backend passes (xling.backends.base.Backend): run by
tests/test_backend_conformance.py on hf, seq2seq and http (a scripted server), and by
tests/vllmenv/probe.py on vllm in its own venv. `check(backend)` returns the failures (empty:
the backend conforms), so the vLLM venv can report them as JSON.

A backend that cannot do something (an encoder-decoder model scores no log-likelihood) says
so with one XlingError: that is conforming; a wrong answer or a traceback is not."""
from __future__ import annotations

import math
import traceback

from xling.backends.base import Backend, Decoding, GenerationRequest, Prompt, Sampling
from xling.backends.batching import Batching
from xling.errors import XlingError

# Our own sentences (the tiny test models were trained on such lines).
SOURCES = ["나는 사과를 좋아한다.", "오늘은 비가 온다.", "고양이가 창문 옆에서 잔다."]


def request(text: str, **options) -> GenerationRequest:
    """A translation-shaped request every backend takes: a completion prompt for LLMs, the bare
    source with its languages for encoder-decoder models."""
    return GenerationRequest(prompt=Prompt(text=f"Korean: {text}\nEnglish:"), max_new_tokens=12,
                             source=text, source_lang="ko", target_lang="en", **options)


def case_protocol(backend) -> None:
    assert isinstance(backend, Backend), f"{type(backend).__name__} does not implement the protocol"
    assert isinstance(backend.fingerprint, dict) and {"backend", "model"} <= set(backend.fingerprint)
    assert isinstance(backend.is_seq2seq, bool) and isinstance(backend.has_chat_template, bool)
    assert backend.context_window is None or backend.context_window > 0
    assert isinstance(backend.stats(), dict)
    assert isinstance(backend.with_batching(Batching(2)), Backend)
    problem = backend.sampling_problem(Sampling())
    assert problem is None or isinstance(problem, str)


def case_render_and_count(backend) -> None:
    rendered = backend.render(Prompt(text="Korean: 물.\nEnglish:"))
    assert isinstance(rendered, str) and "물." in rendered
    if backend.has_chat_template:
        assert "물." in backend.render(Prompt(messages=(("user", "물."),)))
    count = backend.count_tokens("오늘은 비가 온다.")
    assert isinstance(count, int) and count >= 1


def case_generate_in_order(backend) -> None:
    """One answer per request, in request order; on_batch reports every index once; greedy
    answers do not depend on what else is in the batch."""
    requests = [request(text) for text in SOURCES]
    seen: list[int] = []
    answers = backend.generate(requests, Decoding(), on_batch=lambda indices, texts: seen.extend(indices))
    assert isinstance(answers, list) and len(answers) == len(SOURCES)
    assert all(isinstance(a, str) for a in answers)
    assert sorted(seen) == list(range(len(SOURCES))), seen
    alone = backend.generate([requests[1]], Decoding())
    assert alone == [answers[1]], (alone, answers[1])


def case_stops(backend) -> None:
    """stop_at_newline cuts at the first line end; a stop string cuts before itself."""
    if backend.is_seq2seq:
        return   # a bare-source model has no prompt format to end
    free = backend.generate([request(text) for text in SOURCES], Decoding())
    cut = backend.generate([request(text, stop_at_newline=True) for text in SOURCES], Decoding())
    for whole, line in zip(free, cut):
        assert "\n" not in line and "\r" not in line
        assert whole.startswith(line), (whole, line)
    longest = max(free, key=len)
    assert len(longest) >= 4, f"answers too short to test stop strings: {free!r}"
    stop = longest[2:4]
    index = free.index(longest)
    (stopped,) = backend.generate([request(SOURCES[index], stop=(stop,))], Decoding())
    assert stopped == longest[:longest.index(stop)], (stopped, longest, stop)


def case_budget_ends(backend) -> None:
    """An answer its token budget ended is marked so (a judge must not score half an MQM list);
    one a line end ended is not."""
    from dataclasses import replace

    from xling.backends.base import was_cut

    tight = backend.generate([replace(request(text), max_new_tokens=2) for text in SOURCES], Decoding())
    assert all(was_cut(a) for a in tight), tight
    if backend.is_seq2seq:
        return
    free = backend.generate([request(text) for text in SOURCES], Decoding())
    lines = backend.generate([request(text, stop_at_newline=True) for text in SOURCES], Decoding())
    for whole, line in zip(free, lines):
        if "\n" in whole:
            assert not was_cut(line), (whole, line)


def case_candidates(backend) -> None:
    """Candidate k of a request is the same whatever else is drawn (N, other requests)."""
    sampling = Sampling(seed=3, temperature=1.0)
    requests = [request(text) for text in SOURCES[:2]]
    try:
        together = backend.candidates(requests, sampling, [[0, 1, 2], [0, 1]])
    except XlingError:
        return   # says it draws no candidates
    assert [sorted(found) for found in together] == [[0, 1, 2], [0, 1]]
    assert all(isinstance(t, str) for found in together for t in found.values())
    (alone,) = backend.candidates([requests[0]], sampling, [[1]])
    assert alone == {1: together[0][1]}, (alone, together[0])


def case_loglikelihood(backend) -> None:
    """One score per continuation, a finite log-probability; an item's scores do not depend
    on the other items."""
    items = [("Korean: 물.\nEnglish:", [" Water.", " Fire."]), ("Korean: 비.\nEnglish:", [" Rain."])]
    seen: list[int] = []
    try:
        scores = backend.loglikelihood(items, on_item=lambda i, s: seen.append(i))
    except XlingError:
        return   # says it scores nothing
    assert [len(s) for s in scores] == [2, 1] and sorted(seen) == [0, 1]
    assert all(isinstance(v, float) and math.isfinite(v) and v <= 0 for s in scores for v in s)
    (alone,) = backend.loglikelihood(items[1:])
    assert math.isclose(alone[0], scores[1][0], abs_tol=1e-4), (alone, scores[1])


def case_window(backend) -> None:
    """A request whose prompt and answer budget pass the context window is refused before any
    is generated, naming it (vLLM stopped at its window and marked the answer cut at its budget:
    a judge's answers went unscored, "raise --judge-max-tokens")."""
    from dataclasses import replace

    from xling.errors import ItemTooLong

    if backend.context_window is None:
        return
    requests = [request(SOURCES[0]), replace(request(SOURCES[1]), max_new_tokens=backend.context_window)]
    calls = {"generate": lambda: backend.generate(requests, Decoding()),
             "candidates": lambda: backend.candidates(requests, Sampling(seed=3, temperature=1.0), [[0], [0]])}
    for name, call in calls.items():
        try:
            call()
        except ItemTooLong as exc:
            assert exc.index == 1 and "context window" in str(exc), (name, exc)
            continue
        except XlingError:
            if name == "candidates":
                continue   # says it draws no candidates
            raise
        raise AssertionError(f"{name}: a request past the context window of {backend.context_window} was generated")


CASES = [case_protocol, case_render_and_count, case_generate_in_order, case_stops, case_budget_ends,
         case_candidates, case_loglikelihood, case_window]


def check(backend) -> list[str]:
    """Every case on `backend`; the failures, one line each (empty: it conforms)."""
    failures = []
    for case in CASES:
        try:
            case(backend)
        except Exception as exc:  # noqa: BLE001 - any failure is reported, by case
            where = traceback.extract_tb(exc.__traceback__)[-1]
            failures.append(f"{case.__name__}: {type(exc).__name__}: {exc} (line {where.lineno})")
    return failures
