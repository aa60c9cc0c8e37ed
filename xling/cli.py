"""The `xling` command line: parses options and calls the library (keep it thin).

Only click and xling's light modules are imported at start-up; torch loads when a model does.
"""
from __future__ import annotations

import sys
from contextlib import nullcontext

import click

from .reporting.text_table import table
from .errors import XlingError
from .runs.config import ChoiceEvalConfig, MTEvalConfig
from .settings import METRIC_SETTINGS


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="xling")
def cli():
    """Cross-lingual machine translation and inference with large language models."""


class BatchSize(click.ParamType):
    """A positive integer or "auto"."""
    name = "N|auto"

    def get_metavar(self, param, ctx=None):   # (click upper-cases `name` otherwise)
        return "N|auto"

    def convert(self, value, param, ctx):
        from .backends.batching import check_batch_size

        try:
            return check_batch_size(value)
        except XlingError as exc:
            self.fail(str(exc), param, ctx)


class Bounded(click.ParamType):
    """A number in the range its setting allows (xling.settings.BOUNDS): finite, and never
    past a bound, so that a bad value is refused here, before any work."""

    def __init__(self, setting: str, base=int):
        self.setting, self.base = setting, base
        self.name = "integer" if base is int else "float"

    def convert(self, value, param, ctx):
        from .settings import check_number

        value = (click.INT if self.base is int else click.FLOAT).convert(value, param, ctx)
        try:
            return check_number(self.setting, value)
        except XlingError as exc:
            self.fail(str(exc), param, ctx)


def config_option(cls, name: str, *flags: str, **overrides):
    """A click option whose default, help and bounds come from the config dataclass field
    `name`: the dataclass owns them, the command line only collects values."""
    import dataclasses
    import typing

    from .settings import BOUNDS, CHOICES

    spec = next(f for f in dataclasses.fields(cls) if f.name == name)
    hint = typing.get_type_hints(cls)[name]
    base = next((a for a in typing.get_args(hint) if a is not type(None)), hint)
    default = None if spec.default is dataclasses.MISSING else spec.default
    kw = dict(default=default, show_default=default is not None and default is not False,
              help=spec.metadata.get("help"))
    if name == "batch_size":
        kw["type"] = BatchSize()
    elif name in CHOICES:
        kw["type"] = click.Choice(CHOICES[name])
    elif base is bool:
        kw.update(is_flag=True, show_default=False)
    elif base in (int, float):
        kw["type"] = Bounded(name, base) if name in BOUNDS else base
    kw.update(overrides)
    return click.option(*flags, name, **kw)


def _config_options(*specs):
    """Several options of MTEvalConfig as one decorator: (field, flag, ...) each."""
    def wrap(f):
        for spec in reversed(specs):
            f = config_option(MTEvalConfig, *spec)(f)
        return f
    return wrap


def _metric_options(*names, unset: bool = False):
    """Options of metric settings (xling.settings.METRIC_SETTINGS, through the config's fields):
    --comet-model, ... ; comet_batch_size is --metric-batch-size (alias --comet-batch-size).
    With `unset`, no defaults (rescore: the run's own settings stay unless given)."""
    def flags(name):
        return ("--metric-batch-size", "--comet-batch-size") if name == "comet_batch_size" else \
            ("--" + name.replace("_", "-"),)
    extra = dict(default=None, show_default=False) if unset else {}

    def wrap(f):
        for name in reversed(names):
            f = config_option(MTEvalConfig, name, *flags(name), **extra)(f)
        return f
    return wrap


# Every metric model and file setting, from the one table of them (xling.settings.METRIC_SETTINGS),
# so a new one reaches score, eval mt and rescore without being listed here.
_METRIC_MODELS = tuple(k for k in METRIC_SETTINGS if k.endswith("_model") and not k.startswith("judge")) \
    + ("comet_batch_size",)
_JUDGE_SETTINGS = tuple(k for k in METRIC_SETTINGS if k.startswith("judge_"))
_candidate_options = _config_options(
    ("candidates", "--candidates", "-n"), ("select", "--select"), ("utility", "--utility"), ("qe", "--qe"),
    ("pseudo_refs", "--pseudo-refs"), ("sampling", "--sampling"), ("temperature", "--temperature"),
    ("top_p", "--top-p"), ("epsilon", "--epsilon"))
