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
    kind: type = type(module)
    return {_cache_name(kind): cache}


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


def trim(cache, first: int) -> None:
    """Drop the first `first` columns of every layer (no remaining row attends to them): in
    place for `SlotLayer`s, else by slicing."""
    if first > 0 and not drop_leading(cache, first):
        _set_pairs(cache, [(k[..., first:, :], v[..., first:, :]) for k, v in _pairs(cache)])


# -- a cache that grows in place -----------------------------------------------------------------
class Slots:
    """A tensor kept as a view of a larger zeroed buffer: rows [:n] along dim 0 and columns
    [start:end) along `dim`. Appending columns writes into spare capacity (no copy of what is
    there); dropping rows moves the last rows into the freed ones (a copy of as many rows as
    were dropped); dropping leading columns only moves `start`."""

    def __init__(self, tensor, dim: int, fill: int = 0):
        self.buf, self.dim, self.fill = tensor, dim, fill   # fill: value of fresh capacity
        self.n, self.start, self.end = tensor.shape[0], 0, tensor.shape[dim]

    def view(self):
        return self.buf[:self.n].narrow(self.dim, self.start, self.end - self.start)

    def reserve(self, columns: int) -> None:
        """Make room for `columns` more columns after `end` (reallocating, once, if short)."""
        if self.end + columns <= self.buf.shape[self.dim]:
            return
        view = self.view()
        shape = list(view.shape)
        width = shape[self.dim]
        shape[self.dim] = width + columns
        buf = view.new_full(shape, self.fill)
        buf.narrow(self.dim, 0, width).copy_(view)
        self.buf, self.start, self.end = buf, 0, width

    def append(self, values, headroom: int = 0):
        """Write `values` (its columns) after `end`; returns the view."""
        count = values.shape[self.dim]
        self.reserve(count + headroom if self.end + count > self.buf.shape[self.dim] else count)
        self.buf[:self.n].narrow(self.dim, self.end, count).copy_(values)
        self.end += count
        return self.view()

    def extend(self, count: int, headroom: int = 0):
        """Take `count` more columns of fresh capacity (`fill`) into the view; returns it."""
        if self.end + count > self.buf.shape[self.dim]:
            self.reserve(count + headroom)
        self.end += count
        return self.view()

    def move_rows(self, holes, movers, n: int) -> None:
        if len(holes):
            self.buf[holes] = self.buf[movers]
        self.n = n


def _slot_property(name: str) -> property:
    """A SlotLayer attribute (`keys`, `values`) read as its `Slots` view, or as the raw tensor
    when it holds nothing slots can manage."""
    def get(self):
        slots = self._slots(name)
        return self.__dict__.get("_raw_" + name) if slots is None else slots.view()

    def put(self, tensor):
        if tensor is not None and tensor.dim() == 4 and tensor.numel():
            self.__dict__["_slots_" + name] = Slots(tensor, 2)
        else:
            self.__dict__["_slots_" + name] = None
            self.__dict__["_raw_" + name] = tensor
    return property(get, put)


class SlotLayer:
    """Mixed into transformers' DynamicLayer (`slot_cache`): `keys`/`values` are `Slots` views,
    so a decoding step writes its new column in place instead of concatenating the whole layer
    (which copies every row's keys and values at every step)."""

    HEADROOM = 64     # columns added when a step finds no spare capacity

    def _slots(self, name):
        return self.__dict__.get("_slots_" + name)

    keys = _slot_property("keys")
    values = _slot_property("values")

    def update(self, key_states, value_states, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        if self._slots("keys") is None:
            self.keys, self.values = key_states, value_states
            return self.keys, self.values
        return (self._slots("keys").append(key_states, self.HEADROOM),
                self._slots("values").append(value_states, self.HEADROOM))


def slot_cache():
    """A DynamicCache whose layers grow in place (`SlotLayer`); a plain DynamicCache where this
    transformers builds its layers otherwise."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    cache = DynamicCache()
    if getattr(cache, "layer_class_to_replicate", None) is DynamicLayer and not cache.layers:
        cache.layer_class_to_replicate = _slot_layer_class(DynamicLayer)
    return cache


@lru_cache(maxsize=None)
def _slot_layer_class(base):
    return type("SlotDynamicLayer", (SlotLayer, base), {})


def _slot_layers(cache):
    layers = getattr(cache, "layers", None) or []
    return layers if layers and all(isinstance(layer, SlotLayer) and layer._slots("keys") is not None
                                    for layer in layers) else None


def reserve(cache, columns: int) -> None:
    """Room for `columns` more positions in every layer (one reallocation now, none per step)."""
    for layer in _slot_layers(cache) or []:
        layer._slots("keys").reserve(columns)
        layer._slots("values").reserve(columns)


def drop_rows(cache, order, holes, movers, n: int) -> None:
    """Keep `n` rows: in place (the last rows moved into the `holes` of dropped ones) where the
    layers are `SlotLayer`s, else by selecting `order` (a copy of every kept row)."""
    layers = _slot_layers(cache)
    if layers is None:
        cache.batch_select_indices(order)
        return
    for layer in layers:
        layer._slots("keys").move_rows(holes, movers, n)
        layer._slots("values").move_rows(holes, movers, n)


def drop_leading(cache, columns: int) -> bool:
    """Forget the first `columns` positions of every layer without copying (SlotLayers only)."""
    layers = _slot_layers(cache)
    if layers is None:
        return False
    for layer in layers:
        layer._slots("keys").start += columns
        layer._slots("values").start += columns
    return True
