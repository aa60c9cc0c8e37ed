"""Hugging Face transformers backend: loading (local folders, the hub, the embedded model) and
causal LMs (chat or base); encoder-decoder MT models are the subclass in `seq2seq`.

Batching sorts requests by length, left-pads causal prompts and restores the input order, so a
batched greedy run gives exactly the outputs of one-at-a-time greedy decoding.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

from ..data import hub
from ..errors import XlingError
from .base import Decoding, GenerationRequest, Prompt, cut_at_stop


def resolve_model_name(model: str | None) -> str | None:
    """None (or "embedded") means $XLING_MODEL, else the embedded default model."""
    model = model or os.environ.get("XLING_MODEL") or None
    return None if model in (None, "embedded") else model


def _looks_like_path(name: str) -> bool:
    return (name.startswith(("/", "./", "../", "~", "\\")) or name.count("/") > 1
            or os.sep in name and os.sep != "/")


def _local_revision(folder: Path) -> str:
    """A content fingerprint for a local checkpoint: config and tokenizer files, and the weights'
    bytes (hashed once per file version, so a checkpoint retrained in place never serves the old
    model's cached outputs; a changed tokenizer changes outputs too)."""
    from ..runs.filehash import folder_fingerprint

    digest = folder_fingerprint(folder, ("config.json", "tokenizer.json", "tokenizer_config.json",
                                         "vocab.json", "merges.txt", "generation_config.json",
                                         "tokenizer.model", "special_tokens_map.json",
                                         "chat_template.jinja", "adapter_config.json"),
                                {".safetensors", ".bin", ".pt", ".pth", ".gguf"})
    return "local-" + digest[:16]


def load_hf_backend(model: str | None = None, *, revision: str | None = None,
                    trust_remote_code: bool = False, device: str | None = None,
                    static_cache: bool = False, quiet: bool = False) -> "HFBackend":
    name = resolve_model_name(model)
    if name is None:
        from .embedded import NOTICE, embedded_model_dir
        if not quiet:
            print(NOTICE, file=sys.stderr)
        path, display = embedded_model_dir(), "embedded:gemma3-270m"
    else:
        path, display = Path(name).expanduser(), name
        if path.is_file():
            raise XlingError(f"model {name!r} is a file; pass the folder that holds its config.json")
        if path.is_dir() and not (path / "config.json").is_file():
            raise XlingError(f"model folder {name!r} has no config.json: it is not a transformers "
                             "checkpoint (config.json, weights and tokenizer files)")
        if not path.exists():
            if _looks_like_path(name):
                raise XlingError(f"model folder {name!r} does not exist")
            path = None
            if not hub.reachable():
                if not hub.cached(name, revision):
                    raise hub.error_for(name)
                os.environ["HF_HUB_OFFLINE"] = "1"  # use the local hub cache without retries
    return open_hf_backend(str(path) if path else name, display=display, revision=revision,
                           trust_remote_code=trust_remote_code, device=device,
                           static_cache=static_cache)


def _load_config(source: str, common: dict):
    """The model's config and tokenizer (every failure becomes one clear line)."""
    import transformers
    from transformers import AutoConfig, AutoTokenizer

    transformers.logging.set_verbosity_error()   # its warnings are not the user's to act on

    try:
        return AutoConfig.from_pretrained(source, **common), AutoTokenizer.from_pretrained(source, **common)
    except XlingError:
        raise
    except Exception as exc:  # noqa: BLE001 - every hub failure becomes one clear line
        if Path(source).is_dir():
            raise XlingError(f"cannot load model from {source!r}: {exc}") from exc
        raise hub.error_for(source, exc) from exc


def open_hf_backend(source: str, **options) -> "HFBackend":
    """The backend class the checkpoint needs: a causal LM (prompts) or an encoder-decoder MT
    model (bare sources, forced target language)."""
    common = dict(revision=options.get("revision"), trust_remote_code=options.get("trust_remote_code", False))
    config, tokenizer = _load_config(source, common)
    if getattr(config, "is_encoder_decoder", False):
        from .seq2seq import HFSeq2SeqBackend as cls
    else:
        cls = HFBackend
    return cls(source, config=config, tokenizer=tokenizer, **options)


def sampling_probs(logits, sampling):
    """Next-token probabilities after temperature, epsilon (tokens below it dropped) and top-p
    (the smallest set of tokens holding that much probability); the most likely token is
    always kept."""
    import torch

    probs = torch.softmax(logits / sampling.temperature, dim=-1)
    best = probs.argmax(-1, keepdim=True)
    keep = torch.ones_like(probs, dtype=torch.bool)
    if sampling.epsilon > 0:
        keep &= probs >= sampling.epsilon
    if sampling.top_p < 1:
        ordered, order = probs.sort(-1, descending=True)
        before = ordered.cumsum(-1) - ordered        # probability of the tokens above each one
        keep &= torch.zeros_like(keep).scatter(-1, order, before < sampling.top_p)
    keep.scatter_(-1, best, True)
    probs = probs * keep
    return probs / probs.sum(-1, keepdim=True)


def context_window(config, tokenizer) -> int | None:
    """Tokens of prompt plus output the model was trained to attend over (None: unknown)."""
    for cfg in (config, getattr(config, "text_config", None)):
        value = getattr(cfg, "max_position_embeddings", None) if cfg is not None else None
        if isinstance(value, int) and value > 0:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    return value if isinstance(value, int) and 0 < value < 10**8 else None   # 1e30: "unset"


class HFBackend:
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
        self.static_cache = static_cache and self.device.startswith("cuda")
        local = Path(source).is_dir()
        common = dict(revision=revision, trust_remote_code=trust_remote_code)
        if config is None or tokenizer is None:
            config, tokenizer = _load_config(source, common)
        if getattr(config, "is_encoder_decoder", False) and not self.is_seq2seq:
            raise XlingError(f"{source} is an encoder-decoder model: load it with open_hf_backend")
        self.tokenizer = tokenizer
        self.model_type = config.model_type
        self.context_window = context_window(config, tokenizer)
        self._source, self._local, self._common = source, local, common
        self._explicit_device = device is not None
        self._model = None
        resolved_revision = getattr(config, "_commit_hash", None) or revision
        if local:
            resolved_revision = _local_revision(Path(source))
        self.fingerprint = {"backend": "hf", "model": display,
                            "revision": resolved_revision or "unknown"}
        self.has_chat_template = bool(getattr(self.tokenizer, "chat_template", None))
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._newline_ids = None
        self.batch_log: list[dict] = []   # rows per batch run (and out-of-memory splits)

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
                 batch_size: int = 8, on_batch=None, max_batch_tokens: int | None = None) -> list[str]:
        """Generate in length-sorted batches of at most `batch_size` rows and, if given, at most
        `max_batch_tokens` tokens (rows x (longest prompt + largest budget)); `on_batch(indices,
        texts)` is called as each batch finishes (callers persist results there, so an
        interrupted run loses at most one batch). A batch that runs out of memory is halved and
        retried; rows already finished are never lost."""
        if decoding.do_sample:
            self.torch.manual_seed(decoding.seed)
        outputs: list[str | None] = [None] * len(requests)

        def run(indices, encoded):
            try:
                texts = self._step([requests[i] for i in indices], [encoded[i] for i in indices], decoding)
            except self.torch.OutOfMemoryError:
                if len(indices) == 1:
                    raise XlingError("out of memory on a single segment: pass a smaller "
                                     "--max-batch-tokens, a shorter input, or a larger device") from None
                self._free_memory()
                half = len(indices) // 2
                self.batch_log.append({"rows": len(indices), "out_of_memory": True})
                print(f"xling: out of memory with {len(indices)} rows in a batch; retrying as "
                      f"{half} + {len(indices) - half}", file=sys.stderr)
                run(indices[:half], encoded)
                run(indices[half:], encoded)
                return
            self.batch_log.append({"rows": len(indices)})
            for i, text in zip(indices, texts):
                outputs[i] = text
            if on_batch is not None:
                on_batch(indices, texts)

        for indices, encoded in self._batches(requests, batch_size, max_batch_tokens):
            run(indices, encoded)
        return outputs

    def _free_memory(self) -> None:
        import gc

        gc.collect()
        if self.torch.cuda.is_available():
            self.torch.cuda.empty_cache()

    def _batches(self, requests, batch_size, max_batch_tokens=None):
        """(indices, encodings) per batch, longest prompts first (less padding per batch); a batch
        closes at `batch_size` rows or when its padded tokens would pass `max_batch_tokens`."""
        encoded = [self.encode_prompt(r.prompt) for r in requests]
        order = sorted(range(len(requests)), key=lambda i: -len(encoded[i]))
        batches, current, budget = [], [], 0
        for i in order:
            width = len(encoded[current[0]]) if current else len(encoded[i])   # longest first
            need = (len(current) + 1) * (width + max(budget, requests[i].max_new_tokens))
            if current and (len(current) >= batch_size or (max_batch_tokens and need > max_batch_tokens)):
                batches.append(current)
                current, budget = [], 0
            current.append(i)
            budget = max(budget, requests[i].max_new_tokens)
        if current:
            batches.append(current)
        return [(indices, encoded) for indices in batches]

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
        text = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        if request.stop_at_newline:
            text = re.split(r"\r\n|\n|\r", text, maxsplit=1)[0]
        return cut_at_stop(text, request.stop)

    def _hit_stop(self, request: GenerationRequest, tokens: list[int]) -> bool:
        """Whether the row's text now ends in one of its stop strings (checked on the last few
        tokens only: each is at least one character)."""
        if not request.stop:
            return False
        tail = self.tokenizer.decode(tokens[-(max(map(len, request.stop)) + 2):], skip_special_tokens=True)
        return any(s in tail for s in request.stop)

    def _step(self, requests, encoded, decoding):
        torch = self.torch
        width = max(len(ids) for ids in encoded)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.full((len(encoded), width), pad, dtype=torch.long)
        attention = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, ids in enumerate(encoded):  # left padding
            input_ids[row, width - len(ids):] = torch.tensor(ids)
            attention[row, width - len(ids):] = 1
        if not decoding.do_sample and not self.static_cache:
            return self._greedy_shrinking(input_ids, attention, requests, width)
        extra = {}
        if any(r.stop_at_newline or r.stop for r in requests):
            extra["stopping_criteria"] = self._stop_criteria(requests, width)
        if self.static_cache:
            extra["cache_implementation"] = "static"
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids.to(self.model.device), attention_mask=attention.to(self.model.device),
                max_new_tokens=max(r.max_new_tokens for r in requests),
                pad_token_id=pad, eos_token_id=sorted(self.eos_ids),
                **self._sampling_args(decoding), **extra)
        return [self._finish(r, out[row, width:].tolist()) for row, r in enumerate(requests)]

    def _greedy_shrinking(self, input_ids, attention, requests, width, expand=None, pick=None):
        """Greedy decoding that drops each row from the batch (and the KV cache) as soon as it is
        done — EOS, line end when asked, or its own token budget — instead of carrying finished
        rows to the end of the longest one as `generate` does. Each step is the same forward pass
        `generate` makes (same positions, cache and mask), so outputs are identical to it.

        For candidates, `expand` lists the prompt row of each decoding row (the prompts are
        encoded once, their cache copied to every candidate row) and `pick(logits, rows)`
        chooses each row's next token instead of the argmax; `requests` are then per row."""
        from transformers import DynamicCache

        torch = self.torch
        device = self.model.device
        input_ids, attention = input_ids.to(device), attention.to(device)
        newline = torch.tensor(sorted(self.newline_token_ids()), device=device)
        eos = torch.tensor(sorted(self.eos_ids), device=device)
        stops = torch.tensor([r.stop_at_newline for r in requests], device=device)
        budgets = torch.tensor([r.max_new_tokens for r in requests], device=device)
        any_stop_strings = any(r.stop for r in requests)
        rows = torch.arange(len(requests), device=device)      # batch position -> request index
        generated: list[list[int]] = [[] for _ in requests]
        positions = (attention.cumsum(-1) - 1).masked_fill(attention == 0, 1)
        cache = DynamicCache()
        with torch.inference_mode():
            logits = self.model(input_ids=input_ids, attention_mask=attention, position_ids=positions,
                                past_key_values=cache, use_cache=True, logits_to_keep=1).logits
            if expand is not None:   # one prefill per prompt, shared by its candidates
                select = torch.tensor(expand, device=device)
                cache.batch_select_indices(select)
                logits, attention, positions = logits[select], attention[select], positions[select]
            step = 0
            while True:
                tokens = logits[:, -1].argmax(-1) if pick is None else pick(logits[:, -1], rows)
                step += 1
                for row, token in zip(rows.tolist(), tokens.tolist()):
                    generated[row].append(token)
                done = torch.isin(tokens, eos) | (stops[rows] & torch.isin(tokens, newline)) \
                    | (budgets[rows] <= step)
                if any_stop_strings:
                    done |= torch.tensor([self._hit_stop(requests[row], generated[row])
                                          for row in rows.tolist()], device=device)
                if bool(done.all()):
                    break
                if bool(done.any()):
                    keep = (~done).nonzero().squeeze(-1)
                    cache.batch_select_indices(keep)
                    rows, tokens, attention, positions = rows[keep], tokens[keep], attention[keep], positions[keep]
                attention = torch.cat([attention, attention.new_ones((len(rows), 1))], dim=-1)
                positions = positions[:, -1:] + 1
                logits = self.model(input_ids=tokens[:, None], attention_mask=attention,
                                    position_ids=positions, past_key_values=cache, use_cache=True).logits
        return [self._finish(r, generated[i]) for i, r in enumerate(requests)]

    # -- candidates (MBR, reranking) -----------------------------------------------------------------
    def candidates(self, requests: list[GenerationRequest], sampling, wanted: list[list[int]],
                   batch_size: int = 8, on_item=None) -> list[dict[int, str]]:
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
        # Batches of prompts whose candidate rows fit batch_size (a prompt alone may exceed it).
        batch: list[int] = []
        for i in todo + [None]:
            if batch and (i is None or sum(len(wanted[j]) for j in batch + [i]) > batch_size):
                self.batch_log.append({"rows": sum(len(wanted[j]) for j in batch), "candidates": True})
                for j, texts in zip(batch, self._sample_batch([requests[j] for j in batch],
                                                              [wanted[j] for j in batch], sampling)):
                    results[j] = texts
                    if on_item is not None:
                        on_item(j, texts)
                batch = []
            if i is not None:
                batch.append(i)
        return results

    def _sample_batch(self, requests, wanted, sampling) -> list[dict[int, str]]:
        torch = self.torch
        encoded = [self.encode_prompt(r.prompt) for r in requests]
        width = max(len(ids) for ids in encoded)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.full((len(encoded), width), pad, dtype=torch.long)
        attention = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, ids in enumerate(encoded):
            input_ids[row, width - len(ids):] = torch.tensor(ids)
            attention[row, width - len(ids):] = 1
        expand = [p for p, ks in enumerate(wanted) for _ in ks]
        keys = [k for ks in wanted for k in ks]
        device = self.model.device
        # Each candidate's own random stream: its index and its prompt (so that sources do not
        # share the same draws), never the batch it runs in.
        salts = [int(hashlib.sha256(repr(ids).encode()).hexdigest()[:12], 16) for ids in encoded]
        streams = [torch.Generator(device=device).manual_seed((sampling.row_seed(k) ^ salts[p]) % (2 ** 63))
                   for p, k in zip(expand, keys)]

        def pick(logits, rows):
            probs = sampling_probs(logits.float(), sampling)
            return torch.cat([torch.multinomial(probs[n], 1, generator=streams[row])
                              for n, row in enumerate(rows.tolist())])

        texts = self._greedy_shrinking(input_ids, attention, [requests[p] for p in expand], width,
                                       expand=expand, pick=pick)
        out: list[dict[int, str]] = [{} for _ in requests]
        for p, k, text in zip(expand, keys, texts):
            out[p][k] = text
        return out

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

    # -- log-likelihood ----------------------------------------------------------------------------
    def _split_tokens(self, context: str, continuations: list[str]) -> tuple[list[int], list[list[int]]]:
        """Context tokens (with BOS) and each continuation's tokens as they fall when the two are
        encoded together, so scores match scoring the concatenated text."""
        ctx = self.tokenizer(context, add_special_tokens=True)["input_ids"]
        conts = []
        for cont in continuations:
            whole = self.tokenizer(context + cont, add_special_tokens=True)["input_ids"]
            if whole[:len(ctx)] == ctx and len(whole) > len(ctx):
                conts.append(whole[len(ctx):])
            else:  # the boundary merged into one token: score the continuation on its own
                conts.append(self.tokenizer(cont, add_special_tokens=False)["input_ids"])
        return ctx, conts

    def loglikelihood(self, requests: list[tuple[str, list[str]]], batch_size: int = 8,
                      on_item=None) -> list[list[float]]:
        """log p(continuation | context) for each continuation, `batch_size` items at a time.
        Each item's context (few-shot examples + its shared part) is encoded once: the contexts
        of the batch run as one left-padded forward pass, then every option of every item runs
        in one pass on the expanded KV cache; logits are computed only where they are scored."""
        results = []
        for start in range(0, len(requests), batch_size):
            chunk = requests[start:start + batch_size]
            for offset, scores in enumerate(self._loglikelihood_batch(chunk)):
                results.append(scores)
                if on_item is not None:
                    on_item(start + offset, scores)
        return results

    def _loglikelihood_batch(self, requests) -> list[list[float]]:
        from transformers import DynamicCache

        torch = self.torch
        device = self.model.device
        split = [self._split_tokens(context, options) for context, options in requests]
        width = max(len(ctx) for ctx, _ in split)
        pad = self.tokenizer.pad_token_id
        ids = torch.full((len(split), width), pad, dtype=torch.long)
        mask = torch.zeros((len(split), width), dtype=torch.long)
        for row, (ctx, _) in enumerate(split):   # left padding, as in generation
            ids[row, width - len(ctx):] = torch.tensor(ctx)
            mask[row, width - len(ctx):] = 1
        ids, mask = ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
        cache = DynamicCache()
        with torch.inference_mode():
            first = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                               past_key_values=cache, use_cache=True, logits_to_keep=1)
            first = first.logits[:, -1].float().log_softmax(-1)
            scores = [[first[row, c[0]].item() for c in conts] for row, (_, conts) in enumerate(split)]
            # Every option (after its first token) of every item, on its item's cached context.
            owners = [(row, k) for row, (_, conts) in enumerate(split) for k, c in enumerate(conts) if len(c) > 1]
            if owners:
                longest = max(len(split[row][1][k]) for row, k in owners) - 1
                rest = torch.full((len(owners), longest), pad, dtype=torch.long)
                for i, (row, k) in enumerate(owners):
                    c = split[row][1][k]
                    rest[i, :len(c) - 1] = torch.tensor(c[:-1])
                select = torch.tensor([row for row, _ in owners], device=device)
                cache.batch_select_indices(select)
                # Right padding of the options: real tokens never attend to the pads after them.
                option_mask = torch.cat([mask[select], mask.new_ones((len(owners), longest))], dim=-1)
                option_positions = positions[select, -1:] + 1 + torch.arange(longest, device=device)
                out = self.model(input_ids=rest.to(device), attention_mask=option_mask,
                                 position_ids=option_positions, past_key_values=cache, use_cache=False)
                logprobs = out.logits.float().log_softmax(-1)
                for i, (row, k) in enumerate(owners):
                    c = split[row][1][k]
                    targets = torch.tensor(c[1:], device=device)
                    scores[row][k] += logprobs[i, :len(c) - 1].gather(1, targets[:, None]).sum().item()
        return scores

    def loglikelihood_unshared(self, requests: list[tuple[str, list[str]]]) -> list[list[float]]:
        """The textbook computation (one full forward pass per option, logits everywhere): the
        reference the shared-prefix path is tested and benchmarked against."""
        torch = self.torch
        results = []
        for context, continuations in requests:
            ctx, conts = self._split_tokens(context, continuations)
            scores = []
            for c in conts:
                with torch.inference_mode():
                    logits = self.model(input_ids=torch.tensor([ctx + c], device=self.model.device)).logits
                logprobs = logits[0].float().log_softmax(-1)
                scores.append(sum(logprobs[len(ctx) - 1 + i, t].item() for i, t in enumerate(c)))
            results.append(scores)
        return results
