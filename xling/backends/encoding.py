"""Text encoded as a causal LM reads it: with the tokenizer's leading special tokens (BOS), never
with one it appends. Some tokenizers add an end-of-sequence token to every encoding (a Llama
tokenizer saved with add_eos_token, T5-style ones): a prompt or a scoring context that ends in
EOS asks the model to go on after the end of a text. lm-evaluation-harness encodes without
special tokens and adds BOS alone, as here."""
from __future__ import annotations


def encode(tokenizer, texts: list[str]) -> list[list[int]]:
    """Each text's token ids, leading special tokens kept and appended ones dropped."""
    batch = tokenizer(texts, add_special_tokens=True)["input_ids"]
    suffix = appended_tokens(tokenizer)
    if not suffix:
        return batch
    n = len(suffix)
    return [ids[:-n] if ids[-n:] == suffix else ids for ids in batch]


def appended_tokens(tokenizer) -> list[int]:
    """The special tokens the tokenizer puts after a text (usually none), found once per tokenizer."""
    found = getattr(tokenizer, "_xling_appended", None)
    if found is None:
        probe = "x"
        with_special = tokenizer(probe, add_special_tokens=True)["input_ids"]
        plain = tokenizer(probe, add_special_tokens=False)["input_ids"]
        found = []
        for start in range(len(with_special) - len(plain) + 1):
            if with_special[start:start + len(plain)] == plain:
                found = with_special[start + len(plain):]
                break
        try:
            tokenizer._xling_appended = found
        except AttributeError:   # (a tokenizer object that takes no new attributes: asked each time)
            pass
    return found
