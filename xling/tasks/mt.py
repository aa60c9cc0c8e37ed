"""MT evaluation runs: many directions at once, resumable, scored with any metrics."""
from __future__ import annotations

import itertools
import json
import re
import sys
import time
from contextlib import ExitStack

from ..backends.base import Decoding
from ..data.corpus import ParallelData, ShotPool
from ..data.languages import Direction, check_direction, named_pairs, resolve
from ..data.parallel import load_parallel, shots_file_pool
from ..data.textio import file_record, is_blank
from ..data.wmt import run_note
from ..errors import XlingError
from ..metrics.offtarget import segment_flags
from ..metrics.preflight import check_metric_models
from ..metrics.registry import get, parse_metric_names, unread_settings, warn_unread_settings
from ..prompts.templates import load_template
from ..runs.config import MTEvalConfig
from ..runs.folder import RunDir, RunHeader, run_fingerprint
from ..runs.records import MTRecord
from ..store.cache import content_key
from ..translation.documents import check_no_blank_line, prepare, segment_name, translate_documents
from ..translation.selection import CANDIDATE_ONLY, SAMPLED_ONLY, Selection
from ..translation.translator import Translator, check_unit_template


def directions_of(config: MTEvalConfig, data: ParallelData | None = None) -> list[Direction]:
    """The run's directions: its pairs and langs, else the directions its data set was made
    for (WMT24++: English into each locale)."""
    found = []
    pairs = config.pairs
    if not pairs and not config.langs and data is not None:
        pairs = data.default_pairs
    for item in pairs or []:
        found += named_pairs(item) if "-" not in item else [Direction.parse(item)]
    given = [Direction.parse(item) for item in pairs or [] if "-" in item]
    repeated = next((d for d in given if given.count(d) > 1), None)
    if repeated is not None:   # (kept in the run's identity as given: a resume naming it once was refused)
        raise XlingError(f"pairs (--pairs) names {repeated.src.code}-{repeated.tgt.code} twice; "
                         "give each direction once")
    if config.langs:
        langs = [resolve(c) for c in config.langs]
        if len(langs) < 2:
            raise XlingError(f"--langs {','.join(config.langs)}: give two or more languages (every direction "
                             "among them), or one direction with --pairs (e.g. ko-en)")
        twice = [c for c in config.langs if [resolve(d) for d in config.langs].count(resolve(c)) > 1]
        if twice:   # ko,kor: a direction from a language into itself
            raise XlingError(f"--langs names {resolve(twice[0]).name} twice ({', '.join(twice)}); give each "
                             "language once")
        found += [Direction(*pair) for pair in itertools.permutations(langs, 2)]
    if data is not None:
        found = [check_direction(*(_as_in_data(data, lang) for lang in pair)) for pair in found]
    unique = list(dict.fromkeys(found))
    if not unique:
        raise XlingError("no translation directions: give pairs (ko-en,en-ko) or langs (ko,en,ja); "
                         f"{data.spec if data else 'the data set'} has no default direction")
    return unique


def _as_in_data(data: ParallelData, lang):
    """A language as the data holds it: a regional variety (pt_BR) where the data has only its
    language (FLORES: the run is the language's, as before varieties were kept apart), and a
    language (pt, pt-BR) where the data has it only as one variety (wmt24pp:en-pt_BR: the
    variety's prompt and outputs). Several varieties of it are a choice the user makes."""
    have = data.languages()
    if lang.code in have:
        return lang
    if lang.base and lang.base in have:
        return lang.plain
    kinds = [code for code in have if resolve(code).base == lang.code]
    if len(kinds) > 1:
        raise XlingError(f"{data.spec} has {lang.name} in {len(kinds)} regional varieties ({', '.join(kinds)}): "
                         f"name the one to translate into, e.g. en-{kinds[0]}")
    return resolve(kinds[0]) if kinds else lang


def _check_languages(data: ParallelData, directions) -> None:
    have = set(data.languages())
    for lang in {side for pair in directions for side in pair}:
        if lang.code not in have:   # (with the spellings a file could have: the loader's hints)
            raise XlingError(data.missing(lang))


