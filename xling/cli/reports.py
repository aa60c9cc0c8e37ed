"""Commands that read run folders or data and print tables and figures."""
from __future__ import annotations

import click

from ..errors import XlingError
from .app import cli
from .options import Bounded, FilePath, metric_list, print_report, refuse_empty, split_list


@cli.command()
@click.argument("run_dirs", nargs=-1, required=True, type=FilePath(file_okay=False))
@click.option("--metrics", "-m", default=None, help="Only these metrics (comma-separated).")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "markdown", "csv", "latex", "html"]),
              default=None, help="text (the default, or what --output's suffix names: .md .csv .tex .html); "
              "html: one self-contained page (scores, significance, a segment browser) written to --output.")
@click.option("--output", "-o", default=None, type=FilePath(dir_okay=False),
              help="Write the report to this file (required with --format html; - is standard output).")
@click.option("--paired-ar", is_flag=True, help="Approximate randomization instead of bootstrap.")
@click.option("--paired-n", type=Bounded("bootstrap"), default=None,
              help="Resamples of the paired test (default 1000 for bootstrap, 10000 for randomization).")
def report(run_dirs, metrics, fmt, output, paired_ar, paired_n):
    """Tables from run folders; with several runs, each is tested against the first."""
    test = "ar" if paired_ar else "bs"
    if (paired_ar or paired_n is not None) and len(run_dirs) < 2:
        raise XlingError(f"{'--paired-ar' if paired_ar else '--paired-n'} sets the paired test of each run against "
                         "the first: give two or more run folders")
    fmt = _format_for(fmt, output)
    if output is None:
        if fmt == "html":
            raise XlingError("--format html writes a page: give it with --output/-o (-o report.html, or "
                             "-o - for standard output)")
        print_report(list(run_dirs), metric_list(metrics), fmt, test, paired_n)
        return
    if output != "-":
        from ..data.textio import output_target
        output_target(output)   # a device, a FIFO or a missing folder: refused before any work
        _check_report_output(output, run_dirs)
    if fmt == "html":
        from ..reporting.html_report import html_report
        text = html_report(list(run_dirs), metric_list(metrics), test, paired_n)
    else:
        from ..reporting.report import build_report
        from ..reporting.tables import render_all
        text = render_all(build_report(list(run_dirs), metric_list(metrics), test, paired_n), fmt)
    if output == "-":   # standard output, as translate's -o -
        click.echo(text, nl=False)
        return
    from pathlib import Path

    from ..data.textio import atomic_writer
    from ..store.locks import output_lock
    # locked as translate's -o is: its sweep of a killed writer's temporary files took this one's
    with output_lock(Path(output)), atomic_writer(output) as handle:
        handle.write(text)
    click.echo(output)


_SUFFIX_FORMAT = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown", ".csv": "csv",
                  ".tex": "latex"}   # (.txt holds any of the text formats)


def _format_for(fmt: str | None, output: str | None) -> str:
    """The format asked for, else the one -o's suffix names (a report.html of text tables was
    written without a word); a format the suffix contradicts is refused."""
    from pathlib import Path

    named = _SUFFIX_FORMAT.get(Path(output).suffix.lower()) if output and output != "-" else None
    if fmt is not None and named is not None and fmt != named:
        raise XlingError(f"--format {fmt} into {output}, whose suffix says {named}: give a matching file name "
                         "or leave --format out")
    return fmt or named or "text"


def _check_report_output(output: str, run_dirs) -> None:
    """A report is never written into a run folder it reads (a run folder holds only what xling
    writes there)."""
    from pathlib import Path

    from ..runs.folder import MARKER

    target = Path(output).expanduser().resolve()
    for run_dir in run_dirs:
        folder = Path(run_dir).expanduser().resolve()
        if not ((folder / MARKER).is_file() or (folder / "config.json").is_file()):
            continue   # not a run folder: the report itself says so
        if folder == target or folder in target.parents:
            raise XlingError(f"--output {output} is inside the run folder {run_dir}; write the report "
                             "elsewhere")



@cli.command()
@click.argument("run_dir", type=FilePath(file_okay=False))
@click.argument("item_id")
@click.option("--lang", "-l", "cell", default=None,
              help="The item's cell (language, or PREMISE>HYPOTHESIS; an MT run's direction, SRC-TGT) "
                   "when several hold its id.")
@click.option("--mode", type=click.Choice(["ll", "gen"]), default=None,
              help="Only the log-likelihood or the generation prompt (default: each the run has).")
def prompt(run_dir, item_id, cell, mode):
    """Print the exact prompt behind one prediction (ITEM_ID as in the run's outputs): NLI /
    multiple-choice with its scored continuations or generated answer; MT rebuilt from the run's
    template and checked against the record's prompt_hash, with the raw answer."""
    from ..reporting.prompt_view import item_prompt

    click.echo(item_prompt(run_dir, item_id, cell, mode), nl=False)


@cli.command()
@click.option("--runs", "-r", "run_dirs", multiple=True, type=FilePath(file_okay=False),
              help="Run folders to add as extra models and to draw (repeat or list: -r A B).")
@click.option("--out", "-o", default="figures", show_default=True, callback=refuse_empty,
              help="Folder for PNG and PDF files, and index.html: one self-contained page showing every "
                   "figure beside its table.")
def figures(run_dirs, out):
    """Draw the report's tables (Tables 1, 13-16, Figure 2) with your runs beside them; OUT/index.html
    shows them all."""
    from ..reporting.figures import make_figures

    for path in make_figures(out, list(run_dirs)):
        click.echo(str(path))


