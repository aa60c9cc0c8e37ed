"""Left-padded KV caches that change shape mid-generation: rows dropped as they finish, new rows
merged in (continuous batching), leading columns no row attends to trimmed away.

Only transformers' DynamicCache holding every position in every layer (no sliding-window
layer that has started dropping positions) can be merged; `mergeable` says so, and callers keep
the plain shrinking batch otherwise.
"""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=None)
def _cache_name(cls) -> str:
    import inspect

    return "cache" if "cache" in inspect.signature(cls.forward).parameters else "past_key_values"


def cache_arg(module, cache) -> dict:
    """The keyword under which `module` takes a KV cache: `cache` in today's transformers 5
    (`past_key_values` is deprecated there, and gone in 5.40), `past_key_values` before."""
    return {_cache_name(type(module)): cache}


def _pairs(cache):
    """[(keys, values)] per layer, each [rows, heads, columns, head_dim]; None if unsupported."""
    layers = getattr(cache, "layers", None)
    if layers is not None:   # transformers >= 4.56
        if any(getattr(layer, "is_sliding", False) for layer in layers):
            return None
        return [(layer.keys, layer.values) for layer in layers]
    if hasattr(cache, "key_cache"):   # older DynamicCache: two lists of tensors
        return list(zip(cache.key_cache, cache.value_cache))
    return None


def _set_pairs(cache, pairs) -> None:
    layers = getattr(cache, "layers", None)
    if layers is not None:
        for layer, (keys, values) in zip(layers, pairs):
            layer.keys, layer.values = keys, values
    else:
        cache.key_cache[:] = [k for k, _ in pairs]
        cache.value_cache[:] = [v for _, v in pairs]


def mergeable(cache, columns: int) -> bool:
    """Whether every layer holds exactly `columns` positions (nothing windowed away)."""
    pairs = _pairs(cache)
    return bool(pairs) and all(k.shape[-2] == columns and v.shape[-2] == columns for k, v in pairs)


def _pad_left(tensor, columns: int, dim: int):
    import torch

    missing = columns - tensor.shape[dim]
    if missing <= 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)


def merge(cache, attention, other_cache, other_attention):
    """Append the rows of (other_cache, other_attention) to (cache, attention), left-padding the
    narrower side with masked columns; returns the merged attention mask (the cache is merged in
    place). Both caches must be `mergeable`."""
    import torch

    columns = max(attention.shape[1], other_attention.shape[1])
    pairs = [(torch.cat([_pad_left(k, columns, -2), _pad_left(k2, columns, -2)]),
              torch.cat([_pad_left(v, columns, -2), _pad_left(v2, columns, -2)]))
             for (k, v), (k2, v2) in zip(_pairs(cache), _pairs(other_cache))]
    _set_pairs(cache, pairs)
    return torch.cat([_pad_left(attention, columns, 1), _pad_left(other_attention, columns, 1)])


def trim(cache, attention):
    """Drop the leading columns no remaining row attends to (rows that needed them are gone)."""
    pairs = _pairs(cache)
    used = (attention.sum(0) > 0).nonzero()
    first = int(used[0]) if len(used) else 0
    if first == 0 or not pairs or any(k.shape[-2] != attention.shape[1] for k, _ in pairs):
        return attention
    _set_pairs(cache, [(k[..., first:, :], v[..., first:, :]) for k, v in pairs])
    return attention[:, first:]