_judge_options = _metric_options(*_JUDGE_SETTINGS)
_transport_options = _config_options(   # for commands whose only server is a judge's
    ("concurrency", "--concurrency"), ("request_timeout", "--request-timeout"), ("max_retries", "--max-retries"))


def _backend_options(f):
    """--backend/--base-url and friends, shared by every command that takes a model."""
    from .backends.settings import BackendSettings as B

    options = [
        config_option(B, "backend", "--backend"),
        config_option(B, "base_url", "--base-url"),
        config_option(B, "api_key_env", "--api-key-env"),
        config_option(B, "api_key_file", "--api-key-file", type=click.Path(dir_okay=False)),
        config_option(B, "concurrency", "--concurrency"),
        config_option(B, "request_timeout", "--request-timeout"),
        config_option(B, "max_retries", "--max-retries"),
        # vLLM's engine settings, under vLLM's own option names
        *(config_option(B, name, "--" + name.replace("_", "-")) for name in B.ENGINE),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@cli.command()
@click.option("--src", "-s", required=True, help="Source language (ko, kor, kor_Hang, ...).")
@click.option("--tgt", "-t", required=True, help="Target language.")
@click.option("--model", "-m", default=None,
              help="Local folder or hub name; default: $XLING_MODEL, else the embedded tiny model.")
@click.option("--template", default=None,
              help="Prompt template name or YAML file (default: mt-chat for chat models, "
                   "mt-completion for base models). See `xling templates`.")
@config_option(MTEvalConfig, "shots", "--shots", "-k")
@click.option("--shots-file", type=click.Path(dir_okay=False), default=None,
              help="Demonstration pairs: TSV (source<TAB>target) or JSONL (source, target).")
@config_option(MTEvalConfig, "seed", "--seed")
@config_option(MTEvalConfig, "batch_size", "--batch-size", "-b")
@config_option(MTEvalConfig, "max_batch_tokens", "--max-batch-tokens")
@config_option(MTEvalConfig, "refill", "--refill/--no-refill")
@click.option("--input", "-i", "input_path", type=click.Path(dir_okay=False), default=None,
              help="Read source lines from this file (default: TEXT arguments, else stdin).")
@click.option("--output", "-o", "output_path", type=click.Path(dir_okay=False), default=None,
              help="Write translations here (default: stdout). Written only when complete.")
@click.option("--paragraphs", is_flag=True,
              help="Segments are blocks separated by blank lines; their inner line breaks are kept "
                   "from input to output, blocks stay blank-line separated.")
@_candidate_options
@_metric_options(*_METRIC_MODELS, "precision")
@click.option("--no-cache", is_flag=True, help="Do not reuse or store outputs in the cache.")
@config_option(MTEvalConfig, "trust_remote_code", "--trust-remote-code")
@config_option(MTEvalConfig, "static_cache", "--static-cache")
@_backend_options
@click.argument("text", nargs=-1)
def translate(src, tgt, model, template, shots, shots_file, seed, batch_size, max_batch_tokens, refill,
              input_path, output_path, paragraphs, no_cache, static_cache, text, candidates, select,
              utility, qe, pseudo_refs, sampling, temperature, top_p, epsilon, **settings):
    """Translate TEXT (or a file, or stdin): one output line per input line, in order (with
    --paragraphs: one output block per blank-line separated input block)."""
    from .backends.settings import BackendSettings
    from .data.languages import check_direction
    from .store.locks import output_lock
    from .translation.postprocess import one_line
    from .data.textio import (atomic_writer, join_paragraphs, output_target, paragraphs as blocks_of,
                              read_lines, read_stdin_lines, split_lines)

    src_lang, tgt_lang = check_direction(src, tgt)
    metric_settings = {k: settings.pop(k) for k in (*_METRIC_MODELS, "precision") if k in settings}
    settings = BackendSettings(**settings)
    chosen_sampling, metric_options = _selection(candidates, select, utility, qe, sampling, temperature,
                                                 top_p, epsilon, seed, metric_settings)
    # The output is checked (and locked) before any model loads: never translate for nothing.
    reads = (input_path, shots_file, template, model, settings.api_key_file,
             *(v for k, v in metric_settings.items() if k.endswith("_model")))
    target = output_target(output_path, inputs=reads) if output_path else None
    with output_lock(target) if target else nullcontext():
        if text:   # only \n separates lines (U+2028 inside an argument is text, as in a file)
            lines = [line for t in text for line in split_lines(t) or [""]]
        elif input_path:
            lines = read_lines(input_path)
        else:
            lines = read_stdin_lines()
        if paragraphs:
            lines = blocks_of(lines)
            if not lines:
                raise XlingError("the input holds no text to translate")
        pool = None
        if shots_file:
            from .data.parallel import read_pair_file
            pool = read_pair_file(shots_file)
        from .translation.translator import Translator

        translator = Translator(model, template=template, shots=shots, shot_pool=pool, seed=seed,
                                batch_size=batch_size, max_batch_tokens=max_batch_tokens, refill=refill,
                                cache=not no_cache, settings=settings,
                                static_cache=static_cache)
        if select == "greedy":
            outputs = translator.translate(lines, src_lang, tgt_lang, progress=input_path is not None)
        else:   # many candidates per line are long work even for one line: always a bar
            outputs = [r.text for r in translator.translate_candidates(
                lines, src_lang, tgt_lang, candidates, chosen_sampling, select, utility, qe, pseudo_refs,
                metric_options=metric_options, progress=True)]
        body = join_paragraphs(outputs) if paragraphs else "".join(one_line(o) + "\n" for o in outputs)
        if target:
            with atomic_writer(target) as handle:
                handle.write(body)
        else:
            sys.stdout.write(body)


def _selection(candidates, select, utility, qe, sampling, temperature, top_p, epsilon, seed, models):
    """The sampling settings and the chooser's metric options of `translate` (checked first)."""
    from .translation.selection import chooser_setup, selection_problem

    problem = selection_problem(select, candidates)
    if problem:
        raise XlingError(problem)
    if select == "greedy":
        return None, {}
    return chooser_setup(select, utility, qe, sampling, temperature, top_p, epsilon, seed, models)


@cli.command()
@click.option("--reference", "-r", "refs", multiple=True, type=click.Path(dir_okay=False),
              help="Reference file (one segment per line; repeat or list several for multi-reference).")
@click.option("--input", "-i", "hyps", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="System output file(s): -i A B C. The first is the baseline for paired tests.")
@click.option("--source", "-s", "src_path", type=click.Path(dir_okay=False), default=None,
              help="Source file (needed by COMET; lets off-target flag copies of the source).")
@click.option("--tgt-lang", "-t", required=True, help="Target language: picks the BLEU tokenizer.")
@click.option("--src-lang", default=None, help="Source language (recorded).")
@click.option("--metrics", "-m", multiple=True, default=("bleu", "chrf"), show_default=True,
              help="bleu spbleu chrf chrf++ ter comet xcomet metricx (references); cometkiwi "
                   "cometkiwi-xl xcomet-qe metricx-qe offtarget (none); -m bleu chrf or -m bleu,chrf.")
@click.option("--paired-bs", "test", flag_value="bs", help="Paired bootstrap resampling against the first system.")
@click.option("--paired-ar", "test", flag_value="ar", help="Paired approximate randomization.")
@click.option("--paired-n", type=Bounded("bootstrap"), default=None,
              help="Resamples (default 1000 for bootstrap, 10000 for randomization).")
@click.option("--seed", default=12345, show_default=True, type=Bounded("seed"))
@click.option("--on-target-only", is_flag=True, help="Score only outputs in the target language.")
@click.option("--tokenize", default=None, help="Override the BLEU tokenizer (13a, zh, ja-mecab, ...).")
@_metric_options(*_METRIC_MODELS)
@_judge_options
@_transport_options
@click.option("--gpus", default=None, type=Bounded("gpus"), help="GPUs for COMET (default: 1 if any).")
@config_option(MTEvalConfig, "precision", "--precision")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json", "latex"]), default="text",
              show_default=True)
