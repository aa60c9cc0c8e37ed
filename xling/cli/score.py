"""`xling score` and `xling rescore`: metrics over outputs, without a translation model."""
from __future__ import annotations

import click

from ..errors import XlingError
from ..runs.config import MTEvalConfig
from .app import cli, interrupted_keeps
from .options import (
    JUDGE_SETTINGS,
    MODEL_SETTINGS,
    Bounded,
    FilePath,
    config_option,
    judge_options,
    metric_list,
    metric_names,
    metric_options,
    print_report,
    transport_options,
)


@cli.command()
@click.option("--reference", "-r", "refs", multiple=True, type=FilePath(dir_okay=False),
              help="Reference file (one segment per line; repeat or list several for multi-reference).")
@click.option("--input", "-i", "hyps", multiple=True, type=FilePath(dir_okay=False),
              help="System output file(s): -i A B C. The first is the baseline for paired tests.")
@click.option("--source", "-s", "src_path", type=FilePath(dir_okay=False), default=None,
              help="Source file (needed by COMET; lets off-target flag copies of the source).")
@click.option("--tgt-lang", "-t", default=None, help="Target language: picks the BLEU tokenizer (required "
              "with -i).")
@click.option("--human", default=None, help="Human judgments instead of -i (mqm:FILE.tsv, mtme:ROOT:LP, ...): "
              "each system's human score with a 95% bootstrap interval.")
@click.option("--human-reference", default=None,
              help="With --human: the system whose texts are the reference; the metrics (-m) then score "
                   "every other system beside its human score, on the segments all share.")
@click.option("--src-lang", default=None, help="Source language (recorded).")
@click.option("--metrics", "-m", multiple=True, default=("bleu", "chrf"), show_default=True,
              help=f"{metric_names()}; -m bleu chrf or -m bleu,chrf.")
@click.option("--paired-bs", is_flag=True, help="Paired bootstrap resampling against the first system.")
@click.option("--paired-ar", is_flag=True, help="Paired approximate randomization.")
@click.option("--paired-n", type=Bounded("bootstrap"), default=None,
              help="Resamples (default 1000 for bootstrap, 10000 for randomization).")
@click.option("--seed", default=12345, show_default=True, type=Bounded("seed"),
              help="Seed of the paired tests' draws (sacrebleu's default; its p-values are equal with "
                   "the same seed and n, except seed 0, which sacrebleu reads as no seed).")
@click.option("--on-target-only", is_flag=True, help="Score only outputs in the target language.")
@click.option("--tokenize", default=None, help="Override the BLEU tokenizer (13a, zh, ja-mecab, ...).")
@metric_options(*MODEL_SETTINGS)
@judge_options
@transport_options
@click.option("--gpus", default=None, type=Bounded("gpus"),
              help="GPUs for COMET: 0 scores on the CPU; otherwise one GPU if any (more act as one).")
@config_option(MTEvalConfig, "precision", "--precision")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json", "latex"]), default="text",
              show_default=True)
