"""LLMs and MT models as translators: the library behind `xling translate`."""
from __future__ import annotations

import hashlib
import operator
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from ..backends import Batching, check_cache, check_options, check_settings, load_backend, ready
from ..backends.base import Backend, Decoding, GenerationRequest, Prompt, budget_cut, was_cut
from ..data.languages import Language, check_direction
from ..data.parallel import data_root, flores_pairs
from ..data.textio import is_blank
from ..errors import XlingError
from ..prompts.templates import Template, load_template, select_shots
from ..store.cache import OutputCache
from .postprocess import clean_output
from .selection import mbr, rerank, selection_problem

if TYPE_CHECKING:
    from .selection import Selection

ShotPool = Sequence[tuple[str, str]] | Callable[[Language, Language], Sequence[tuple[str, str]]]


@dataclass
class Translation:
    source: str
    text: str                 # cleaned translation
    raw: str                  # what the model produced
    removed: list = field(default_factory=list)
    prompt_hash: str = ""
    cached: bool = False
    unit: dict | None = None  # document mode: {"chunk", "realigned", "chunk_raw"}


def default_shot_pool(src: Language, tgt: Language) -> list[tuple[str, str]]:
    """Few-shot demonstrations from the FLORES-200 dev split (never devtest)."""

    root = data_root(required=False)
    if root is None:
        raise XlingError("few-shot examples come from a dev set: set XLING_DATA to a folder "
                         "holding flores200/, or pass a file of example pairs (--shots-file)")
    return flores_pairs("dev", src, tgt, root)


