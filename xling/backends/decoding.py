"""The decoding loop of causal LMs loaded here: greedy output and sampled candidates, rows
leaving the batch (and its KV cache) as they finish and, with refill, rows freed by them filled
from the queue (continuous batching). `HFBackend` holds one `ContinuousDecoder` over its
`LoadedModel`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import kvcache
from .attention import decode_masks, kernel_scope
from .numerics import NotANumber

if TYPE_CHECKING:
    import torch


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


@dataclass
class Unit:
    """A prompt to prefill and the decoding rows it feeds (one; or one per candidate)."""
    ids: list[int]
    rows: list[int]


def to_device(values, device, dtype=None):
    """A small host list as a tensor on `device`; on CUDA copied from pinned memory without
    waiting for the kernels already queued (a plain copy would wait for the running forward)."""
    import torch

    tensor = torch.tensor(values, dtype=dtype)
    if getattr(device, "type", str(device)).startswith("cuda"):
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def live_vocab(lm) -> int:
    """Rows of the model's output layer (may exceed the tokenizer's vocabulary)."""
    config = lm.model.config
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    return max(getattr(config, "vocab_size", 0) or 0, len(lm.tokenizer))


def token_table(ids, size: int, device):
    """A boolean vector over the vocabulary, True at `ids`."""
    import torch

    table = torch.zeros(size, dtype=torch.bool)
    table[sorted(i for i in ids if 0 <= i < size)] = True
    return table.to(device)


@dataclass
class LiveBatch:
    """The running batch. On the device: its KV cache (`kvcache.slot_cache`, growing in place),
    the left-padding mask (`mask`, a `kvcache.Slots` whose fresh columns are ones), each row's
    next position, tokens produced, budget, whether a line end stops it, and its next-token
    logits. On the host: the row ids in batch order and each row's leading padding columns, so
    that no bookkeeping needs to read the device."""
    cache: object
    mask: kvcache.Slots
    next_pos: torch.Tensor
    produced: torch.Tensor
    budget: torch.Tensor
    newline_stop: torch.Tensor
    logits: torch.Tensor
    rows: list[int]
    lead: list[int]

    @property
    def width(self) -> int:
        return self.mask.end - self.mask.start

    def reserve(self, columns: int) -> None:
        """Room for `columns` more steps without reallocating the cache or the mask."""
        kvcache.reserve(self.cache, columns)
        self.mask.reserve(columns)

    def drop(self, finished: list[int]) -> None:
        """Remove the rows at batch positions `finished`: the last kept rows move into their
        places (only as many cache rows are copied as were dropped)."""
        import torch

        device = self.next_pos.device
        n, gone = len(self.rows), set(finished)
        kept = n - len(gone)
        holes = [p for p in sorted(gone) if p < kept]
        movers = [p for p in range(kept, n) if p not in gone]
        order = list(range(kept))
        for hole, mover in zip(holes, movers):
            order[hole] = mover
        order_t, holes_t, movers_t = (to_device(v, device, dtype=torch.long) for v in (order, holes, movers))
        kvcache.drop_rows(self.cache, order_t, holes_t, movers_t, kept)
        self.mask.move_rows(holes_t, movers_t, kept)
        for name in ("next_pos", "produced", "budget", "newline_stop", "logits"):
            setattr(self, name, getattr(self, name)[order_t])
        self.rows = [self.rows[p] for p in order]
        self.lead = [self.lead[p] for p in order]

    def trim(self) -> None:
        """Forget the leading columns no remaining row attends to."""
        first = min(self.lead)
        if first > 0:
            kvcache.trim(self.cache, first)
            self.mask.start += first
            self.lead = [lead - first for lead in self.lead]

    def step(self, model, tokens) -> None:
        """Feed each row its new token: one forward pass for the whole batch, with ready masks
        (`attention.decode_masks`), so that transformers asks the device nothing."""
        attention = self.mask.extend(1, headroom=64)
        self.logits = model(input_ids=tokens[:, None], attention_mask=decode_masks(model, attention),
                            position_ids=self.next_pos[:, None], use_cache=True,
                            **kvcache.cache_arg(model, self.cache)).logits[:, -1]
        self.next_pos = self.next_pos + 1

    def merge(self, other: "LiveBatch") -> "LiveBatch":
        import torch

        old, new = self.width, other.width
        attention = kvcache.merge(self.cache, self.mask.view(), other.cache, other.mask.view())
        self.mask = kvcache.Slots(attention, 1, fill=1)
        columns = attention.shape[1]
        for name in ("next_pos", "produced", "budget", "newline_stop", "logits"):
            setattr(self, name, torch.cat([getattr(self, name), getattr(other, name)]))
        self.lead = [lead + columns - old for lead in self.lead] + [lead + columns - new for lead in other.lead]
        self.rows = self.rows + other.rows
        return self


class CandidateSampler:
    """Next tokens for candidate rows: each candidate has its own random stream, seeded by its
    index and its prompt (so that sources do not share draws), never by the batch it runs in;
    a row that restarts (after an out-of-memory retry) restarts its stream."""

    def __init__(self, torch, device, sampling, units, row_of):
        self.torch, self.device, self.sampling, self.row_of = torch, device, sampling, row_of
        self.salt = {row: int(hashlib.sha256(repr(unit.ids).encode()).hexdigest()[:12], 16)
                     for unit in units for row in unit.rows}
        self.streams = {}

    def start(self, rows) -> None:
        for row in rows:
            seed = (self.sampling.row_seed(self.row_of[row][1]) ^ self.salt[row]) % (2 ** 63)
            self.streams[row] = self.torch.Generator(device=self.device).manual_seed(seed)

    def __call__(self, logits, rows: list[int]):
        probs = sampling_probs(logits.float(), self.sampling)
        # torch.multinomial's one-sample draw (p / Exp(1) noise, argmax) without its checks: each
        # asks the GPU for a number (two host syncs per row per step); the same draws from each stream
        noise = self.torch.stack([self.torch.empty_like(probs[n]).exponential_(1, generator=self.streams[row])
                                  for n, row in enumerate(rows)])
        return (probs / noise).argmax(-1)


class ContinuousDecoder:
    """Greedy or sampled decoding of a causal `LoadedModel` (`lm`), row by row."""

    def __init__(self, lm):
        self.lm = lm

    def _prefill(self, units: list["Unit"], row_requests, reserve: int) -> "LiveBatch":
        """One left-padded forward pass over the units' prompts: a live batch with one row per
        unit row (a unit's candidates share its prompt's cache), room for `reserve` steps."""
        torch, model = self.lm.torch, self.lm.model
        device = model.device
        input_ids, attention = (t.to(device) for t in self.lm.left_pad([u.ids for u in units]))
        positions = (attention.cumsum(-1) - 1).masked_fill(attention == 0, 1)
        cache = kvcache.slot_cache()
        logits = model(input_ids=input_ids, attention_mask=attention, position_ids=positions,
                       use_cache=True, logits_to_keep=1, **kvcache.cache_arg(model, cache)).logits[:, -1]
        rows = [row for unit in units for row in unit.rows]
        width = input_ids.shape[1]
        lead = [width - len(unit.ids) for unit in units for _ in unit.rows]
        if len(rows) != len(units):   # one prefill per prompt, shared by its candidate rows
            select = torch.tensor([n for n, unit in enumerate(units) for _ in unit.rows], device=device)
            cache.batch_select_indices(select)
            logits, attention, positions = logits[select], attention[select], positions[select]
        live = LiveBatch(cache=cache, mask=kvcache.Slots(attention, 1, fill=1), next_pos=positions[:, -1] + 1,
                         produced=torch.zeros(len(rows), dtype=torch.long, device=device),
                         budget=to_device([row_requests[r].max_new_tokens for r in rows], device, torch.long),
                         newline_stop=to_device([row_requests[r].stop_at_newline for r in rows], device, torch.bool),
                         logits=logits, rows=rows, lead=lead)
        live.reserve(reserve)
        return live

    def decode(self, units: list["Unit"], row_requests, limit_rows: int, limit_tokens: int | None,
               pick=None, refill: bool = False, on_rows=None) -> dict[int, str]:
        """Greedy (or `pick`ed) decoding of every unit's rows, `limit_rows` rows and about
        `limit_tokens` tokens at a time, in queue order. Each row leaves the batch (and its KV
        cache) as soon as it is done — EOS, line end when asked, a stop string, or its own token
        budget — and is passed to `on_rows(rows, texts)`. Each step is the forward pass
        `generate` makes (same positions, cache and mask), so outputs equal one-at-a-time
        greedy decoding.

        With `refill`, rows freed by finished ones are refilled from the queue: the newcomers'
        prompts are prefilled and merged into the running cache (continuous batching), so the
        batch stays full instead of waiting for its longest row. `pick(logits, rows)` replaces
        the argmax (candidates); its `start(rows)`, if any, is called as rows (re)start.

        Pipelined: each step's tokens and done flags are computed on the device and copied to
        the host while the next forward pass is already queued, so the host's bookkeeping (and
        the next step's launches) overlap the device's work; the one host sync per step waits
        for those tokens only. A row that finishes is therefore fed one token more before it
        leaves (its result is discarded)."""
        with kernel_scope():
            return self._decode(units, row_requests, limit_rows, limit_tokens, pick, refill, on_rows)

    def _decode(self, units, row_requests, limit_rows, limit_tokens, pick, refill, on_rows) -> dict[int, str]:
        from collections import deque

        lm = self.lm
        torch, model = lm.torch, lm.model
        device = model.device
        on_cuda = device.type == "cuda"
        # Lookup tables, not torch.isin: isin sorts on the device and reads a size back (a host
        # sync that stalled the pipelined loop at every step: 0.85 s of 8 steps at 512 rows).
        eos = token_table(lm.eos_ids, live_vocab(lm), device)
        newline = token_table(lm.newline_token_ids(), live_vocab(lm), device)
        budgets = [r.max_new_tokens for r in row_requests]
        enders = lm.stop_enders(row_requests)   # tokens that can complete a stop string (None: any)
        queue = deque(units)
        prompt_of = {row: unit.ids for unit in units for row in unit.rows}
        generated: dict[int, list[int]] = {}
        texts: dict[int, str] = {}
        live = None
        refill_at = max(1, limit_rows // 8)    # free rows worth a prefill

        def requeue(admitted):
            for unit in reversed(admitted):
                queue.appendleft(unit)

        with torch.inference_mode():
            while queue or live is not None:
                running = 0 if live is None else len(live.rows)
                if queue and (live is None or refill and limit_rows - running >= refill_at
                              and kvcache.mergeable(live.cache, live.width)):
                    admitted = admit(queue, live, limit_rows, limit_tokens, budgets, generated)
                    remaining = max(budgets[r] - len(generated.get(r, ())) for u in admitted for r in u.rows) \
                        if admitted else 0
                    if live is not None:
                        remaining = max(remaining, *(budgets[r] - len(generated[r]) for r in live.rows))
                    failed = False
                    try:
                        fresh = self._prefill(admitted, row_requests, 0 if live else remaining) if admitted else None
                    except torch.OutOfMemoryError:
                        failed = True   # (handled below: this block's traceback holds the failed tensors)
                    if failed:
                        requeue(admitted)
                        limit_rows = lm.out_of_memory(running + sum(len(u.rows) for u in admitted))
                        refill_at = max(1, limit_rows // 8)
                        continue
                    if fresh is not None:
                        lm.batch_log.append({"rows": len(fresh.rows), **({"refill": True} if live else {})})
                        for row in fresh.rows:
                            generated[row] = []
                        if pick is not None and hasattr(pick, "start"):
                            pick.start(fresh.rows)
                        if live is None:
                            live = fresh
                        else:
                            live = live.merge(fresh)
                            live.reserve(remaining)
                    # (handed over: on a GPU, a kept reference held the newcomers' cache twice, and
                    # a failed batch's whole cache beside the smaller retry after an out-of-memory step)
                    fresh = None
                assert live is not None   # an empty batch always admits a unit (see admit)
                tokens = live.logits.argmax(-1) if pick is None else pick(live.logits, live.rows)
                live.produced += 1
                done = eos[tokens] | (live.newline_stop & newline[tokens]) | (live.budget <= live.produced)
                broken = live.logits.isnan().any(-1)   # (read back with the tokens: see numerics)
                packed = torch.stack([tokens, done.long(), broken.long()])
                if on_cuda:   # copied while the next forward pass runs
                    packed = packed.to("cpu", non_blocking=True)
                    ready = torch.cuda.Event()
                    ready.record()
                rows = live.rows
                failed = False
                try:
                    live.step(model, tokens)
                except torch.OutOfMemoryError:
                    failed = True
                if failed:   # restart the running rows, fewer at a time
                    live = fresh = None
                    limit_rows = lm.out_of_memory(len(rows))
                    refill_at = max(1, limit_rows // 8)
                    units_back: dict[tuple, list[int]] = {}
                    for row in rows:
                        generated.pop(row, None)
                        units_back.setdefault(tuple(prompt_of[row]), []).append(row)
                    requeue([Unit(list(ids), rows) for ids, rows in units_back.items()])
                    continue
                if on_cuda:
                    ready.synchronize()
                new_tokens, flags, nans = packed.tolist()
                if any(nans):
                    raise NotANumber(lm.dtype)
                finished = []
                for position, (row, token, flag) in enumerate(zip(rows, new_tokens, flags)):
                    generated[row].append(token)
                    if flag or (enders is None or token in enders) and lm.hit_stop(row_requests[row], generated[row]):
                        finished.append(position)
                if not finished:
                    continue
                done_rows = [rows[p] for p in finished]
                done_texts = [lm.finish(row_requests[row], generated.pop(row)) for row in done_rows]
                texts.update(zip(done_rows, done_texts))
                if on_rows is not None:
                    on_rows(done_rows, done_texts)
                if len(finished) == len(rows):
                    live = None
                    continue
                live.drop(finished)
                if refill:
                    live.trim()
        return texts


def admit(queue, live, limit_rows: int, limit_tokens: int | None, budgets, generated) -> list["Unit"]:
    """Units from the head of the queue that fit beside the live batch: at most `limit_rows`
    rows, and rows x (widest prompt + largest remaining budget) within `limit_tokens`. An
    empty batch always takes something (a unit with more rows than fit is split)."""
    rows = 0 if live is None else len(live.rows)
    width = 0 if live is None else live.width
    remaining = 0 if live is None else max(budgets[row] - len(generated[row]) for row in live.rows)
    taken: list[Unit] = []
    while queue:
        unit = queue[0]
        new_rows = rows + len(unit.rows)
        need = new_rows * (max(width, len(unit.ids)) + max(remaining, *(budgets[r] for r in unit.rows)))
        if new_rows > limit_rows or (limit_tokens and need > limit_tokens):
            if rows == 0 and not taken:     # never stall: take what fits of the first unit
                fits = max(1, min(limit_rows, len(unit.rows)))
                if fits < len(unit.rows):
                    queue[0] = Unit(unit.ids, unit.rows[fits:])
                    return [Unit(unit.ids, unit.rows[:fits])]
                return [queue.popleft()]
            break
        taken.append(queue.popleft())
        rows, width = new_rows, max(width, len(unit.ids))
        remaining = max(remaining, *(budgets[r] for r in unit.rows))
    return taken
