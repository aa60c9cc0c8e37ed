"""`xling score` and `xling rescore`: metrics over outputs, without a translation model."""
from __future__ import annotations

import click

from ..runs.config import MTEvalConfig
from .app import cli
from .options import (
    JUDGE_SETTINGS,
    MODEL_SETTINGS,
    Bounded,
    config_option,
    judge_options,
    metric_list,
    metric_names,
    metric_options,
    print_report,
    transport_options,
)


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
              help=f"{metric_names()}; -m bleu chrf or -m bleu,chrf.")
@click.option("--paired-bs", "test", flag_value="bs", help="Paired bootstrap resampling against the first system.")
@click.option("--paired-ar", "test", flag_value="ar", help="Paired approximate randomization.")
@click.option("--paired-n", type=Bounded("bootstrap"), default=None,
              help="Resamples (default 1000 for bootstrap, 10000 for randomization).")
@click.option("--seed", default=12345, show_default=True, type=Bounded("seed"))
@click.option("--on-target-only", is_flag=True, help="Score only outputs in the target language.")
@click.option("--tokenize", default=None, help="Override the BLEU tokenizer (13a, zh, ja-mecab, ...).")
@metric_options(*MODEL_SETTINGS)
@judge_options
@transport_options
@click.option("--gpus", default=None, type=Bounded("gpus"), help="GPUs for COMET (default: 1 if any).")
@config_option(MTEvalConfig, "precision", "--precision")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json", "latex"]), default="text",
              show_default=True)
def score(refs, hyps, src_path, tgt_lang, src_lang, metrics, test, paired_n, seed, on_target_only,
          tokenize, gpus, fmt, **settings):
    """Score system outputs: with references (BLEU, chrF, COMET, MetricX, ...) or without them
    (QE: CometKiwi, xCOMET-QE, MetricX-QE; off-target rate)."""
    from ..data.textio import read_lines
    from ..reporting.scores import FORMATTERS
    from ..tasks.score import score_systems

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



@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--metrics", "-m", required=True, help="Comma-separated metrics to add.")
@metric_options(*MODEL_SETTINGS, "precision", *JUDGE_SETTINGS, unset=True)
@config_option(MTEvalConfig, "concurrency", "--concurrency", default=None, show_default=False)
@config_option(MTEvalConfig, "request_timeout", "--request-timeout", default=None, show_default=False)
@config_option(MTEvalConfig, "max_retries", "--max-retries", default=None, show_default=False)
@click.option("--recompute", is_flag=True,
              help="Compute the metrics again even where scores exist (other model or settings).")
def rescore(run_dir, metrics, recompute, **settings):
    """Score a run's saved outputs with more metrics (no translation model needed); metric
    settings default to the run's own. Scores already there are kept unless --recompute."""
    from ..tasks.mt import rescore as rescore_run

    rescore_run(run_dir, metric_list(metrics), {k: v for k, v in settings.items() if v is not None},
                recompute=recompute)
    print_report([run_dir])