class Translator:
    """Loads a model once and translates any number of batches with it."""

    def __init__(self, model: str | None = None, *, backend: Backend | None = None,
                 template: str | Template | None = None, shots: int = 0,
                 shot_pool: ShotPool | None = None, seed: int = 0, batch_size: int | str = "auto",
                 max_batch_tokens: int | None = None, refill: bool | None = None,
                 decoding: Decoding | None = None, cache: bool | str | OutputCache = True,
                 settings=None, unit: str = "segment", **load_options):
        """`backend`: a loaded backend; else one is loaded for `model` with `settings` (a
        BackendSettings or run config) and `load_options` (single settings such as
        trust_remote_code=True, plus static_cache and quiet). Batching (`batch_size`,
        `max_batch_tokens`, `refill`; see `backends.Batching`) and the cache are applied to
        the backend once, here. `unit="document"` picks the document templates by default
        (numbered segments, see translate.documents)."""

        import os

        batching = Batching(batch_size, max_batch_tokens, refill)
        if isinstance(shots, bool) or not isinstance(shots, int) or shots < 0:
            raise XlingError(f"shots must be a whole number, 0 or more, not {shots!r}")
        # (shot_pool=5 was a TypeError at the first translation: 'int' object is not iterable)
        if shot_pool is not None and not callable(shot_pool) and (
                isinstance(shot_pool, (str, bytes)) or not isinstance(shot_pool, Iterable)):
            raise XlingError("a shot pool holds (source, target) pairs of strings, or is a function of (src, tgt) "
                             f"that gives them; not {type(shot_pool).__name__}")
        check_cache(cache)
        check_settings(settings)
        given = seed
        try:   # (any integer: a numpy one too)
            seed = -1 if isinstance(seed, bool) else operator.index(seed)
        except TypeError:
            seed = -1
        if not 0 <= seed < 2 ** 63:
            raise XlingError(f"seed must be a whole number from 0 to 2**63 - 1, not {given!r}")
        if model is not None and not isinstance(model, (str, os.PathLike)):
            raise XlingError(f"model must be a hub name or a folder, not {model!r}")
        model = os.fspath(model) if model is not None else None
        if isinstance(template, os.PathLike):   # a template file
            template = os.fspath(template)
        if template is not None and not isinstance(template, (str, Template)):
            raise XlingError(f"template must be a template's name or file, not {template!r}")
        if unit not in ("segment", "document"):
            raise XlingError(f"unit must be 'segment' or 'document', not {unit!r}")
        if decoding is not None and not isinstance(decoding, Decoding):
            raise XlingError(f"decoding must be a Decoding(...), not a {type(decoding).__name__}")
        if isinstance(template, str):  # a bad template name fails before any model loads
            template = load_template(template)
        if template is not None and template.format not in ("chat", "completion"):
            raise XlingError(f"template {template.name!r} is a {template.format} template, not a "
                             "translation template (chat or completion)")
        check_unit_template(template, unit)
        if isinstance(settings, dict):   # settings={"base_url": ...}: the same as giving them one by one
            load_options, settings = {**settings, **load_options}, None
        check_options(load_options, also=("backend", "settings", "model", *_PER_CALL))   # (a typo: shot=1)
        if isinstance(backend, str):   # backend="http": the kind of backend to load, not a loaded one
            load_options["backend"], backend = backend, None
        if backend is None:   # built batched and cached in one step
            self._cached = load_backend(model, settings, batching=batching, cache=cache, **load_options)
        else:
            self._cached = ready(backend, batching=batching, cache=cache)
        self.backend = self._cached.backend   # batched as asked, on the same weights
        if hasattr(self.backend, "note_unused"):   # batch settings it does not take (a server, a seq2seq model)
            self.backend.note_unused(batching)
        self.cache: OutputCache | None = self._cached.cache
        self._owns_cache = self.cache is not None and not isinstance(cache, OutputCache)
        self._owns_backend = backend is None
        self.decoding = decoding or Decoding()
        self.shots, self.seed, self.unit = shots, seed, unit
        self.shot_pool = shot_pool if shot_pool is not None else default_shot_pool
        if self.backend.is_seq2seq:
            if template is not None or shots or unit == "document":
                raise XlingError("encoder-decoder MT models translate the bare source: they take "
                                 "no --template, no --shots and no --unit document")
            self.template = None
        else:
            kind = "mt-document" if unit == "document" else "mt"
            self.template = template or load_template(
                f"{kind}-chat" if self.backend.has_chat_template else f"{kind}-completion")

        self.clipped_budgets = 0   # answers whose budget the context window cut (see request())
        self.last_clipped: list[int] = []   # per job of the last translate_many: budgets cut
        self.last_cut: list[int] = []       # ... and answers the budget ended
        self.last_filtered: list[int] = []  # ... and those a server's content filter ended

    def close(self) -> None:
        """Close the output cache and the backend this translator opened (an HTTP backend's
        connections, a vLLM engine and its memory; ones given to it stay open). A transformers
        model's weights stay loaded while the translator exists: `del` it to free them."""
        if self._owns_cache and self.cache is not None:
            self.cache.close()
        if self._owns_backend and hasattr(self.backend, "close"):
            self.backend.close()

    def __enter__(self) -> "Translator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def demonstrations(self, src, tgt, texts) -> list[tuple[str, str]]:
        """The few-shot pairs for a batch of `texts` (none of them among the demonstrations)."""
        if not self.shots:
            return []
        pool = self.shot_pool(src, tgt) if callable(self.shot_pool) else self.shot_pool
        return select_shots(pool, self.shots, self.seed, exclude=texts)

    def budget(self, text: str) -> int:
        """New tokens allowed for a translation of `text`: proportional to its length, capped."""
        d = self.decoding
        return min(d.max_new_tokens_cap,
                   int(d.length_factor * self.backend.count_tokens(text)) + d.length_slack)

    def request(self, text: str, src: Language, tgt: Language, shots, budget: int | None = None,
                index: int = 0):
        """The generation request for one source text (a segment, a paragraph or a numbered
        document chunk) and the hash of what the model sees. The answer budget is cut to what
        the model's context window leaves after the prompt (counted in `clipped_budgets`); a
        prompt that leaves no room at all is refused."""
        budget = self.budget(text) if budget is None else budget
        if self.template is None:
            request = GenerationRequest(prompt=_bare(text), max_new_tokens=budget, source=text,
                                        source_lang=src.code, target_lang=tgt.code)
        else:
            stop_at_newline, stop = self.template.stops_for(text, src)
            request = GenerationRequest(prompt=self.template.render_translation(src, tgt, text, shots),
                                        max_new_tokens=budget, stop_at_newline=stop_at_newline,
                                        stop=stop)
        window = self.backend.context_window
        if window:
            # (an encoder-decoder model's: what its encoder gets, a Marian >>xxx<< prefix included)
            counted = getattr(self.backend, "source_tokens", None) if self.template is None else None
            prompt = counted(request) if counted else self.backend.prompt_tokens(request.prompt)
            if prompt >= window:
                self._refuse_long(index, f"{prompt:,} tokens of source" if self.backend.is_seq2seq
                                  else f"{prompt + budget:,} tokens of prompt and answer", window)
            # an encoder-decoder model's answer has the decoder's positions to itself (less its
            # start and language tokens); a causal model's shares the window with its prompt
            room = window - 2 if self.backend.is_seq2seq else window - prompt
            if budget > room:
                request = replace(request, max_new_tokens=room)
                self.clipped_budgets += 1
        return request, hashlib.sha256(self._cached.seen(request).encode()).hexdigest()[:16]

    def requests(self, texts: Sequence[str], src: Language, tgt: Language):
        """The generation request and prompt hash for each non-empty line (see request())."""
        shots = self.demonstrations(src, tgt, texts)
        clipped = self.clipped_budgets
        built = {}
        for i, text in enumerate(texts):
            if not is_blank(text):   # (a zero-width space alone is no sentence: not sent, empty as an empty line)
                self._check_fits_alone(text, i)
                built[i] = self.request(text, src, tgt, shots, index=i)
        if self.clipped_budgets > clipped:
            import sys
            print(f"xling: note: {self.clipped_budgets - clipped} of {len(built)} answer budgets were cut "
                  f"to what the model's context window of {self.backend.context_window:,} tokens "
                  + ("gives its decoder" if self.backend.is_seq2seq else "leaves after the prompt"), file=sys.stderr)
        return built

    def check_fits(self, texts: Sequence[str], src: Language, tgt: Language) -> None:
        """Refuse, before any work, a text whose prompt leaves no room in the model's context
        window (what requests() would refuse in the middle of a run)."""
        if not self.backend.context_window:
            return
        clipped = self.clipped_budgets
        shots = self.demonstrations(src, tgt, texts)
        for i, text in enumerate(texts):
            if not is_blank(text):
                self._check_fits_alone(text, i)
                self.request(text, src, tgt, shots, index=i)
        self.clipped_budgets = clipped

    # Far more characters than any tokenizer packs into one token: a text this many times
    # longer than the window cannot fit, which a prefix of it shows without tokenizing it all.
    CHARS_PER_TOKEN_BOUND = 64

    def _check_fits_alone(self, text: str, index: int) -> None:
        window = self.backend.context_window
        probe = self.CHARS_PER_TOKEN_BOUND * (window or 0)
        if window and len(text) > probe and self.backend.count_tokens(text[:probe]) > window:
            self._refuse_long(index, f"over {window:,} tokens of " + (
                "source" if self.backend.is_seq2seq else "prompt and answer"), window)

    @staticmethod
    def _refuse_long(index: int, needed: str, window: int):
        raise XlingError(f"segment {index + 1} ({needed}) does not fit "
                         f"the model's context window of {window:,} tokens; shorten or split it, or "
                         "use a model with a longer context")

    def generate(self, requests: list[GenerationRequest], progress: str | None = None,
                 unit: str = "seg") -> tuple[list[str], list[bool]]:
        """Raw outputs of the requests (through the cache) and whether each came from it."""
        raw = self._cached.generate(requests, self.decoding, progress=progress, unit=unit)
        return raw, list(self._cached.last_hits)

    def _segments_only(self) -> None:
        if self.unit == "document":   # (each line went alone under the numbered-segments prompt)
            raise XlingError("a Translator with unit='document' translates whole documents: "
                             "xling.translation.documents.translate_documents(translator, texts, document_ids, "
                             "src, tgt), or `xling eval mt --unit document`")

    def translate_records(self, texts: Iterable[str], src: str | Language, tgt: str | Language,
                          progress: bool = False) -> list[Translation]:
        """Each text's Translation: the cleaned text, the model's raw answer, what cleaning
        removed, the prompt's hash (and, choosing among candidates, the candidates and scores)."""
        return self.translate_many([(texts, src, tgt)], progress)[0]

    def translate_many(self, jobs: Sequence[tuple[Iterable[str], str | Language, str | Language]],
                       progress: bool = False) -> list[list[Translation]]:
        """Several directions' translations from one queue: the backend batches across them,
        so a batch stays full until the last direction's longest answer instead of draining at
        every direction's end (on a GPU a decoding step costs about the same at any row count)."""
        self._segments_only()
        built_jobs, self.last_clipped = [], []
        for job in jobs:
            if not isinstance(job, (tuple, list)) or len(job) != 3:
                raise XlingError(f"translate_many takes (texts, src, tgt) jobs, not {str(job)[:80]!r}")
            texts, src, tgt = job
            src, tgt = check_direction(src, tgt)
            # a direction the model cannot take, refused before any job's generation (and before
            # the weights load: an encoder-decoder model asks its tokenizer only)
            asked = getattr(self.backend, "direction_problem", None)
            problem = asked(src, tgt) if asked else None
            if problem:
                raise XlingError(problem)
            texts = source_texts(texts)
            clipped = self.clipped_budgets
            built_jobs.append((texts, tgt, self.requests(texts, src, tgt)))
            self.last_clipped.append(self.clipped_budgets - clipped)
        keys = [(j, i) for j, (_, _, built) in enumerate(built_jobs) for i in built]
        raw, hits = self.generate([built_jobs[j][2][i][0] for j, i in keys], "translating" if progress else None)
        by_key, cached = dict(zip(keys, raw)), dict(zip(keys, hits))
        # answers the token budget ended (the model was still writing: often a repetition loop)
        self.last_cut = [sum(budget_cut(by_key[j, i]) for i in built) for j, (_, _, built) in enumerate(built_jobs)]
        # (a server's content filter: no budget mends it)
        self.last_filtered = [sum(was_cut(by_key[j, i]) and not budget_cut(by_key[j, i]) for i in built)
                              for j, (_, _, built) in enumerate(built_jobs)]
        budget, filtered = sum(self.last_cut), sum(self.last_filtered)
        if budget or filtered:
            import sys
            print(f"xling: note: {budget + filtered} of {len(keys)} translations stopped "
                  + (f"at their token budget ({self.decoding.length_factor:g} x the source's tokens + "
                     f"{self.decoding.length_slack}, at most {self.decoding.max_new_tokens_cap}): the model had not "
                     "ended them" if not filtered else f"before the model ended them: {budget} at their token budget, "
                     f"{filtered} by the server's content filter"), file=sys.stderr)
        out = []
        for j, (texts, tgt, built) in enumerate(built_jobs):
            results = []
            for i, text in enumerate(texts):
                if i not in built:
                    results.append(Translation(source=text, text="", raw=""))
                    continue
                cleaned = clean_output(by_key[j, i], tgt, source=text)
                results.append(Translation(source=text, text=cleaned.text, raw=by_key[j, i],
                                           removed=cleaned.removed, prompt_hash=built[i][1],
                                           cached=cached[j, i]))
            out.append(results)
        return out

    def translate_candidates(self, texts: Sequence[str], src: str | Language, tgt: str | Language,
                             selection: "Selection", progress: bool = False) -> list[Translation]:
        """`selection.candidates` candidates per source (cached one by one), then one chosen by
        MBR (against the candidates, or `pseudo_refs` more samples) or by reranking with a QE
        metric. Each Translation's `unit` keeps every candidate, its score and the chosen index;
        `last_cost` says how many candidates were generated and utilities evaluated."""
        self._segments_only()

        src, tgt = check_direction(src, tgt)
        texts = source_texts(texts)
        select, n, pseudo_refs = selection.select, selection.candidates, selection.pseudo_refs
        utility, qe, sampling = selection.utility, selection.qe, selection.sampling
        if select not in ("mbr", "rerank"):
            raise XlingError(f"choosing among candidates needs --select mbr or rerank, not {select!r}")
        problem = selection_problem(select, n, pseudo_refs=pseudo_refs, sampling=sampling.method) \
            or self.backend.sampling_problem(sampling)
        if problem:   # before any bar is drawn
            raise XlingError(problem)
        texts = list(texts)
        built = self.requests(texts, src, tgt)
        order = list(built)
        total = n + (pseudo_refs or 0)
        drawn = self._cached.candidates([built[i][0] for i in order], sampling,
                                        [list(range(total))] * len(order),
                                        progress=("beam search" if sampling.method == "beam" else
                                                  "sampling candidates") if progress else None)
        raw = [[row[k] for k in range(total)] for row in drawn]
        generated = self._cached.last_generated
        clean = [[clean_output(c, tgt, source=texts[i]).text for c in row] for i, row in zip(order, raw)]
        hyps = [row[:n] for row in clean]
        sources = [texts[i] for i in order]
        options = selection.metric_options.get(selection.chooser, {})
        if select == "mbr":
            refs = [row[n:] for row in clean] if pseudo_refs else hyps
            choices, evaluations = mbr(hyps, refs, sources, tgt.code, utility, options,
                                       progress=f"MBR ({utility})" if progress else None)
        else:
            choices, evaluations = rerank(hyps, sources, tgt.code, qe, options)
        # candidates the token budget ended (pseudo-references aside), and the chosen ones among
        # them (greedy's count)
        cut_drawn = sum(budget_cut(c) for row in raw for c in row[:n])   # (a content filter's: the server says)
        cut_chosen = sum(budget_cut(row[choice.index]) for row, choice in zip(raw, choices))
        self.last_cost = {"sources": len(order), "candidates": n * len(order),
                          **({"pseudo_refs": pseudo_refs * len(order)} if pseudo_refs else {}),
                          "generated": generated, "cached": total * len(order) - generated,
                          "utility_evaluations": evaluations,
                          **({"cut_at_budget": cut_chosen, "cut_candidates": cut_drawn} if cut_drawn else {})}
        if cut_drawn:
            import sys
            print(f"xling: note: {cut_drawn} of {n * len(order)} candidates stopped at their token budget "
                  f"(the model had not ended them), {cut_chosen} of the {len(order)} chosen", file=sys.stderr)
        if progress:
            import sys
            c = self.last_cost
            drawn_each = f"{n} candidates" + (f" + {pseudo_refs} pseudo-references" if pseudo_refs else "")
            print(f"xling: {drawn_each} x {c['sources']} sources ({c['generated']} generated, "
                  f"{c['cached']} cached); {evaluations} {utility if select == 'mbr' else qe} "
                  "evaluations", file=sys.stderr)
        by_line = {i: (row, raw_row, choice) for i, row, raw_row, choice in zip(order, clean, raw, choices)}
        results = []
        for i, text in enumerate(texts):
            if i not in by_line:
                results.append(Translation(source=text, text="", raw=""))
                continue
            row, raw_row, choice = by_line[i]
            unit = {"select": select, "candidates": row[:n], "candidate_scores": choice.scores,
                    "chosen": choice.index}
            if pseudo_refs:
                unit["pseudo_refs"] = row[n:]
            cleaned = clean_output(raw_row[choice.index], tgt, source=text)
            results.append(Translation(source=text, text=cleaned.text, raw=raw_row[choice.index],
                                       removed=cleaned.removed, prompt_hash=built[i][1], unit=unit))
        return results

    def translate(self, texts: Iterable[str] | str, src: str | Language, tgt: str | Language,
                  progress: bool = False) -> list[str] | str:
        """The translations of `texts` (a list of strings, or one string) from `src` into `tgt`:
        one output per text, "" for an empty one; through the output cache (a text asked again
        is not generated again)."""
        if isinstance(texts, str):
            return self.translate_records([texts], src, tgt, progress)[0].text
        return [r.text for r in self.translate_records(texts, src, tgt, progress)]

    __call__ = translate