def score(refs, hyps, src_path, tgt_lang, src_lang, metrics, test, paired_n, seed, on_target_only,
          tokenize, gpus, fmt, **settings):
    """Score system outputs: with references (BLEU, chrF, COMET, MetricX, ...) or without them
    (QE: CometKiwi, xCOMET-QE, MetricX-QE; off-target rate)."""
    from .reporting.scores import FORMATTERS
    from .tasks.score import score_systems
    from .data.textio import read_lines

    # As sacrebleu reads them: a leading byte-order mark stays part of the first segment.
    references = [read_lines(r, keep_bom=True) for r in refs]
    systems = {}
    for path in hyps:
        name = path if path not in systems else f"{path} ({len(systems)})"
        systems[name] = read_lines(path, keep_bom=True)
    report = score_systems(
        systems, references or None, metrics, tgt_lang, srcs=read_lines(src_path) if src_path else None,
        src_lang=src_lang, test=test, n_samples=paired_n, seed=seed, on_target_only=on_target_only,
        tokenize=tokenize, settings=settings, gpus=gpus)
    click.echo(FORMATTERS[fmt](report))


def _split_list(values) -> list[str] | None:
    out = [v.strip() for value in values or () for v in value.split(",") if v.strip()]
    return out or None


def _metric_list(value: str | None) -> list[str] | None:
    """`--metrics a,b`: None when not given; given but empty is a mistake, not the defaults."""
    if value is None:
        return None
    names = _split_list([value])
    if names is None:
        raise XlingError("--metrics names no metric: give one or more, e.g. --metrics bleu,chrf")
    return names