@cli.command()
@click.argument("run_dirs", nargs=-1, required=True, type=FilePath(file_okay=False))
@click.option("--metric", "-m", default=None,
              help="For MT runs (default: the first of xcomet, comet, chrf, chrf++, bleu the runs hold).")
@click.option("--group", type=click.Choice(["script", "family"]), default="script", show_default=True)
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "markdown", "csv", "latex"]),
              default="text", show_default=True)
@click.option("--figure", default=None, callback=refuse_empty,
              help="Also draw the relative scores (PNG and PDF), e.g. figures/transfer.")
def transfer(run_dirs, metric, group, fmt, figure):
    """Transfer to untargeted languages: relative scores per language and group; with two runs,
    the per-language difference with 95% intervals and the Score(X->Y) ratio."""
    from ..reporting.tables import render_all
    from ..reporting.transfer import transfer_figure, transfer_tables

    if len(run_dirs) > 2:
        raise XlingError("xling transfer takes one run, or two runs to compare")
    _check_figure_path(figure, run_dirs)
    click.echo(render_all(transfer_tables(list(run_dirs), metric, group), fmt), nl=False)
    if figure:
        from ..reporting.plots import save_figure
        for path in save_figure(transfer_figure(list(run_dirs), metric), figure):
            click.echo(str(path))


def _check_figure_path(stem: str | None, inputs=()) -> None:
    """STEM.png and STEM.pdf are writable, in a folder that exists and outside the runs read
    (as every output of xling), before any work."""
    if stem:
        from ..data.textio import output_target
        from ..reporting.plots import FIGURE_FORMATS, figure_file
        for ext in FIGURE_FORMATS:
            output_target(str(figure_file(stem, ext)), inputs=tuple(inputs))


@cli.command()
@click.argument("tokenizers", nargs=-1, required=True)
@click.option("--langs", "-l", default="ko,en,ja,zh", show_default=True)
@click.option("--file", "files", multiple=True,
              help="NAME=PATH: your own text under a language (or any other column name, e.g. code=src/; "
                   "a column -l does not name comes after its columns): a file (blank lines separate "
                   "documents) or a folder (one document per file, whole).")
@click.option("--split", default="devtest", show_default=True, help="FLORES-200 split.")
@click.option("--data-dir", default=None, callback=refuse_empty,
              help="Local data root holding flores200/ (default: $XLING_DATA).")
@click.option("--reference", default=None, help="Tokenizer the ratios refer to (default: the first).")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "markdown", "csv", "latex"]),
              default="text", show_default=True)
@click.option("--figure", default=None, callback=refuse_empty, help="Also draw tokens per document (PNG and PDF).")
def tokens(tokenizers, langs, files, split, data_dir, reference, fmt, figure):
    """Tokenizer efficiency on FLORES-200 or your files. TOKENIZERS: "embedded", local folders or
    hub names. FLORES documents are a few sentences each: the report's Table 1 counted OSCAR
    documents and code from the Stack (give those with --file to reproduce it)."""
    from ..data.languages import resolve
    from ..data.parallel import data_root
    from ..reporting.tables import render_all
    from ..reporting.tokens import efficiency, efficiency_figure, efficiency_tables

    pairs = {}
    for item in files:
        lang, sep, path = item.partition("=")
        if not sep or not lang.strip() or not path.strip():
            # (an empty PATH is the working folder: every file under it was counted)
            raise XlingError(f"--file takes LANG=PATH, both given, not {item!r}")
        if _column(lang) in pairs:   # (the last one was counted, the first one silently not)
            raise XlingError(f"--file names column {_column(lang)!r} twice ({pairs[_column(lang)]} and {path})")
        pairs[_column(lang)] = path
    _check_figure_path(figure, (*pairs.values(), *tokenizers))
    codes = [_column(c) if c in pairs or _column(c) in pairs else resolve(c).code
             for c in split_list([langs]) or []]
    codes += [name for name in pairs if name not in codes]   # a --file is a column, named in -l or not
    if not codes:   # (empty tables, exit 0)
        raise XlingError("--langs names no language (and no --file gives one): e.g. -l ko,en")
    root = data_root(data_dir) if any(code not in pairs for code in codes) else None
    if root is None:   # (every column from --file: FLORES is not read, say so rather than ignore)
        context = click.get_current_context()
        unread = [f"--{name.replace('_', '-')}" for name in ("split", "data_dir")
                  if context.get_parameter_source(name) != click.core.ParameterSource.DEFAULT]
        if unread:
            click.echo(f"xling: warning: {' and '.join(unread)} unused: every column comes from --file, "
                       "no FLORES-200 text is read", err=True)
    twice = [t for t in dict.fromkeys(tokenizers) if tokenizers.count(t) > 1]
    if twice:   # (one row for a tokenizer named twice)
        raise XlingError(f"a tokenizer is named twice: {', '.join(twice)}")
    if reference and reference not in tokenizers:   # (before minutes of tokenizing, not after)
        raise XlingError(f"--reference {reference!r} is not among the tokenizers ({', '.join(tokenizers)})")
    stats = efficiency(list(tokenizers), codes, pairs, split, root)
    click.echo(render_all(efficiency_tables(stats, reference, set(pairs), split), fmt), nl=False)
    if figure:
        from ..reporting.plots import save_figure
        for path in save_figure(efficiency_figure(stats, set(pairs), split), figure):
            click.echo(str(path))


def _column(name: str) -> str:
    """A language's code, or a column of its own (code from the Stack) as written."""
    from ..data.languages import resolve

    try:
        return resolve(name).code
    except XlingError:
        return name
