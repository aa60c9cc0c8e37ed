"""`xling figures`: one figure per report table (from the printed numbers), the user's runs
added as extra rows, and heatmaps of the runs themselves."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import XlingError
from ..metrics.base import mean_result
from ..metrics.registry import display, get
from ..metrics.significance import bootstrap_ci
from ..runs.config import CHOICE_TASKS
from ..runs.folder import RunDir
from ..runs.records import ChoiceRun, MTRun, Run, TuneRun, read_run
from .paper import load_paper_table
from .plots import grouped_bars, heatmap, ratio_panels, save_figure

TABLE_FILES = {"table13": "table13_xnli", "table14": "table14_xcsqa", "table15": "table15_xcomet",
               "table16": "table16_score_x_to_y", "table01": "table01_tokens_per_doc"}


def _run_label(run: Run) -> str:
    return f"{run.path.name} (yours)"


def run_rows(runs: list[Run], key: str) -> list[tuple[str, dict, dict]]:
    """(label, values by column, 95% interval by column) of each run that belongs in a table."""

    rows = []
    for run in runs:
        data = run.settings.get("data", "")
        if key in ("table13", "table14"):
            wanted = ("nli", "xnli") if key == "table13" else ("multiple_choice", "xcsqa")
            if not isinstance(run, ChoiceRun) or run.task != wanted[0] or not data.startswith(wanted[1]):
                continue
            values = {c.name: c.summary["accuracy"] for c in run.cells}
            ci = {c.name: (c.summary["ci_low"], c.summary["ci_high"]) for c in run.cells}
            rows.append((_run_label(run), values, ci))
        elif key == "table15" and isinstance(run, MTRun):
            values, ci = {}, {}
            for d in run.directions:
                result = d.metrics.get("xcomet")
                if result and "segments" in result:
                    values[d.name] = 100 * result["score"]
                    mean, low, high = bootstrap_ci(mean_result("xCOMET", result["segments"], ""), 1000)
                    ci[d.name] = (100 * low, 100 * high)
            if values:
                rows.append((_run_label(run), values, ci))
            else:
                print(f"xling: note: {run.path} has no xCOMET scores, so it is not in Table 15 "
                      f"(add them with `xling rescore {run.path} -m xcomet`)", file=sys.stderr)
    return rows


def table_figure(key: str, runs: Sequence[RunDir | Run]):

    paper = load_paper_table(key)
    if key in ("table13", "table14", "table15"):
        side = "avg_as_printed" if key != "table15" else None
        columns = paper.columns + (["Avg. (printed)"] if side else [])
        labels, values, texts = [], [], []
        for model, row in paper.rows.items():
            labels.append(model)
            values.append([row[c] for c in paper.columns] + ([paper.side[model][side]] if side else []))
            texts.append([paper.printed[model][c] for c in paper.columns]
                         + ([paper.printed[model][side]] if side else []))
        separator = len(labels) - 1
        for label, vals, ci in run_rows([_typed(r) for r in runs], key):
            labels.append(label)
            values.append([vals.get(c, np.nan) for c in paper.columns] + ([np.nan] if side else []))
            texts.append([(f"{vals[c]:.3f}\n[{ci[c][0]:.2f},{ci[c][1]:.2f}]" if key != "table15"
                           else f"{vals[c]:.1f}\n[{ci[c][0]:.0f},{ci[c][1]:.0f}]")
                          if c in vals else "" for c in paper.columns] + ([""] if side else []))
        xlabel = "translation direction" if key == "table15" else "language"
        return heatmap(paper.title, labels, columns, values, unit=paper.unit, labels=texts,
                       xlabel=xlabel, ylabel="model", separator_after=separator if runs else None)
    if key == "table16":
        series = {m: [row[c] for c in paper.columns] for m, row in paper.rows.items()}
        return grouped_bars(paper.title, paper.columns, series, unit=paper.unit,
                            xlabel="tuned in X → tested in Y")
    series = {m: [row[c] for c in paper.columns] for m, row in paper.rows.items()}
    reference = "HyperCLOVA X"
    notes = {m: [f"{row[c] / paper.rows[reference][c]:.2f}x" for c in paper.columns]
             for m, row in paper.rows.items()}
    return grouped_bars(f"{paper.title} (ratio to {reference} above bars)", paper.columns, series,
                        unit=paper.unit, xlabel="text type",
                        annotations=notes)


def run_figures(run: RunDir | Run) -> list[tuple[str, object]]:
    """Heatmaps of one run: an MT run's direction matrix per metric (off-target included), an
    NLI run's premise x hypothesis accuracy."""

    task = run.task if isinstance(run, Run) else run.read_config()["task"]
    if task not in ("mt", *CHOICE_TASKS):
        raise XlingError(f"{run.path} is a {task!r} run; figures take MT, NLI and "
                         "multiple-choice runs")
    run = _typed(run)
    name = run.path.name
    figures = []
    if isinstance(run, MTRun):
        scored = [d for d in run.directions if d.metrics]
        langs = list(dict.fromkeys(lang.code for d in scored for lang in (d.src, d.tgt)))
        for metric in run.metrics_present():
            grid = np.full((len(langs), len(langs)), np.nan)
            for d in scored:
                if metric in d.metrics:
                    grid[langs.index(d.src.code), langs.index(d.tgt.code)] = d.score(metric)
            figures.append((f"{name}_{metric}_matrix", heatmap(
                f"{name}: {display(metric)} by direction", langs, langs, grid,
                unit=get(metric).unit or display(metric), higher_is_better=get(metric).higher_is_better,
                xlabel="target language", ylabel="source language")))
    elif isinstance(run, ChoiceRun):
        premises = list(dict.fromkeys(c.premise for c in run.cells))
        hypotheses = list(dict.fromkeys(c.hypothesis for c in run.cells))
        grid = np.full((len(premises), len(hypotheses)), np.nan)
        for c in run.cells:
            grid[premises.index(c.premise), hypotheses.index(c.hypothesis)] = c.summary["accuracy"]
        figures.append((f"{name}_accuracy_matrix", heatmap(
            f"{name}: accuracy by premise × hypothesis language", premises, hypotheses, grid,
            unit="accuracy", xlabel="hypothesis language", ylabel="premise language", vmin=0, vmax=1)))
    return figures