@cli.group(name="eval")
def eval_group():
    """Evaluate a model on a task and write a resumable run folder."""


@eval_group.command(name="mt")
@config_option(MTEvalConfig, "model", "--model", "-m",
               help="Local folder or hub name (default: $XLING_MODEL, else the embedded model).")
@click.option("--pairs", "-p", multiple=True, help="Directions: ko-en,en-ko (or a named set, e.g. hcx_table15).")
@click.option("--langs", "-l", multiple=True, help="All directions between these: ko,en,ja,zh.")
@config_option(MTEvalConfig, "data", "--data", "-d")
@config_option(MTEvalConfig, "data_dir", "--data-dir", help="Local data root (default: $XLING_DATA).")
@config_option(MTEvalConfig, "keep_bad_sources", "--keep-bad-sources")
@config_option(MTEvalConfig, "reference", "--reference")
@config_option(MTEvalConfig, "unit", "--unit")
@config_option(MTEvalConfig, "shots", "--shots", "-k")
@config_option(MTEvalConfig, "shots_file", "--shots-file", type=click.Path(dir_okay=False))
@config_option(MTEvalConfig, "template", "--template")
@click.option("--metrics", default=",".join(MTEvalConfig.__dataclass_fields__["metrics"].default_factory()),
              show_default=True, help="Comma-separated: bleu spbleu chrf chrf++ ter comet xcomet metricx "
                                      "cometkiwi cometkiwi-xl xcomet-qe metricx-qe offtarget.")
@config_option(MTEvalConfig, "out", "--out", "-o", required=True, help="Run folder.")
@_candidate_options
@config_option(MTEvalConfig, "limit", "--limit")
@config_option(MTEvalConfig, "limit_per_domain", "--limit-per-domain")
@config_option(MTEvalConfig, "batch_size", "--batch-size", "-b")
@config_option(MTEvalConfig, "max_batch_tokens", "--max-batch-tokens")
@config_option(MTEvalConfig, "refill", "--refill/--no-refill")
@config_option(MTEvalConfig, "max_new_tokens", "--max-new-tokens")
@config_option(MTEvalConfig, "seed", "--seed")
@click.option("--overwrite", is_flag=True, help="Replace a run with a different config in --out.")
@_metric_options(*_METRIC_MODELS, "precision")
@config_option(MTEvalConfig, "trust_remote_code", "--trust-remote-code")
@_judge_options
@config_option(MTEvalConfig, "static_cache", "--static-cache")
@_backend_options
def eval_mt(pairs, langs, metrics, overwrite, **settings):
    """Translate a dataset in many directions and score it (resumable: run it again to go on)."""
    from .runs.config import build_config
    from .tasks.mt import run_mt

    settings.update(pairs=_split_list(pairs), langs=_split_list(langs), metrics=_metric_list(metrics))
    config = build_config({k: v for k, v in settings.items() if v is not None}, where="command line")
    run = run_mt(config, overwrite=overwrite)
    _print_report([str(run.path)])


