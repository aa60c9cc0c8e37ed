"""A Hugging Face checkpoint loaded here, and what every backend built on one shares: the
tokenizer now and the weights on first use, the device, batch sizes for it, out-of-memory
handling, and turning new tokens into an answer. The causal backend (`hf`) and the
encoder-decoder one (`seq2seq`) each hold one `LoadedModel`; the decoding loop (`decoding`)
and the log-likelihood scorer (`loglik`) take it explicitly."""
from __future__ import annotations

import copy
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from ..data import hub
from ..errors import XlingError
from ..store.filehash import model_fingerprint
from . import attention
from . import batching as sizes
from .base import Backend, Decoding, GenerationRequest, Prompt, ended_answer, render_chat
from .batching import Batching
from .choice import announce
from .encoding import encode
from .loglik import prefix_token


@contextmanager
def seeded(torch, seed: int | None, device: str):
    """Sampling seeded for this call only: the caller's own random state (torch's global one,
    and the GPU's) is as it was afterwards. `seed` None: nothing is seeded."""
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[torch.device(device)] if str(device).startswith("cuda") else []):
        torch.manual_seed(seed)
        yield


def load_config(source: str, common: dict):
    """The model's config and tokenizer (every failure becomes one clear line)."""
    from transformers import AutoConfig, AutoTokenizer

    config = None
    try:
        with hub.quiet_transformers(), hub.offline_while(common.get("local_files_only", False)):
            config = AutoConfig.from_pretrained(source, **common)
            return config, AutoTokenizer.from_pretrained(source, **common)
    except XlingError:
        raise
    except Exception as exc:  # noqa: BLE001 - every hub failure becomes one clear line
        refuse_remote_code(source, exc)
        if Path(source).is_dir():
            if config is not None and not has_tokenizer_files(Path(source)):
                # (transformers' several lines blamed a missing sentencepiece or tiktoken instead)
                raise XlingError(f"model folder {source!r} has no tokenizer files (tokenizer.json, tokenizer.model, "
                                 "vocab.json and merges.txt, ...): copy them from the model's original folder "
                                 "or hub page") from exc
            raise XlingError(f"cannot load model from {source!r}: {one_line(exc)}") from exc
        raise hub.error_for(source, exc) from exc


# What holds a tokenizer's vocabulary, whatever its kind: a fast tokenizer's tokenizer.json, a
# byte-level BPE's vocab.json (+ merges.txt), WordPiece's vocab.txt, SentencePiece models
# (tokenizer.model, spiece.model, sentencepiece.bpe.model, Marian's source.spm), tiktoken files
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "vocab.txt", "merges.txt")
TOKENIZER_SUFFIXES = (".model", ".spm", ".tiktoken")


def has_tokenizer_files(folder: Path) -> bool:
    """Whether a model folder holds any tokenizer vocabulary file (asked only once loading failed)."""
    return any((folder / name).is_file() for name in TOKENIZER_FILES) or \
        any(f.suffix in TOKENIZER_SUFFIXES for f in folder.iterdir() if f.is_file())


def one_line(exc: Exception) -> str:
    """An exception's text on one line (transformers' messages run over several)."""
    return " ".join(str(exc).split())


def refuse_remote_code(source: str, exc: Exception) -> None:
    """transformers' several-line message (with its link) for a model that ships its own code,
    as one line that says what to do."""
    if "trust_remote_code" in str(exc):
        raise XlingError(f"model {source!r} needs its own Python code (remote code) to load, which "
                         "xling does not run unless told: pass --trust-remote-code (only for a model "
                         "you trust)") from None


def ensure_pad_token(tokenizer) -> None:
    """A pad token where the tokenizer has none: padded columns are masked (and padded labels
    ignored), so any token serves, the EOS first, else UNK, else token 0 (a tokenizer with
    neither pad nor EOS crashed every path)."""
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token or tokenizer.convert_ids_to_tokens(0)


