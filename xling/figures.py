"""`xling figures`: one figure per report table (from the printed numbers), the user's runs
added as extra rows, and heatmaps of the runs themselves."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .errors import XlingError
from .paper import load_paper_table
from .runs import RunDir

TABLE_FILES = {"table13": "table13_xnli", "table14": "table14_xcsqa", "table15": "table15_xcomet",
               "table16": "table16_score_x_to_y", "table01": "table01_tokens_per_doc"}


def _run_label(run: RunDir) -> str:
    return f"{run.path.name} (yours)"


def run_rows(runs: list[RunDir], key: str) -> list[tuple[str, dict, dict]]:
    """(label, values by column, 95% interval by column) of each run that belongs in a table."""
    from .metrics.base import mean_result
    from .metrics.significance import bootstrap_ci

    rows = []
    for run in runs:
        config = run.read_config()
        task, data = config.get("task"), config.get("settings", {}).get("data", "")
        stored = run.read_metrics()["directions"]
        if key in ("table13", "table14"):
            wanted = ("nli", "xnli") if key == "table13" else ("multiple_choice", "xcsqa")
            if task != wanted[0] or not data.startswith(wanted[1]):
                continue
            values, ci = {}, {}
            for cell, entry in stored.items():
                mode = "ll" if "ll" in entry else "gen"
                values[cell] = entry[mode]["accuracy"]
                ci[cell] = (entry[mode]["ci_low"], entry[mode]["ci_high"])
            rows.append((_run_label(run), values, ci))
        elif key == "table15" and task == "mt":
            values, ci = {}, {}
            for direction, entry in stored.items():
                result = entry.get("metrics", {}).get("xcomet")
                if result and "segments" in result:
                    values[direction] = 100 * result["score"]
                    mean, low, high = bootstrap_ci(mean_result("xCOMET", result["segments"], ""), 1000)
                    ci[direction] = (100 * low, 100 * high)
            if values:
                rows.append((_run_label(run), values, ci))
            else:
                print(f"xling: note: {run.path} has no xCOMET scores, so it is not in Table 15 "
                      f"(add them with `xling rescore {run.path} -m xcomet`)", file=sys.stderr)
    return rows


def table_figure(key: str, runs: list[RunDir]):
    from .plots import grouped_bars, heatmap

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
        for label, vals, ci in run_rows(runs, key):
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


def run_figures(run: RunDir) -> list[tuple[str, object]]:
    """Heatmaps of one run: an MT run's direction matrix per metric (off-target included), an
    NLI run's premise x hypothesis accuracy."""
    from .languages import parse_pair
    from .plots import heatmap
    from .metrics.registry import display, get

    config = run.read_config()
    stored = run.read_metrics()["directions"]
    name = run.path.name
    figures = []
    if config.get("task") == "mt":
        metrics = list(dict.fromkeys(m for e in stored.values() for m in e.get("metrics", {})))
        pairs = {d: parse_pair(d) for d in stored}
        langs = list(dict.fromkeys(l.code for src, tgt in pairs.values() for l in (src, tgt)))
        for metric in metrics:
            grid = np.full((len(langs), len(langs)), np.nan)
            for d, (src, tgt) in pairs.items():
                if metric in stored[d]["metrics"]:
                    grid[langs.index(src.code), langs.index(tgt.code)] = stored[d]["metrics"][metric]["score"]
            unit = get(metric).unit or display(metric)
            figures.append((f"{name}_{metric}_matrix", heatmap(
                f"{name}: {display(metric)} by direction", langs, langs, grid, unit=unit,
                xlabel="target language", ylabel="source language")))
    elif config.get("task") in ("nli", "multiple_choice"):
        cells = list(stored)
        premises = list(dict.fromkeys(c.split(">")[0] for c in cells))
        hypotheses = list(dict.fromkeys(c.split(">")[-1] for c in cells))
        grid = np.full((len(premises), len(hypotheses)), np.nan)
        for c, entry in stored.items():
            mode = "ll" if "ll" in entry else "gen"
            grid[premises.index(c.split(">")[0]), hypotheses.index(c.split(">")[-1])] = entry[mode]["accuracy"]
        figures.append((f"{name}_accuracy_matrix", heatmap(
            f"{name}: accuracy by premise × hypothesis language", premises, hypotheses, grid,
            unit="accuracy", xlabel="hypothesis language", ylabel="premise language", vmin=0, vmax=1)))
    else:
        raise XlingError(f"{run.path} is a {config.get('task')!r} run; figures take MT, NLI and "
                         "multiple-choice runs")
    return figures


def figure2(ratio_runs: list[RunDir]):
    from .plots import ratio_panels

    panels = {"(a) train OpenOrca, test OpenOrca": {"ylabel": "Rouge-L"},
              "(b) train LIMA, test OpenOrca": {"ylabel": "Rouge-L"},
              "(c) train OpenOrca, test LIMA": {"ylabel": "preference"},
              "(d) train LIMA, test LIMA": {"ylabel": "preference"}}
    for run in ratio_runs:
        for panel, points in run.read_metrics().get("figure2", {}).items():
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


def make_figures(out_dir: str | Path = "figures", run_paths: list[str] = ()) -> list[Path]:
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise XlingError(f"-o {out_dir} is a file; figures go into a folder")
    runs = [RunDir(p) for p in run_paths]
    for run in runs:
        run.read_config()   # not a run folder: one clear error before anything is drawn
    ratio_runs = [r for r in runs if r.read_config().get("task") == "tune_ratio"]
    other = [r for r in runs if r not in ratio_runs]
    figures = [(TABLE_FILES[k], table_figure(k, other)) for k in TABLE_FILES]
    figures.append(("figure2_language_ratio", figure2(ratio_runs)))
    for run in other:
        figures += run_figures(run)
    from .plots import save_figure

    written = []
    for stem, fig in figures:
        written += save_figure(fig, Path(out_dir) / stem)
    return written