def _choice_options(default_data):
    C = ChoiceEvalConfig

    def wrap(f):
        options = [
            click.option("--model", "-m", default=None, help="Local folder or hub name (default: embedded model)."),
            click.option("--data", "-d", default=default_data, show_default=True,
                         help="xnli:dev|test, xcsqa:dev, or your own file: nli-file:TEST.tsv (with "
                              "demonstrations: nli-file:TEST.tsv,DEV.tsv)." if default_data.startswith("xnli")
                         else "xcsqa:dev."),
            click.option("--data-dir", default=None, help="Local data root (default: $XLING_DATA)."),
            click.option("--langs", "-l", multiple=True, help="Languages (premise = hypothesis): ar,hi,th."),
            click.option("--premise-langs", multiple=True, help="With --hypothesis-langs: every combination."),
            click.option("--hypothesis-langs", multiple=True),
            config_option(C, "prompt_lang", "--prompt-lang"),
            config_option(C, "shots", "--shots", "-k"),
            config_option(C, "mode", "--mode"),
            config_option(C, "template", "--template"),
            config_option(C, "gen_template", "--gen-template"),
            config_option(C, "out", "--out", "-o", required=True, help="Run folder."),
            config_option(C, "limit", "--limit"),
            config_option(C, "seed", "--seed"),
            config_option(C, "batch_size", "--batch-size", "-b"),
            click.option("--overwrite", is_flag=True)]
        for option in reversed(options):
            f = option(f)
        return _backend_options(f)
    return wrap


def _run_choice(task, langs, premise_langs, hypothesis_langs, overwrite, **values):
    from .runs.config import build_config
    from .tasks.choice import run_choice

    values.update(task=task, langs=_split_list(langs), premise_langs=_split_list(premise_langs),
                  hypothesis_langs=_split_list(hypothesis_langs))
    config = build_config({k: v for k, v in values.items() if v is not None}, where="command line")
    run = run_choice(config, overwrite=overwrite)
    _print_report([str(run.path)])


@eval_group.command(name="nli")
@_choice_options("xnli:test")
@config_option(ChoiceEvalConfig, "shots_file", "--shots-file", type=click.Path(dir_okay=False))
def eval_nli(**options):
    """Cross-lingual NLI (XNLI; ko = KorNLI): accuracy per language, or per premise x hypothesis
    language pair."""
    _run_choice("nli", **options)


@eval_group.command(name="mc")
@_choice_options("xcsqa:dev")
def eval_mc(**options):
    """Multiple choice (X-CSQA): accuracy per language."""
    _run_choice("multiple_choice", **options)


@cli.command(name="run")
@click.argument("experiment", type=click.Path(dir_okay=False))
@click.option("--out", "-o", default=None, help="Override the run folder.")
@click.option("--model", "-m", default=None, help="Override the model.")
@click.option("--limit", type=Bounded("limit"), default=None, help="First N segments per direction.")
@click.option("--limit-per-domain", type=Bounded("limit_per_domain"), default=None,
              help="First N segments of each domain (WMT24++).")
@click.option("--batch-size", "-b", type=BatchSize(), default=None, help="Override the batch size (N or auto).")
@click.option("--data-dir", default=None)
@click.option("--overwrite", is_flag=True, help="Replace a run with a different config.")
def run_experiment(experiment, out, model, limit, limit_per_domain, batch_size, data_dir, overwrite):
    """Run an experiment file (experiments/*.yaml); a file with variants runs each into
    OUT/VARIANT and reports them side by side."""
    from .runs.config import load_experiments
    from .tasks import run_config

    configs = load_experiments(experiment, dict(out=out, model=model, limit=limit,
                                                limit_per_domain=limit_per_domain,
                                                batch_size=batch_size, data_dir=data_dir))
    runs = [run_config(config, overwrite=overwrite) for config in configs]
    _print_report([str(run.path) for run in runs])


@cli.command(name="tune-ratio")
@click.argument("experiment", type=click.Path(dir_okay=False))
@click.option("--out", "-o", default=None, help="Override the run folder.")
@click.option("--model", "-m", default=None, help="Override the model.")
@click.option("--overwrite", is_flag=True, help="Replace a run with a different config.")
def tune_ratio(experiment, out, model, overwrite):
    """The language-ratio instruction-tuning sweep (Figure 2, Table 16); resumable."""
    from .runs.config import load_experiment
    from .tasks.tuning.sweep import run_tune_ratio

    config = load_experiment(experiment, dict(out=out, model=model))
    if config.task != "tune_ratio":
        raise XlingError(f"{experiment} is a {config.task!r} experiment; use `xling run`")
    run = run_tune_ratio(config, overwrite=overwrite)
    _print_report([str(run.path)])


