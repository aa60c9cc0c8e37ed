"""Hugging Face transformers backend for causal LMs (chat or base); encoder-decoder MT models
are `seq2seq.HFSeq2SeqBackend`, and `loading` picks between them (local folders, the hub, the
embedded model). Both hold a `hfmodel.LoadedModel`.

Batching sorts requests by length, left-pads causal prompts and restores the input order, so a
batched greedy run gives exactly the outputs of one-at-a-time greedy decoding. The decoding loop
(continuous batching) is `decoding.ContinuousDecoder`, log-likelihood scoring
`loglik.LoglikelihoodScorer`, each over the loaded model; batch sizes for the hardware in
`batching`, KV-cache surgery in `kvcache`.
"""
from __future__ import annotations

import sys
from typing import Any

from ..errors import ItemTooLong, XlingError
from .attention import kernel_scope
from .base import Decoding, GenerationRequest, Sampling, check_answers_fit
from .batching import Batching
from .decoding import CandidateSampler, ContinuousDecoder, Unit, admit
from .hfmodel import REPETITION_OFF, LoadedModel, LocalBackend, sampling_args
from .kvcache import cache_arg
from .loglik import LoglikelihoodScorer, merges
from .numerics import nan_watch

STATIC_LENGTH_STEP = 128   # static cache lengths are multiples of this


def static_rows(rows: int) -> int:
    """Batch rows padded up to a power of two, so that a run meets only a few batch shapes."""
    return 1 << max(0, rows - 1).bit_length()