def run_mt(config: MTEvalConfig, overwrite: bool = False, progress: bool = True,
           backend=None) -> RunDir:
    """Generate (or reuse) outputs for every direction, then score them. The run folder is
    checked and locked before anything loads."""
    with RunDir(config.out) as run, ExitStack() as closing:
        _run_mt(run, config, overwrite, progress, backend, closing)
    return run


def selected(data: ParallelData, config: MTEvalConfig) -> list[int]:
    """The positions a run translates: the first `limit`, or the first `limit_per_domain` of
    each domain (in data order)."""
    if config.limit_per_domain is None:
        return list(range(len(data.ids)))[:config.limit]
    if not all("domain" in m for m in data.meta):
        raise XlingError(f"{data.spec} has no domains: limit_per_domain needs a data set with them "
                         "(wmt24pp:...)")
    taken: dict[str, int] = {}
    positions = []
    for i, m in enumerate(data.meta):
        if taken.get(m["domain"], 0) < config.limit_per_domain:
            taken[m["domain"]] = taken.get(m["domain"], 0) + 1
            positions.append(i)
    return positions[:config.limit]


def documents_cut(data: ParallelData, positions: list[int]) -> int:
    """How many documents the selection (--limit, --limit-per-domain) takes only part of."""
    if not data.meta or not all("document_id" in m for m in data.meta):
        return 0
    from collections import Counter

    total = Counter(m["document_id"] for m in data.meta)
    taken = Counter(data.meta[i]["document_id"] for i in positions)
    return sum(n < total[document] for document, n in taken.items())


def _decoding_record(decoding, selection: Selection) -> dict:
    """How the outputs were decoded, for config.json: greedy decoding's settings, or (MBR,
    rerank) how the candidates were drawn, with the answer budget both share (the greedy
    temperature 1.0 of a run whose candidates were sampled at 0.5 was written)."""
    record = decoding.as_dict()
    if selection.greedy:
        return record
    budget = {k: record[k] for k in ("max_new_tokens_cap", "length_factor", "length_slack")}
    return {"candidates": selection.candidates, "sampling": selection.sampling.as_dict(), **budget}


def _check_wmt24pp_options(config: MTEvalConfig) -> None:
    """--reference and --keep-bad-sources choose among WMT24++'s fields: for other data they did
    nothing, yet config.json recorded them as applied (and they split the run's identity)."""
    from ..data.registry import family_of

    given = [flag for flag, value, default in (("--reference", config.reference, "post-edit"),
                                               ("--keep-bad-sources", config.keep_bad_sources, False))
             if value != default]
    if given and family_of(config.data, "mt")[0].name != "wmt24pp":
        raise XlingError(f"{' and '.join(given)} appl{'y' if len(given) > 1 else 'ies'} to WMT24++ data "
                         f"(wmt24pp:...), not to {config.data}")


def check_mt(config: MTEvalConfig) -> tuple[list[str], ParallelData, list[Direction]]:
    """What a run checks before its model loads and its folder is written (metrics and their
    models, data, directions, languages, unit, shots file, the candidates' chooser); `xling run`
    checks every variant of a file so before the first runs. Its metrics, data and directions."""
    metrics = parse_metric_names(config.metrics)
    check_metric_models(metrics, config)   # before any work: a model that cannot load fails now
    _check_wmt24pp_options(config)
    data = load_parallel(config.data, config.data_dir, keep_bad_sources=config.keep_bad_sources,
                         reference=config.reference)
    directions = directions_of(config, data)
    _check_languages(data, directions)
    if config.unit == "document" and data.unordered:
        raise XlingError(data.unordered)
    if config.unit == "document" and not data.has_documents:
        raise XlingError(f"{data.spec} has no documents: --unit document needs a data set whose "
                         "segments carry a document id (wmt24pp:..., sacrebleu WMT sets, or jsonl: "
                         "records with a document_id field)")
    if config.limit is not None and config.limit < 1:
        raise XlingError("limit must be a positive number of segments")
    if config.shots_file and not config.shots:
        raise XlingError("shots_file (--shots-file) gives demonstrations, and shots is 0: add --shots K")
    placeholders = set(re.findall(r"\{\w+\}", config.shots_file or ""))
    if config.shots_file and len(directions) > 1 and not {"{src}", "{tgt}"} <= placeholders:
        raise XlingError(f"shots_file (--shots-file) holds one direction's pairs and this run has {len(directions)} "
                         "directions: name one file per direction with {src} and {tgt} in the path "
                         "(e.g. shots.{src}-{tgt}.tsv)")
    selection = Selection.from_settings(config)
    if not selection.greedy:   # the MBR utility's or QE reranker's model, before any sampling
        check_metric_models([selection.chooser], config)
    if isinstance(config.template, str):   # (every variant of a file before the first runs)
        check_unit_template(load_template(config.template), config.unit)
    return metrics, data, directions


