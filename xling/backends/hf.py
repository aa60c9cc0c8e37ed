"""Hugging Face transformers backend for causal LMs (chat or base); encoder-decoder MT models
are the subclass in `seq2seq`, and `loading` picks between them (local folders, the hub, the
embedded model).

Batching sorts requests by length, left-pads causal prompts and restores the input order, so a
batched greedy run gives exactly the outputs of one-at-a-time greedy decoding. The decoding loop
(continuous batching) is in `decoding`, log-likelihood scoring in `loglik`; batch sizes for the
hardware in `batching`, KV-cache surgery in `kvcache`.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..data import hub
from ..errors import XlingError
from .base import Decoding, GenerationRequest, Prompt, cut_answer
from .decoding import CandidateSampler, ContinuousDecoding, Unit
from .kvcache import cache_arg
from ..store.filehash import model_fingerprint
from .loglik import LoglikelihoodScoring


def load_config(source: str, common: dict):
    """The model's config and tokenizer (every failure becomes one clear line)."""
    from transformers import AutoConfig, AutoTokenizer

    hub.quiet_transformers()

    try:
        return AutoConfig.from_pretrained(source, **common), AutoTokenizer.from_pretrained(source, **common)
    except XlingError:
        raise
    except Exception as exc:  # noqa: BLE001 - every hub failure becomes one clear line
        refuse_remote_code(source, exc)
        if Path(source).is_dir():
            raise XlingError(f"cannot load model from {source!r}: {exc}") from exc
        raise hub.error_for(source, exc) from exc


def refuse_remote_code(source: str, exc: Exception) -> None:
    """transformers' several-line message (with its link) for a model that ships its own code,
    as one line that says what to do."""
    if "trust_remote_code" in str(exc):
        raise XlingError(f"model {source!r} needs its own Python code (remote code) to load, which "
                         "xling does not run unless told: pass --trust-remote-code (only for a model "
                         "you trust)") from None


def context_window(config, tokenizer) -> int | None:
    """Tokens of prompt plus output the model was trained to attend over (None: unknown)."""
    for cfg in (config, getattr(config, "text_config", None)):
        value = getattr(cfg, "max_position_embeddings", None) if cfg is not None else None
        if isinstance(value, int) and value > 0:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    return value if isinstance(value, int) and 0 < value < 10**8 else None   # 1e30: "unset"


STATIC_LENGTH_STEP = 128   # static cache lengths are multiples of this


def static_rows(rows: int) -> int:
    """Batch rows padded up to a power of two, so that a run meets only a few batch shapes."""
    return 1 << max(0, rows - 1).bit_length()