class HFBackend(LocalBackend):
    """A causal LM (chat or base) loaded here: batched greedy generation that drops finished
    rows (`ContinuousDecoder`), sampled candidates and beams, shared-prefix log-likelihood
    (`LoglikelihoodScorer`); batch sizes fixed when built (`batching`)."""

    MODEL_CLASS = "AutoModelForCausalLM"

    def __init__(self, source: str, *, display: str, revision: str | None = None,
                 trust_remote_code: bool = False, device: str | None = None,
                 static_cache: bool = False, batching: Batching | None = None, config=None, tokenizer=None):
        lm = LoadedModel(source, display=display, model_class=self.MODEL_CLASS, revision=revision,
                         trust_remote_code=trust_remote_code, device=device, config=config,
                         tokenizer=tokenizer)
        if getattr(lm.config, "is_encoder_decoder", False):
            raise XlingError(f"{source} is an encoder-decoder model: load it with "
                             "xling.backends.loading.open_hf_backend")
        super().__init__(lm, batching)
        self.decoder = ContinuousDecoder(lm)
        self.scorer = LoglikelihoodScorer(lm)
        self.static_cache = static_cache   # compiled on a GPU; on a CPU the same shapes, uncompiled
        self._static: tuple[int, int, Any] | None = None   # (rows, length, StaticCache) in use
        self._static_rows: int | None = None               # rows every static batch is padded to
        self.static_shapes: list[tuple[int, int]] = []   # each static cache shape made

    # -- generation --------------------------------------------------------------------------
    def generate(self, requests: list[GenerationRequest], decoding: Decoding, on_batch=None) -> list[str]:
        """Generate in length-sorted batches as `batching` says: at most `size` rows and, if
        given, `max_tokens` tokens (rows x (longest prompt + largest budget)); "auto" sizes them
        for the device (`batch_limits`). `on_batch(indices, texts)` is called as rows finish
        (callers persist results there, so an interrupted run loses only unfinished rows). A
        batch that runs out of memory is halved and retried; finished rows are never lost.
        Greedy decoding refills rows freed by finished ones from the queue when
        `batching.refills`; outputs are the same either way. Sampled rows are drawn as candidate
        0 (`candidates`): each from its own stream, whatever it is batched with."""
        if decoding.do_sample:   # each row from its own stream (seed and prompt), never its batch's draws
            def drawn(i, texts):
                if on_batch is not None:
                    on_batch([i], [texts[0]])
            sampling = Sampling("sample", decoding.temperature, decoding.top_p, 0.0, decoding.seed)
            return [texts[0] for texts in self.candidates(requests, sampling, [[0]] * len(requests), on_item=drawn)]
        encoded = [self.encode_prompt(r.prompt) for r in requests]
        self._check_fits(requests, encoded)
        rows, tokens = self.batch_limits()
        if not self.static_cache:
            units = [Unit(ids, [i]) for i, ids in enumerate(encoded)]
            units.sort(key=lambda u: -len(u.ids))
            texts = self.decoder.decode(units, requests, rows, tokens, refill=self.batching.refills,
                                        on_rows=on_batch)
            return [texts[i] for i in range(len(requests))]
        # A static cache pads every batch to the rows of the largest one planned (one shape, one
        # compile), unless memory ran short or a token cap closes batches (then each batch to its
        # own power of two: a batch the cap closed at 200 rows was padded to auto's 4,096, past the
        # memory planned). A batch the context window cut short is padded to its own power of two
        # too: long rows cut one at a time were each padded to the full batch, decoding up to
        # batch-size times the rows (the window, not the shape, decides those batches anyway).
        cut: set[int] = set()
        batches = self._batches(encoded, requests, rows, tokens, cut)
        whole = [len(b) for b in batches if b[0] not in cut]
        self._static_rows = static_rows(max(whole)) if tokens is None and whole else None

        def unpad():
            self._static_rows = None

        return self.lm.run_batches(
            batches,
            lambda indices: self._step([requests[i] for i in indices], [encoded[i] for i in indices], decoding,
                                       own_rows=indices[0] in cut),
            len(requests), on_batch, on_out_of_memory=unpad)

    def _check_fits(self, requests: list[GenerationRequest], encoded: list[list[int]]) -> None:
        check_answers_fit(requests, encoded, self.lm.context_window)

    def _batches(self, encoded, requests, batch_size, max_batch_tokens=None,
                 cut: set[int] | None = None) -> list[list[int]]:
        """Request indices per batch, longest prompts first (less padding per batch); the same
        admission rule as the decoding loop (`admit`): a batch closes at `batch_size` rows or
        when rows x (longest prompt + largest budget) would pass `max_batch_tokens`. It closes
        too before a row that would be fed positions past the context window: `generate` runs
        every row to the batch's largest budget (a row whose own budget was cut to fit the
        window went past it: an IndexError on learned positions). The first request of each
        batch so cut is added to `cut`."""
        from collections import deque

        queue = deque(sorted((Unit(ids, [i]) for i, ids in enumerate(encoded)), key=lambda u: -len(u.ids)))
        budgets = [r.max_new_tokens for r in requests]
        window = self.lm.context_window
        batches = []
        while queue:
            taken = admit(queue, None, batch_size, max_batch_tokens, budgets, {})
            if window:
                # (the first row is the longest: every row's prompt + the batch's budget within it)
                longest, keep, largest = len(taken[0].ids), 1, budgets[taken[0].rows[0]]
                while keep < len(taken) and longest + max(largest, budgets[taken[keep].rows[0]]) <= window:
                    largest = max(largest, budgets[taken[keep].rows[0]])
                    keep += 1
                if keep < len(taken) and cut is not None:
                    cut.add(taken[0].rows[0])
                queue.extendleft(reversed(taken[keep:]))
                taken = taken[:keep]
            batches.append([u.rows[0] for u in taken])
        return batches

    def _step(self, requests, encoded, decoding, own_rows: bool = False):
        """One batch through `model.generate` (sampling, or greedy with the static cache);
        `own_rows`: a static batch padded to its own power of two, not the run's shape."""
        torch, model = self.lm.torch, self.lm.model
        real = len(requests)
        if self.static_cache:   # fixed shapes: rows padded to a bucket with copies of the last one
            rows = max(0 if own_rows else self._static_rows or 0, static_rows(real))
            requests = list(requests) + [requests[-1]] * (rows - real)
            encoded = list(encoded) + [encoded[-1]] * (rows - real)
        input_ids, attention = self.lm.left_pad(encoded)
        width = input_ids.shape[1]
        new_tokens = max(r.max_new_tokens for r in requests)
        extra = {}
        if any(r.stop_at_newline or r.stop for r in requests):
            extra["stopping_criteria"] = self._stop_criteria(requests, width)
        watch = nan_watch(torch)
        with torch.inference_mode(), kernel_scope():   # (a reused static cache is reset in here too)
            if self.static_cache:
                extra |= cache_arg(model, self._static_cache_for(len(requests), width + new_tokens))
            out = model.generate(
                input_ids=input_ids.to(model.device), attention_mask=attention.to(model.device),
                max_new_tokens=new_tokens, pad_token_id=self.lm.pad_id, logits_processor=[watch],
                eos_token_id=sorted(self.lm.eos_ids), **sampling_args(decoding, neutral=True), **extra)
        watch.raise_if_seen(self.lm.dtype)
        return [self.lm.finish(r, out[row, width:].tolist()) for row, r in enumerate(requests[:real])]

    def _static_cache_for(self, rows: int, positions: int):
        """A static KV cache of `rows` x (positions rounded up to a bucket), reused while the
        batches fit it: a compiled decoding step is specialised to the cache's shape, so few
        shapes mean few compiles (batches come longest first, so the first one usually fits
        all). A new shape is announced, since on a GPU it costs a compile."""
        import inspect

        from transformers import StaticCache

        length = -(-positions // STATIC_LENGTH_STEP) * STATIC_LENGTH_STEP
        cache = self._static
        if cache is not None and cache[0] == rows and cache[1] >= positions:
            cache[2].reset()
            return cache[2]
        self._static = None
        self.lm.free_memory()
        options = dict(config=self.model.config, max_cache_len=length)
        if "max_batch_size" in inspect.signature(StaticCache.__init__).parameters:   # transformers < 4.56
            options.update(max_batch_size=rows, device=self.model.device, dtype=self.model.dtype)
        self._static = (rows, length, StaticCache(**options))
        self.static_shapes.append((rows, length))
        if self.device.startswith("cuda"):
            print(f"xling: static cache of {rows} rows x {length} positions: compiling its decoding "
                  "step (once per shape in this process)", file=sys.stderr)
        return self._static[2]

    # -- candidates (MBR, reranking) -----------------------------------------------------------------
    def candidates(self, requests: list[GenerationRequest], sampling, wanted: list[list[int]],
                   on_item=None) -> list[dict[int, str]]:
        """Candidates `wanted[i]` (indices) of each request. Sampling encodes each prompt once
        and draws every wanted candidate from its cache, each with its own random stream
        (seeded by the candidate index), so candidate k never depends on which others are drawn;
        beam search returns the best beams. on_item(i, {k: text}) as each request finishes."""
        results: list[dict[int, str]] = [{} for _ in requests]
        todo = [i for i in range(len(requests)) if wanted[i]]
        encoded = {i: self.encode_prompt(requests[i].prompt) for i in todo}
        for i in todo:   # (numbered among all the requests)
            try:
                self._check_fits([requests[i]], [encoded[i]])
            except ItemTooLong as exc:
                raise exc.renumbered(i) from None
        if sampling.method == "beam":
            for i in todo:
                results[i] = self._beams(requests[i], encoded[i], wanted[i])
                if on_item is not None:
                    on_item(i, results[i])
            return results
        row_of = [(i, k) for i in todo for k in wanted[i]]     # decoding row -> (request, candidate)
        units, start = [], 0
        for i in todo:
            units.append(Unit(encoded[i], list(range(start, start + len(wanted[i])))))
            start += len(wanted[i])
        units.sort(key=lambda u: -len(u.ids))
        left = {i: len(wanted[i]) for i in todo}

        def rows_done(rows, texts):
            for row, text in zip(rows, texts):
                i, k = row_of[row]
                results[i][k] = text
                left[i] -= 1
                if left[i] == 0 and on_item is not None:
                    on_item(i, results[i])

        limit_rows, _ = self.batch_limits()
        self.decoder.decode(units, [requests[i] for i, _ in row_of], limit_rows, None,
                            pick=CandidateSampler(self.torch, self.model.device, sampling, units, row_of),
                            refill=self.batching.refills, on_rows=rows_done)
        return results

    def _beams(self, request: GenerationRequest, prompt: list[int], wanted: list[int]) -> dict[int, str]:
        torch = self.torch
        n = max(wanted) + 1
        ids = torch.tensor([prompt], device=self.model.device)
        extra = {}
        if request.stop_at_newline or request.stop:
            extra["stopping_criteria"] = self._stop_criteria([request], ids.shape[1])
        watch = nan_watch(torch)
        with torch.inference_mode(), kernel_scope():
            # (early stopping with beams to stop only: with one, transformers warned that it was ignored)
            out = self.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), num_beams=n,
                                      num_return_sequences=n, do_sample=False, early_stopping=n > 1,
                                      max_new_tokens=request.max_new_tokens, logits_processor=[watch],
                                      pad_token_id=self.lm.pad_id,
                                      eos_token_id=sorted(self.lm.eos_ids), **REPETITION_OFF, **extra)
        watch.raise_if_seen(self.lm.dtype)
        return {k: self.lm.finish(request, out[k, ids.shape[1]:].tolist()) for k in wanted}

    def _stop_criteria(self, requests, width: int):
        """Per row: done at a line break (when asked) or once its text ends in a stop string;
        other rows go on (transformers pads finished rows). One request stands for every row
        (beam search holds more rows than requests)."""
        from transformers import StoppingCriteria, StoppingCriteriaList

        torch = self.torch
        newline = torch.tensor(sorted(self.lm.newline_token_ids()), dtype=torch.long)
        lm = self.lm

        enders = lm.stop_enders(requests)   # tokens that can complete a stop string (None: any)

        class StopPerRow(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                rows = requests if len(requests) == input_ids.shape[0] else [requests[0]] * input_ids.shape[0]
                active = torch.tensor([r.stop_at_newline for r in rows])
                last = input_ids[:, -1].cpu()   # one copy to the host per step (not one per row)
                done = torch.isin(last, newline) & active
                tails = None
                for row, request in enumerate(rows):
                    if request.stop and (enders is None or int(last[row]) in enders):
                        tails = input_ids[:, width:].tolist() if tails is None else tails
                        if lm.hit_stop(request, tails[row]):
                            done[row] = True
                return done.to(input_ids.device)

        return StoppingCriteriaList([StopPerRow()])


    # -- log-likelihood -------------------------------------------------------------------------
    def loglikelihood(self, requests: list[tuple[str, list[str]]], on_item=None) -> list[list[float]]:
        """log p(continuation | context) per continuation, as many items per pass as `batching`
        says ("auto": by tokens on a GPU); see `LoglikelihoodScorer.score`."""
        rows, tokens = self.batch_limits("loglikelihood")
        if "logit_bytes_per_row" in self.lm.batch_plan:   # auto on a GPU: rows of logits, not items
            return self.scorer.score(requests, None, tokens, on_item, logit_rows=rows)
        return self.scorer.score(requests, rows, tokens, on_item)

    def loglikelihood_unshared(self, requests: list[tuple[str, list[str]]]) -> list[list[float]]:
        return self.scorer.unshared(requests)

    def merging_boundary(self, context: str, continuations: list[str]) -> bool:
        """Whether an option merges with its context (scored as loglik.scoring_units says)."""
        return merges(self.scorer.lm.tokenizer, context, continuations)
