"""Shared helpers for the benchmarks: locating the real data, timing, printing ratios."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from xling.data.parallel import data_root  # noqa: E402


def require_data(explicit: str | None = None) -> Path:
    root = data_root(explicit, required=False)
    if root is None:
        print("skipped: no evaluation data (set XLING_DATA or pass --data-dir)")
        sys.exit(0)
    return root


@contextmanager
def timer(results: dict, name: str):
    start = time.perf_counter()
    yield
    results[name] = time.perf_counter() - start


def require_lm_eval() -> None:
    """Exit with a line saying so where lm-evaluation-harness is not importable."""
    try:
        import lm_eval  # noqa: F401
    except ImportError:
        print("skipped: lm-eval is not installed in this Python (see the script's docstring)")
        sys.exit(0)


def model_or_embedded(model: str | None) -> str:
    """The model folder asked for, else the embedded model's (converted on first use)."""
    if model is not None:
        return model
    from xling.backends.embedded import embedded_model_dir
    return str(embedded_model_dir())


def generate_batch(model, inputs: list[list[int]], generation_config) -> dict:
    """transformers' `generate_batch` with its paged cache sized to these prompts on a CPU: left
    to itself it reserves a share of the machine's whole memory (14 GB for a 0.2M-parameter model,
    killed by the OOM killer). On a GPU its own sizing stands (that is what its users get). A model
    xling switched to its own attention (`xling_sdpa`, where transformers lacks pack_gqa: 5.17 on
    the device) runs on "sdpa" meanwhile: paged attention knows only transformers' own kernels."""
    implementation = model.config._attn_implementation
    if implementation not in ("sdpa", "eager"):
        model.set_attn_implementation("sdpa")
    try:
        return _paged_generate(model, inputs, generation_config)
    finally:
        if implementation != model.config._attn_implementation:
            model.set_attn_implementation(implementation)


def _paged_generate(model, inputs: list[list[int]], generation_config) -> dict:
    import dataclasses
    import inspect
    import math

    options: dict = {}
    if model.device.type == "cpu":
        tokens = max(map(len, inputs), default=0) + (generation_config.max_new_tokens or 0)
        page = 256
        blocks = math.ceil(len(inputs) * tokens / page) + 4
        try:
            from transformers.generation.configuration_utils import ContinuousBatchingConfig
        except ImportError:   # (older transformers: the cache settings sit on the generation config)
            generation_config.num_blocks, generation_config.block_size = blocks, page
        else:
            if "continuous_batching_config" in inspect.signature(model.generate_batch).parameters:
                # (the page size is `block_size` up to transformers 5.17, `page_size` later)
                size = "page_size" if "page_size" in {f.name for f in dataclasses.fields(ContinuousBatchingConfig)} \
                    else "block_size"
                options["continuous_batching_config"] = ContinuousBatchingConfig(
                    **{size: page}, num_blocks=blocks, max_batch_tokens=getattr(generation_config, "max_batch_tokens",
                                                                                None) or 512,
                    scheduler_type=getattr(generation_config, "scheduler", None) or "fifo")
    return model.generate_batch(inputs=inputs, generation_config=generation_config, progress_bar=False, **options)


def scratch(prefix: str) -> Path:
    """A temporary folder removed when the benchmark exits (normally or on Ctrl-C): a 1.5B model
    built in one was 3 GB left in /tmp per run."""
    import atexit
    import shutil
    import signal
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:   # (`timeout` sends it: exit, and clean up)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return folder