def context_window(config, tokenizer) -> int | None:
    """Tokens of prompt plus output the model was trained to attend over (None: unknown)."""
    for cfg in (config, getattr(config, "text_config", None)):
        value = getattr(cfg, "max_position_embeddings", None) if cfg is not None else None
        if isinstance(value, int) and value > 0:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    return value if isinstance(value, int) and 0 < value < 10**8 else None   # 1e30: "unset"


def unloaded_weights(model, info: dict) -> str | None:
    """What of the model `from_pretrained` did not fill from the checkpoint (its loading info),
    which would run as random values: tensors of another shape than the config gives (the
    config belongs to other weights), or missing from the checkpoint. Not counted as missing:
    buffers (rotary inv_freq: computed, never read from a file) and parameters tied to one that
    loaded (the output layer sharing the embeddings); transformers itself already leaves out
    the keys a model lists as expected to be missing (`_keys_to_ignore_on_load_missing`)."""
    mismatched = sorted(info.get("mismatched_keys") or (), key=lambda m: m[0])
    if mismatched:
        key, in_file, in_model = mismatched[0][:3]
        count = f"{len(mismatched)} tensors do" if len(mismatched) > 1 else "1 tensor does"
        more = ", ..." if len(mismatched) > 1 else ""
        return (f"{count} not have the shape config.json gives ({key}: {list(in_file)} in the checkpoint, "
                f"{list(in_model)} in the model{more}): the config does not belong to these weights")
    named = dict(model.named_parameters(remove_duplicate=False))
    buffers = {name for name, _ in model.named_buffers(remove_duplicate=False)}
    missing = set(info.get("missing_keys") or ())
    loaded = {tensor.data_ptr() for name, tensor in named.items() if name not in missing}
    missing = {k for k in missing if k not in buffers and not (k in named and named[k].data_ptr() in loaded)}
    if missing:
        keys = sorted(missing)
        shown = ", ".join(keys[:3]) + (", ..." if len(keys) > 3 else "")
        return (f"{len(keys)} tensor{'s' if len(keys) > 1 else ''} missing from the checkpoint ({shown}): "
                "they would be random")
    return None


