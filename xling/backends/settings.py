"""How a task reaches its model: the settings every backend takes, owned here and inherited by
each task's config."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from ..settings import Checked, setting

@dataclass(kw_only=True)
class BackendSettings(Checked):
    """How to reach the model: load it here (hf) or call an OpenAI-compatible server (http)."""
    backend: str = setting("auto", "auto: vllm where a CUDA device is present and vLLM imports, else "
                                   "hf; hf: load the model here with transformers; vllm: load it here "
                                   "with vLLM (pip install 'xling[vllm]'); http: an OpenAI-compatible "
                                   "server (vLLM, TGI, ...).")
    base_url: str | None = setting(None, "Server URL for --backend http, e.g. http://127.0.0.1:8000/v1.")
    api_key_env: str | None = setting(None, "Environment variable holding the API key (default: "
                                            "XLING_API_KEY, then OPENAI_API_KEY).")
    api_key_file: str | None = setting(None, "File holding the API key.")
    concurrency: int = setting(8, "Requests in flight (http).")
    request_timeout: float = setting(120.0, "Seconds per request (http).")
    max_retries: int = setting(5, "Retries of a failed request, with exponential backoff (http).")
    revision: str | None = setting(None, "Hub revision of the model (hf).")
    trust_remote_code: bool = setting(False, "Allow model code from the hub to run (hf, vllm).")
    # vLLM's own engine settings (--backend vllm), under vLLM's names.
    tensor_parallel_size: int = setting(1, "GPUs each copy of the model is split over (vllm).")
    data_parallel_size: int = setting(1, "Copies of the model serving in parallel (vllm's own data "
                                         "parallelism; Ray underneath across nodes).")
    gpu_memory_utilization: float | None = setting(None, "Share of each GPU's memory vLLM may take (vllm; "
                                                         "on a CPU: of the RAM; default: vLLM's, 0.9).")
    max_num_seqs: int | None = setting(None, "Sequences vLLM runs at once (vllm; default: vLLM's).")
    max_model_len: int | None = setting(None, "Context window in tokens (vllm; default: the model's).")
    dtype: str = setting("auto", "Weights and activations (vllm): auto (vLLM's choice from the "
                                 "model's own dtype), float32, bfloat16, float16.")
    enforce_eager: bool = setting(False, "No CUDA graphs (vllm): starts faster, runs slower.")
    batch_invariant: bool = setting(False, "vLLM's batch-invariant mode: each output independent of "
                                           "what it is batched with (vllm; slower).")

    # Settings that change no output, shared by every task.
    TRANSPORT = ("api_key_env", "api_key_file", "concurrency", "request_timeout", "max_retries")
    # vLLM's settings stay out of a run's identity: the backend's fingerprint (part of every
    # identity and cache key) holds those that change outputs (dtype, tensor parallelism,
    # batch invariance, the context window) with vLLM's version.
    ENGINE = ("tensor_parallel_size", "data_parallel_size", "gpu_memory_utilization", "max_num_seqs",
              "max_model_len", "dtype", "enforce_eager", "batch_invariant")
    NON_IDENTITY = ()  # set by each task config

    def __post_init__(self):
        super().__post_init__()
        from ..secrets import check_server_url

        for name, option in (("base_url", "--base-url"), ("judge_base_url", "--judge-base-url")):
            check_server_url(getattr(self, name, None), option)
        if self.backend == "auto":   # chosen now, so config.json and the identity hold what runs
            from .choice import resolve_backend

            self.backend = resolve_backend("auto", bool(getattr(self, "static_cache", False)))

    def public_settings(self) -> dict:
        """Every setting, as stored in a run folder: credentials in the URL are never kept."""
        from ..secrets import redact_url

        values = dataclasses.asdict(self)
        for key in ("base_url", "judge_base_url"):
            if key in values:
                values[key] = redact_url(values[key])
        return values

    # Settings added after runs already existed: left out of the identity at their default, so
    # a run folder made before them is resumed, not refused as "a different config".
    ADDED_LATER = ()

    def identity(self) -> dict:
        defaults = {f.name: f.default for f in fields(self)}
        return {k: v for k, v in self.public_settings().items() if k not in self.NON_IDENTITY
                and k not in self.ENGINE and not (k in self.ADDED_LATER and v == defaults.get(k))}