def source_texts(texts) -> list[str]:
    """The texts to translate as a list of strings, or one XlingError saying what was given."""
    if texts is None or isinstance(texts, (bytes, bytearray)):
        raise XlingError(f"texts to translate: got {type(texts).__name__}; pass a string or a list of "
                         "strings (decode bytes first)")
    if isinstance(texts, str):   # one text, never its characters one by one
        return [texts]
    from ..metrics.base import refuse_table

    refuse_table(texts, "texts to translate", several="")
    try:
        texts = list(texts)
    except TypeError:
        raise XlingError(f"texts to translate: got {type(texts).__name__}; pass a string or a list of "
                         "strings") from None
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise XlingError(f"texts to translate: item {i} is {text!r:.40} ({type(text).__name__}), not text")
    return texts


def _bare(text: str):
    return Prompt(text=text)


# translate()'s options that need no model of their own: applied to the model already loaded
_PER_CALL = frozenset({"template", "shots", "shot_pool", "seed", "batch_size", "max_batch_tokens", "refill",
                       "decoding", "cache", "unit"})
def check_unit_template(template: Template | None, unit: str) -> None:
    """A document template (mt-document-*) translates numbered documents, not single segments:
    its prompt speaks of numbered segments, and a segment went unnumbered, its answer taken whole.
    The other built-in templates translate one segment: their prompt never asks to keep the [k]
    numbers document mode splits an answer by, and a model's answers were scored as empty. (A
    user's own template may ask for them in any words: it is theirs to write.)"""
    if template is None:
        return
    if template.name.startswith("mt-document") and unit != "document":
        raise XlingError(f"template {template.name!r} translates numbered documents: use it with "
                         "--unit document (unit='document')")
    if unit == "document" and template.builtin and template.task == "translation" \
            and not template.name.startswith("mt-document"):
        raise XlingError(f"template {template.name!r} translates single segments and never asks to keep the "
                         f"[1], [2], ... numbers --unit document splits answers by: use mt-document-{template.format} "
                         "(the default of --unit document), or a template of your own that asks for them")


