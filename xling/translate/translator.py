"""LLMs and MT models as translators: the library behind `xling translate`."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from ..backends.base import Backend, Decoding, GenerationRequest
from ..backends.cached import CachedBackend
from ..runs.cache import OutputCache
from ..errors import XlingError
from ..data.languages import Language, check_direction
from .postprocess import clean_output
from ..prompts.templates import Template, load_template, select_shots

ShotPool = Sequence[tuple[str, str]] | Callable[[Language, Language], Sequence[tuple[str, str]]]


@dataclass
class Translation:
    source: str
    text: str                 # cleaned translation
    raw: str                  # what the model produced
    removed: list = field(default_factory=list)
    prompt_hash: str = ""
    cached: bool = False


def default_shot_pool(src: Language, tgt: Language) -> list[tuple[str, str]]:
    """Few-shot demonstrations from the FLORES-200 dev split (never devtest)."""
    from ..data.parallel import data_root, flores_pairs

    root = data_root(required=False)
    if root is None:
        raise XlingError("few-shot examples come from a dev set: set XLING_DATA to a folder "
                         "holding flores200/, or pass a file of example pairs (--shots-file)")
    return flores_pairs("dev", src, tgt, root)


class Translator:
    """Loads a model once and translates any number of batches with it."""

    def __init__(self, model: str | None = None, *, backend: Backend | None = None,
                 template: str | Template | None = None, shots: int = 0,
                 shot_pool: ShotPool | None = None, seed: int = 0, batch_size: int = 32,
                 max_batch_tokens: int | None = None,
                 decoding: Decoding | None = None, cache: bool | str | OutputCache = True,
                 settings=None, **load_options):
        """`backend`: a loaded backend; else one is loaded for `model` with `settings` (a
        BackendSettings or run config) and `load_options` (single settings such as
        trust_remote_code=True, plus static_cache and quiet)."""
        if batch_size < 1 or shots < 0 or (max_batch_tokens is not None and max_batch_tokens < 1):
            raise XlingError(f"batch_size and max_batch_tokens must be at least 1 and shots 0 or more "
                             f"(got {batch_size}, {max_batch_tokens}, {shots})")
        if isinstance(template, str):  # a bad template name fails before any model loads
            template = load_template(template)
        if backend is None:
            from ..backends import load_backend
            backend = load_backend(model, settings, **load_options)
        self.backend = backend
        self.decoding = decoding or Decoding()
        self.batch_size, self.max_batch_tokens = batch_size, max_batch_tokens
        self.shots, self.seed = shots, seed
        self.shot_pool = shot_pool if shot_pool is not None else default_shot_pool
        if backend.is_seq2seq:
            if template is not None or shots:
                raise XlingError("encoder-decoder MT models translate the bare source: they take "
                                 "no --template and no --shots")
            self.template = None
        else:
            self.template = template or load_template(
                "mt-chat" if backend.has_chat_template else "mt-completion")
        if cache is True:
            cache = OutputCache()
        elif isinstance(cache, str):
            cache = OutputCache(cache)
        self.cache: OutputCache | None = cache if isinstance(cache, OutputCache) else None
        self._cached = CachedBackend(backend, self.cache)

    def _shots(self, src, tgt, texts) -> list[tuple[str, str]]:
        if not self.shots:
            return []
        pool = self.shot_pool(src, tgt) if callable(self.shot_pool) else self.shot_pool
        return select_shots(pool, self.shots, self.seed, exclude=texts)

    def requests(self, texts: Sequence[str], src: Language, tgt: Language):
        """The generation request and prompt hash for each non-empty line."""
        shots = self._shots(src, tgt, texts)
        d = self.decoding
        built = {}
        for i, text in enumerate(texts):
            if not text.strip():
                continue
            budget = min(d.max_new_tokens_cap,
                         int(d.length_factor * self.backend.count_tokens(text)) + d.length_slack)
            if self.template is None:
                request = GenerationRequest(prompt=_bare(text), max_new_tokens=budget, source=text,
                                            source_lang=src.code, target_lang=tgt.code)
            else:
                prompt = self.template.render_translation(src, tgt, text, shots)
                request = GenerationRequest(prompt=prompt, max_new_tokens=budget,
                                            stop_at_newline=self.template.stop_at_newline)
            seen = self._cached.seen(request)
            built[i] = (request, hashlib.sha256(seen.encode()).hexdigest()[:16])
        return built

    def translate_records(self, texts: Sequence[str], src: str | Language, tgt: str | Language,
                          progress: bool = False) -> list[Translation]:
        src, tgt = check_direction(src, tgt)
        texts = list(texts)
        built = self.requests(texts, src, tgt)
        order = list(built)
        raw = self._cached.generate([built[i][0] for i in order], self.decoding,
                                    batch_size=self.batch_size, max_batch_tokens=self.max_batch_tokens,
                                    progress="translating" if progress else None)
        by_line = dict(zip(order, raw))
        cached = dict(zip(order, self._cached.last_hits))
        results = []
        for i, text in enumerate(texts):
            if i not in built:
                results.append(Translation(source=text, text="", raw=""))
                continue
            cleaned = clean_output(by_line[i], tgt, source=text)
            results.append(Translation(source=text, text=cleaned.text, raw=by_line[i],
                                       removed=cleaned.removed, prompt_hash=built[i][1],
                                       cached=cached[i]))
        return results

    def translate(self, texts: Iterable[str] | str, src: str | Language, tgt: str | Language,
                  progress: bool = False) -> list[str] | str:
        if isinstance(texts, str):
            return self.translate_records([texts], src, tgt, progress)[0].text
        return [r.text for r in self.translate_records(list(texts), src, tgt, progress)]

    __call__ = translate


def _bare(text: str):
    from ..backends.base import Prompt
    return Prompt(text=text)


_translators: dict[tuple, Translator] = {}


def translate(texts: Iterable[str] | str, src: str = "ko", tgt: str = "en", model: str | None = None,
              **options) -> list[str] | str:
    """Translate with a model loaded once per process (per model and options)."""
    key = (model, tuple(sorted((k, repr(v)) for k, v in options.items())))
    if key not in _translators:
        _translators[key] = Translator(model, **options)
    return _translators[key].translate(texts, src, tgt)
