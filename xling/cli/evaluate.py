"""`xling eval mt|nli|mc`, `xling run` and `xling tune-ratio`: tasks that write run folders."""
from __future__ import annotations

import click

from ..errors import XlingError
from ..runs.config import DEFAULT_METRICS, ChoiceEvalConfig, MTEvalConfig
from .app import cli
from .options import (
    MODEL_SETTINGS,
    BatchSize,
    Bounded,
    FilePath,
    backend_options,
    candidate_options,
    config_option,
    judge_options,
    metric_list,
    metric_names,
    metric_options,
    print_report,
    split_list,
)


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
@config_option(MTEvalConfig, "shots_file", "--shots-file", type=FilePath(dir_okay=False))
@config_option(MTEvalConfig, "template", "--template")
@click.option("--metrics", default=",".join(DEFAULT_METRICS),
              show_default=True, help=f"Comma-separated: {metric_names()}.")
@config_option(MTEvalConfig, "out", "--out", "-o", required=True, help="Run folder.")
@candidate_options
@config_option(MTEvalConfig, "limit", "--limit")
@config_option(MTEvalConfig, "limit_per_domain", "--limit-per-domain")
@config_option(MTEvalConfig, "batch_size", "--batch-size", "-b")
@config_option(MTEvalConfig, "max_batch_tokens", "--max-batch-tokens")
@config_option(MTEvalConfig, "refill", "--refill/--no-refill")
@config_option(MTEvalConfig, "max_new_tokens", "--max-new-tokens")
@config_option(MTEvalConfig, "seed", "--seed")
@click.option("--overwrite", is_flag=True, help="Replace a run with a different config in --out.")
@metric_options(*MODEL_SETTINGS, "precision")
@judge_options
@config_option(MTEvalConfig, "static_cache", "--static-cache")
@backend_options
def eval_mt(pairs, langs, metrics, overwrite, **settings):
    """Translate a dataset in many directions and score it (resumable: run it again to go on)."""
    from ..runs.config import build_config
    from ..tasks.mt import run_mt

    settings.update(pairs=split_list(pairs), langs=split_list(langs), metrics=metric_list(metrics))
    config = build_config({k: v for k, v in settings.items() if v is not None}, where="command line")
    run = run_mt(config, overwrite=overwrite)
    print_report([str(run.path)])


def _choice_options(default_data):
    C = ChoiceEvalConfig

    def wrap(f):
        options = [
            click.option("--model", "-m", default=None,
                         help="Local folder or hub name (default: $XLING_MODEL, else the embedded model)."),
            click.option("--data", "-d", default=default_data, show_default=True,
                         help="Data set: `xling data` lists them (nli: xnli:dev|test, your own "
                              "nli-file:TEST.tsv[,DEV.tsv]; mc: xcsqa:dev, pawsx:test, xcopa:test)."),
            click.option("--data-dir", default=None, help="Local data root (default: $XLING_DATA)."),
            click.option("--langs", "-l", multiple=True, help="Languages (premise = hypothesis): ar,hi,th."),
            click.option("--premise-langs", multiple=True, help="With --hypothesis-langs: every combination."),
            click.option("--hypothesis-langs", multiple=True,
                         help="The hypothesis's language (nli); the options' language (mc: X-CSQA, XCOPA)."),
            config_option(C, "prompt_lang", "--prompt-lang"),
            config_option(C, "shots", "--shots", "-k"),
            config_option(C, "mode", "--mode"),
            config_option(C, "template", "--template"),
            config_option(C, "gen_template", "--gen-template"),
            config_option(C, "out", "--out", "-o", required=True, help="Run folder."),
            config_option(C, "limit", "--limit"),
            config_option(C, "seed", "--seed"),
            config_option(C, "batch_size", "--batch-size", "-b"),
            click.option("--overwrite", is_flag=True, help="Replace a run with a different config in --out.")]
        for option in reversed(options):
            f = option(f)
        return backend_options(f)
    return wrap


def _run_choice(task, langs, premise_langs, hypothesis_langs, overwrite, **values):
    from ..runs.config import build_config
    from ..tasks.choice import run_choice

    values.update(task=task, langs=split_list(langs), premise_langs=split_list(premise_langs),
                  hypothesis_langs=split_list(hypothesis_langs))
    config = build_config({k: v for k, v in values.items() if v is not None}, where="command line")
    run = run_choice(config, overwrite=overwrite)
    print_report([str(run.path)])


@eval_group.command(name="nli")
@_choice_options("xnli:test")
@config_option(ChoiceEvalConfig, "shots_file", "--shots-file", type=FilePath(dir_okay=False))
def eval_nli(**options):
    """Cross-lingual NLI (XNLI; ko = KorNLI): accuracy per language, or per premise x hypothesis
    language pair."""
    _run_choice("nli", **options)


@eval_group.command(name="mc")
@_choice_options("xcsqa:dev")
def eval_mc(**options):
    """Multiple choice (X-CSQA, PAWS-X, XCOPA): accuracy per language."""
    _run_choice("multiple_choice", **options)


@cli.command(name="run")
@click.argument("experiment", type=FilePath(dir_okay=False))
@click.option("--out", "-o", default=None, help="Override the run folder.")
@click.option("--model", "-m", default=None, help="Override the model.")
@click.option("--limit", type=Bounded("limit"), default=None, help="First N segments per direction.")
@click.option("--limit-per-domain", type=Bounded("limit_per_domain"), default=None,
              help="Override: the first N segments of each domain (data sets with domains: WMT24++, "
                   "FLORES-200, jsonl: files with a domain field).")
@click.option("--batch-size", "-b", type=BatchSize(), default=None, help="Override the batch size (N or auto).")
@click.option("--data-dir", default=None, help="Override: the local data root (default: the file's, else $XLING_DATA).")
@click.option("--overwrite", is_flag=True, help="Replace a run with a different config.")
def run_experiment(experiment, out, model, limit, limit_per_domain, batch_size, data_dir, overwrite):
    """Run an experiment file (experiments/*.yaml); a file with variants runs each into
    OUT/VARIANT and reports them side by side."""
    from pathlib import Path

    from ..runs.config import load_experiments
    from ..tasks import preflight, run_config

    configs = load_experiments(experiment, dict(out=out, model=model, limit=limit,
                                                limit_per_domain=limit_per_domain,
                                                batch_size=batch_size, data_dir=data_dir))
    for config in configs:   # every variant checked before the first runs, its error naming the file
        try:
            preflight(config)
        except XlingError as exc:
            variant = f" (variant {Path(config.out).name})" if len(configs) > 1 else ""
            raise XlingError(f"{experiment}{variant}: {exc}") from None
    runs = [run_config(config, overwrite=overwrite) for config in configs]
    print_report([str(run.path) for run in runs])


@cli.command(name="tune-ratio")
@click.argument("experiment", type=FilePath(dir_okay=False))
@click.option("--out", "-o", default=None, help="Override the run folder.")
@click.option("--model", "-m", default=None, help="Override the model.")
@click.option("--overwrite", is_flag=True, help="Replace a run with a different config.")
def tune_ratio(experiment, out, model, overwrite):
    """The language-ratio instruction-tuning sweep (Figure 2, Table 16); resumable."""
    from ..runs.config import load_experiment
    from ..tasks.tuning.sweep import run_tune_ratio

    config = load_experiment(experiment, dict(out=out, model=model))
    if config.task != "tune_ratio":
        raise XlingError(f"{experiment} is a {config.task!r} experiment; use `xling run`")
    run = run_tune_ratio(config, overwrite=overwrite)
    print_report([str(run.path)])