_held: dict = {}   # the one model translate() keeps loaded: {"key": ..., "backend": ...}
_held_caches: dict = {}   # translate()'s output caches by file: [cache, calls using it now]
_held_lock = threading.RLock()   # guards the three: threads of a notebook calling translate() at once
_calls: dict[int, list] = {}   # id(backend) -> [backend, calls translating with it now, replaced?]


def _release(backend, replaced: bool = False) -> None:
    """One call's end with `backend` (or its replacement as the held model, `replaced`): an owned
    backend is closed once it is replaced and no call of another thread still translates with it
    (a second model asked for in one thread closed the first under another thread's feet)."""
    entry = _calls.get(id(backend))
    if entry is None:   # replaced while no call used it
        if hasattr(backend, "close"):   # (a vLLM engine's memory is not freed by dropping it)
            backend.close()
        return
    if replaced:
        entry[2] = True
    else:
        entry[1] -= 1
    if entry[1] == 0:
        del _calls[id(backend)]
        if entry[2] and hasattr(backend, "close"):
            backend.close()


def translate(texts: Iterable[str] | str, src: str | None = None, tgt: str | None = None,
              model: str | None = None, **options) -> list[str] | str:
    """Translate `texts` (a list of strings, or one string) from `src` into `tgt` (both needed, as
    the command line's --src and --tgt) with `model` (None: $XLING_MODEL, else the embedded model).
    `options` are Translator's: template, shots, shot_pool, seed, batch_size, max_batch_tokens,
    refill, decoding, cache, and loading options (backend, trust_remote_code, ...). The model is
    loaded once per process and held, one at a time: options such as seed, shots or template
    reuse it, and another model (or loading option) replaces it, so a notebook trying settings
    does not pile up copies of the weights."""
    import os
    from pathlib import Path

    from ..store.filehash import model_fingerprint

    if src is None or tgt is None:   # (src once defaulted to Korean: a German text went as Korean, unsaid)
        raise XlingError("translate() needs src and tgt, the source and target languages (e.g. src='de', tgt='en')")
    if model is not None and not isinstance(model, (str, os.PathLike)):
        raise XlingError(f"model must be a hub name or a folder, not {model!r}")

    # keyed by the model that will load ($XLING_MODEL read now: a notebook may change it), and a
    # local checkpoint by its content: one saved anew at the same path is loaded anew
    name = model or os.environ.get("XLING_MODEL") or None
    local = Path(name).expanduser() if name else None
    content = model_fingerprint(local) if local is not None and local.is_dir() else None
    loading = {k: v for k, v in options.items() if k not in _PER_CALL}
    key = (name, content, tuple(sorted((k, repr(v)) for k, v in loading.items())))
    check_options(loading, also=("settings", "backend", *_PER_CALL))   # before the held model goes
    check_settings(loading.get("settings"))
    cache = options.get("cache", True)
    if cache is True or isinstance(cache, (str, Path)):   # ($XLING_CACHE read now, as the model)
        from ..data.resources import cache_dir
        from ..store.cache import OutputCache

        path = str(Path(cache).expanduser() if cache is not True else cache_dir() / "outputs.sqlite")
        where = os.path.abspath(path)   # one connection for every thread (the store locks its own)
        with _held_lock:   # another file's connection is closed once no call uses it (a notebook
            # giving each experiment its own cache file kept 3 descriptors per file, to the limit)
            for other in [w for w, (_, users) in _held_caches.items() if w != where and not users]:
                _held_caches.pop(other)[0].close()
            if where not in _held_caches:
                _held_caches[where] = [OutputCache(path), 0]
            _held_caches[where][1] += 1
        options = {**options, "cache": _held_caches[where][0]}
    else:
        where = None
    try:
        return _translate_held(texts, src, tgt, model, key, options)
    finally:
        if where is not None:
            with _held_lock:
                _held_caches[where][1] -= 1


def _translate_held(texts, src, tgt, model, key, options):
    """translate() with the held model: loaded anew where `key` differs from the held one's."""
    with _held_lock:   # (loading too: two threads asking for one new model load it once)
        if _held.get("key") == key:
            translator = Translator(backend=_held["backend"], **{k: v for k, v in options.items() if k in _PER_CALL})
        else:
            previous = _held.get("backend") if _held.get("owned") else None   # (never a backend the caller gave)
            _held.clear()   # the previous model goes before the next one loads (or when its last call ends)
            if previous is not None:
                _release(previous, replaced=True)
            translator = Translator(model, **options)
            _held.update(key=key, backend=translator.backend, owned=translator._owns_backend)
        backend = translator.backend
        _calls.setdefault(id(backend), [backend, 0, False])[1] += 1
    try:
        return translator.translate(texts, src, tgt)
    finally:
        with _held_lock:
            _release(backend)
