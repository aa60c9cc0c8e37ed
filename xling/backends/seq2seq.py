"""Encoder-decoder MT models (NLLB-200, M2M100, MarianMT, mBART-50): the bare source goes in,
the target language is forced as the first decoder token (or Marian's >>xxx<< source prefix),
and the source language travels with each request."""
from __future__ import annotations

import re

from ..data.languages import Language, resolve
from ..errors import XlingError
from .hf import HFBackend


class HFSeq2SeqBackend(HFBackend):
    is_seq2seq = True
    MODEL_CLASS = "AutoModelForSeq2SeqLM"

    def candidates(self, requests, sampling, wanted, batch_size=8, on_item=None):
        raise XlingError("candidates (MBR, reranking) come from LLMs here; encoder-decoder MT "
                         "models translate with --select greedy")

    def _lang_token(self, lang: Language) -> tuple[str, str] | None:
        """(token, how) for a language: how is "force" (forced BOS / tokenizer language
        code) or "prefix" (Marian's >>xxx<< source prefix)."""
        vocab = self.tokenizer.get_vocab()
        for token in (lang.flores, f"__{lang.code.split('-')[0]}__"):
            if token in vocab:
                return token, "force"
        iso1 = lang.code.split("-")[0]
        mbart = sorted(t for t in vocab if re.fullmatch(rf"{iso1}_[A-Z]{{2}}", t))
        if mbart:
            return mbart[0], "force"
        for token in (f">>{lang.iso639_3}<<", f">>{iso1}<<", f">>{lang.flores}<<"):
            if token in vocab:
                return token, "prefix"
        return None

    def _batches(self, requests, batch_size, max_batch_tokens=None):
        """Batches of one language pair each (the tokenizer's source language is set per batch),
        longest sources first."""
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            if r.source is None or r.target_lang is None:
                raise XlingError("encoder-decoder MT models translate a bare source sentence; "
                                 "they take no prompt template")
            groups.setdefault((r.source_lang, r.target_lang), []).append(i)
        encoded = {}
        batches = []
        for members in groups.values():
            for i in members:
                encoded[i] = self.count_tokens(requests[i].source)
            members.sort(key=lambda i: -encoded[i])
            batches += [(members[s:s + batch_size], encoded) for s in range(0, len(members), batch_size)]
        return batches

    def _step(self, requests, _lengths, decoding):
        torch = self.torch
        if requests[0].source_lang:
            self._set_source_language(requests[0].source_lang)
        tgt = resolve(requests[0].target_lang)
        found = self._lang_token(tgt)
        sources = [r.source for r in requests]
        extra = {}
        if found and found[1] == "force":
            extra["forced_bos_token_id"] = self.tokenizer.convert_tokens_to_ids(found[0])
        elif found:
            sources = [f"{found[0]} {s}" for s in sources]
        elif self.model_type != "marian":
            raise XlingError(f"model {self.fingerprint['model']!r} has no language token for "
                             f"{tgt.name} ({tgt.flores})")
        batch = self.tokenizer(sources, return_tensors="pt", padding=True, return_token_type_ids=False)
        with torch.inference_mode():
            out = self.model.generate(**batch.to(self.model.device),
                                      max_new_tokens=max(r.max_new_tokens for r in requests) + 1,
                                      **self._sampling_args(decoding), **extra)
        skip = 1 + ("forced_bos_token_id" in extra)  # decoder start (+ forced language token)
        return [self._finish(r, out[row, skip:].tolist()) for row, r in enumerate(requests)]

    def _set_source_language(self, lang: str):
        """NLLB / M2M100 / mBART tokenizers prefix the source with its language code."""
        found = self._lang_token(resolve(lang))
        if found and found[1] == "force" and hasattr(self.tokenizer, "src_lang"):
            try:
                self.tokenizer.src_lang = found[0] if not found[0].startswith("__") else found[0].strip("_")
            except Exception:  # noqa: BLE001 - a tokenizer without that code keeps its default
                pass

    def loglikelihood(self, requests, batch_size: int = 8, on_item=None):
        raise XlingError("log-likelihood scoring needs a causal LM, not an encoder-decoder model")
