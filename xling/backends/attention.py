"""Attention for xling's own forward passes (the decoding loop and the log-likelihood scorer):
which SDPA kernels they may run on, the decoding step's ready-made masks, and grouped-query
attention without copying keys and values per query head.

- Kernels. PyTorch prefers cuDNN's attention on recent GPUs, and cuDNN builds a new execution
  plan for every new shape. A decoding loop meets a new shape at every step (the KV cache grows
  by one column), so the plan is rebuilt every step: on an H200, 4.4 ms of CPU per call, 0.14 s
  per step of a 1.5B model (issue 34). `kernel_scope()` lets xling's calls use flash,
  memory-efficient and math attention only. It is a context entered around each of xling's
  forward passes, never a lasting process-wide switch: a notebook keeps PyTorch's choice once
  no xling call runs. PyTorch's kernel flags are global, though: while one runs, other threads'
  attention runs under them too. Calls overlapping in threads share one scope (a lock and a
  count of the calls inside): the flags are saved as the first enters and restored as the last
  leaves (each call restoring what it saw on entry left cuDNN off for good after two overlapped).
- Masks. A decoding step's mask is the left-padding mask, plus the window for sliding-window
  layers. Given ready as 4D boolean masks, transformers builds none, and so makes no host sync
  (its mask builder asks the GPU whether every position is real), which would stall the
  pipelined loop (`decoding`).
- Grouped-query attention. For one query token, transformers >= 5.2x folds a KV head's query
  heads into the query-length dimension (`pack_gqa`) instead of repeating every key and value
  per query head (`repeat_kv`: at 512 rows of a 1.5B model, ~0.5 GB written per layer per step).
  Where the installed transformers lacks it, `install_gqa_decode` registers the same folding as
  an attention function of xling's own.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any

KERNELS = ("flash", "efficient", "math")    # cuDNN left out: it re-plans for every new shape
XLING_SDPA = "xling_sdpa"                   # our registered attention (older transformers only)


def _backends():
    from torch.nn.attention import SDPBackend

    names = {"flash": SDPBackend.FLASH_ATTENTION, "efficient": SDPBackend.EFFICIENT_ATTENTION,
             "math": SDPBackend.MATH}
    return [names[name] for name in KERNELS]


_scope_lock = threading.Lock()
_scope_depth = 0            # xling calls inside the scope now, in every thread
_scope_entered: Any = None  # the open sdpa_kernel context: PyTorch's flags from before the first call


@contextmanager
def kernel_scope():
    """The context xling's forward passes run in: SDPA limited to `KERNELS`, and PyTorch's own
    flags restored once the last call inside (of any thread) leaves it."""
    global _scope_depth, _scope_entered
    try:
        from torch.nn.attention import sdpa_kernel
    except ImportError:     # torch < 2.3: no scoped choice; PyTorch's own
        yield
        return
    with _scope_lock:
        if _scope_depth == 0:
            entered = sdpa_kernel(_backends())
            entered.__enter__()
            _scope_entered = entered
        _scope_depth += 1
    try:
        yield
    finally:
        with _scope_lock:
            _scope_depth -= 1
            if _scope_depth == 0:
                entered, _scope_entered = _scope_entered, None
                entered.__exit__(None, None, None)


def describe(model=None) -> dict:
    """What a run records (metrics.json, beside the batch plan)."""
    try:
        import torch.nn.attention  # noqa: F401
        kernels = list(KERNELS)
    except ImportError:
        kernels = ["pytorch default"]
    info: dict[str, object] = {"sdpa_kernels": kernels, "excluded": "cudnn (re-plans for every new shape)"}
    if model is not None:
        config = model.config
        implementation = getattr(config, "_attn_implementation", None)
        if hasattr(config, "get_text_config"):   # (Gemma 3 and other multimodal wrappers: the decoder's heads)
            config = config.get_text_config(decoder=True)
        info["implementation"] = implementation
        kv_heads = getattr(config, "num_key_value_heads", None)
        if kv_heads is None or kv_heads == getattr(config, "num_attention_heads", None):
            info["gqa_decode"] = "none (one key/value head per query head)"   # (mBART, GPT-2: nothing to fold)
        else:
            info["gqa_decode"] = ("folded query heads" if implementation == XLING_SDPA or
                                  implementation == "sdpa" and _transformers_folds_gqa() else "repeat_kv")
    return info


def _transformers_folds_gqa() -> bool:
    try:
        from transformers.integrations import sdpa_attention
    except ImportError:
        return False
    return hasattr(sdpa_attention, "pack_gqa")


def install_gqa_decode(model, force: bool = False) -> None:
    """Give a model on SDPA grouped-query decoding without `repeat_kv` where the installed
    transformers does not already do it (`force`: install ours anyway, for tests)."""
    config = model.config
    if getattr(config, "_attn_implementation", None) != "sdpa" or (_transformers_folds_gqa() and not force):
        return
    try:
        from transformers import AttentionInterface
        from transformers.integrations.sdpa_attention import sdpa_attention_forward
        from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask
    except ImportError:
        return

    def xling_sdpa(module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None, **kwargs):
        groups = getattr(module, "num_key_value_groups", 1)
        if groups == 1 or query.shape[2] != 1 or kwargs.get("softcap") is not None \
                or kwargs.get("position_bias") is not None:
            return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                          scaling=scaling, is_causal=is_causal, **kwargs)
        import torch

        rows, heads, _, dim = query.shape
        # One query token: the query heads of each KV head become that head's "query length".
        folded = query.reshape(rows, heads // groups, groups, dim)
        if attention_mask is not None and attention_mask.shape[1] != 1:
            attention_mask = attention_mask.reshape(rows, heads // groups, groups, -1)
        out = torch.nn.functional.scaled_dot_product_attention(
            folded, key, value, attn_mask=attention_mask, dropout_p=dropout, scale=scaling)
        return out.reshape(rows, heads, 1, value.shape[-1]).transpose(1, 2).contiguous(), None

    AttentionInterface.register(XLING_SDPA, xling_sdpa)
    ALL_MASK_ATTENTION_FUNCTIONS.register(XLING_SDPA, sdpa_mask)
    try:
        model.set_attn_implementation(XLING_SDPA)
    except Exception:  # noqa: BLE001 - a model that refuses custom attention keeps plain SDPA
        return


def uses_sdpa(model) -> bool:
    return getattr(model.config, "_attn_implementation", None) in ("sdpa", XLING_SDPA)


def decode_masks(model, attention):
    """The attention masks of a one-token decoding step over a left-padded cache whose columns
    `attention` ([rows, columns], 1 = a real token) describes: ready 4D boolean masks when the
    model runs on SDPA and its layer types are known (full and sliding-window attention), else
    `attention` itself (transformers builds the masks)."""
    if not uses_sdpa(model):
        return attention
    config = model.config.get_text_config(decoder=True) if hasattr(model.config, "get_text_config") else model.config
    types = set(getattr(config, "layer_types", None) or ["full_attention"])
    if not types <= {"full_attention", "sliding_attention"}:
        return attention
    full = attention.bool()[:, None, None, :]

    def windowed(window: int):   # the newest token sees the last `window` columns (transformers' rule)
        import torch

        columns = attention.shape[1]
        return full & (torch.arange(columns, device=attention.device) > columns - 1 - window)

    if types == {"full_attention"} and getattr(config, "layer_types", None) is None:
        # Mistral, Phi-3, Starcoder2: no layer types, one window over every layer (it was left out:
        # each decoding step saw the whole cache, and the outputs differed from generate's)
        # (use_sliding_window: false is no switch for these: their modeling code windows anyway;
        # the Qwen models it switches have layer types)
        window = getattr(config, "sliding_window", None)
        return windowed(int(window)) if window else full
    masks = {"full_attention": full}
    if "sliding_attention" in types:
        window = getattr(config, "sliding_window", None)
        if not window:
            return attention
        masks["sliding_attention"] = windowed(window)
    return masks
