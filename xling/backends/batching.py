"""Batch sizes for the hardware: `--batch-size auto` turns the free GPU memory and the model's
shape into a cap on rows and on tokens per batch. A CPU keeps fixed row counts (its speed
barely depends on batch size past a few rows, and its memory is rarely the limit).

Memory per token of a batch: the KV cache (layers x KV heads x head dim x 2 x dtype bytes,
held for every prompt and generated token) plus the transient activations of one layer during
the prefill (hidden states and MLP, counted for every token: a safe bound). Memory per row: the
next-token logits over the vocabulary (in the model's dtype, plus float32 copies for sampling).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import XlingError

AUTO = "auto"
CPU_ROWS = {"generate": 32, "loglikelihood": 8}   # today's fixed defaults, kept on a CPU
MAX_ROWS = 4096
MARGIN = 0.85            # of the free memory: fragmentation, the allocator's own blocks
RESERVE = 1 << 30        # bytes kept aside for everything not modelled here
LOGIT_SHARE = 0.2        # of the usable memory, at most, for per-row logits


def check_batch_size(value) -> int | str:
    """A batch size as a user gives it: a positive integer or "auto"."""
    if value == AUTO:
        return AUTO
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise XlingError(f"batch size must be a positive integer or 'auto', not {value!r}")
    return value


@dataclass(frozen=True)
class Batching:
    """How a backend loaded here batches, fixed when it is built: rows per batch (or "auto":
    sized for the device), an optional cap on tokens per batch (rows x (longest prompt +
    largest budget)), and whether rows freed by finished ones are refilled from the queue
    (continuous batching; None: on when sized "auto"). Outputs are the same either way."""

    size: int | str = AUTO
    max_tokens: int | None = None
    refill: bool | None = None

    def __post_init__(self):
        object.__setattr__(self, "size", check_batch_size(self.size))
        if self.max_tokens is not None and (isinstance(self.max_tokens, bool) or not isinstance(
                self.max_tokens, int) or self.max_tokens < 1):
            raise XlingError(f"max_batch_tokens must be a positive integer, not {self.max_tokens!r}")
        if self.refill not in (None, True, False):
            raise XlingError(f"refill must be true or false, not {self.refill!r}")

    @property
    def refills(self) -> bool:
        return self.size == AUTO if self.refill is None else self.refill


def _text_config(config):
    getter = getattr(config, "get_text_config", None)
    return getter() if getter is not None else config


def _first(cfg, *names, default=None):
    for name in names:
        value = getattr(cfg, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return default


def model_shape(config) -> dict:
    """Layers, attention heads, KV heads, head dim, hidden and MLP width, vocabulary size."""
    cfg = _text_config(config)
    hidden = _first(cfg, "hidden_size", "d_model", "n_embd")
    heads = _first(cfg, "num_attention_heads", "decoder_attention_heads", "n_head")
    if hidden is None or heads is None:
        raise XlingError("cannot size batches automatically for this model (no hidden size or head "
                         "count in its config): pass --batch-size N")
    return {"layers": _first(cfg, "num_hidden_layers", "decoder_layers", "num_layers", "n_layer", default=1),
            "heads": heads,
            "kv_heads": _first(cfg, "num_key_value_heads", default=heads),
            "head_dim": _first(cfg, "head_dim", default=hidden // heads),
            "hidden": hidden,
            "mlp": _first(cfg, "intermediate_size", "decoder_ffn_dim", "d_ff", "n_inner", default=4 * hidden),
            "vocab": _first(cfg, "vocab_size", default=32000)}


def kv_bytes_per_token(shape: dict, dtype_bytes: int) -> int:
    return shape["layers"] * shape["kv_heads"] * shape["head_dim"] * 2 * dtype_bytes


def activation_bytes_per_token(shape: dict, dtype_bytes: int) -> int:
    """One layer's transient tensors per token in a prefill: a few hidden-size copies
    (residual, norm, attention in and out), q/k/v, and the MLP's gate, up and activation."""
    qkv = (shape["heads"] + 2 * shape["kv_heads"]) * shape["head_dim"]
    return (4 * shape["hidden"] + qkv + 3 * shape["mlp"]) * dtype_bytes


def auto_limits(free_bytes: int, shape: dict, dtype_bytes: int) -> dict:
    """Rows and tokens per batch that fit `free_bytes` (after the weights are loaded)."""
    usable = max(0, int(free_bytes * MARGIN) - RESERVE)
    per_row = shape["vocab"] * (dtype_bytes + 2 * 4)
    rows = int(max(1, min(MAX_ROWS, usable * LOGIT_SHARE // per_row)))
    per_token = kv_bytes_per_token(shape, dtype_bytes) + activation_bytes_per_token(shape, dtype_bytes)
    tokens = int(max(1, (usable - rows * per_row) // per_token))
    return {"rows": rows, "max_batch_tokens": tokens, "free_gib": round(free_bytes / 2 ** 30, 2),
            "kv_bytes_per_token": kv_bytes_per_token(shape, dtype_bytes),
            "activation_bytes_per_token": activation_bytes_per_token(shape, dtype_bytes),
            "logit_bytes_per_row": per_row}