@cli.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--metrics", "-m", default=None, help="Only these metrics (comma-separated).")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "markdown", "csv", "latex"]),
              default="text", show_default=True)
@click.option("--paired-ar", is_flag=True, help="Approximate randomization instead of bootstrap.")
@click.option("--paired-n", type=Bounded("bootstrap"), default=None)
def report(run_dirs, metrics, fmt, paired_ar, paired_n):
    """Tables from run folders; with several runs, each is tested against the first."""
    _print_report(list(run_dirs), _metric_list(metrics), fmt,
                  "ar" if paired_ar else "bs", paired_n)


def _print_report(paths, metrics=None, fmt="text", test="bs", n_samples=None):
    from .reporting.report import build_report
    from .reporting.tables import render_all

    click.echo(render_all(build_report(paths, metrics, test, n_samples), fmt), nl=False)


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("item_id")
@click.option("--lang", "-l", "cell", default=None,
              help="The item's cell (language, or PREMISE>HYPOTHESIS) when several cells hold its id.")
@click.option("--mode", type=click.Choice(["ll", "gen"]), default=None,
              help="Only the log-likelihood or the generation prompt (default: each the run has).")
def prompt(run_dir, item_id, cell, mode):
    """Print the exact prompt behind one NLI / multiple-choice prediction (ITEM_ID as in the
    run's outputs), its scored continuations or generated answer."""
    from .reporting.prompt_view import item_prompt

    click.echo(item_prompt(run_dir, item_id, cell, mode), nl=False)


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--metrics", "-m", required=True, help="Comma-separated metrics to add.")
@_metric_options(*_METRIC_MODELS, "precision", *_JUDGE_SETTINGS, unset=True)
@config_option(MTEvalConfig, "concurrency", "--concurrency", default=None, show_default=False)
@config_option(MTEvalConfig, "request_timeout", "--request-timeout", default=None, show_default=False)
@config_option(MTEvalConfig, "max_retries", "--max-retries", default=None, show_default=False)
@click.option("--recompute", is_flag=True,
              help="Compute the metrics again even where scores exist (other model or settings).")
def rescore(run_dir, metrics, recompute, **settings):
    """Score a run's saved outputs with more metrics (no translation model needed); metric
    settings default to the run's own. Scores already there are kept unless --recompute."""
    from .tasks.mt import rescore as rescore_run

    rescore_run(run_dir, _metric_list(metrics), {k: v for k, v in settings.items() if v is not None},
                recompute=recompute)
    _print_report([run_dir])


@cli.command()
@click.option("--runs", "-r", "run_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Run folders to add as extra models and to draw (repeat or list: -r A B).")
@click.option("--out", "-o", default="figures", show_default=True, help="Folder for PNG and PDF files.")
def figures(run_dirs, out):
    """Draw the report's tables (Tables 1, 13-16, Figure 2) with your runs beside them."""
    from .reporting.figures import make_figures

    for path in make_figures(out, list(run_dirs)):
        click.echo(str(path))


@cli.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--metric", "-m", default=None, help="For MT runs (default: xcomet, comet, chrf, bleu).")
@click.option("--group", type=click.Choice(["script", "family"]), default="script", show_default=True)
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "markdown", "csv", "latex"]),
              default="text", show_default=True)
@click.option("--figure", default=None, help="Also draw the relative scores (PNG and PDF), e.g. figures/transfer.")
def transfer(run_dirs, metric, group, fmt, figure):
    """Transfer to untargeted languages: relative scores per language and group; with two runs,
    the per-language difference with 95% intervals and the Score(X->Y) ratio."""
    from .reporting.transfer import transfer_figure, transfer_tables
    from .reporting.tables import render_all

    if len(run_dirs) > 2:
        raise XlingError("xling transfer takes one run, or two runs to compare")
    click.echo(render_all(transfer_tables(list(run_dirs), metric, group), fmt), nl=False)
    if figure:
        from .reporting.plots import save_figure
        for path in save_figure(transfer_figure(list(run_dirs), metric), figure):
            click.echo(str(path))


