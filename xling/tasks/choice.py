"""NLI and multiple-choice runs: log-likelihood and generative scoring in one run, accuracy per
language with a bootstrap interval, confusion matrix, predicted-label distribution and the
invalid-answer rate of generation (invalid answers count as wrong; nothing is guessed)."""
from __future__ import annotations

import sys
from contextlib import ExitStack
from typing import Any

import numpy as np

from ..backends import Batching, load_backend, ready
from ..backends.base import Decoding, GenerationRequest, Prompt
from ..backends.choice import encoder_decoder_reason
from ..data.choice import NLI_LABELS, choice_source, exclusions
from ..data.languages import resolve
from ..errors import ItemTooLong, XlingError
from ..prompts.choice import CHOICE_PARSER, balanced_shots, generation_parts, loglikelihood_parts, parse_answer
from ..prompts.templates import load_template
from ..runs.config import ChoiceEvalConfig
from ..runs.folder import RunDir, RunHeader, run_fingerprint
from ..runs.records import cell_name
from ..store.cache import content_key


def cells_of(config: ChoiceEvalConfig) -> list[tuple[str, str]]:
    if bool(config.premise_langs) != bool(config.hypothesis_langs):
        raise XlingError("premise and hypothesis languages cross each other: give both "
                         "--premise-langs and --hypothesis-langs (or neither)")
    # (a regional variety, fr_CA, is its language here: the choice data sets have no varieties)
    cells = [(resolve(lang).plain.code,) * 2 for lang in config.langs or []]
    for p in config.premise_langs or []:
        for h in config.hypothesis_langs or []:
            cells.append((resolve(p).plain.code, resolve(h).plain.code))
    return list(dict.fromkeys(cells))