class HFBackend(ContinuousDecoding, LoglikelihoodScoring):
    """A causal LM (chat or base) loaded here: batched greedy generation that drops finished
    rows, and shared-prefix log-likelihood."""

    is_seq2seq = False
    MODEL_CLASS = "AutoModelForCausalLM"

    def __init__(self, source: str, *, display: str, revision: str | None = None,
                 trust_remote_code: bool = False, device: str | None = None,
                 static_cache: bool = False, config=None, tokenizer=None):
        import torch

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.static_cache = static_cache   # compiled on a GPU; on a CPU the same shapes, uncompiled
        self._static = None                # (rows, length, StaticCache) in use
        self._static_rows = None           # rows every static batch is padded to
        self.static_shapes: list[tuple[int, int]] = []   # each static cache shape made
        local = Path(source).is_dir()
        common = dict(revision=revision, trust_remote_code=trust_remote_code)
        if config is None or tokenizer is None:
            config, tokenizer = load_config(source, common)
        if getattr(config, "is_encoder_decoder", False) and not self.is_seq2seq:
            raise XlingError(f"{source} is an encoder-decoder model: load it with "
                             "xling.backends.loading.open_hf_backend")
        self.tokenizer = tokenizer
        self.model_type = config.model_type
        self.context_window = context_window(config, tokenizer)
        self._source, self._local, self._common = source, local, common
        self._explicit_device = device is not None
        self._model = None
        resolved_revision = getattr(config, "_commit_hash", None) or revision
        if local:
            resolved_revision = model_fingerprint(Path(source))
        self.fingerprint = {"backend": "hf", "model": display,
                            "revision": resolved_revision or "unknown"}
        self.has_chat_template = bool(getattr(self.tokenizer, "chat_template", None))
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._newline_ids = None
        self.batch_log: list[dict] = []   # rows per batch run (and out-of-memory splits)
        self.batch_plan: dict = {}        # the last batch sizes chosen (see batch_limits)
        self.tokens_generated = 0         # new tokens kept (to the budget or EOS), for throughput

    @property
    def model(self):
        """The weights load on first use: rendering prompts, counting tokens and checking a run
        folder need only the tokenizer, so a fully cached re-run never loads them."""
        if self._model is None:
            self._model = self._load_weights()
        return self._model

    def _load_weights(self):
        import transformers

        torch = self.torch
        model_cls = getattr(transformers, self.MODEL_CLASS)
        on_gpu = self.device.startswith("cuda")
        load = dict(self._common, dtype=torch.bfloat16 if on_gpu else torch.float32,
                    use_safetensors=None)  # None: safetensors first, .bin only as a fallback
        if on_gpu and not self._explicit_device:
            load["device_map"] = "auto"
        try:
            model = model_cls.from_pretrained(self._source, **load)
        except Exception as exc:  # noqa: BLE001
            refuse_remote_code(self._source, exc)
            if self._local:
                raise XlingError(f"cannot load model weights from {self._source!r}: {exc}") from exc
            raise hub.error_for(self._source, exc) from exc
        if "device_map" not in load:
            model.to(self.device)
        model.eval()
        gen_eos = model.generation_config.eos_token_id
        eos = gen_eos if isinstance(gen_eos, list) else [gen_eos]
        self.eos_ids = {i for i in eos + [self.tokenizer.eos_token_id] if i is not None}
        return model

    # -- text and tokens -------------------------------------------------------------------
    def render(self, prompt: Prompt) -> str:
        if not prompt.is_chat:
            return prompt.text
        if not self.has_chat_template:
            raise XlingError(f"model {self.fingerprint['model']!r} has no chat template; use a "
                             "completion template (e.g. --template mt-completion)")
        messages = [{"role": role, "content": content} for role, content in prompt.messages]
        return self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                  add_generation_prompt=True)

    def encode_prompt(self, prompt: Prompt) -> list[int]:
        # A rendered chat template already holds the BOS token; plain text gets it here.
        return self.tokenizer(self.render(prompt), add_special_tokens=not prompt.is_chat)["input_ids"]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def newline_token_ids(self) -> set[int]:
        """Every vocabulary entry whose text contains a line break."""
        if self._newline_ids is None:
            tokens = self.tokenizer.convert_ids_to_tokens(list(range(len(self.tokenizer))))
            candidates = [i for i, t in enumerate(tokens) if t and (
                "\n" in t or "Ċ" in t or "<0x0A>" in t or "<0x0D>" in t or "\r" in t)]
            self._newline_ids = {i for i in candidates
                                 if "\n" in self.tokenizer.decode([i]) or "\r" in self.tokenizer.decode([i])}
        return self._newline_ids

    # -- generation --------------------------------------------------------------------------
    def generate(self, requests: list[GenerationRequest], decoding: Decoding,
                 batch_size: int | str = 8, on_batch=None, max_batch_tokens: int | None = None,
                 refill: bool | None = None) -> list[str]:
        """Generate in length-sorted batches of at most `batch_size` rows and, if given, at most
        `max_batch_tokens` tokens (rows x (longest prompt + largest budget)); "auto" sizes them
        for the device (`batch_limits`). `on_batch(indices, texts)` is called as rows finish
        (callers persist results there, so an interrupted run loses only unfinished rows). A
        batch that runs out of memory is halved and retried; finished rows are never lost.
        Greedy decoding refills rows freed by finished ones from the queue (`refill`, default:
        on when sized "auto"); outputs are the same either way."""
        rows, tokens = self.batch_limits(batch_size, max_batch_tokens)
        if not self.is_seq2seq and not decoding.do_sample and not self.static_cache:
            if refill is None:
                refill = batch_size == "auto"
            units = [Unit(ids, [i]) for i, ids in enumerate(self.encode_prompt(r.prompt) for r in requests)]
            units.sort(key=lambda u: -len(u.ids))
            texts = self._decode(units, requests, rows, tokens, refill=refill, on_rows=on_batch)
            return [texts[i] for i in range(len(requests))]
        if decoding.do_sample:
            self.torch.manual_seed(decoding.seed)
        # A static cache pads every batch to the rows of a full one (one shape, one compile),
        # unless memory ran short (then each batch to its own power of two).
        self._static_rows = static_rows(min(rows, len(requests) or 1))
        outputs: list[str | None] = [None] * len(requests)

        def run(indices, encoded):
            try:
                texts = self._step([requests[i] for i in indices], [encoded[i] for i in indices], decoding)
            except self.torch.OutOfMemoryError:
                half = self._out_of_memory(len(indices))
                self._static_rows = None
                run(indices[:half], encoded)
                run(indices[half:], encoded)
                return
            self.batch_log.append({"rows": len(indices)})
            for i, text in zip(indices, texts):
                outputs[i] = text
            if on_batch is not None:
                on_batch(indices, texts)

        for indices, encoded in self._batches(requests, rows, tokens):
            run(indices, encoded)
        return outputs

    def batch_limits(self, batch_size: int | str, max_batch_tokens: int | None = None,
                     kind: str = "generate") -> tuple[int, int | None]:
        """(rows, tokens) per batch. "auto" on a GPU: what the free memory holds for this model
        (`batching.auto_limits`); on a CPU: the fixed default rows. The choice is kept in
        `batch_plan` (runs record it)."""
        from . import batching

        batch_size = batching.check_batch_size(batch_size)
        if batch_size != batching.AUTO:
            plan = {"rows": batch_size, "max_batch_tokens": max_batch_tokens}
        elif not self.device.startswith("cuda"):
            plan = {"rows": batching.CPU_ROWS[kind], "max_batch_tokens": max_batch_tokens}
        else:
            model = self.model   # the free memory is measured with the weights in place
            free, _total = self.torch.cuda.mem_get_info(model.device)
            dtype_bytes = next(model.parameters()).element_size()
            plan = batching.auto_limits(free, batching.model_shape(model.config), dtype_bytes)
            if max_batch_tokens:
                plan["max_batch_tokens"] = max_batch_tokens
        self.batch_plan = {"batch_size": batch_size, **plan}
        return plan["rows"], plan["max_batch_tokens"]

    def _out_of_memory(self, rows: int) -> int:
        """After an out-of-memory error on `rows` rows: free what can be freed, log it, and return
        the row count to retry with (one row that does not fit is the user's to fix)."""
        if rows <= 1:
            raise XlingError("out of memory on a single segment: pass a smaller "
                             "--max-batch-tokens, a shorter input, or a larger device") from None
        self._free_memory()
        half = rows // 2
        self.batch_log.append({"rows": rows, "out_of_memory": True})
        print(f"xling: out of memory with {rows} rows in a batch; retrying with at most {half}",
              file=sys.stderr)
        return half

    def _free_memory(self) -> None:
        import gc

        gc.collect()
        if self.torch.cuda.is_available():
            self.torch.cuda.empty_cache()

    def _batches(self, requests, batch_size, max_batch_tokens=None):
        """(indices, encodings) per batch, longest prompts first (less padding per batch); the
        same admission rule as the decoding loop (`_admit`): a batch closes at `batch_size` rows
        or when rows x (longest prompt + largest budget) would pass `max_batch_tokens`."""
        from collections import deque

        encoded = [self.encode_prompt(r.prompt) for r in requests]
        queue = deque(sorted((Unit(ids, [i]) for i, ids in enumerate(encoded)), key=lambda u: -len(u.ids)))
        budgets = [r.max_new_tokens for r in requests]
        batches = []
        while queue:
            admitted = self._admit(queue, None, batch_size, max_batch_tokens, budgets, {})
            batches.append(([u.rows[0] for u in admitted], encoded))
        return batches

    def _sampling_args(self, decoding: Decoding) -> dict:
        if not decoding.do_sample:
            return dict(do_sample=False, temperature=None, top_p=None, top_k=None)
        return dict(do_sample=True, temperature=decoding.temperature, top_p=decoding.top_p)

    def _finish(self, request: GenerationRequest, new_tokens: list[int]) -> str:
        """Cut one row's new tokens at its own budget, EOS and (optionally) the line end."""
        new_tokens = new_tokens[:request.max_new_tokens]
        for pos, tok in enumerate(new_tokens):
            if tok in self.eos_ids:
                new_tokens = new_tokens[:pos]
                break
        self.tokens_generated += len(new_tokens)
        return cut_answer(self.tokenizer.decode(new_tokens, skip_special_tokens=True), request)

    def _hit_stop(self, request: GenerationRequest, tokens: list[int]) -> bool:
        """Whether the row's text now ends in one of its stop strings (checked on the last few
        tokens only: each is at least one character)."""
        if not request.stop:
            return False
        tail = self.tokenizer.decode(tokens[-(max(map(len, request.stop)) + 2):], skip_special_tokens=True)
        return any(s in tail for s in request.stop)

    def _left_pad(self, sequences: list[list[int]]):
        """(input_ids, attention_mask) of token lists left-padded to the longest (on the CPU)."""
        torch = self.torch
        width = max(len(ids) for ids in sequences)
        input_ids = torch.full((len(sequences), width), self.tokenizer.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, ids in enumerate(sequences):
            input_ids[row, width - len(ids):] = torch.tensor(ids)
            attention[row, width - len(ids):] = 1
        return input_ids, attention

    def _step(self, requests, encoded, decoding):
        """One batch through `model.generate` (sampling, or greedy with the static cache)."""
        torch = self.torch
        real = len(requests)
        if self.static_cache:   # fixed shapes: rows padded to a bucket with copies of the last one
            rows = max(self._static_rows or 0, static_rows(real))
            requests = list(requests) + [requests[-1]] * (rows - real)
            encoded = list(encoded) + [encoded[-1]] * (rows - real)
        input_ids, attention = self._left_pad(encoded)
        width = input_ids.shape[1]
        new_tokens = max(r.max_new_tokens for r in requests)
        extra = {}
        if any(r.stop_at_newline or r.stop for r in requests):
            extra["stopping_criteria"] = self._stop_criteria(requests, width)
        with torch.inference_mode():   # (a reused static cache is reset in here too)
            if self.static_cache:
                extra |= cache_arg(self.model, self._static_cache_for(len(requests), width + new_tokens))
            out = self.model.generate(
                input_ids=input_ids.to(self.model.device), attention_mask=attention.to(self.model.device),
                max_new_tokens=new_tokens, pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=sorted(self.eos_ids), **self._sampling_args(decoding), **extra)
        return [self._finish(r, out[row, width:].tolist()) for row, r in enumerate(requests[:real])]

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
        self._free_memory()
        options = dict(config=self.model.config, max_cache_len=length)
        if "max_batch_size" in inspect.signature(StaticCache.__init__).parameters:   # transformers < 4.56
            options.update(max_batch_size=rows, device=self.model.device, dtype=self.model.dtype)
        self._static = (rows, length, StaticCache(**options))
        self.static_shapes.append((rows, length))
        if self.device.startswith("cuda"):
            print(f"xling: static cache of {rows} rows x {length} positions: compiling its decoding "
                  "step (once per shape in this process)", file=sys.stderr)
        return self._static[2]

    def stats(self) -> dict:
        return {"batches": self.batch_log, "plan": dict(self.batch_plan)}

    # -- candidates (MBR, reranking) -----------------------------------------------------------------
    def candidates(self, requests: list[GenerationRequest], sampling, wanted: list[list[int]],
                   batch_size: int | str = 8, on_item=None, refill: bool | None = None) -> list[dict[int, str]]:
        """Candidates `wanted[i]` (indices) of each request. Sampling encodes each prompt once
        and draws every wanted candidate from its cache, each with its own random stream
        (seeded by the candidate index), so candidate k never depends on which others are drawn;
        beam search returns the best beams. on_item(i, {k: text}) as each request finishes."""
        results: list[dict[int, str]] = [{} for _ in requests]
        todo = [i for i in range(len(requests)) if wanted[i]]
        if sampling.method == "beam":
            for i in todo:
                results[i] = self._beams(requests[i], wanted[i])
                if on_item is not None:
                    on_item(i, results[i])
            return results
        row_of = [(i, k) for i in todo for k in wanted[i]]     # decoding row -> (request, candidate)
        units, start = [], 0
        for i in todo:
            units.append(Unit(self.encode_prompt(requests[i].prompt), list(range(start, start + len(wanted[i])))))
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

        limit_rows, _ = self.batch_limits(batch_size)
        self._decode(units, [requests[i] for i, _ in row_of], limit_rows, None,
                     pick=CandidateSampler(self.torch, self.model.device, sampling, units, row_of),
                     refill=batch_size == "auto" if refill is None else refill, on_rows=rows_done)
        return results

    def _beams(self, request: GenerationRequest, wanted: list[int]) -> dict[int, str]:
        torch = self.torch
        n = max(wanted) + 1
        ids = torch.tensor([self.encode_prompt(request.prompt)], device=self.model.device)
        extra = {}
        if request.stop_at_newline or request.stop:
            extra["stopping_criteria"] = self._stop_criteria([request], ids.shape[1])
        with torch.inference_mode():
            out = self.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), num_beams=n,
                                      num_return_sequences=n, do_sample=False, early_stopping=True,
                                      max_new_tokens=request.max_new_tokens,
                                      pad_token_id=self.tokenizer.pad_token_id,
                                      eos_token_id=sorted(self.eos_ids), **extra)
        return {k: self._finish(request, out[k, ids.shape[1]:].tolist()) for k in wanted}

    def _stop_criteria(self, requests, width: int):
        """Per row: done at a line break (when asked) or once its text ends in a stop string;
        other rows go on (transformers pads finished rows). One request stands for every row
        (beam search holds more rows than requests)."""
        from transformers import StoppingCriteria, StoppingCriteriaList

        torch = self.torch
        newline = torch.tensor(sorted(self.newline_token_ids()), dtype=torch.long)
        backend = self

        class StopPerRow(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                rows = requests if len(requests) == input_ids.shape[0] else [requests[0]] * input_ids.shape[0]
                active = torch.tensor([r.stop_at_newline for r in rows])
                done = torch.isin(input_ids[:, -1].cpu(), newline) & active
                for row, request in enumerate(rows):
                    if request.stop and backend._hit_stop(request, input_ids[row, width:].tolist()):
                        done[row] = True
                return done.to(input_ids.device)

        return StoppingCriteriaList([StopPerRow()])
