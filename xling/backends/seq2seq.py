"""Encoder-decoder MT models (NLLB-200, M2M100, MarianMT, mBART-50): the bare source goes in,
the target language is forced as the first decoder token (or Marian's >>xxx<< source prefix),
and the source language travels with each request."""
from __future__ import annotations

import re
import sys
from typing import cast

from ..data.languages import Language, resolve
from ..errors import ItemTooLong, XlingError
from .attention import kernel_scope
from .base import Decoding, GenerationRequest, Prompt
from .batching import AUTO, Batching
from .hfmodel import LoadedModel, LocalBackend, sampling_args, seeded
from .numerics import nan_watch

# Under beam search a row generates up to its answer budget rounded up to this many tokens (and
# its answer is then cut at its own budget): the same for it in any batch, and batches of rows
# whose budgets differ a little stay full.
BEAM_BUCKET = 32


class HFSeq2SeqBackend(LocalBackend):
    """An encoder-decoder MT model loaded here: batches of one language pair each through
    `model.generate`."""

    is_seq2seq = True
    MODEL_CLASS = "AutoModelForSeq2SeqLM"

    def __init__(self, source: str, *, display: str, revision: str | None = None,
                 trust_remote_code: bool = False, device: str | None = None,
                 static_cache: bool = False, batching: Batching | None = None, config=None, tokenizer=None):
        if static_cache:
            raise XlingError("--static-cache applies to causal LMs, not to encoder-decoder MT models")
        super().__init__(LoadedModel(source, display=display, model_class=self.MODEL_CLASS,
                                     revision=revision, trust_remote_code=trust_remote_code,
                                     device=device, config=config, tokenizer=tokenizer), batching)
        self._vocab: set[str] | None = None
        self._tokens_of: dict[str, tuple[str, str] | None] = {}   # language code -> its token
        self._said_beams = False

    @classmethod
    def on_tokenizer(cls, tokenizer, display: str) -> "HFSeq2SeqBackend":
        """The language-token side alone, over a tokenizer (no config, no weights): what `xling
        prompt` shows a run's model was told."""
        from types import SimpleNamespace

        backend = cls.__new__(cls)
        backend.lm = cast(LoadedModel, SimpleNamespace(tokenizer=tokenizer, fingerprint={"model": display},
                                                       model_type=None))
        backend.batching = Batching()
        backend._vocab, backend._tokens_of, backend._said_beams = None, {}, False
        return backend

    @staticmethod
    def note_unused(batching) -> None:
        """Say on stderr that the causal loop's batch settings asked for do not apply here."""
        if batching.max_tokens is not None or batching.refill:
            print("xling: note: --max-batch-tokens and --refill apply to causal LMs; an encoder-decoder "
                  "model batches --batch-size sources of one language pair", file=sys.stderr)

    def generate(self, requests: list[GenerationRequest], decoding: Decoding, on_batch=None) -> list[str]:
        """One output per request, in request order; `on_batch(indices, texts)` as each batch
        ends (a batch out of memory is halved and retried)."""
        self._check_fits(requests)
        rows, tokens = self.batch_limits()
        if self.batching.size == AUTO and self.lm.device.startswith("cuda"):
            rows = max(1, rows // self.beams())   # (auto sizes rows; each source decodes as its beams: M2M100's 5)
        if self.batching.size != AUTO or self.batching.max_tokens is not None:
            tokens = None   # auto's own cap only (--max-batch-tokens is the causal loop's: note_unused says so)
        if decoding.do_sample:   # each row from its own stream (seed and source), never its batch's
            return self._sampled_one_by_one(requests, decoding, on_batch)
        return self.lm.run_batches(self._batches(requests, rows, tokens),
                                   lambda indices: self._step([requests[i] for i in indices], decoding),
                                   len(requests), on_batch)

    def _check_fits(self, requests: list[GenerationRequest]) -> None:
        """Refuse, before any generation, a request the model's positions cannot hold, by the
        translator's rule (`Translator.request`): the encoder's source (its language code or
        >>xxx<< prefix counted, the EOS aside) under the window, the answer within the decoder's
        positions less its start and language tokens. Called directly, an over-long source ran on
        past the positions silently (NLLB, M2M100) or crashed (Marian's IndexError)."""
        window = self.context_window
        if not window:
            return
        for i, request in enumerate(requests):
            if request.source is None:
                continue   # (refused with its own message in _batches)
            source = self.source_tokens(request)
            if source >= window:
                raise ItemTooLong(i, f"({source:,} tokens of source) does not fit the model's context window "
                                  f"of {window:,} tokens; shorten or split it, or use a model with a longer context")
            if request.max_new_tokens > window - 2:
                raise ItemTooLong(i, f"({request.max_new_tokens:,} tokens of answer) does not fit the "
                                  f"{window - 2:,} positions the model's context window of {window:,} tokens "
                                  "gives its decoder; allow a shorter answer, or use a model with a longer context")

    def _sampled_one_by_one(self, requests, decoding, on_batch) -> list[str]:
        import hashlib

        outputs = []
        for i, request in enumerate(requests):
            salt = int(hashlib.sha256(f"{request.source}\0{request.target_lang}".encode()).hexdigest()[:12], 16)
            with seeded(self.torch, ((decoding.seed or 0) ^ salt) % (2 ** 63), self.lm.device):
                (text,) = self._step([request], decoding)
            outputs.append(text)
            if on_batch is not None:
                on_batch([i], [text])
        return outputs

    NO_CANDIDATES = ("candidates (MBR, reranking) come from LLMs here; encoder-decoder MT models translate "
                     "with --select greedy")

    def sampling_problem(self, sampling):
        return self.NO_CANDIDATES   # asked before a run folder is written

    def candidates(self, requests, sampling, wanted, on_item=None):
        raise XlingError(self.NO_CANDIDATES)

    def loglikelihood(self, requests, on_item=None):
        raise XlingError("log-likelihood scoring needs a causal LM, not an encoder-decoder model")

    # mBART-50's codes carry a region: the ones that write a language as xling's code says
    MBART_REGIONS = {"zh": ("zh_CN",), "zh-Hant": ("zh_TW", "zh_HK")}

    def _lang_token(self, lang: Language) -> tuple[str, str] | None:
        """(token, how) for a language: how is "force" (forced BOS / tokenizer language
        code) or "prefix" (Marian's >>xxx<< source prefix). A language whose code names a
        script or region (zh-Hant, sr-Latn) never takes a token of the bare language (M2M100's
        __zh__, Marian's >>srp<<: that language as the model mostly saw it, in another script).
        A regional variety (pt_BR) takes its language's: a token names no variety."""
        lang = lang.plain
        if lang.code not in self._tokens_of:   # (asked per request: a 256k vocabulary read once)
            self._tokens_of[lang.code] = self._find_lang_token(lang)
        return self._tokens_of[lang.code]

    @property
    def _vocabulary(self) -> set[str]:
        if self._vocab is None:
            # (M2M100's tokenizer keeps its __xx__ tokens in lang_token_to_id only under transformers
            # 5, mBART's in lang_code_to_id: not in get_vocab())
            self._vocab = set(self.tokenizer.get_vocab())
            for table in ("lang_token_to_id", "lang_code_to_id"):
                self._vocab |= set(getattr(self.tokenizer, table, None) or {})
        return self._vocab

    def _find_lang_token(self, lang: Language) -> tuple[str, str] | None:
        vocab = self._vocabulary
        iso1 = lang.code.split("-")[0]
        if len(iso1) == 3:   # (fil: M2M100's __tl__, mBART-50's tl_XX, by its two-letter alias)
            iso1 = next((a for a in lang.aliases if len(a) == 2 and a.isalpha()), iso1)
        bare = "-" not in lang.code
        if lang.flores in vocab:
            return lang.flores, "force"
        if f"__{iso1}__" in vocab:
            if bare:
                return f"__{iso1}__", "force"
            raise XlingError(f"model {self.fingerprint['model']!r} has no language token for {lang.name} "
                             f"({lang.code}): its __{iso1}__ is {iso1} in another script")
        mbart = sorted(t for t in vocab if re.fullmatch(rf"{iso1}_[A-Z]{{2}}", t))
        regions = self.MBART_REGIONS.get(lang.code)
        if mbart and regions:   # zh-Hant is zh_TW (or zh_HK), never mBART-50's only zh_CN
            found = next((t for t in regions if t in mbart), None)
            if found is None:
                raise XlingError(f"model {self.fingerprint['model']!r} has no language token for {lang.name} "
                                 f"({lang.code}): its {', '.join(mbart)} is {iso1} in another script or region")
            return found, "force"
        if mbart:
            return mbart[0], "force"
        # OPUS-MT's target tokens: >>kor<<, >>deu<<, Chinese as >>cmn_Hans<< / >>cmn_Hant<<
        script = lang.flores.rsplit("_", 1)[-1]
        marian = [f">>{lang.flores}<<", f">>{lang.iso639_3}_{script}<<"]
        if lang.iso639_3 == "zho":
            marian.append(f">>cmn_{script}<<")
        if bare:   # (>>pes<<, >>swh<<, >>tgl<<: the FLORES code's own language part)
            marian += [f">>{lang.iso639_3}<<", f">>{lang.flores.split('_')[0]}<<", f">>{iso1}<<"]
        marian = list(dict.fromkeys(marian))
        for token in marian:
            if token in vocab:
                return token, "prefix"
        if any(re.fullmatch(r">>\w+<<", t) for t in vocab):   # a multi-target Marian model
            raise XlingError(f"model {self.fingerprint['model']!r} has no target token for {lang.name} "
                             f"({', '.join(marian)})")
        return None

    def _batches(self, requests, batch_size, tokens: int | None = None) -> list[list[int]]:
        """Request indices per batch, of one language pair each (the tokenizer's source language
        is set per batch), longest sources first, at most `batch_size` sources and (auto on a
        GPU) `tokens` tokens: sources x beams x (longest source + budget); under the checkpoint's beam search (its
        generation_config's num_beams), of one budget bucket each too: a beam's result depends
        on where generation stops, so a row runs to its own budget's bucket (BEAM_BUCKET), never
        to another row's budget."""
        beams = self.beams()
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            if r.source is None or r.target_lang is None:
                raise XlingError("encoder-decoder MT models translate a bare source sentence; "
                                 "they take no prompt template")
            groups.setdefault((r.source_lang, r.target_lang, self._bucket(r.max_new_tokens) if beams > 1 else None),
                              []).append(i)
        lengths = {}
        batches = []
        for members in groups.values():
            for i in members:
                lengths[i] = self.count_tokens(requests[i].source)
            members.sort(key=lambda i: -lengths[i])
            batch: list[int] = []
            budget = 0   # the batch's generation length (a beam bucket's under beam search)
            for i in members:
                own = self._bucket(requests[i].max_new_tokens) if beams > 1 else requests[i].max_new_tokens
                need = max(budget, own)
                if batch and (len(batch) == batch_size
                              or tokens and (len(batch) + 1) * beams * (lengths[batch[0]] + need) > tokens):
                    batches.append(batch)
                    batch, need = [], own
                batch.append(i)
                budget = need
            batches.append(batch)
        return batches

    def beams(self) -> int:
        """The beams the checkpoint's generation_config asks for (greedy decoding keeps them, as
        transformers' pipeline does: NLLB's 1, M2M100's and mBART-50's 5, OPUS-MT's 4 to 6)."""
        beams = getattr(self.model.generation_config, "num_beams", 1) or 1
        if beams > 1 and not self._said_beams:
            self._said_beams = True
            print(f"xling: note: {self.fingerprint['model']} decodes with beam search (num_beams={beams}, "
                  "its generation_config.json): its outputs are its beams' best, not greedy", file=sys.stderr)
        return beams

    def _bucket(self, budget: int) -> int:
        """A beam row's generation length: its budget rounded up to BEAM_BUCKET, within the
        decoder's positions (less its start and language tokens, as the translator's budgets)."""
        rounded = -(-budget // BEAM_BUCKET) * BEAM_BUCKET
        return max(budget, min(rounded, self.context_window - 2)) if self.context_window else rounded

    def _step(self, requests, decoding):
        torch = self.torch
        if requests[0].source_lang:
            self._set_source_language(requests[0].source_lang)
        tgt = resolve(requests[0].target_lang)
        found = self._target_token(tgt)
        sources = [self._prefixed(r.source, found) for r in requests]
        extra = {}
        if found and found[1] == "force":
            extra["forced_bos_token_id"] = self.tokenizer.convert_tokens_to_ids(found[0])
        batch = self.tokenizer(sources, return_tensors="pt", padding=True, return_token_type_ids=False)
        forced = "forced_bos_token_id" in extra   # (a forced language token is not the answer's)
        # OPUS-MT and mBART-50 force EOS at the last position: one step more keeps the budget whole
        # (finish cuts at the budget, so an answer the budget ended is marked so)
        ends = getattr(self.model.generation_config, "forced_eos_token_id", None) is not None
        budget = max(r.max_new_tokens for r in requests)
        if self.beams() > 1:   # (one bucket per batch: see _batches)
            budget = self._bucket(budget)
        watch = nan_watch(torch)
        with torch.inference_mode(), kernel_scope():   # (as the causal loop: never cuDNN's per-shape plans)
            out = self.model.generate(**batch.to(self.model.device), max_new_tokens=budget + forced + ends,
                                      logits_processor=[watch], **sampling_args(decoding), **extra)
        watch.raise_if_seen(self.lm.dtype)
        skip = 1 + forced  # decoder start (+ forced language token)
        return [self.lm.finish(r, out[row, skip:].tolist()) for row, r in enumerate(requests)]

    @staticmethod
    def _prefixed(source: str, found: tuple[str, str] | None) -> str:
        """The text the encoder's tokenizer gets: Marian's >>xxx<< target prefix before the source."""
        return f"{found[0]} {source}" if found and found[1] == "prefix" else source

    def source_tokens(self, request: GenerationRequest) -> int:
        """The tokens the encoder gets for a bare-source request, as prompt_tokens counts them
        (the source's language code included, the EOS the tokenizer appends aside): a multi-target
        Marian model's >>xxx<< prefix too (a source of window-1 tokens passed and overflowed its
        position table mid-run)."""
        found = self._target_token(resolve(request.target_lang)) if request.target_lang else None
        return self.prompt_tokens(Prompt(text=self._prefixed(cast(str, request.source), found)))

    def direction_problem(self, src, tgt) -> str | None:
        try:
            self._set_source_language(src, check_only=True)
            self._target_token(resolve(tgt))
        except XlingError as exc:
            return str(exc)
        return None

    def _target_token(self, tgt: Language) -> tuple[str, str] | None:
        """The target's token, None for a single-target Marian model that translates into `tgt`
        (its tokenizer's target_lang); else one XlingError."""
        found = self._lang_token(tgt)
        if found is None and self.model_type != "marian":
            coded = r"[a-z]{3}_[A-Z][a-z]{3}|__[a-z]{2,3}__|[a-z]{2}_[A-Z]{2}"   # NLLB, M2M100, mBART-50
            if not any(re.fullmatch(coded, t) for t in self._vocabulary):
                raise XlingError(f"model {self.fingerprint['model']!r} ({self.model_type}) has no language tokens: "
                                 "xling translates with NLLB, M2M100, mBART-50 and OPUS-MT (Marian) models; "
                                 "a T5-style model is not supported")
            raise XlingError(f"model {self.fingerprint['model']!r} has no language token for "
                             f"{tgt.name} ({tgt.flores})")
        if found is None:
            self._check_declared("target_lang", tgt, "into")
        return found

    def _check_declared(self, attribute: str, lang: Language, way: str) -> None:
        """A Marian model of one language pair translates from and into its tokenizer's
        source_lang/target_lang only (a group such as mul or ROMANCE names no one language):
        Korean through an English-German model came out as German-looking noise and a score."""
        declared = getattr(self.tokenizer, attribute, None)
        try:
            known = resolve(declared) if isinstance(declared, str) and declared.strip() else None
        except XlingError:
            known = None
        if known is not None and known.iso639_3 != lang.iso639_3:
            raise XlingError(f"model {self.fingerprint['model']!r} translates {way} {known.name} ({known.code}) "
                             f"only (its tokenizer's {attribute}), not {lang.name} ({lang.code})")
        # it writes its target in one script (zh: Simplified, sr: Cyrillic), as M2M100's __zh__
        # never stands for zh-Hant; a source in another script is read (a zh-en model reads Traditional)
        if known is not None and way == "into" and known.script != lang.script:
            raise XlingError(f"model {self.fingerprint['model']!r} translates into {known.name} ({known.code}) "
                             f"only (its tokenizer's {attribute}), not {lang.name} ({lang.code}): it writes "
                             f"{known.script} script, not {lang.script}")

    def _set_source_language(self, lang: str, check_only: bool = False):
        """NLLB / M2M100 / mBART tokenizers prefix the source with its language code; one they
        have no code for is refused (the tokenizer kept the last one set: Norwegian went in as
        English, or as the previous batch's Japanese)."""
        language = resolve(lang)
        if not hasattr(self.tokenizer, "src_lang"):   # (Marian: the source language is the model's)
            self._check_declared("source_lang", language, "from")
            return
        found = self._source_code(language)
        try:
            if found is None:
                raise ValueError
            if check_only:
                return
            self.tokenizer.src_lang = found
        except Exception:  # noqa: BLE001 - any refusal of the tokenizer's is one line
            raise XlingError(f"model {self.fingerprint['model']!r} has no language code for {language.name} "
                             f"({language.code}) as a source") from None

    def _source_code(self, language: Language) -> str | None:
        found = self._lang_token(language)
        if not found or found[1] != "force":
            return None
        return found[0].strip("_") if found[0].startswith("__") else found[0]

    def describe_languages(self, source_lang: str, target_lang: str) -> tuple[str, str]:
        """The language tokens a direction's requests get, in words ("source code __ko__ (before
        the source), forced first token __en__"; Marian's "target prefix >>kor<< (before the
        source)"), and the encoder's text with SOURCE for the source."""
        said = []
        if hasattr(self.tokenizer, "src_lang"):
            found = self._lang_token(resolve(source_lang))
            said.append(f"source code {found[0]} (before the source)" if found and found[1] == "force"
                        else "no source code")
        target = self._lang_token(resolve(target_lang))
        if target:
            said.append(f"forced first token {target[0]}" if target[1] == "force"
                        else f"target prefix {target[0]} (before the source)")
        return (", ".join(said) or "no language tokens (a model of one language pair)",
                self._prefixed("SOURCE", target))

    def language_tokens(self, source_lang: str | None, target_lang: str) -> str:
        """What the model is told of a request's languages (in its cache key): the source's
        code, and the target's token and how it is given."""
        source = self._source_code(resolve(source_lang)) if source_lang and hasattr(self.tokenizer, "src_lang") else ""
        target = self._lang_token(resolve(target_lang))
        return f"{source}>{':'.join(target) if target else ''}"