def _in_folder_order(run: RunDir, cells: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A resumed folder's cells in the order it holds them: the same languages given in another
    order are the same run (the data digest follows the cells' order)."""
    try:
        held = run.read_config().get("directions") if run.exists() else None
    except XlingError:   # (a damaged config.json: prepare says so)
        return cells
    named = {cell_name(*cell): cell for cell in cells}
    if not isinstance(held, list) or sorted(named) != sorted(map(str, held)):
        return cells
    return [named[name] for name in held]


def _accuracy(correct: np.ndarray, n_boot: int, seed: int) -> dict:
    n = len(correct)
    rng = np.random.default_rng(seed)
    boots = correct[rng.integers(0, n, size=(n_boot, n))].mean(1) if n else np.zeros(1)
    return {"accuracy": float(correct.mean()) if n else 0.0, "n": n,
            "ci_low": float(np.percentile(boots, 2.5)), "ci_high": float(np.percentile(boots, 97.5)),
            "ci_level": 0.95, "bootstrap": n_boot, "seed": seed}


def summarize(records: list[dict], mode: str, n_labels: int, n_boot: int, seed: int) -> dict:
    """Accuracy with a bootstrap interval, confusion matrix (rows gold, columns predicted; a last
    column for invalid answers) and the predicted-label distribution."""
    key = "ll_pred" if mode == "ll" else "gen_pred"
    gold = np.array([r["gold"] for r in records])
    pred = np.array([-1 if r[key] is None else r[key] for r in records])
    out = _accuracy((pred == gold).astype(float), n_boot, seed)
    confusion = np.zeros((n_labels, n_labels + 1), dtype=int)
    for g, p in zip(gold, pred):
        confusion[g, p if p >= 0 else n_labels] += 1
    out["confusion"] = confusion.tolist()
    out["predicted"] = np.bincount(pred[pred >= 0], minlength=n_labels).tolist()
    if mode == "gen":
        out["invalid_rate"] = float((pred < 0).mean()) if len(pred) else 0.0
    return out


def _check_template(template, task: str, mode: str) -> None:
    """A template of the task and of the answer mode it is used for: one line, not a KeyError."""
    option = "--template" if mode == "ll" else "--gen-template"
    if template.task != task:
        raise XlingError(f"template {template.name!r} is a {template.task} template, not a {task} one ({option})")
    fits = template.format == "loglikelihood" if mode == "ll" else (
        template.format == "generate" if task == "nli" else "generate_prompt" in template.data)
    if not fits:
        what = "log-likelihood (format: loglikelihood)" if mode == "ll" else (
            "generation (format: generate)" if task == "nli" else "generation (a generate_prompt)")
        raise XlingError(f"template {template.name!r} is not a {what} template ({option})")


def run_choice(config: ChoiceEvalConfig, overwrite: bool = False, progress: bool = True,
               backend=None) -> RunDir:
    with RunDir(config.out) as run, ExitStack() as closing:
        _run_choice(run, config, overwrite, progress, backend, closing)
    return run


def _run_choice(run: RunDir, config: ChoiceEvalConfig, overwrite: bool, progress: bool, backend,
                closing: ExitStack) -> None:
    task = config.task
    if config.shots_file and not config.shots:
        raise XlingError("shots_file (--shots-file) gives demonstrations, and shots is 0: add --shots K")
    unused = {"ll": ("gen_template (--gen-template)", config.gen_template, "gen"),
              "gen": ("template (--template)", config.template, "ll")}.get(config.mode)
    if unused and unused[1]:   # (taken unsaid before; refusing it would strand folders made with it)
        print(f"xling: note: {unused[0]} is the template of --mode {unused[2]}, and this run's mode is "
              f"{config.mode}: it is not used", file=sys.stderr)
    source = choice_source(config.data, config.data_dir, task, config.shots_file)
    cells = _in_folder_order(run, cells_of(config))
    if source.one_language and len(cells) > 1:   # one file is one language: never scored as several
        raise XlingError(f"{config.data} is one file of one language, so it makes one cell; give one "
                         f"language (--langs XX), not {', '.join(sorted({c for cell in cells for c in cell}))}")
    crossed = sorted(f"{p}>{h}" for p, h in set(cells) if p != h)
    if crossed and not source.crossable:
        raise XlingError(f"{config.data} items are one language each, so it has no crossed cells "
                         f"({', '.join(crossed)}); give --langs, or equal premise and hypothesis languages")
    ll_template = load_template(config.template or source.template or ("xnli-rightq" if task == "nli" else "mc-qa"))
    gen_template = load_template(config.gen_template or source.template
                                 or ("nli-generate" if task == "nli" else "mc-qa"))
    for template, mode in ((ll_template, "ll"), (gen_template, "gen")):
        if config.mode in (mode, "both"):
            _check_template(template, task, mode)
    plan = []
    for premise, hypothesis in cells:   # everything is checked before the model loads
        lang = premise if config.prompt_lang == "data" else resolve(config.prompt_lang).plain.code
        every = source.asked_in(source.items(premise, hypothesis), premise, lang)
        if not every:
            raise XlingError(f"{config.data} has no usable item for {cell_name(premise, hypothesis)}")
        items = every[:config.limit]
        # demonstrations never repeat an item of the split, evaluated now or not: --limit
        # changes which items run, never which demonstrations they get
        full = source.asked_in(source.dev_pool(premise, hypothesis), premise, lang) if config.shots else []
        pool, excluded = exclusions(source, every, full)
        n_labels = 3 if task == "nli" else len(items[0].fields["options"])
        shots = balanced_shots(pool, config.shots, config.seed, n_labels, excluded, repeats=len(full) - len(pool))
        # Each prompt is the cell's demonstrations + the item's own part: records keep the part,
        # config.json the demonstrations once per cell (`xling prompt` joins them).
        demos: dict[str, str] = {}
        prompts: list[dict[str, Any]] = []
        for item in items:
            prompt: dict[str, Any] = {}   # "ll": {"context", "options"}; "gen": the prompt text
            if config.mode != "gen":
                demos["ll"], context, options = loglikelihood_parts(ll_template, item, lang, shots)
                prompt["ll"] = {"context": context, "options": options}
            if config.mode != "ll":
                demos["gen"], prompt["gen"] = generation_parts(gen_template, item, lang, shots)
            prompts.append(prompt)
        plan.append((cell_name(premise, hypothesis), items, prompts, n_labels, lang, demos))


    batching = Batching(config.batch_size)
    seq2seq = (f"NLI and multiple choice prompt a causal LM (and score its log-likelihoods); {config.model} is "
               "an encoder-decoder MT model, which translates a bare sentence")
    if backend is None and encoder_decoder_reason(config.model):   # (before its weights load)
        raise XlingError(seq2seq)
    if backend is None:   # one this run opens, it closes (a vLLM engine, connections)
        backend = load_backend(config.model, config.section(), quiet=not progress, batching=batching, cache=True)
        closing.callback(getattr(backend.backend, "close", lambda: None))
    else:
        backend = ready(backend, batching=batching, cache=True)
    if getattr(backend, "is_seq2seq", False):   # (a backend given from Python; before the folder is written)
        raise XlingError(seq2seq)
    if hasattr(backend.backend, "note_unused"):   # a server batches by itself
        backend.backend.note_unused(batching)
    window = backend.context_window
    if window and config.mode != "ll":   # (log-likelihood items are checked by the scorer)
        for name, _, prompts, _, _, demos in plan:
            for k, prompt in enumerate(prompts, 1):
                need = backend.prompt_tokens(Prompt(text=demos["gen"] + prompt["gen"]))
                if need + config.max_new_tokens > window:
                    raise XlingError(f"{name}: item {k}'s prompt is {need:,} tokens, and with its answer "
                                     f"({config.max_new_tokens} tokens) more than the model's context "
                                     f"window of {window:,}; use fewer shots or a model with a longer context")
    # what the model is shown and graded against (items, labels, demonstrations): the same data
    # spec over edited files is another experiment
    data_sha256 = content_key(cells=[(c[0], [(i.id, i.label) for i in c[1]], c[2], c[5]) for c in plan])
    run.prepare(RunHeader(
        task, dict(config.identity(), model_fingerprint=run_fingerprint(backend.fingerprint),
                   # (a mode's template only where it runs: an edit of the unused one refused resumes)
                   templates=[ll_template.hash if config.mode != "gen" else None,
                              gen_template.hash if config.mode != "ll" else None], data_sha256=data_sha256),
        config.public_settings(), [c[0] for c in plan], model=backend.fingerprint,
        data={"spec": config.data, "note": source.note},
        details={"templates": {"ll": [ll_template.name, ll_template.hash],
                               "gen": [gen_template.name, gen_template.hash]},
                 "shots": source.shots_source(config.shots),
                 "demonstrations": {c[0]: c[5] for c in plan},
                 "items": {c[0]: len(c[1]) for c in plan}}), overwrite=overwrite)   # records per cell
    if source.note and progress:
        print(f"xling: note: {source.note}", file=sys.stderr)
    metrics = run.read_metrics(recover=True)
    for name, items, prompts, n_labels, lang, demos in plan:
        if progress:
            print(f"xling: {name} ({len(items)} item{'s' * (len(items) != 1)}, prompt language {lang})",
                  file=sys.stderr)
        try:
            ll_scores = backend.loglikelihood(
                [(demos["ll"] + p["ll"]["context"], p["ll"]["options"]) for p in prompts],
                progress="scoring" if progress else None) if config.mode != "gen" else [None] * len(items)
        except ItemTooLong as exc:   # (which language's item: generation's message names it too)
            raise XlingError(f"{name}: {exc}") from None
        gen_raw = _generated(backend, [demos["gen"] + p["gen"] for p in prompts], config, progress) \
            if config.mode != "ll" else [None] * len(items)
        records = []
        for item, scores, raw, prompt in zip(items, ll_scores, gen_raw, prompts):
            record = {"id": item.id, "gold": item.label, **item.fields, "prompt": prompt}
            if scores is not None:
                record["ll_scores"] = scores
                record["ll_pred"] = int(np.argmax(scores))
            if raw is not None:
                record["gen_raw"] = raw
                record["gen_pred"] = parse_answer(gen_template, raw, item)
            records.append(record)
        run.write_outputs(name, records)
        summary: dict[str, object] = {"n": len(records), "labels": list(NLI_LABELS) if task == "nli" else None}
        stats = backend.stats()
        batch_plan, plans = stats.get("plan"), stats.get("plans") or {}
        if config.mode == "both" and plans:   # each pass its own sizes (8 items, 32 rows on a CPU)
            # (a pass read whole from the cache by a resumed process ran no batch here: None)
            summary["batches"] = {"ll": plans.get("loglikelihood"), "gen": plans.get("generate")}
        elif batch_plan:   # the batch sizes chosen (e.g. by `auto`)
            summary["batches"] = batch_plan
        elif "batches" in metrics["directions"].get(name, {}):   # scored by an earlier process: its plan
            summary["batches"] = metrics["directions"][name]["batches"]
        for mode in ("ll", "gen"):
            if config.mode in (mode, "both"):
                # (gen: which parser read the answers; a re-run re-reads them from the cache)
                summary[mode] = {**summarize(records, mode, n_labels, config.bootstrap, config.seed),
                                 **({"parser": CHOICE_PARSER} if mode == "gen" else {})}
        metrics["directions"][name] = summary
        run.write_metrics(metrics)


def _generated(backend, prompts, config, progress: bool = False) -> list[str]:

    decoding = Decoding(max_new_tokens_cap=config.max_new_tokens)
    requests = [GenerationRequest(prompt=Prompt(text=p), max_new_tokens=config.max_new_tokens,
                                  stop_at_newline=True) for p in prompts]
    return backend.generate(requests, decoding, progress="generating" if progress else None, unit="item")