def _run_mt(run: RunDir, config: MTEvalConfig, overwrite: bool, progress: bool, backend,
            closing: ExitStack) -> None:
    metrics, data, directions = check_mt(config)
    selection = Selection.from_settings(config)   # (its chooser's kind: before the model loads)
    unread = unread_settings(config, metrics + ([] if selection.greedy else [selection.chooser]))
    if unread and progress:
        print(f"xling: warning: {', '.join(unread)} set, and read by none of this run's metrics "
              f"({', '.join(metrics)}{'' if selection.greedy else ', ' + selection.chooser}): unused", file=sys.stderr)
    user_pools: dict[str, tuple[str, list, int]] = {}

    def user_pool(src, tgt) -> tuple[str, list, int]:
        """A direction's shots file, its pairs, and how many were dropped (`shots_file_pool`)."""
        key = f"{src.code}-{tgt.code}"
        if key not in user_pools:
            user_pools[key] = shots_file_pool(str(config.shots_file), src, tgt, data)
        return user_pools[key]

    def pool(src, tgt):
        if config.shots_file:
            return user_pool(src, tgt)[1]
        dev = data.dev_pool(src, tgt)
        if dev is None:
            raise XlingError(f"{data.spec} has no dev split to draw few-shot examples from; "
                             "pass shots_file (--shots-file)")
        return dev

    if config.shots:    # every direction has examples to draw, before the run folder is written
        for src, tgt in directions:
            pool(src, tgt)
    translator = closing.enter_context(Translator(   # (closed with the run: a vLLM engine, connections)
        config.model, backend=backend, template=config.template, shots=config.shots, shot_pool=pool, seed=config.seed,
        batch_size=config.batch_size, max_batch_tokens=config.max_batch_tokens, refill=config.refill,
        decoding=Decoding(max_new_tokens_cap=config.max_new_tokens), settings=config.section(),
        static_cache=config.static_cache, quiet=not progress, unit=config.unit))
    positions = selected(data, config)
    ids, meta = [data.ids[i] for i in positions], [data.meta[i] for i in positions]
    cut_documents = documents_cut(data, positions)
    if cut_documents and progress:
        print(f"xling: note: --limit/--limit-per-domain take {cut_documents} document(s) in part: "
              + ("each part is translated as a whole document; " if config.unit == "document" else "")
              + "their document-level scores join the segments taken", file=sys.stderr)

    def texts(lang) -> list[str]:
        every = data.text(lang)
        return [every[i] for i in positions]

    for src, tgt in directions:   # a language the model cannot take: said before the run folder is written
        problem = translator.backend.direction_problem(src, tgt)
        if problem:
            raise XlingError(problem)
    if config.shots and config.shots_file and translator.template is not None:   # (as the segments below)
        for src, tgt in directions:
            translator.template.check_demonstrations(user_pool(src, tgt)[1], src, tgt)
    for path, kept, dropped in user_pools.values():
        if dropped and progress:
            print(f"xling: note: {dropped} pairs of {path} are sentences of {data.spec} and are not used as "
                  f"demonstrations ({len(kept)} left)", file=sys.stderr)
    replanned = {}   # directions whose chunks xling cut otherwise before round 24 (their identity changes)
    if config.unit == "document":   # every direction's chunks fit, before the run folder is written
        for src, tgt in directions:
            chunks = prepare(translator, texts(src), [m["document_id"] for m in meta], src, tgt)[1]
            if not all(c.as_before for c in chunks):
                replanned[f"{src.code}-{tgt.code}"] = [c.positions for c in chunks]
    else:                           # and every segment's prompt
        for src, tgt in directions:
            for i, text in enumerate(texts(src)):   # (a completion template's block would end at a blank line)
                check_no_blank_line(translator.template, text, segment_name(ids[i], meta[i]))
            translator.check_fits(texts(src), src, tgt)
    if not selection.greedy:   # a backend that cannot draw these candidates says so now
        problem = translator.backend.sampling_problem(selection.sampling)   # before the folder is written
        if problem:
            raise XlingError(problem)
    template = translator.template
    # the texts themselves (and the demonstrations' pools): the same spec over edited files
    # (--data-dir, a text: or jsonl: file, a shots file changed in place) is another experiment
    langs = sorted({lang.code for direction in directions for lang in direction})
    data_sha256 = content_key(ids=ids, texts={lang: texts(lang) for lang in langs},
                              pools={f"{s}-{t}": _pool_key(pool(s, t)) for s, t in directions}
                              if config.shots else None, **({"chunks": replanned} if replanned else {}))
    identity = dict(config.identity(), model_fingerprint=run_fingerprint(translator.backend.fingerprint),
                    template_hash=template.hash if template else None, data_sha256=data_sha256)
    # regional varieties (pt_BR) are named in prompts and outputs since round 27: a folder of
    # such a locale made before (prompts naming the language, outputs en-pt) has no such key
    varieties = sorted({lang.code for direction in directions for lang in direction if lang.base})
    if varieties:
        identity["varieties"] = varieties
    at_default = config.at_default()
    # candidate settings change no greedy output, sampling settings no beam, the MBR utility no
    # reranking and the QE metric no MBR (older folders hold them)
    beam = not selection.greedy and selection.sampling.method == "beam"
    unused = CANDIDATE_ONLY if selection.greedy else \
        (SAMPLED_ONLY if beam else ()) + (("qe",) if selection.select == "mbr" else ("utility",))
    for name in unused:
        identity.pop(name, None)
        at_default.pop(name, None)
    if not selection.greedy:   # the utility / QE metric's settings choose the outputs
        identity["chooser_options"] = {k: v for k, v in selection.metric_options[selection.chooser].items()
                                       if k not in RUN_ONLY_OPTIONS}
    run.prepare(RunHeader(
        "mt", identity, config.public_settings(), [d.name for d in directions],
        model=translator.backend.fingerprint,
        data={"spec": data.spec, "note": run_note(data, directions, config.shots)},
        details={"segments": len(positions),   # records per direction
                 **({"documents_cut": cut_documents} if cut_documents else {}),
                 "template": {"name": template.name, "hash": template.hash} if template else None,
                 "decoding": _decoding_record(translator.decoding, selection),
                 "shots": shot_source(config, data, directions, {d.name: user_pool(*d) for d in directions}
                                      if config.shots and config.shots_file else None)},
        at_default=at_default), overwrite=overwrite)


    if progress and run_note(data, directions, config.shots):
        print(f"xling: {run_note(data, directions, config.shots)}", file=sys.stderr)
    made_for = set(data.default_pairs or ())
    other = [d.name for d in directions if made_for and d.name not in made_for]
    if progress and other:   # WMT24++ into English: the "source" is a post-edited translation
        print(f"xling: note: {', '.join(other)} {'is not a direction' if len(other) == 1 else 'are not directions'} "
              f"{data.spec} was made for ({', '.join(sorted(made_for))}): the source side is a "
              "translation, not an original text", file=sys.stderr)
    unaligned = unaligned_cut = unaligned_filtered = empty = total = 0
    # Greedy sentence translations go through queues of several directions (see _translate_queued);
    # documents and candidates are translated direction by direction.
    queued = len(directions) > 1 and config.unit != "document" and selection.greedy
    groups = queue_groups([len(positions)] * len(directions)) if queued else [[i] for i in range(len(directions))]
    done: dict[str, tuple[list, dict]] = {}
    for group in groups:
        if queued:
            members = [directions[i] for i in group]
            done = _translate_queued(translator, members, [(texts(d.src), d.src, d.tgt) for d in members], progress)
        for direction in (directions[i] for i in group):
            (src, tgt), name = direction, direction.name
            sources, refs = texts(src), texts(tgt)
            if progress:
                print(f"xling: {name} ({len(sources)} segments{', scoring' if queued else ''})", file=sys.stderr)
            results, generation = done[name] if queued else \
                _translate(translator, config, sources, meta, src, tgt, selection, progress)
            # "lang" as the off-target metric counts it ("empty" for an empty output, "blank" for
            # one where the source line is blank; "und" for the undetermined alone)
            records = [MTRecord(i, m, s, r, t.prompt_hash, t.raw, t.text, t.removed,
                                segment_flags(t.text, tgt.code, s)["lang"], t.unit).to_dict()
                       for i, m, s, r, t in zip(ids, meta, sources, refs, results)]
            digest = run.write_outputs(name, records)
            score_direction(run, name, metrics, config, generation=generation, written=(records, digest))
            unaligned += sum(1 for r in records if r.get("realigned") is False)
            unaligned_cut += sum(1 for r in records if r.get("realigned") is False and r.get("cut")
                                 and not r.get("content_filter"))
            unaligned_filtered += sum(1 for r in records if r.get("realigned") is False and r.get("content_filter"))
            empty += sum(1 for r in records if not is_blank(r["source"]) and is_blank(r["output"])
                         and r.get("realigned") is not False)
            total += len(records)
    if empty:   # scored as they are (and off-target), but a researcher should know why scores fell
        print(f"xling: warning: {empty} of {total} outputs are empty: the model's answer ended before any "
              "text (an answer that opens with a line break ends there under a completion template) "
              "or held only what was stripped; `xling prompt` shows one", file=sys.stderr)
    if unaligned:   # document mode: answers that could not be split back into their segments
        # (a chunk its token budget ended before its last number is the budget's doing, not the model's layout)
        d = translator.decoding
        why = [f"{unaligned_cut} in chunk answers that stopped at their token budget before their last number: "
               f"{d.length_factor:g} x the source's tokens + {d.length_slack} a segment, at most --max-new-tokens "
               f"({d.max_new_tokens_cap:,}), less where the context window leaves less"] if unaligned_cut else []
        why += [f"{unaligned_filtered} in chunk answers the server's content filter stopped before their last "
                "number"] if unaligned_filtered else []
        layout = unaligned - unaligned_cut - unaligned_filtered
        why += [f"{layout} in answers that broke the numbered layout: a larger model follows "
                "it better"] if layout else []
        print(f"xling: warning: {unaligned} of {total} segments could not be realigned from their "
              f"document's translation and are scored as empty ({'; '.join(why)}); document scores cover only "
              "the documents realigned in full; --unit segment scores every segment", file=sys.stderr)