def figure2(ratio_runs: Sequence[RunDir | TuneRun]):

    panels: dict[str, dict[str, Any]] = {"(a) train OpenOrca, test OpenOrca": {"ylabel": "Rouge-L"},
                                         "(b) train LIMA, test OpenOrca": {"ylabel": "Rouge-L"},
                                         "(c) train OpenOrca, test LIMA": {"ylabel": "preference"},
                                         "(d) train LIMA, test LIMA": {"ylabel": "preference"}}
    for run in map(_typed, ratio_runs):
        if not isinstance(run, TuneRun):
            raise XlingError(f"{run.path} is a {run.task!r} run; Figure 2 takes instruction-tuning "
                             "ratio sweeps")
        for panel, points in run.figure2.items():
            # "train OpenOrca, test LIMA" goes to the report's panel of that name; any other
            # pairing takes the first free panel under its own title.
            target = next((k for k in panels if k.split(") ", 1)[-1].lower() == panel.lower()), None)
            if target is None:
                free = next((k for k in panels if "ko" not in panels[k] and "en" not in panels[k]), None)
                if free is None:
                    continue
                target = f"{free.split(' ', 1)[0]} {panel}"
                panels = {(target if k == free else k): ({} if k == free else v) for k, v in panels.items()}
            panels[target]["ylabel"] = points.get("ylabel", panels[target].get("ylabel"))
            for lang in ("ko", "en"):
                panels[target].setdefault(lang, []).extend(tuple(p) for p in points.get(lang, []))
    return ratio_panels(panels, "Figure 2: Korean share in instruction tuning vs. performance")


def _typed(run: RunDir | Run) -> Run:
    return run if isinstance(run, Run) else read_run(run, fresh=True)


def make_figures(out_dir: str | Path = "figures", run_paths: Sequence[str] = ()) -> list[Path]:
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise XlingError(f"-o {out_dir} is a file; figures go into a folder")
    # Every run is read (and checked) before anything is drawn.
    runs = [read_run(p, fresh=True) for p in run_paths]
    ratio_runs = [r for r in runs if isinstance(r, TuneRun)]
    other = [r for r in runs if not isinstance(r, TuneRun)]
    figures = [(TABLE_FILES[k], table_figure(k, other)) for k in TABLE_FILES]
    figures.append(("figure2_language_ratio", figure2(ratio_runs)))
    for run in other:
        figures += run_figures(run)

    written = []
    for stem, fig in figures:
        written += save_figure(fig, Path(out_dir) / stem)
    return written
