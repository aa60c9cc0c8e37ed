"""`xling meta-eval`: metrics against human judgments."""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import XlingError
from .app import cli, interrupted_keeps
from .options import JUDGE_SETTINGS, MODEL_SETTINGS, Bounded, metric_list, metric_names, metric_options, refuse_empty


@cli.command(name="meta-eval")
@click.argument("data")
@click.option("--reference", "-r", required=True,
              help="The system whose texts are the metrics' reference (e.g. ref); it is not scored.")
@click.option("--metrics", "-m", default="bleu,chrf", show_default=True,
              help=f"Comma-separated: {metric_names()}.")
@click.option("--exclude", "-x", default=None,
              help="Comma-separated systems to leave out, e.g. the other human translations (refA): "
                   "scored as systems, a human translation the metrics rank last can carry the "
                   "system-level correlations.")
@click.option("--tgt-lang", "-t", default=None, help="Target language (default: what the data says).")
@click.option("--data-dir", default=None, callback=refuse_empty, help="Local data root (default: $XLING_DATA).")
@click.option("--seed", type=Bounded("seed"), default=0, show_default=True,
              help="Seed of the permutations (soft pairwise accuracy, significance); 4 gives "
                   "MT-metrics-eval's own SPA draws.")
@click.option("--permutations", type=Bounded("bootstrap"), default=1000, show_default=True,
              help="Permutations of each test and of soft pairwise accuracy; resamples of the human "
                   "scores' 95% intervals.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "markdown", "json", "html"]), default="text",
              show_default=True,
              help="html: print the path of the page written into --out (DIR/report.html) instead of the tables.")
@click.option("--out", "-o", default=None,
              help="Folder for report.json, report.html (one self-contained page: the tables, a heatmap, "
                   "metric vs human scores), the figures and the metric scores (kept: adding a metric "
                   "scores nothing else again).")
@metric_options(*MODEL_SETTINGS, "precision", *JUDGE_SETTINGS)
def meta_eval(data, reference, metrics, exclude, tgt_lang, data_dir, seed, permutations, fmt, out, **settings):
    """How well each metric agrees with human judgments (DATA: mqm:FILE.tsv, mtme:ROOT:LP, ...;
    `xling data` lists them): system- and segment-level correlations, pairwise accuracy, soft
    pairwise accuracy and tie-calibrated acc_eq, as the WMT metrics task measures them."""
    # (promised once written: Ctrl-C before the first score named a file that did not exist)
    interrupted_keeps["where"] = Path(out) / "scores.json" if out is not None else None
    if fmt == "html" and out is None:
        raise XlingError("--format html writes a page into a folder: give it with --out/-o "
                         "(e.g. -o metaeval writes metaeval/report.html)")
    from ..reporting.metaeval_figures import agreement_tables
    from ..reporting.tables import render_all
    from ..tasks.metaeval import PAGE, meta_evaluate

    report = meta_evaluate(data, reference, metric_list(metrics), data_dir=data_dir, settings=settings,
                           tgt_lang=tgt_lang, seed=seed, samples=permutations, out=out,
                           exclude=[s.strip() for s in (exclude or "").split(",") if s.strip()])
    if fmt == "html":
        click.echo(str(Path(out) / PAGE))
    elif fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        click.echo(render_all(agreement_tables(report), fmt), nl=False)
