"""The decoding loop of causal LMs loaded here: greedy output and sampled candidates, rows
leaving the batch (and its KV cache) as they finish and, with refill, rows freed by them filled
from the queue (continuous batching). `HFBackend` holds one `ContinuousDecoder` over its
`LoadedModel`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from . import kvcache


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


@dataclass
class LiveBatch:
    """The running batch: its KV cache, left-padded attention mask, each row's next position,
    the row ids in batch order and their next-token logits."""
    cache: object
    attention: object
    next_pos: object
    rows: object
    logits: object

    def select(self, keep) -> None:
        self.cache.batch_select_indices(keep)
        self.attention, self.next_pos, self.rows = self.attention[keep], self.next_pos[keep], self.rows[keep]

    def step(self, model, tokens) -> None:
        """Feed each row its new token: one forward pass for the whole batch."""
        import torch

        self.attention = torch.cat([self.attention, self.attention.new_ones((len(self.rows), 1))], dim=-1)
        self.logits = model(input_ids=tokens[:, None], attention_mask=self.attention,
                            position_ids=self.next_pos[:, None], use_cache=True,
                            **kvcache.cache_arg(model, self.cache)).logits[:, -1]
        self.next_pos = self.next_pos + 1

    def merge(self, other: "LiveBatch") -> "LiveBatch":
        import torch

        self.attention = kvcache.merge(self.cache, self.attention, other.cache, other.attention)
        self.next_pos = torch.cat([self.next_pos, other.next_pos])
        self.rows = torch.cat([self.rows, other.rows])
        self.logits = torch.cat([self.logits, other.logits])
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

    def __call__(self, logits, rows):
        probs = sampling_probs(logits.float(), self.sampling)
        return self.torch.cat([self.torch.multinomial(probs[n], 1, generator=self.streams[row])
                               for n, row in enumerate(rows.tolist())])


class ContinuousDecoder:
    """Greedy or sampled decoding of a causal `LoadedModel` (`lm`), row by row."""

    def __init__(self, lm):
        self.lm = lm

    def _prefill(self, units: list["Unit"]):
        """One left-padded forward pass over the units' prompts: a live batch with one row per
        unit row (a unit's candidates share its prompt's cache) and their next-token logits."""
        from transformers import DynamicCache

        torch, model = self.lm.torch, self.lm.model
        device = model.device
        input_ids, attention = (t.to(device) for t in self.lm.left_pad([u.ids for u in units]))
        positions = (attention.cumsum(-1) - 1).masked_fill(attention == 0, 1)
        cache = DynamicCache()
        logits = model(input_ids=input_ids, attention_mask=attention, position_ids=positions,
                       use_cache=True, logits_to_keep=1, **kvcache.cache_arg(model, cache)).logits[:, -1]
        rows = [row for unit in units for row in unit.rows]
        if len(rows) != len(units):   # one prefill per prompt, shared by its candidate rows
            select = torch.tensor([n for n, unit in enumerate(units) for _ in unit.rows], device=device)
            cache.batch_select_indices(select)
            logits, attention, positions = logits[select], attention[select], positions[select]
        return LiveBatch(cache, attention, positions[:, -1] + 1, torch.tensor(rows, device=device), logits)

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
        the argmax (candidates); its `start(rows)`, if any, is called as rows (re)start."""
        from collections import deque

        lm = self.lm
        torch, model = lm.torch, lm.model
        device = model.device
        newline = torch.tensor(sorted(lm.newline_token_ids()), device=device)
        eos = torch.tensor(sorted(lm.eos_ids), device=device)
        stops = torch.tensor([r.stop_at_newline for r in row_requests], device=device)
        budgets = torch.tensor([r.max_new_tokens for r in row_requests], device=device)
        any_stop_strings = any(r.stop for r in row_requests)
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
                              and kvcache.mergeable(live.cache, live.attention.shape[1])):
                    admitted = admit(queue, live, limit_rows, limit_tokens, budgets, generated)
                    try:
                        fresh = self._prefill(admitted) if admitted else None
                    except torch.OutOfMemoryError:
                        requeue(admitted)
                        limit_rows = lm.out_of_memory(running + sum(len(u.rows) for u in admitted))
                        refill_at = max(1, limit_rows // 8)
                        continue
                    if fresh is not None:
                        lm.batch_log.append({"rows": len(fresh.rows), **({"refill": True} if live else {})})
                        for row in fresh.rows.tolist():
                            generated[row] = []
                        if pick is not None and hasattr(pick, "start"):
                            pick.start(fresh.rows.tolist())
                        live = fresh if live is None else live.merge(fresh)
                tokens = live.logits.argmax(-1) if pick is None else pick(live.logits, live.rows)
                rows = live.rows.tolist()
                for row, token in zip(rows, tokens.tolist()):
                    generated[row].append(token)
                produced = torch.tensor([len(generated[row]) for row in rows], device=device)
                done = torch.isin(tokens, eos) | (stops[live.rows] & torch.isin(tokens, newline)) \
                    | (budgets[live.rows] <= produced)
                if any_stop_strings:
                    done |= torch.tensor([lm.hit_stop(row_requests[row], generated[row])
                                          for row in rows], device=device)
                if bool(done.any()):
                    finished = [row for row, d in zip(rows, done.tolist()) if d]
                    finished_texts = [lm.finish(row_requests[row], generated.pop(row)) for row in finished]
                    texts.update(zip(finished, finished_texts))
                    if on_rows is not None:
                        on_rows(finished, finished_texts)
                    if bool(done.all()):
                        live = None
                        continue
                    keep = (~done).nonzero().squeeze(-1)
                    live.select(keep)
                    tokens = tokens[keep]
                    if refill:
                        live.attention = kvcache.trim(live.cache, live.attention)
                try:
                    live.step(model, tokens)
                except torch.OutOfMemoryError:   # restart the running rows, fewer at a time
                    restart = live.rows.tolist()
                    live = None
                    limit_rows = lm.out_of_memory(len(restart))
                    refill_at = max(1, limit_rows // 8)
                    units_back: dict[tuple, list[int]] = {}
                    for row in restart:
                        generated.pop(row, None)
                        units_back.setdefault(tuple(prompt_of[row]), []).append(row)
                    requeue([Unit(list(ids), rows) for ids, rows in units_back.items()])
        return texts


def admit(queue, live, limit_rows: int, limit_tokens: int | None, budgets, generated) -> list["Unit"]:
    """Units from the head of the queue that fit beside the live batch: at most `limit_rows`
    rows, and rows x (widest prompt + largest remaining budget) within `limit_tokens`. An
    empty batch always takes something (a unit with more rows than fit is split)."""
    rows = 0 if live is None else len(live.rows)
    width = 0 if live is None else live.attention.shape[1]
    remaining = 0 if live is None else max(int(budgets[row]) - len(generated[row]) for row in live.rows.tolist())
    taken = []
    while queue:
        unit = queue[0]
        new_rows = rows + len(unit.rows)
        need = new_rows * (max(width, len(unit.ids)) + max(remaining, *(int(budgets[r]) for r in unit.rows)))
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
        remaining = max(remaining, *(int(budgets[r]) for r in unit.rows))
    return taken
