"""Log-likelihood scoring of causal LMs loaded here: each item's context encoded once, many items
per pass, the LM head only where a token is scored. `HFBackend` holds one `LoglikelihoodScorer`
over its `LoadedModel`.
"""
from __future__ import annotations

from functools import lru_cache
from typing import cast

from ..errors import ItemTooLong, XlingError
from .attention import kernel_scope
from .encoding import encode
from .kvcache import cache_arg
from .numerics import NotANumber

# Causal LMs whose logits are exactly lm_head(final hidden state) (Gemma 2/3: then soft-capped).
HEAD_ONLY_TYPES = {"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "phi3"}


def split_tokens(tokenizer, context: str, continuations: list[str]) -> tuple[list[int], list[list[int]]]:
    """Context tokens (with BOS) and each continuation's tokens as they fall when the two are
    encoded together, so scores match scoring the concatenated text.

    A context ending in whitespace ("Answer: ") that merges with an option ("▁Yes") gives its
    whitespace to every option, as lm-eval does; scoring the option after a lone "▁" (a split
    the tokenizer never makes) cost 12 nats. A boundary that merges otherwise (zh "因为"+"它" is
    one token, "因为它") gives the continuation's tokens on their own here; `scoring_units` says
    how such an option is scored."""
    ctx, conts, _, _ = _joint(tokenizer, context, continuations)
    return ctx, [c if c is not None else tokenizer(cont, add_special_tokens=False)["input_ids"]
                 for c, cont in zip(conts, continuations)]


# One scored piece of a continuation: log p(target | prefix), counted with `sign`.
Unit = tuple[list[int], list[int], int]


def scoring_units(tokenizer, context: str, continuations: list[str]) -> list[list[Unit]]:
    """Per continuation, the pieces whose signed sum is its log-likelihood after the context:
    (context tokens, its tokens, +1) where the two split cleanly; where they merge across the
    boundary, log p(context + continuation) - log p(context), each text as the tokenizer splits
    it, from their common prefix on. (Scoring the continuation's own tokens after the context
    reads a split the model never sees: 108 of 1,000 XCOPA zh options with Gemma's tokenizer.)"""
    ctx, conts, joined, texts = _joint(tokenizer, context, continuations)
    units: list[list[Unit]] = []
    for cont, text in zip(conts, texts):
        if cont is not None:
            units.append([(ctx, cont, 1)])
            continue
        (whole,) = encode(tokenizer, [joined + text])
        k = next((i for i, (a, b) in enumerate(zip(ctx, whole)) if a != b), min(len(ctx), len(whole)))
        prefix = ctx[:k] if k else [prefix_token(tokenizer)]
        units.append([(prefix, whole[k:], 1), (prefix, ctx[k:], -1)])
    return units


def merges(tokenizer, context: str, continuations: list[str]) -> bool:
    """Whether a continuation merges with the context across the boundary (scored otherwise
    since; a cache key says so)."""
    return None in _joint(tokenizer, context, continuations)[1]


def _joint(tokenizer, context: str, continuations: list[str]):
    """(context tokens, each continuation's tokens in the joint encoding or None where it merges
    with the context, and the context and continuation texts they were split from). Memoised:
    a cache key asks first (`merges`), the scorer again for the items the cache lacks."""
    for k, cont in enumerate(continuations):
        if not cont:   # nothing to score: it would "win" with 0.0, or leave its item unscored
            raise XlingError(f"option {k + 1} of an item is empty: every option needs text to score "
                             f"(context ending {context[-40:]!r})")
    return _joint_memo(tokenizer, context, tuple(continuations))


@lru_cache(maxsize=4096)
def _joint_memo(tokenizer, context: str, given: tuple[str, ...]):
    continuations = list(given)
    ctx, conts = _split(tokenizer, context, continuations)
    if not ctx:   # an empty context on a tokenizer that adds no BOS (Qwen): lm-eval's prefix token
        return [prefix_token(tokenizer)], [tokenizer(c, add_special_tokens=False)["input_ids"]
                                            for c in continuations], context, continuations
    stripped = context.rstrip()
    if None in conts and stripped != context and stripped:
        moved = [context[len(stripped):] + c for c in continuations]
        ctx, conts = _split(tokenizer, stripped, moved)
        return ctx, conts, stripped, moved
    return ctx, conts, context, continuations


def prefix_token(tokenizer) -> int:
    prefix = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    if prefix is None:
        raise XlingError("an empty context needs a token to condition on, and this tokenizer has neither "
                         "a BOS nor an EOS token: give the template a context")
    return prefix


def _split(tokenizer, context: str, continuations: list[str]) -> tuple[list[int], list[list[int] | None]]:
    """Context tokens and each continuation's tokens in the joint encoding (None where the
    joint encoding does not start with the context's tokens)."""
    ctx, *wholes = encode(tokenizer, [context] + [context + cont for cont in continuations])   # one call: batched
    conts: list[list[int] | None] = []
    for whole in wholes:
        conts.append(whole[len(ctx):] if whole[:len(ctx)] == ctx and len(whole) > len(ctx) else None)
    return ctx, conts


def _items(units: list[list[list[Unit]]]):
    """The (prefix, targets) items that score every request's units: the units of a request that
    share a prefix form one item (a request without a merge is one item, as it always was).
    Returns the items, per request and option the (item, target, sign) of each unit, and the
    request of each item."""
    split: list[tuple[list[int], list[list[int]]]] = []
    where: list[list[list[tuple[int, int, int]]]] = []
    owner: list[int] = []
    for r, per_option in enumerate(units):
        items: dict[tuple[int, ...], int] = {}
        targets: dict[tuple[int, tuple[int, ...]], int] = {}
        placed = []
        for pieces in per_option:
            spots = []
            for prefix, target, sign in pieces:
                if not target:
                    continue
                item = items.setdefault(tuple(prefix), len(split))
                if item == len(split):
                    split.append((prefix, []))
                    owner.append(r)
                k = targets.setdefault((item, tuple(target)), len(split[item][1]))
                if k == len(split[item][1]):
                    split[item][1].append(target)
                spots.append((item, k, sign))
            placed.append(spots)
        where.append(placed)
    return split, where, owner


class LoglikelihoodScorer:
    """log p(continuation | context) on a causal `LoadedModel` (`lm`)."""

    def __init__(self, lm):
        self.lm = lm

    def score(self, requests: list[tuple[str, list[str]]], rows: int | None, tokens: int | None,
              on_item=None, logit_rows: int | None = None) -> list[list[float]]:
        """log p(continuation | context) for each continuation, in batches of at most `rows` items,
        `tokens` tokens of KV cache and `logit_rows` positions of vocabulary logits (None: no such
        cap; `auto` on a GPU caps tokens and logits, a fixed batch size items), longest contexts
        first. Each item's
        context (few-shot examples + its shared part) is encoded once: the contexts of the batch
        run as one left-padded forward pass, then every option of every item runs in one pass on
        the expanded KV cache; logits are computed only where they are scored. An option that
        merges with its context is scored as `scoring_units` says, from items of its own."""
        split, where, owner = _items([scoring_units(self.lm.tokenizer, c, o) for c, o in requests])
        window = self.lm.context_window
        for index, (ctx, conts) in enumerate(split):   # every item checked before any is scored
            # the model reads the context and each option but its last token (whose probability
            # comes from the position before it), as lm-eval feeds it
            need = len(ctx) + max((len(c) for c in conts), default=0) - 1
            if window and need > window:
                raise ItemTooLong(owner[index], f"needs {need:,} tokens (prompt and longest option but its last "
                                  f"token), more than the model's context window of {window:,}; shorten it, use "
                                  "fewer shots, or a model with a longer context")
        order = sorted(range(len(split)), key=lambda i: -len(split[i][0]))
        scored_items: list[list[float] | None] = [None] * len(split)
        results: list[list[float] | None] = [None] * len(requests)
        left = [0] * len(requests)
        for r in owner:
            left[r] += 1
        batch: list[int] = []

        def finish(index, scores):
            scored_items[index] = scores
            r = owner[index]
            left[r] -= 1
            if left[r] == 0:
                results[r] = [sum(sign * scored_items[i][k] for i, k, sign in spots) for spots in where[r]]
                if on_item is not None:
                    on_item(r, results[r])

        def run(items):
            try:
                scored = self._loglikelihood_batch([split[j] for j in items])
            except self.lm.torch.OutOfMemoryError:   # halve and retry; scored items stay scored
                scored = None   # (after the except block: its traceback holds the failed batch's caches)
            if scored is None:
                half = self.lm.out_of_memory(len(items))
                run(items[:half])
                run(items[half:])
                return
            if any(x != x for scores in scored for x in scores):   # NaN: see numerics
                raise NotANumber(self.lm.dtype, "log-likelihoods")
            for index, scores in zip(items, scored):
                finish(index, scores)

        for r, count in enumerate(left):   # a request without options has nothing to score
            if count == 0:
                results[r] = []
                if on_item is not None:
                    on_item(r, [])
        for i in order + [None]:
            if batch and (i is None or self._ll_full(batch + [i], split, rows, tokens, logit_rows)):
                run(batch)
                batch = []
            if i is not None:
                batch.append(i)
        return cast("list[list[float]]", results)   # every item was scored (run or its halves)

    def _ll_full(self, items, split, rows: int | None, tokens: int | None, logit_rows: int | None) -> bool:
        """Whether a batch of items passes the caps: `rows` items; option rows x (widest context
        + longest option) tokens for the expanded cache; `logit_rows` positions of vocabulary
        logits: the scored ones where the head runs on them alone (`head_only`), else every
        (padded) option position, as the whole model computes them."""
        if rows is not None and len(items) > rows:
            return True
        options = [c for i in items for c in split[i][1]]
        longest = max((len(c) for c in options), default=0)
        if logit_rows is not None:
            positions = sum(len(c) for c in options) if self.head_only else len(options) * longest
            if positions > logit_rows:
                return True
        return tokens is not None and len(options) * (max(len(split[i][0]) for i in items) + longest) > tokens

    @property
    def head_only(self) -> bool:
        """Whether the LM head can run on the scored positions alone (see `_logprobs_at`)."""
        model = self.lm.model
        return (self.lm.model_type in HEAD_ONLY_TYPES and model.get_output_embeddings() is not None
                and getattr(model, "get_decoder", lambda: None)() is not None)

    def _loglikelihood_batch(self, split) -> list[list[float]]:
        """Scores of a batch of (context tokens, option tokens) items."""
        from transformers import DynamicCache

        torch, model = self.lm.torch, self.lm.model
        device = model.device
        pad = self.lm.pad_id
        ids, mask = (t.to(device) for t in self.lm.left_pad([ctx for ctx, _ in split]))
        positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
        cache = DynamicCache()
        with torch.inference_mode(), kernel_scope():
            first = model(input_ids=ids, attention_mask=mask, position_ids=positions,
                          use_cache=True, logits_to_keep=1, **cache_arg(model, cache))
            first = first.logits[:, -1].float().log_softmax(-1)
            heads = [(row, c[0]) for row, (_, conts) in enumerate(split) for c in conts]
            firsts = iter(first[[r for r, _ in heads], [t for _, t in heads]].tolist())   # one transfer
            scores = [[next(firsts) for _ in conts] for _, conts in split]
            # Every option (after its first token) of every item, on its item's cached context.
            owners = [(row, k) for row, (_, conts) in enumerate(split) for k, c in enumerate(conts) if len(c) > 1]
            if owners:
                longest = max(len(split[row][1][k]) for row, k in owners) - 1
                rest = torch.full((len(owners), longest), pad, dtype=torch.long)
                for i, (row, k) in enumerate(owners):
                    c = split[row][1][k]
                    rest[i, :len(c) - 1] = torch.tensor(c[:-1])
                select = torch.tensor([row for row, _ in owners], device=device)
                cache.batch_select_indices(select)
                # Right padding of the options: real tokens never attend to the pads after them.
                option_mask = torch.cat([mask[select], mask.new_ones((len(owners), longest))], dim=-1)
                option_positions = positions[select, -1:] + 1 + torch.arange(longest, device=device)
                # Only the real option positions are scored: (row, position, target) each.
                at = [(i, p, t) for i, (row, k) in enumerate(owners) for p, t in enumerate(split[row][1][k][1:])]
                rows, cols, targets = (torch.tensor(v, device=device) for v in zip(*at))
                logprobs = self._logprobs_at(rest.to(device), option_mask, option_positions, cache, rows, cols)
                picked = logprobs.gather(1, targets[:, None]).squeeze(1)
                picked = picked if device.type == "mps" else picked.double()   # sums of 100s of terms
                totals = torch.zeros(len(owners), device=device, dtype=picked.dtype).index_add_(0, rows, picked)
                for (row, k), total in zip(owners, totals.tolist()):
                    scores[row][k] += total
        return scores

    def _logprobs_at(self, input_ids, attention_mask, position_ids, cache, rows, cols):
        """Next-token log-probabilities at the given (row, column) positions only. For the
        architectures whose output is just the LM head (plus Gemma's soft-capping), the
        head runs on those positions alone: with 100k+ vocabularies it costs as much as the rest
        of a small model, and padded positions would pay it too."""
        model = self.lm.model
        if self.head_only:
            decoder, head = model.get_decoder(), model.get_output_embeddings()
            hidden = decoder(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                             use_cache=False, **cache_arg(decoder, cache)).last_hidden_state
            logits = head(hidden[rows, cols])
            cap = getattr(model.config, "final_logit_softcapping", None)
            if cap:
                logits = self.lm.torch.tanh(logits / cap) * cap
        else:
            logits = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                           use_cache=False, **cache_arg(model, cache)).logits[rows, cols]
        return logits.float().log_softmax(-1)

    def unshared(self, requests: list[tuple[str, list[str]]]) -> list[list[float]]:
        """The textbook computation (one full forward pass per scored piece, logits everywhere):
        the reference the shared-prefix path is tested and benchmarked against."""
        torch, model = self.lm.torch, self.lm.model
        results = []
        for context, continuations in requests:
            scores = []
            for pieces in scoring_units(self.lm.tokenizer, context, continuations):
                total = 0.0
                for prefix, target, sign in pieces:
                    with torch.inference_mode(), kernel_scope():
                        logits = model(input_ids=torch.tensor([prefix + target], device=model.device)).logits
                    logprobs = logits[0].float().log_softmax(-1)
                    total += sign * sum(logprobs[len(prefix) - 1 + i, t].item() for i, t in enumerate(target))
                scores.append(total)
            results.append(scores)
        return results