class LoadedModel:
    """One checkpoint: tokenizer and config at once, weights (`model`) on first use — rendering
    prompts, counting tokens and checking a run folder need only the tokenizer, so a fully
    cached re-run never loads them. Holds the log of batches run on it."""

    def __init__(self, source: str, *, display: str, model_class: str, revision: str | None = None,
                 trust_remote_code: bool = False, device: str | None = None, config=None, tokenizer=None):
        import torch

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model_class = model_class
        common = hub.load_options(source, revision, trust_remote_code)
        if config is None or tokenizer is None:
            config, tokenizer = load_config(source, common)
        self.config, self.tokenizer = config, tokenizer
        if isinstance(getattr(tokenizer, "deprecation_warnings", None), dict):
            # ("Token indices sequence length is longer than ...": xling measures every prompt
            # against the context window itself, and refuses in one line what does not fit)
            tokenizer.deprecation_warnings["sequence-length-is-longer-than-the-specified-maximum"] = True
        self.model_type = config.model_type
        self.context_window = context_window(config, tokenizer)
        self._source, self._local, self._common = source, Path(source).is_dir(), common
        self._explicit_device = device is not None
        self._model = None
        resolved_revision = getattr(config, "_commit_hash", None) or revision
        if self._local:
            resolved_revision = model_fingerprint(Path(source))
        # bfloat16 on a GPU, float32 elsewhere: the precision changes outputs, so it is part of
        # every cache key and run identity (a CPU run's outputs are never served to a GPU run).
        # float32 is the fingerprint without a dtype, as before it was recorded, so run folders
        # and caches made in float32 resume.
        self.dtype = "bfloat16" if self.device.startswith("cuda") else "float32"
        self.fingerprint = {"backend": "hf", "model": display, "revision": resolved_revision or "unknown"}
        if self.dtype != "float32":
            self.fingerprint["dtype"] = self.dtype
        self.has_chat_template = bool(getattr(tokenizer, "chat_template", None))
        ensure_pad_token(tokenizer)
        self._newline_ids: set[int] | None = None
        self._pad_id: int | None = None
        self._enders: dict[frozenset, frozenset] = {}
        self.eos_ids: set[int] = set()
        self.batch_log: list[dict] = []   # rows per batch run (and out-of-memory splits)
        self.batch_plan: dict = {}        # the last batch sizes chosen (see batch_limits)
        self.batch_plans: dict = {}       # the last ones of each kind: generate, loglikelihood
        self.tokens_generated = 0         # new tokens kept (to the budget or EOS), for throughput

    @property
    def model(self):
        if self._model is None:
            self._model = self._load_weights()
        return self._model

    def _load_weights(self):
        import transformers


        announce("hf")   # which backend `auto` chose, said when its weights really load

        torch = self.torch
        on_gpu = self.device.startswith("cuda")
        load = dict(self._common, dtype=getattr(torch, self.dtype),
                    use_safetensors=None,  # None: safetensors first, .bin only as a fallback
                    # what did not load is asked for and refused below (transformers' own report of it
                    # is hidden with its warnings; a size mismatch raised "look at the above report!")
                    output_loading_info=True, ignore_mismatched_sizes=True)
        if on_gpu and not self._explicit_device:
            # the whole model on the first GPU: "auto" spread even a small one over every visible
            # GPU, and the decoding loop's row indices live on one device (a mismatch at the first
            # finished row); a model larger than one GPU fails to load in one line instead
            load["device_map"] = {"": 0}
        try:
            # (transformers' own look for an adapter file skips local_files_only: offline for the load)
            with hub.quiet_transformers(), hub.offline_while(load.get("local_files_only", False)):
                model, info = getattr(transformers, self.model_class).from_pretrained(self._source, **load)
        except Exception as exc:  # noqa: BLE001
            if isinstance(exc, torch.OutOfMemoryError):   # (not "the hub cannot be reached")
                raise XlingError(f"model {self._source!r} does not fit in the first GPU's free memory "
                                 "(xling's decoding runs on one device): use a smaller model or a larger GPU, "
                                 "or hide the GPU (CUDA_VISIBLE_DEVICES=) to run on the CPU") from None
            refuse_remote_code(self._source, exc)
            if self._local:
                raise XlingError(f"cannot load model weights from {self._source!r}: {one_line(exc)}") from exc
            raise hub.error_for(self._source, exc) from exc
        problem = unloaded_weights(model, info)
        if problem:
            raise XlingError(f"cannot load model weights from {self._source!r}: {problem}")
        if "device_map" not in load:
            model.to(self.device)
        self.check_unchanged()
        model.eval()
        attention.install_gqa_decode(model)
        gen_eos = model.generation_config.eos_token_id
        eos = gen_eos if isinstance(gen_eos, list) else [gen_eos]
        self.eos_ids = {i for i in eos + [self.tokenizer.eos_token_id] if i is not None}
        return model

    def check_unchanged(self) -> None:
        """A local model's files hashed again once its weights are read (the digests are kept by
        file stat: only a changed file is read again). A folder rewritten after it was opened - a
        trainer saving into it - would otherwise put the new weights' outputs in the cache and
        the run under the old files' fingerprint."""
        if self._local and model_fingerprint(Path(self._source)) != self.fingerprint["revision"]:
            raise XlingError(f"the model files in {self._source} changed after xling opened them (a "
                             "training run saving into that folder?); run the command again once they are written")

    # -- text and tokens -------------------------------------------------------------------
    def render(self, prompt: Prompt) -> str:
        if prompt.messages is None:   # not a chat: a Prompt holds either text or messages
            return cast(str, prompt.text)
        if not self.has_chat_template:
            raise XlingError(f"model {self.fingerprint['model']!r} has no chat template; use a "
                             "completion template (e.g. --template mt-completion)")
        tokenizer = self.tokenizer
        return render_chat(lambda chat: tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True),
                           prompt.messages, self.fingerprint["model"])

    def encode_prompt(self, prompt: Prompt) -> list[int]:
        # A rendered chat template already holds the BOS token; plain text gets it here (and
        # never an EOS a tokenizer appends: see encoding)
        if prompt.is_chat:
            return self.tokenizer(self.render(prompt), add_special_tokens=False)["input_ids"]
        # an empty prompt on a tokenizer without BOS is no token at all (a reshape error alone,
        # a silent '' in a batch): it is conditioned on the BOS or EOS, as an empty context is scored
        return encode(self.tokenizer, [self.render(prompt)])[0] or [prefix_token(self.tokenizer)]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def newline_token_ids(self) -> set[int]:
        """Every vocabulary entry whose text contains a line break."""
        if self._newline_ids is None:
            tokens = self.tokenizer.convert_ids_to_tokens(list(range(len(self.tokenizer))))
            candidates = [i for i, t in enumerate(tokens) if t and (
                "\n" in t or "Ċ" in t or "č" in t or "<0x0A>" in t or "<0x0D>" in t or "\r" in t)]
            self._newline_ids = {i for i in candidates
                                 if "\n" in self.tokenizer.decode([i]) or "\r" in self.tokenizer.decode([i])}
        return self._newline_ids

    @property
    def pad_id(self) -> int:
        """The id padded columns hold (masked: any token the model has serves). A pad token added
        to the tokenizer without resizing the embeddings (an id past its rows) crashed every batch
        of two rows or more: then the EOS, else token 0."""
        if self._pad_id is None:
            rows = self.model.get_input_embeddings().num_embeddings
            pad, eos = self.tokenizer.pad_token_id, self.tokenizer.eos_token_id
            self._pad_id = pad if pad is not None and 0 <= pad < rows else \
                eos if isinstance(eos, int) and 0 <= eos < rows else 0
        return self._pad_id

    def left_pad(self, sequences: list[list[int]]):
        """(input_ids, attention_mask) of token lists left-padded to the longest (on the CPU)."""
        torch = self.torch
        width = max(len(ids) for ids in sequences)
        input_ids = torch.full((len(sequences), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, ids in enumerate(sequences):
            input_ids[row, width - len(ids):] = torch.tensor(ids)
            attention[row, width - len(ids):] = 1
        return input_ids, attention

    def finish(self, request: GenerationRequest, new_tokens: list[int]) -> str:
        """Cut one row's new tokens at its own budget, EOS and (optionally) the line end."""
        new_tokens = new_tokens[:request.max_new_tokens]
        budget_cut = True
        for pos, tok in enumerate(new_tokens):
            if tok in self.eos_ids:
                new_tokens, budget_cut = new_tokens[:pos], False
                break
        self.tokens_generated += len(new_tokens)
        text = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        spent = budget_cut and len(new_tokens) == request.max_new_tokens
        if spent:
            # The budget may end inside a character's bytes (byte-fallback tokens): that half
            # character is not part of the answer (vLLM's detokenizer drops it too).
            text = text.rstrip("\ufffd")
        return ended_answer(text, request, spent)

    def hit_stop(self, request: GenerationRequest, tokens: list[int]) -> bool:
        """Whether the row's text now ends in one of its stop strings (checked on the last few
        tokens only: each holds at least one byte; "\\n한국어:" is 11 byte pieces of a
        byte-level tokenizer, 5 characters)."""
        if not request.stop:
            return False
        longest = max(len(s.encode("utf-8")) for s in request.stop)
        tail = self.tokenizer.decode(tokens[-(longest + 2):], skip_special_tokens=True)
        return any(s in tail for s in request.stop)

    def stop_enders(self, requests) -> frozenset | None:
        """The tokens whose text can complete one of the requests' stop strings (those holding
        a stop string's last character, or no whole character: a byte piece), so that the
        decoding loop decodes text only for rows that just produced one; None: every token can
        (a stop string ending in white space, which tokenizers may drop from a lone token)."""
        stops = {s for r in requests for s in (r.stop or ())}
        if not stops:
            return frozenset()
        if any(s[-1].isspace() and s[-1] not in "\n\r" for s in stops):
            return None
        lasts = frozenset(s[-1] for s in stops)
        if lasts not in self._enders:
            texts = self.tokenizer.batch_decode([[i] for i in range(len(self.tokenizer))])
            self._enders[lasts] = frozenset(i for i, text in enumerate(texts)
                                            if not text or "\ufffd" in text or any(c in text for c in lasts))
        return self._enders[lasts]

    # -- batches and memory ------------------------------------------------------------------
    def batch_limits(self, batching: Batching, kind: str = "generate") -> tuple[int, int | None]:
        """(rows, tokens) per batch. "auto" on a GPU: what the free memory holds for this model
        (`batching.auto_limits`); on a CPU: the fixed default rows. The choice is kept in
        `batch_plan` (runs record it)."""

        plan: dict   # rows (an int) and max_batch_tokens (an int or None), and what auto_limits adds
        if batching.size != sizes.AUTO:
            plan = {"rows": batching.size, "max_batch_tokens": batching.max_tokens}
        elif not self.device.startswith("cuda"):
            plan = {"rows": sizes.CPU_ROWS[kind], "max_batch_tokens": batching.max_tokens}
        else:
            model = self.model   # the free memory is measured with the weights in place
            free, _total = self.torch.cuda.mem_get_info(model.device)
            # blocks the allocator holds but no tensor uses (an earlier batch's) are free to it
            free += self.torch.cuda.memory_reserved(model.device) - self.torch.cuda.memory_allocated(model.device)
            dtype_bytes = next(model.parameters()).element_size()
            plan = sizes.auto_limits(free, sizes.model_shape(model.config), dtype_bytes)
            if batching.max_tokens:
                plan["max_batch_tokens"] = batching.max_tokens
        # (the weights load here at the latest: the batch runs next, and the record names their attention)
        self.batch_plan = {"batch_size": batching.size, **plan, "attention": attention.describe(self.model)}
        self.batch_plans[kind] = self.batch_plan
        return plan["rows"], plan["max_batch_tokens"]

    def out_of_memory(self, rows: int) -> int:
        """After an out-of-memory error on `rows` rows: free what can be freed, log it, and return
        the row count to retry with (one row that does not fit is the user's to fix)."""
        if rows <= 1:
            raise XlingError("out of memory on a single segment: pass a smaller "
                             "--max-batch-tokens, a shorter input, or a larger device") from None
        self.free_memory()
        half = rows // 2
        self.batch_log.append({"rows": rows, "out_of_memory": True})
        print(f"xling: out of memory with {rows} rows in a batch; retrying with at most {half}",
              file=sys.stderr)
        return half

    def free_memory(self) -> None:
        import gc

        gc.collect()
        if self.torch.cuda.is_available():
            self.torch.cuda.empty_cache()

    def run_batches(self, batches, step, count: int, on_batch=None, on_out_of_memory=None) -> list:
        """Outputs of `count` requests run as `batches` (lists of request indices) through
        `step(indices) -> texts`. A batch that runs out of memory is halved and retried
        (`on_out_of_memory()` first); finished batches are never lost, each passed to
        `on_batch(indices, texts)` as it ends."""
        outputs: list = [None] * count

        def run(indices):
            try:
                texts = step(indices)
            except self.torch.OutOfMemoryError:
                texts = None   # retried below, not in here: the live traceback holds the failed batch's tensors
            if texts is None:
                half = self.out_of_memory(len(indices))
                if on_out_of_memory is not None:
                    on_out_of_memory()
                run(indices[:half])
                run(indices[half:])
                return
            self.batch_log.append({"rows": len(indices)})
            for i, text in zip(indices, texts):
                outputs[i] = text
            if on_batch is not None:
                on_batch(indices, texts)

        for indices in batches:
            run(indices)
        return outputs


# What a checkpoint's generation_config.json may set that xling's own decoding loop (and its
# vLLM backend) never applies: given to a decoder-only model's `model.generate` as "off", so
# that its outputs do not depend on the path (--static-cache, sampling) or on the checkpoint's
# defaults (Qwen2.5's repetition_penalty 1.05, say); beam search (MBR candidates) keeps its
# beams but gets the repetition settings off too. A seq2seq checkpoint's settings (Marian's
# beams) are its intended decoding and stay.
REPETITION_OFF = dict(repetition_penalty=1.0, no_repeat_ngram_size=0, min_p=None, typical_p=None,
                      # and what shapes the logits otherwise (a checkpoint's min_new_tokens or suppressed
                      # tokens changed --static-cache's outputs, cached under the loop's keys: round 23)
                      min_length=0, min_new_tokens=None, suppress_tokens=None, begin_suppress_tokens=None,
                      bad_words_ids=None, sequence_bias=None, forced_bos_token_id=None, forced_eos_token_id=None,
                      exponential_decay_length_penalty=None,
                      # (a checkpoint's max_length never cuts: max_new_tokens is each request's budget;
                      # left set, transformers warned once per call that both were given)
                      max_length=None)
NEUTRAL_GENERATION = dict(REPETITION_OFF, num_beams=1)


def sampling_args(decoding: Decoding, neutral: bool = False) -> dict:
    """`model.generate`'s options for greedy or sampled decoding; with `neutral`, the
    checkpoint's repetition settings off (NEUTRAL_GENERATION)."""
    extra = NEUTRAL_GENERATION if neutral else {}
    if not decoding.do_sample:
        return dict(do_sample=False, temperature=None, top_p=None, top_k=None, **extra)
    return dict(do_sample=True, temperature=decoding.temperature, top_p=decoding.top_p, **extra)


class LocalBackend(Backend):
    """What the backends over a `LoadedModel` share: the protocol's text side (render, token
    counts, context window, fingerprint), the model's attributes, and batching fixed when the
    backend is built (`with_batching` gives a copy that batches otherwise, on the same weights)."""

    is_seq2seq = False

    def __init__(self, lm: LoadedModel, batching: Batching | None = None):
        self.lm = lm
        self.batching = batching or Batching()

    def with_batching(self, batching: Batching) -> "LocalBackend":
        other = copy.copy(self)
        other.batching = batching
        return other

    # the loaded model's own attributes, read through
    fingerprint = property(lambda self: self.lm.fingerprint)
    context_window = property(lambda self: self.lm.context_window)
    has_chat_template = property(lambda self: self.lm.has_chat_template)
    model_type = property(lambda self: self.lm.model_type)
    tokenizer = property(lambda self: self.lm.tokenizer)
    device = property(lambda self: self.lm.device)
    torch = property(lambda self: self.lm.torch)
    model = property(lambda self: self.lm.model)
    batch_log = property(lambda self: self.lm.batch_log)
    batch_plan = property(lambda self: self.lm.batch_plan)
    tokens_generated = property(lambda self: self.lm.tokens_generated)
    # Whether the weights were ever needed (a fully cached run never loads them).
    weights_loaded = property(lambda self: self.lm._model is not None)

    def render(self, prompt: Prompt) -> str:
        return self.lm.render(prompt)

    def encode_prompt(self, prompt: Prompt) -> list[int]:
        return self.lm.encode_prompt(prompt)

    def prompt_tokens(self, prompt: Prompt) -> int:
        return len(self.lm.encode_prompt(prompt))

    def count_tokens(self, text: str) -> int:
        return self.lm.count_tokens(text)

    def batch_limits(self, kind: str = "generate") -> tuple[int, int | None]:
        return self.lm.batch_limits(self.batching, kind)

    def stats(self) -> dict:
        return {"batches": self.lm.batch_log, "plan": dict(self.lm.batch_plan),
                "plans": {kind: dict(plan) for kind, plan in self.lm.batch_plans.items()}}