@cli.command()
@click.argument("tokenizers", nargs=-1, required=True)
@click.option("--langs", "-l", default="ko,en,ja,zh", show_default=True)
@click.option("--file", "files", multiple=True, help="LANG=PATH: your own text (blank lines separate documents).")
@click.option("--split", default="devtest", show_default=True, help="FLORES-200 split.")
@click.option("--data-dir", default=None)
@click.option("--reference", default=None, help="Tokenizer the ratios refer to (default: the first).")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "markdown", "csv", "latex"]),
              default="text", show_default=True)
@click.option("--figure", default=None, help="Also draw tokens per document (PNG and PDF).")
def tokens(tokenizers, langs, files, split, data_dir, reference, fmt, figure):
    """Tokenizer efficiency on FLORES-200 or your files. TOKENIZERS: "embedded", local folders or
    hub names."""
    from .reporting.tokens import efficiency, efficiency_figure, efficiency_tables
    from .data.parallel import data_root
    from .data.languages import resolve
    from .reporting.tables import render_all

    pairs = {}
    for item in files:
        lang, sep, path = item.partition("=")
        if not sep:
            raise XlingError(f"--file takes LANG=PATH, not {item!r}")
        pairs[resolve(lang).code] = path
    codes = _split_list([langs]) or []
    root = None if len(pairs) >= len(codes) else data_root(data_dir)
    stats = efficiency(list(tokenizers), codes, pairs, split, root)
    if reference and reference not in stats:
        raise XlingError(f"--reference {reference!r} is not among the tokenizers")
    click.echo(render_all(efficiency_tables(stats, reference, set(pairs)), fmt), nl=False)
    if figure:
        from .reporting.plots import save_figure
        for path in save_figure(efficiency_figure(stats), figure):
            click.echo(str(path))


@cli.command()
def langs():
    """List the known languages and their codes."""
    from .data.languages import all_languages

    rows = [("code", "FLORES", "name", "native", "script", "BLEU tok.", "targeted")]
    rows += [(l.code, l.flores, l.name, l.native, l.script, l.bleu_tokenizer,
              "yes" if l.targeted else "") for l in all_languages()]
    click.echo(table(rows))


@cli.command()
def templates():
    """List the prompt templates (built-in and the user's)."""
    from .prompts.templates import list_templates

    rows = [("name", "task", "format", "hash", "file")]
    rows += [(t.name, t.task, t.format, t.hash, t.path) for t in list_templates().values()]
    click.echo(table(rows))


# Options that take several values (`-i A B C`); click wants `-i A -i B -i C`.
VARIADIC = {"score": {"-i", "--input", "-m", "--metrics", "-r", "--reference"},
            "figures": {"-r", "--runs"}}


def expand_variadic(argv: list[str]) -> list[str]:
    """Rewrite `-i A B` as `-i A -i B` for the variadic options of the chosen command."""
    command = next((a for a in argv if not a.startswith("-")), None)
    options = VARIADIC.get(command)
    if not options:
        return argv
    out, current, has_value = [], None, False
    for arg in argv:
        if arg.startswith("-") and len(arg) > 1:
            current, has_value = (arg if arg in options else None), False
        elif current is not None:
            if has_value:  # a further value: repeat the option before it
                out.append(current)
            has_value = True
        out.append(arg)
    return out


def main(argv=None) -> int:
    argv = expand_variadic(list(sys.argv[1:] if argv is None else argv))
    try:
        cli.main(args=argv, prog_name="xling", standalone_mode=False)
    except XlingError as exc:
        click.echo(f"xling: error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("xling: interrupted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("xling: interrupted (finished work is kept in the cache; run again to resume)", err=True)
        return 130
    except click.UsageError as exc:   # one line, like every other user mistake
        where = f"xling {exc.ctx.command_path.partition(' ')[2]} --help".replace("  ", " ") \
            if exc.ctx else "xling --help"
        click.echo(f"xling: error: {' '.join(exc.format_message().split())} (see `{where.strip()}`)",
                   err=True)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"xling: error: {' '.join(exc.format_message().split())}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except MemoryError:   # no traceback: say what to make smaller (finished work is cached)
        click.echo("xling: error: out of memory; use fewer candidates, segments or a smaller batch "
                   "(--batch-size), then run again: finished work is kept in the cache", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


def run():  # console-script entry point
    sys.exit(main())
