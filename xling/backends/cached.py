"""Caching as a wrapper around any backend (as lm-evaluation-harness wraps its models): the same
requests and answers as the backend, but each answer is looked up by content first and only
the misses reach the model. Finished answers are stored as they arrive, so an interrupted run
resumes where it stopped; a request repeated within one call is computed once.

The keys hash what the model sees (the rendered prompt, or for encoder-decoder MT models the
language pair and source), the model's fingerprint, the decoding parameters and the budget.
"""
from __future__ import annotations

import json
import math
import threading
from typing import Callable

from ..data.languages import resolve
from ..errors import ItemTooLong, XlingError
from ..store.cache import OutputCache, content_key
from .base import Backend, CutAnswer, Decoding, GenerationRequest, was_cut

# Stored beside an answer's key (a hex digest, so never one itself): its token budget ended it
# (what ended it: "length", "content_filter"; "1", stored before the reason was, is the budget).
CUT = "cut:"


def _marks(new: dict) -> dict[str, str]:
    return {CUT + k: a.reason for k, a in new.items() if was_cut(a)}


def _restored(stored: dict[str, str], key: str, value):
    if CUT + key not in stored:
        return value
    reason = stored[CUT + key]
    return CutAnswer(value, "length" if reason == "1" else reason)


class CachedBackend:
    def __init__(self, backend: Backend, cache: OutputCache | None):
        self.backend, self.cache = backend, cache
        # What the last call found, per thread: a Translator shared by a pool's threads read
        # another call's hits (a KeyError, or a new answer marked cached).
        self._last = threading.local()

    @property
    def last_hits(self) -> list[bool]:
        """Per request of this thread's last call: answered from the cache."""
        return getattr(self._last, "hits", [])

    @last_hits.setter
    def last_hits(self, hits: list[bool]) -> None:
        self._last.hits = hits

    @property
    def last_generated(self) -> int:
        """The candidates this thread's last `candidates` call generated (not found cached)."""
        return getattr(self._last, "generated", 0)

    @last_generated.setter
    def last_generated(self, count: int) -> None:
        self._last.generated = count

    def __getattr__(self, name):   # fingerprint, render, count_tokens, ...: the backend's own
        return getattr(self.backend, name)

    def with_batching(self, batching) -> "CachedBackend":
        return CachedBackend(self.backend.with_batching(batching), self.cache)

    # -- keys ------------------------------------------------------------------------------------
    def seen(self, request: GenerationRequest) -> str:
        """The exact input the model sees for a request."""
        if request.source is not None:   # an encoder-decoder MT model: no prompt
            if request.source_lang is None or request.target_lang is None:
                raise XlingError("a request with a bare source needs its source and target language")
            return f"{resolve(request.source_lang).flores}>{resolve(request.target_lang).flores}\n{request.source}"
        return self.backend.render(request.prompt)

    def generation_key(self, request: GenerationRequest, decoding: Decoding) -> str:
        extra: dict[str, object] = {"stop_strings": list(request.stop)} if request.stop else {}  # older keys unchanged
        told = getattr(self.backend, "language_tokens", None)   # an encoder-decoder's language tokens
        if told is not None and request.source is not None:
            extra["languages"] = told(request.source_lang, request.target_lang)
        return content_key(seen=self.seen(request), model=self.backend.fingerprint,
                           decoding=decoding.as_dict(), budget=request.max_new_tokens,
                           stop=request.stop_at_newline, **extra, **self._encoding_mark())

    def candidate_key(self, request: GenerationRequest, sampling, index: int, n: int) -> str:
        """Candidate `index` of a prompt: the request's own key parts plus the sampling settings
        and the index (beam search: and the number of beams, which changes every beam)."""
        extra: dict[str, object] = {"stop_strings": list(request.stop)} if request.stop else {}
        seeding = getattr(self.backend, "candidate_seeding", None)
        if seeding is not None and sampling.method != "beam":
            extra["seeding"] = seeding
        if sampling.method == "beam":
            # (beams made before the checkpoint's repetition settings were turned off are not reused)
            extra.update(beams=n, repetition="off")
        return content_key(kind="candidate", seen=self.seen(request), model=self.backend.fingerprint,
                           budget=request.max_new_tokens, stop=request.stop_at_newline,
                           sampling=sampling.as_dict(), index=index, **extra)

    def loglikelihood_key(self, context: str, continuations: list[str]) -> str:
        # a context ending in whitespace has split otherwise since (loglik.split_tokens), and an
        # option merging with its context is scored otherwise since (loglik.scoring_units)
        splits = getattr(self.backend, "splits_tokens", True)
        merging = getattr(self.backend, "merging_boundary", None)
        extra: dict[str, int] = {}
        if splits and merging is not None and merging(context, continuations):
            extra = {"boundary": 3}
        elif splits and context[-1:].isspace():
            extra = {"boundary": 2}
        return content_key(kind="loglikelihood", context=context, options=continuations,
                           model=self.backend.fingerprint, **extra, **self._encoding_mark())

    def _encoding_mark(self) -> dict:
        """A key part for a model loaded here whose tokenizer appends tokens (an EOS): its prompts
        and contexts are encoded without them since audit round 20, so what was cached before is
        not reused; every other model's keys are as they were."""
        from .hfmodel import LocalBackend

        if not isinstance(self.backend, LocalBackend) or self.backend.is_seq2seq:
            return {}
        from .encoding import appended_tokens

        return {"appended_dropped": 1} if appended_tokens(self.backend.tokenizer) else {}

    # -- requests --------------------------------------------------------------------------------
    def _answer(self, keys: list[str], compute: Callable, encode, decode, progress: str | None,
                unit: str, marked: bool = False) -> list:
        """Answers for `keys` in order: from the cache, else `compute(indices_of_misses, keep)`.
        `decode(key, value)` raises ValueError for a cached value that is damaged or does not
        fit its request (a cache is disposable: such an entry is computed again, never used).
        `marked`: answers are texts, and a CutAnswer's mark is stored and read back."""
        found = {}
        damaged = 0
        stored = self.cache.get_many(keys + ([CUT + k for k in keys] if marked else [])) if self.cache else {}
        for k, v in stored.items():
            if k.startswith(CUT):
                continue
            try:
                found[k] = _restored(stored, k, decode(k, v)) if marked else decode(k, v)
            except (ValueError, TypeError):
                damaged += 1
        if damaged:
            import sys
            print(f"xling: warning: {damaged} damaged cache entr{'y' if damaged == 1 else 'ies'} of "
                  f"{self.cache.path if self.cache else ''}: computed again", file=sys.stderr)
        self.last_hits = [k in found for k in keys]
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            first.setdefault(key, i)
        todo = [i for key, i in first.items() if key not in found]
        if todo:
            bar = None
            if progress:
                from ..progress import bar as progress_bar
                done = len(first) - len(todo)
                bar = progress_bar(total=len(todo), desc=f"{progress} ({done} cached)" if done else progress,
                                   unit=unit)

            def keep(positions, answers):
                new = {keys[todo[p]]: a for p, a in zip(positions, answers)}
                found.update(new)
                if self.cache is not None:
                    self.cache.put_many({**{k: encode(a) for k, a in new.items()}, **(_marks(new) if marked else {})})
                if bar:
                    bar.update(len(positions))

            try:
                compute(todo, keep)
            finally:
                if bar:
                    bar.close()
        return [found[k] for k in keys]

    def generate(self, requests: list[GenerationRequest], decoding: Decoding, on_batch=None,
                 progress: str | None = None, unit: str = "seg") -> list[str]:
        """Raw outputs in request order; on_batch(indices, texts) sees the generated ones.
        `unit`: what one request is, as the progress bar counts it ("chunk" in document mode)."""
        keys = [self.generation_key(r, decoding) for r in requests]

        def compute(todo, keep):
            def batch_done(positions, texts):
                keep(positions, texts)
                if on_batch is not None:
                    on_batch([todo[p] for p in positions], texts)
            try:
                self.backend.generate([requests[i] for i in todo], decoding, on_batch=batch_done)
            except ItemTooLong as exc:   # numbered among the requests the backend was given: the caller's number
                raise exc.renumbered(todo[exc.index]) from None

        return self._answer(keys, compute, str, lambda key, value: value, progress, unit, marked=True)

    def candidates(self, requests: list[GenerationRequest], sampling, wanted: list[list[int]],
                   on_item=None, progress: str | None = None) -> list[dict[int, str]]:
        """The backend protocol's candidates, through the cache: cached ones read, only the
        missing ones generated (and stored as each request finishes, so an interrupted run
        resumes). Beam search asks for beams 0..n-1 together (n is part of their key)."""
        keys = [{k: self.candidate_key(r, sampling, k, max(w, default=-1) + 1) for k in w}
                for r, w in zip(requests, wanted)]
        flat = [k for row in keys for k in row.values()]
        stored = self.cache.get_many(flat + [CUT + k for k in flat]) if self.cache else {}
        found = {k: _restored(stored, k, v) for k, v in stored.items() if not k.startswith(CUT)}
        missing = [[k for k, key in row.items() if key not in found] for row in keys]
        if sampling.method == "beam":    # beams come all together
            missing = [list(w) if m else [] for w, m in zip(wanted, missing)]
        self.last_generated = sum(map(len, missing))
        bar = None
        if progress and self.last_generated:
            from ..progress import bar as progress_bar
            cached = sum(map(len, wanted)) - self.last_generated
            bar = progress_bar(total=self.last_generated, unit="cand",
                               desc=f"{progress} ({cached} cached)" if cached else progress)

        def keep(i, texts):
            new = {keys[i][k]: t for k, t in texts.items()}
            found.update(new)
            if self.cache is not None:
                self.cache.put_many({**{k: str(t) for k, t in new.items()}, **_marks(new)})
            if bar:
                bar.update(len(texts))
            if on_item is not None:
                on_item(i, texts)

        try:
            if self.last_generated:
                self.backend.candidates(requests, sampling, missing, on_item=keep)
        finally:
            if bar:
                bar.close()
        return [{k: found[key] for k, key in row.items()} for row in keys]

    def loglikelihood(self, requests: list[tuple[str, list[str]]], on_item=None,
                      progress: str | None = None) -> list[list[float]]:
        keys = [self.loglikelihood_key(c, o) for c, o in requests]

        def compute(todo, keep):
            def item_done(index, scores):
                keep([index], [scores])
                if on_item is not None:
                    on_item(todo[index], scores)
            try:
                self.backend.loglikelihood([requests[i] for i in todo], on_item=item_done)
            except ItemTooLong as exc:   # numbered among the items the scorer was given: the run's number
                raise exc.renumbered(todo[exc.index]) from None

        sizes = {key: len(options) for key, (_, options) in zip(keys, requests)}

        def decode(key: str, value: str) -> list[float]:
            scores = json.loads(value)
            if not isinstance(scores, list) or len(scores) != sizes[key] or not all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) and not math.isnan(x) and x < math.inf
                    for x in scores):
                raise ValueError("not one log-likelihood per option")
            return scores

        return self._answer(keys, compute, json.dumps, decode, progress, "item")