# A chooser metric's options that say how it runs, not what it scores.
RUN_ONLY_OPTIONS = frozenset({"batch_size", "gpus", "progress", "base_url", "concurrency", "request_timeout",
                              "max_retries", "api_key_env", "api_key_file"})


def _pool_key(pool):
    return pool.key() if isinstance(pool, ShotPool) else pool


def shot_source(config: MTEvalConfig, data: ParallelData, directions, user_pools: dict | None) -> dict | None:
    """Where a run's demonstrations come from, for its config.json: the user's file (path,
    digest, pairs used, pairs dropped as sentences of the data; one file per direction under
    `files` for several), or the data set's dev split (for WMT24++: FLORES-200 dev). None at 0
    shots."""
    if not config.shots:
        return None
    if user_pools:
        files = [{"direction": name, **file_record(path), "pairs": len(kept), "dropped": dropped}
                 for name, (path, kept, dropped) in user_pools.items()]
        if len(files) == 1:
            files[0].pop("direction")
            return {"from": "shots_file", **files[0]}
        return {"from": "shots_file", "files": files}
    return data.dev_source(directions)


def _translate(translator, config: MTEvalConfig, sources, meta, src, tgt, selection,
               progress: bool):
    """One direction's translations (by segment, by document, or chosen among candidates) and
    what they cost: seconds (cache hits included), candidates and utility evaluations, batches."""

    started = time.perf_counter()
    log = translator.backend.stats().get("batches")
    logged = len(log) if log is not None else 0
    generation: dict = {}
    clipped = translator.clipped_budgets
    if config.unit == "document":
        results, summary = translate_documents(translator, sources, [m["document_id"] for m in meta],
                                               src, tgt, progress=progress)
        if summary["cut_segments"]:   # (segments, as segment mode counts translations)
            generation["cut_at_budget"] = summary["cut_segments"]
        if summary["filtered_segments"]:
            generation["cut_by_content_filter"] = summary["filtered_segments"]
    elif not selection.greedy:
        results = translator.translate_candidates(sources, src, tgt, selection, progress=progress)
        generation = dict(translator.last_cost, chosen_by={"select": selection.select, "metric": selection.chooser})
        if results and not generation["generated"]:   # every candidate from the cache: no new cost
            generation["from_cache"] = True
    else:
        results = translator.translate_records(sources, src, tgt, progress=progress)
        if translator.last_cut[0]:
            generation["cut_at_budget"] = translator.last_cut[0]
        if translator.last_filtered[0]:
            generation["cut_by_content_filter"] = translator.last_filtered[0]
    generation["seconds"] = round(time.perf_counter() - started, 3)
    if results and all(getattr(t, "cached", False) for t in results):
        generation["from_cache"] = True
    if translator.clipped_budgets > clipped:   # answers the context window left less room
        generation["clipped_budgets"] = translator.clipped_budgets - clipped
    batches = _batches_since(translator, logged)
    if batches:
        generation["batches"] = batches
    return results, generation