def score(refs, hyps, src_path, tgt_lang, src_lang, metrics, paired_bs, paired_ar, paired_n, seed, on_target_only,
          tokenize, gpus, fmt, human, human_reference, **settings):
    """Score system outputs: with references (BLEU, chrF, COMET, MetricX, ...) or without them
    (QE: CometKiwi, xCOMET-QE, MetricX-QE; off-target rate); or human judgments (--human)."""
    from ..data.textio import read_input_lines
    from ..reporting.scores import FORMATTERS
    from ..tasks.score import score_systems

    if paired_bs and paired_ar:
        raise XlingError("give --paired-bs or --paired-ar, not both (one test per comparison, as sacrebleu)")
    test = "bs" if paired_bs else "ar" if paired_ar else None
    # only an LLM judge's answers are kept (in the cache): an interrupted metric's scores are not
    from ..metrics.registry import get, parse_metric_names
    try:
        judged = any("template" in get(m).settings for m in parse_metric_names(metrics))
    except XlingError:   # (an unknown name: refused later, in its words)
        judged = False
    interrupted_keeps["where"] = "the cache" if judged else None
    if tokenize is not None and not tokenize.strip():
        raise XlingError("--tokenize needs a tokenizer name (13a, zh, ja-mecab, ...)")
    if human:
        if hyps or refs:
            raise XlingError("--human reads the systems and their texts from the judgments: give -i/-r or "
                             "--human, not both")
        given = click.get_current_context().get_parameter_source("metrics") != click.core.ParameterSource.DEFAULT
        unused = [flag for flag, value in (("-s/--source", src_path), ("--on-target-only", on_target_only),
                                           ("--paired-bs/--paired-ar", test)) if value]
        if given and not human_reference:
            unused.append("-m without --human-reference (the metrics need a reference system)")
        if unused:
            raise XlingError(f"--human ranks systems by the judgments' own scores; it takes no {', '.join(unused)}")
        return _human(human, human_reference, metrics, tgt_lang, seed, paired_n, fmt, settings)
    if human_reference:
        raise XlingError("--human-reference names a system of --human judgments; give --human SPEC with it")
    if paired_n is not None and not test:
        raise XlingError("--paired-n sets the resamples of a paired test: add --paired-bs or --paired-ar")
    if not hyps or not tgt_lang:
        raise XlingError("score needs system outputs (-i FILE ...) and their language (-t), or human "
                         "judgments (--human SPEC)")
    if test and len(hyps) < 2:   # sacrebleu refuses too: there is nothing to compare with
        raise XlingError(f"--paired-{test} compares systems with the first (the baseline): give two or more "
                         "(-i BASE.txt OTHER.txt)")
    # As sacrebleu reads them: a leading byte-order mark stays part of the first segment (said
    # on stderr: it lowers that segment's score, and a researcher may not see it in an editor).
    if [*refs, *hyps, src_path].count("-") > 1:   # (read once: the second would find it empty)
        raise XlingError("standard input (-) is one of the inputs at most: give the others as files")
    marked: list[str] = []   # (said once every refusal is past)
    references = [_read_keeping_bom(r, marked) for r in refs]
    systems = {}
    for path in hyps:
        name = path if path not in systems else f"{path} ({len(systems)})"
        systems[name] = _read_keeping_bom(path, marked)

    def warn_bom() -> None:
        for named in marked:
            click.echo(f"xling: warning: {named} starts with a byte-order mark (U+FEFF); it is scored as part "
                       "of the first segment, as sacrebleu does: save the file without it", err=True)

    report = score_systems(
        systems, references or None, metrics, tgt_lang, srcs=read_input_lines(src_path) if src_path else None,
        src_lang=src_lang, test=test, n_samples=paired_n, seed=seed, on_target_only=on_target_only,
        tokenize=tokenize, settings=settings, gpus=gpus,
        script_check={refs[0]: references[0]} if references else systems, on_checked=warn_bom)
    click.echo(FORMATTERS[fmt](report))


def _read_keeping_bom(path, marked: list[str]) -> list[str]:
    """A file's lines, a leading byte-order mark kept; its name added to `marked` then."""
    from ..data.textio import read_input_lines

    lines = read_input_lines(path, keep_bom=True)
    if lines and lines[0].startswith("\ufeff"):
        marked.append("standard input" if path == "-" else path)
    return lines


def _human(spec, reference, metrics, tgt_lang, seed, samples, fmt, settings):
    """`score --human`: each system's human score and interval, metrics beside them."""
    import json

    from ..reporting.metaeval_figures import human_score_table
    from ..tasks.metaeval import human_scores

    report = human_scores(spec, reference=reference, metrics=metric_list(",".join(metrics)) if reference else [],
                          settings=settings, tgt_lang=tgt_lang, seed=seed, samples=samples or 1000)
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        click.echo(human_score_table(report).render(fmt))


@cli.command()
@click.argument("run_dir", type=FilePath(file_okay=False))
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