def _batches_since(translator, logged: int) -> dict | None:
    """The batches the backend ran since its log held `logged` entries (HF backend; else None)."""
    log = translator.backend.stats().get("batches")
    if log is None or len(log) <= logged:
        return None
    batches = log[logged:]
    return {"count": sum(1 for b in batches if not b.get("out_of_memory") and not b.get("refill")),
            "max_rows": max(b["rows"] for b in batches),
            "refills": sum(1 for b in batches if b.get("refill")),
            "out_of_memory_splits": sum(1 for b in batches if b.get("out_of_memory")),
            "plan": translator.backend.stats().get("plan", {})}


# Directions are queued together in groups of about this many segments: enough for batches to
# stay full across direction boundaries (FLORES' 12-direction matrix, 12,144 segments, is one
# queue), few enough that finished directions are written and scored along the way (a
# 55-direction WMT24++ run makes 4 queues, not one silent queue of 55k segments).
QUEUE_SEGMENTS = 16384


def queue_groups(sizes: list[int], limit: int = QUEUE_SEGMENTS) -> list[list[int]]:
    """Consecutive directions (by index) in as few groups of about equal segments as `limit`
    allows; each group is one queue."""
    total = sum(sizes)
    if not sizes:
        return []
    groups_wanted = max(1, -(-total // limit))
    target, held = total / groups_wanted, 0
    groups: list[list[int]] = []
    current: list[int] = []
    for index, size in enumerate(sizes):
        current.append(index)
        held += size
        if held >= target * (len(groups) + 1) - 1e-9 and len(groups) < groups_wanted - 1:
            groups.append(current)
            current = []
    return groups + [current] if current else groups


def _translate_queued(translator, directions, jobs, progress: bool) -> dict[str, tuple[list, dict]]:
    """Directions' greedy sentence translations from one queue. The backend batches across
    directions, so its batches stay full until the last answer instead of draining at the end of
    each direction: on a GPU a decoding step costs about the same at any row count, so the
    drained tail is time lost (experiments/bench/matrix_queue.py counts the forward passes).
    Finished rows enter the output cache batch by batch, so an interrupted run resumes. Each
    direction's `seconds` is the queue's time shared by the segments it generated (cache hits
    cost nothing); `queue` has the whole."""
    segments = sum(len(sources) for sources, _, _ in jobs)
    if progress:
        print(f"xling: {', '.join(d.name for d in directions)}: {segments:,} segments in one queue",
              file=sys.stderr)
    log = translator.backend.stats().get("batches")
    logged = len(log) if log is not None else 0
    started = time.perf_counter()
    translated = translator.translate_many(jobs, progress=progress)
    seconds = time.perf_counter() - started
    generated = [sum(1 for t in results if t.prompt_hash and not t.cached) for results in translated]
    queue: dict = {"directions": len(directions), "segments": segments,
                   "generated": sum(generated), "seconds": round(seconds, 3)}
    batches = _batches_since(translator, logged)
    if batches:
        queue["batches"] = batches
    out = {}
    for direction, results, made, clipped, cut, filtered in zip(directions, translated, generated,
                                                               translator.last_clipped, translator.last_cut,
                                                               translator.last_filtered):
        generation = {"seconds": round(seconds * made / max(sum(generated), 1), 3), "queue": queue,
                      **({"from_cache": True} if not made else {})}
        if clipped:
            generation["clipped_budgets"] = clipped
        if cut:
            generation["cut_at_budget"] = cut
        if filtered:
            generation["cut_by_content_filter"] = filtered
        out[direction.name] = (results, generation)
    return out


def _rescored(run: RunDir, metric: str, settings: dict, overrides: dict) -> bool:
    """Whether rescore computes `metric` in some direction (as score_direction decides: no stored
    score, outputs changed since, or stored with other settings)."""
    try:
        stored = run.read_metrics().get("directions") or {}
    except XlingError:   # damaged: every metric is computed (and the file's state said then)
        return True
    spec = get(metric)
    made_with = json.loads(json.dumps(spec.made_with(settings), default=str))
    for name in run.directions():
        entry = stored.get(name) or {}
        kept = (entry.get("metrics") or {}).get(metric)
        if kept is None or entry.get("outputs_sha256") != run.outputs_digest(name) \
                or spec.stale(kept.get("made_with"), made_with, overrides):
            return True
    return False


def score_direction(run: RunDir, name: str, metrics: list[str], config: MTEvalConfig | None,
                    overrides: dict | None = None, generation: dict | None = None,
                    recompute: bool = False, written: tuple[list[dict], str] | None = None) -> dict:
    """Compute the metrics a direction lacks for its current outputs; save metrics.json.
    Metric settings come from `config`, else the run's stored ones, with `overrides` on top.
    `written`: the records just written and their digest (then the file is not read back)."""

    settings = config if config is not None else run.read_config().get("settings", {})
    if overrides:
        import dataclasses
        base = settings if isinstance(settings, dict) else dataclasses.asdict(settings)
        settings = {**base, **overrides}
    records, digest = written if written is not None else (None, run.outputs_digest(name))
    if records is None:   # (read first: a damaged file is an error before any note of dropping)
        records = run.read_outputs(name)
    stored = run.read_metrics(recover=True)
    entry = stored["directions"].get(name)
    if entry is None or entry.get("outputs_sha256") != digest:
        dropped = sorted(set((entry or {}).get("metrics", {})) - set(metrics))
        if dropped:   # scores of outputs that are no longer these: gone, and said so
            print(f"xling: note: {name}: its outputs changed since they were scored; the stored "
                  f"{', '.join(dropped)} scores are dropped (`-m {','.join(dropped)}` scores them again)",
                  file=sys.stderr)
        entry = {"outputs_sha256": digest, "metrics": {}}
    entry["n"] = len(records)
    # cost: seconds, candidates generated, utility calls; a pass that took every output from the
    # cache keeps the cost recorded when they were made (a re-run reported 0 s)
    if generation is not None and not (generation.get("from_cache") and entry.get("generation")):
        entry["generation"] = generation
    src, tgt = Direction.parse(name)
    hyps = [r["output"] for r in records]
    refs = [r["reference"] for r in records]
    srcs = [r["source"] for r in records]
    if any("chunk" in r for r in records):   # document mode: how many answers split back
        failed = [r for r in records if r.get("realigned") is False]
        entry["realignment"] = {"chunks": len({r["chunk"] for r in records}),
                                "failed_chunks": len({r["chunk"] for r in failed}),
                                "failed_segments": len(failed)}
    if config is not None and stored["directions"].get(name) is not entry:   # (a run stopped while its first
        # metric scores, xCOMET's minutes, was refused as "metrics missing": it is a run not finished)
        stored["directions"][name] = dict(entry, scoring=True)
        run.write_metrics(stored)
    for metric in metrics:
        spec = get(metric)
        made_with = json.loads(json.dumps(spec.made_with(settings), default=str))
        kept = entry["metrics"].get(metric)
        if kept is not None and not recompute:
            # rescore: what it was given (`overrides`, {} for nothing); a run: its settings
            changed = spec.stale(kept.get("made_with"), made_with, overrides)
            if not changed:
                stored_with = kept.get("made_with") or {}
                asked = [o for o in spec.options_from(overrides or {})   # (those equal to the stored go unsaid)
                         if o not in made_with or stored_with.get(o) != made_with[o]]
                if asked:   # settings given for a score that is not recomputed: say they were not used
                    print(f"xling: note: {name}: {spec.display} is kept as stored; --recompute recomputes it "
                          f"with the {', '.join(sorted(asked))} given now", file=sys.stderr)
                continue
            print(f"xling: note: {name}: {spec.display} is scored again: it was stored with another "
                  f"{', '.join(changed)}", file=sys.stderr)
        result = spec(hyps, refs, srcs, tgt.code, src_lang=src.code, progress=True,
                      **spec.options_from(settings))
        for key in spec.detail:          # per-segment detail lives in the outputs
            result.extra.pop(key, None)
        entry["metrics"][metric] = result.to_dict(segments=spec.model_based) | {"made_with": made_with}
        # after each metric: an interrupt loses at most one, and a run's entry says it is not whole
        # (a report of the folder warns, as for a direction not scored at all); a rescore's is: the
        # run was finished, and the metrics it stored are whole
        stored["directions"][name] = dict(entry, scoring=True) if config is not None else entry
        run.write_metrics(stored)
    entry.pop("scoring", None)
    stored["directions"][name] = entry
    run.write_metrics(stored)
    return entry


def _refuse_lost_outputs(run: RunDir) -> None:
    """Directions scored once whose outputs file is gone: refused before any score is written
    (the report after rescoring refused them, with the new scores already in metrics.json)."""
    try:
        scored = run.read_metrics()["directions"]
    except XlingError:   # damaged metrics: recomputed from the outputs, with a warning
        return
    present = run.directions()
    lost = [name for name in scored if name not in present]
    if lost:
        raise XlingError(f"{run.path} has scores for {', '.join(lost)} but no outputs file "
                         f"({run.outputs_path(lost[0])}); restore it, or run the command that made the "
                         "run again to write it anew")


def rescore(run_path: str, metrics: list[str], overrides: dict | None = None,
            recompute: bool = False) -> RunDir:
    """Score saved outputs with (more) metrics, without the model; `overrides` replace the
    run's metric settings (a local --cometkiwi-model, say)."""

    run = RunDir(run_path)
    config = run.read_config()
    if config.get("task") != "mt":
        raise XlingError(f"{run_path} is a {config.get('task')} run, not an MT run")
    metrics = parse_metric_names(metrics)
    if (overrides or {}).get("spm_model"):   # taken and unused before (a BLEU of 13a, TER)
        from ..metrics.spm import SPM_TOKENIZERS
        tokenize = get("bleu").options_from({**(config.get("settings") or {}), **(overrides or {})}).get("tokenize")
        if "spbleu" not in metrics and not ("bleu" in metrics and tokenize in SPM_TOKENIZERS):
            raise XlingError(f"--spm-model is the SentencePiece model of spBLEU (or of a BLEU the run tokenized "
                             f"with flores200), and -m {','.join(metrics)} has none: add -m spbleu")
    warn_unread_settings(overrides or {}, metrics, f"the metrics {', '.join(metrics)}")
    _refuse_lost_outputs(run)
    # a judge's URL and key, a COMET model: checked before the first direction is scored, for the
    # metrics score_direction will compute (scores kept as they are need neither)
    settings = {**(config.get("settings") or {}), **(overrides or {})}
    check_metric_models(metrics if recompute else [m for m in metrics if _rescored(run, m, settings, overrides or {})],
                        settings, translating=False)
    with run:
        for name in run.directions():
            score_direction(run, name, metrics, None, overrides or {}, recompute=recompute)
    return run
