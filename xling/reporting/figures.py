"""`xling figures`: one figure per report table (from the printed numbers), the user's runs
added as extra rows, and heatmaps of the runs themselves; index.html shows them all, each with
the table it is drawn from."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..data.textio import atomic_writer, is_run_folder
from ..errors import XlingError
from ..metrics.base import mean_result
from ..metrics.registry import display, get
from ..metrics.significance import bootstrap_ci
from ..runs.config import CHOICE_TASKS
from ..runs.folder import RunDir, same_setting
from ..runs.records import ChoiceRun, MTRun, Run, TuneRun, check_complete, distinguish, read_run, unfinished
from .html_pages import figure_entry, figures_page
from .paper import load_paper_table
from .plots import grouped_bars, heatmap, ratio_panels, render_figure, write_rendered
from .tables import Table
from .transfer import MODE_NAMES, made_otherwise

TABLE_FILES = {"table13": "table13_xnli", "table14": "table14_xcsqa", "table15": "table15_xcomet",
               "table16": "table16_score_x_to_y", "table01": "table01_tokens_per_doc"}
PAGE = "index.html"     # the page showing every figure of an output folder


@dataclass
class Drawing:
    """One figure, its title, and the table it is drawn from (None: not drawn from a table)."""
    stem: str
    title: str
    figure: Any
    table: Table | None = None


def _run_label(run: Run) -> str:
    """A run's row label, saying what subset of the test set it scored (a --limit-per-domain run
    was labelled as a full devtest row)."""
    limit, per_domain = run.settings.get("limit"), run.settings.get("limit_per_domain")
    subset = [f"first {per_domain} per domain"] if per_domain else []
    subset += [f"first {limit} items"] if limit else []
    subset += ["not finished"] if unfinished(run) else []   # (a stopped run is no run of fewer languages)
    return f"{run.label} (yours{''.join(', ' + s for s in subset)})"


# What a run must share with a table's protocol to be drawn beside its printed rows.
CHOICE_PROTOCOL = {"table13": ("nli", ("xnli", "kornli"), "test", 5),
                   "table14": ("multiple_choice", ("xcsqa",), "dev", 0)}
# Table 15: FLORES (any of its names) devtest, 1-shot.
MT_PROTOCOL = (("flores200", "flores", "flores_plus", "flores+"), "devtest", 1)


def run_rows(runs: list[Run], key: str, notes: list[str] | None = None) -> list[tuple[str, dict, dict, list, list]]:
    """(label, values by column, 95% interval by column, columns not finished, columns run but not scored
    by the table's metric) of each run that belongs in a table; what a reader must know of those runs
    (their data's provenance) is added to `notes`."""

    rows: list[tuple[str, dict, dict, list, list]] = []
    drawn: list[Run] = []   # Table 15's runs (their prompts compared)
    data_notes: dict[str, list[str]] = {}   # Table 15's: note -> the rows it is of
    for run in runs:
        data = run.settings.get("data", "")
        if key in ("table13", "table14"):
            task, names, split, shots = CHOICE_PROTOCOL[key]
            name, _, run_split = data.lower().partition(":")
            if not isinstance(run, ChoiceRun) or run.task != task or name not in names:
                continue
            run_split = run_split or ("test" if names[0] == "xnli" else "dev")   # the loaders' defaults
            run_shots = run.settings.get("shots") or 0
            if (run_split, run_shots) != (split, shots):
                print(f"xling: note: {run.path} is {data}, {run_shots}-shot, so it is not drawn in "
                      f"{key.replace('table', 'Table ')} ({names[0]}:{split}, {shots}-shot)", file=sys.stderr)
                continue
            if not all("ll" in c.modes for c in run.cells):
                print(f"xling: note: {run.path} is scored by generation, so it is not drawn in "
                      f"{key.replace('table', 'Table ')} (log-likelihood accuracy, as the report's; "
                      "run it with --mode ll or both)", file=sys.stderr)
                continue
            values = {c.name: c.modes["ll"]["accuracy"] for c in run.cells}
            ci = {c.name: (c.modes["ll"]["ci_low"], c.modes["ll"]["ci_high"]) for c in run.cells}
            rows.append((_run_label(run), values, ci, unfinished(run), []))
            note = (run.config.get("data") or {}).get("note")
            if note and notes is not None and note not in notes:
                notes.append(note)
        elif key == "table15" and isinstance(run, MTRun):
            names, split, shots = MT_PROTOCOL
            name, _, run_split = data.lower().partition(":")
            run_shots = run.settings.get("shots") or 0
            if name not in names or (run_split or "devtest") != split or run_shots != shots:
                print(f"xling: note: {run.path} is {data}, {run_shots}-shot, so it is not drawn in Table 15 "
                      f"(flores200:{split}, {shots}-shot)", file=sys.stderr)
                continue
            select = run.settings.get("select") or "greedy"
            if select != "greedy":   # the report's rows are one prompted translation each
                chooser = run.settings.get("utility") if select == "mbr" else run.settings.get("qe")
                print(f"xling: note: {run.path} chose each translation among candidates ({select}, "
                      f"{chooser}), so it is not drawn in Table 15 (1-shot prompting, one greedy "
                      "translation per sentence)", file=sys.stderr)
                continue
            mixed = made_otherwise(run, "xcomet")
            if mixed:   # one row is one model's scores by one checkpoint
                print(f"xling: note: {run.path}: {mixed}, so it is not drawn in Table 15 "
                      f"(`xling rescore {run.path} -m xcomet --recompute` scores them alike)", file=sys.stderr)
                continue
            values, ci = {}, {}
            checkpoints = set()
            unscored = []
            for d in run.directions:
                result = d.metrics.get("xcomet")
                if not (result and "segments" in result):
                    unscored.append(d.name)
                if result and "segments" in result:
                    values[d.name] = 100 * result["score"]
                    checkpoints.add(str(((d.entry("xcomet") or {}).get("made_with") or {}).get("model", "")))
                    mean, low, high = bootstrap_ci(mean_result("xCOMET", result["segments"], ""), 1000)
                    ci[d.name] = (100 * low, 100 * high)
            if values:
                rows.append((_run_label(run), values, ci, unfinished(run), unscored))
                drawn.append(run)
                known = sorted(c for c in checkpoints if c)
                if known and notes is not None:
                    notes.append(f"{_run_label(run)}: xCOMET {', '.join(known)}")
                note = (run.config.get("data") or {}).get("note")   # (FLORES+ from the hub is not FLORES-200)
                if note:
                    data_notes.setdefault(note, []).append(_run_label(run))
            else:
                print(f"xling: note: {run.path} has no xCOMET scores, so it is not in Table 15 "
                      f"(add them with `xling rescore {run.path} -m xcomet`)", file=sys.stderr)
    if notes is not None:   # (each MT row's data named: a FLORES+ row beside a FLORES-200 one)
        notes += [f"{', '.join(labels)}: {note}" for note, labels in data_notes.items()]
    prompts = {_template(run) for run in drawn}
    if len(prompts) > 1 and notes is not None:   # the report prompted every model alike
        named = len({name for name, _ in prompts}) == len(prompts)   # (else an edited template: its hash)
        notes.append("rows made with different prompts: " + ", ".join(
            f"{run.label} {_template(run)[0]}" + ("" if named else f" ({_template(run)[1]})") for run in drawn)
            + "; the report used one prompt for all models")
    return rows


def _template(run: Run) -> tuple[str, str]:
    """The prompt template an MT run was made with: (name, hash) as its config.json keeps them."""
    kept = run.config.get("template") or {}
    identity = run.config.get("identity") or {}
    return (str(kept.get("name") or identity.get("template") or "?"),
            str(kept.get("hash") or identity.get("template_hash") or ""))


def table_figure(key: str, runs: Sequence[RunDir | Run]):
    return table_drawing(key, runs).figure


def table_drawing(key: str, runs: Sequence[RunDir | Run]) -> Drawing:
    """A report table drawn (and the table itself, as drawn: the printed values, your runs'
    values with their 95% intervals)."""

    paper = load_paper_table(key)
    stem = TABLE_FILES[key]
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
        data_notes: list[str] = []
        for label, vals, ci, stopped, unscored in run_rows([_typed(r) for r in runs], key, data_notes):
            if not any(c in vals for c in paper.columns):   # an empty row, said rather than drawn
                print(f"xling: note: {label} has none of {paper.title.split(':')[0]}'s "
                      f"{'directions' if key == 'table15' else 'languages'} ({', '.join(paper.columns)}), "
                      f"so it is not drawn there (it has {', '.join(vals)})", file=sys.stderr)
                continue
            missing = [c for c in paper.columns if c not in vals and c not in stopped and c not in unscored]
            waiting = [c for c in paper.columns if c not in vals and c in stopped]
            unmeasured = [c for c in paper.columns if c not in vals and c in unscored and c not in stopped]
            outside = [c for c in vals if c not in paper.columns]
            if missing or waiting or unmeasured or outside:   # blank cells and dropped ones, said
                data_notes.append(f"{label}: " + "; ".join(
                    ([f"not finished: {', '.join(waiting)} (blank)"] if waiting else [])
                    + ([f"{', '.join(unmeasured)} translated, without xCOMET segment scores (blank; "
                        "`xling rescore <run> -m xcomet --recompute` adds them)"] if unmeasured else [])
                    + ([f"no {', '.join(missing)} (blank)"] if missing else [])
                    + ([f"{', '.join(outside)} not drawn (not in the report's table)"] if outside else [])))
            labels.append(label)
            values.append([vals.get(c, np.nan) for c in paper.columns] + ([np.nan] if side else []))
            texts.append([(f"{vals[c]:.3f}\n[{ci[c][0]:.2f},{ci[c][1]:.2f}]" if key != "table15"
                           else f"{vals[c]:.2f}\n[{ci[c][0]:.1f},{ci[c][1]:.1f}]")
                          if c in vals else "" for c in paper.columns] + ([""] if side else []))
        xlabel = "translation direction" if key == "table15" else "language"
        figure = heatmap(paper.title, labels, columns, values, unit=paper.unit, labels=texts,
                         xlabel=xlabel, ylabel="model", separator_after=separator if runs else None)
        notes = [f"{paper.unit}; values as printed in the report"
                 + ("; your runs: the value and its 95% interval [low,high]" if len(labels) > separator + 1 else "")]
        notes += data_notes
        return Drawing(stem, paper.title, figure,
                       Table(paper.title, ["model"] + columns, [[m] + t for m, t in zip(labels, texts)], notes))
    if key == "table16":
        series = {m: [row[c] for c in paper.columns] for m, row in paper.rows.items()}
        figure = grouped_bars(paper.title, paper.columns, series, unit=paper.unit,
                              xlabel="tuned in X → tested in Y")
        extra = _printed_sides(paper)
        return Drawing(stem, paper.title, figure, Table(
            paper.title, ["model"] + paper.columns + [f"{c} (printed)" for c in extra],
            [[m] + [paper.printed[m][c] for c in [*paper.columns, *extra]] for m in paper.rows],
            [f"{paper.unit}, as printed"]))
    series = {m: [row[c] for c in paper.columns] for m, row in paper.rows.items()}
    reference = "HyperCLOVA X"
    ratios = {m: [f"{row[c] / paper.rows[reference][c]:.2f}x" for c in paper.columns]
              for m, row in paper.rows.items()}
    title = f"{paper.title} (ratio to {reference} above bars)"
    figure = grouped_bars(title, paper.columns, series, unit=paper.unit, xlabel="text type", annotations=ratios)
    extra = _printed_sides(paper)
    return Drawing(stem, title, figure, Table(
        paper.title, ["model"] + paper.columns + [f"{c} (printed)" for c in extra],
        [[m] + [f"{paper.printed[m][c]} ({ratios[m][k]})" for k, c in enumerate(paper.columns)]
         + [paper.printed[m][c] for c in extra] for m in paper.rows],
        [f"{paper.unit}, as printed; in brackets: the ratio to {reference}"]))


def _printed_sides(paper) -> list[str]:
    """The printed columns beside a table's cells (Table 1's vocabulary size and average, Table
    16's avg), kept on the page as Tables 13/14 keep theirs."""
    first: dict[str, str] = next(iter(paper.printed.values()), {})
    return [c for c in first if c not in paper.columns]


def run_figures(run: RunDir | Run) -> list[tuple[str, object]]:
    """Heatmaps of one run: an MT run's direction matrix per metric (off-target included), an
    NLI run's premise x hypothesis accuracy."""
    return [(d.stem, d.figure) for d in run_drawings(run)]


def _grid_table(title: str, corner: str, rows: list[str], cols: list[str], grid, unit: str, digits: int,
                left: Sequence[str] = ()) -> Table:
    """A heatmap's values as a table, at the decimals the text report gives them (`left`: the
    run's unfinished directions or cells, said under it)."""
    return Table(title, [corner] + cols,
                 [[r] + ["" if np.isnan(v) else f"{v:.{digits}f}" for v in grid[i]] for i, r in enumerate(rows)],
                 [unit] + ([f"not finished: {', '.join(left)} (left out: being written, or stopped; run the "
                            "command that made the run again to resume it)"] if left else []))


def run_drawings(run: RunDir | Run) -> Iterator[Drawing]:
    """run_figures' heatmaps, each with its table, drawn one at a time."""

    task = run.task if isinstance(run, Run) else run.read_config()["task"]
    if task not in ("mt", *CHOICE_TASKS):
        raise XlingError(f"{run.path} is a {task!r} run; figures take MT, NLI and "
                         "multiple-choice runs")
    run = _typed(run)
    name = run.label
    stem = name.replace("/", "_")   # a label that tells two same-named folders apart holds a /
    left = unfinished(run)   # (an interrupted run's heatmap was drawn as if it were the whole run)
    unsaid = f" (not finished: {', '.join(left[:4])}{', ...' if len(left) > 4 else ''})" if left else ""
    if isinstance(run, MTRun):
        scored = [d for d in run.directions if d.metrics]
        langs = list(dict.fromkeys(lang.code for d in scored for lang in (d.src, d.tgt)))
        for metric in run.metrics_present():
            grid = np.full((len(langs), len(langs)), np.nan)
            for d in scored:
                if metric in d.metrics:
                    grid[langs.index(d.src.code), langs.index(d.tgt.code)] = d.score(metric)
            mixed = made_otherwise(run, metric)   # (Table 15 and transfer refuse such a run; drawn here, said)
            title = f"{name}: {display(metric)} by direction{unsaid}" + (f" ({mixed}: not comparable)" if mixed else "")
            unit = get(metric).unit or display(metric)
            higher, digits = get(metric).higher_is_better, get(metric).digits
            yield Drawing(f"{stem}_{metric}_matrix", title, heatmap(
                title, langs, langs, grid, unit=unit, higher_is_better=higher, digits=digits,
                xlabel="target language", ylabel="source language"), _grid_table(
                title, "source \\ target", langs, langs, grid, unit + ("" if higher else " (lower is better)"),
                digits, left))
    elif isinstance(run, ChoiceRun):
        premises = list(dict.fromkeys(c.premise for c in run.cells))
        hypotheses = list(dict.fromkeys(c.hypothesis for c in run.cells))
        modes = [m for m in MODE_NAMES if any(m in c.modes for c in run.cells)]
        for mode in modes:   # a run scored both ways: one matrix each, named (was ll's alone, unsaid)
            grid = np.full((len(premises), len(hypotheses)), np.nan)
            for c in run.cells:
                if mode in c.modes:
                    grid[premises.index(c.premise), hypotheses.index(c.hypothesis)] = c.modes[mode]["accuracy"]
            title = f"{name}: accuracy ({MODE_NAMES[mode]}) by premise × hypothesis language{unsaid}"
            suffix = f"_{mode}" if mode != modes[0] else ""
            # 3 decimals, as the text report: 0.667, not 0.67
            yield Drawing(f"{stem}_accuracy_matrix{suffix}", title, heatmap(
                title, premises, hypotheses, grid, unit="accuracy", digits=3,
                xlabel="hypothesis language", ylabel="premise language", vmin=0, vmax=1),
                _grid_table(title, "premise \\ hypothesis", premises, hypotheses, grid, "accuracy", 3, left))


def figure2(ratio_runs: Sequence[RunDir | TuneRun]):
    return figure2_drawing(ratio_runs).figure


def figure2_drawing(ratio_runs: Sequence[RunDir | TuneRun]) -> Drawing:
    """Figure 2 from the ratio sweeps (its table: their points; none without runs)."""

    panels: dict[str, dict[str, Any]] = {"(a) train OpenOrca, test OpenOrca": {"ylabel": "Rouge-L"},
                                         "(b) train LIMA, test OpenOrca": {"ylabel": "Rouge-L"},
                                         "(c) train OpenOrca, test LIMA": {"ylabel": "preference"},
                                         "(d) train LIMA, test LIMA": {"ylabel": "preference"}}
    swept = []
    experiments: dict[str, tuple[dict, TuneRun]] = {}   # a panel's experiment, and the first run of it
    drawn: dict[str, list[TuneRun]] = {}   # the runs drawn in each panel so far
    for run in map(_typed, ratio_runs):
        if not isinstance(run, TuneRun):
            raise XlingError(f"{run.path} is a {run.task!r} run; Figure 2 takes instruction-tuning "
                             "ratio sweeps")
        # Points of one panel are averaged together: only repeats of one experiment (other seeds
        # or shares) may share it, never another model or training setting.
        same = {k: v for k, v in (run.config.get("identity") or {}).items()
                if k not in ("seeds", "ratios", "test_name")}   # (test_name only named the panel)
        units = {(u.get("ratio"), u.get("seed")) for u in run.units}
        measured = {_in_domain(panel, run.path): points for panel, points in run.figure2.items()}
        for panel in map(_panel_key, measured):   # (placed regardless of case: checked so too)
            first = experiments.setdefault(panel, (same, run))
            differ = sorted(k for k in set(same) | set(first[0]) if not same_setting(k, first[0], same))
            if differ:
                raise XlingError(f"{first[1].path} and {run.path} both draw Figure 2's panel '{panel}' but "
                                 f"differ in {', '.join(differ)}: their points would be averaged into one "
                                 "line; draw them in separate `xling figures` calls")
            # one experiment's unit (share, seed) in two folders (a copy, or a seed run twice) is
            # one model: drawn twice, it weighed double in the moving average
            for other in drawn.setdefault(panel, []):
                twice = sorted(units & {(u.get("ratio"), u.get("seed")) for u in other.units}, key=str)
                if twice:
                    ratio, seed = twice[0]
                    raise XlingError(f"{other.path} and {run.path} both hold share {ratio:g}, seed {seed} of one "
                                     f"experiment (panel '{panel}'): drawn from both, it would count twice; "
                                     "draw one of them")
            drawn[panel].append(run)
        swept += [(panel, points, run.label, run.path) for panel, points in measured.items()]

    def report_panel(panel: str) -> str | None:
        return next((k for k in panels if _panel_key(k.split(") ", 1)[-1]) == _panel_key(panel)), None)

    # "train OpenOrca, test LIMA" goes to the report's panel of that name (placed first, so that
    # no other pairing takes its letter); any other pairing takes a free panel under its own title.
    runs_of: dict[str, list[tuple[float, float, str]]] = {}   # table rows: a point and its run
    placed: dict[str, str] = {}
    left_out: list[str] = []
    for panel, points, label, path in sorted(swept, key=lambda item: report_panel(item[0]) is None):
        target = placed.get(_panel_key(panel)) or report_panel(panel)
        if target is None:
            free = next((k for k in panels if "ko" not in panels[k] and "en" not in panels[k]
                         and not any(report_panel(p) == k for p, *_ in swept)), None)
            if free is None:   # four panels taken: said, never dropped unsaid
                left_out.append(f"{path} ('{panel}'): no free panel (Figure 2 has four); draw it in a "
                                "separate `xling figures` call")
                print(f"xling: note: {left_out[-1]}", file=sys.stderr)
                continue
            target = f"{free.split(' ', 1)[0]} {panel}"
            panels = {(target if k == free else k): ({} if k == free else v) for k, v in panels.items()}
        placed[_panel_key(panel)] = target
        panels[target]["ylabel"] = points.get("ylabel", panels[target].get("ylabel"))
        for lang in ("ko", "en"):
            panels[target].setdefault(lang, []).extend(tuple(p) for p in points.get(lang, []))
            runs_of.setdefault(f"{target}\t{lang}", []).extend((p[0], p[1], label) for p in points.get(lang, []))
    title = "Figure 2: Korean share in instruction tuning vs. performance"
    rows = [[panel, "Korean" if lang == "ko" else "English", f"{x:g}", f"{y:.4g}", label]
            for panel in panels for lang in ("ko", "en")
            for x, y, label in sorted(runs_of.get(f"{panel}\t{lang}", []), key=lambda p: (p[0], p[2], p[1]))]
    table = Table(title, ["panel", "tested in", "Korean share (%)", "score", "run"], rows,
                  ["each run's points (the lines are moving averages over neighbouring shares; "
                   "runs drawn in one panel are repeats of one experiment)"]
                  + [f"not drawn: {why}" for why in left_out]) if rows else None
    return Drawing("figure2_language_ratio", title, ratio_panels(panels, title), table)


def _in_domain(panel: str, path) -> str:
    """A sweep's panel as what it measured: a sweep tests on pairs held out of its training data,
    so an older one whose test_name named another data set ("train LIMA, test OpenOrca", the
    report's cross-dataset panel) is drawn as train LIMA, test LIMA, and said."""
    found = re.fullmatch(r"train (.+), test (.+)", panel.strip())
    if found is None or _panel_key(found.group(1)) == _panel_key(found.group(2)):
        return panel
    print(f"xling: note: {path} is drawn as 'train {found.group(1)}, test {found.group(1)}', not '{panel}': its "
          "test pairs were held out of its training data (test_name only named the panel)", file=sys.stderr)
    return f"train {found.group(1)}, test {found.group(1)}"


def _panel_key(panel: str) -> str:
    """A sweep's panel as it is placed: "train OpenOrca, test LIMA" and "train openorca, test lima"
    are one panel (and so one experiment, checked as such)."""
    return " ".join(panel.lower().split())


def _typed(run: RunDir | Run) -> Run:
    return run if isinstance(run, Run) else read_run(run, fresh=True)


def make_figures(out_dir: str | Path = "figures", run_paths: Sequence[str] = ()) -> list[Path]:
    """Every figure (PNG and PDF) and index.html, the page that shows them, in `out_dir`."""
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise XlingError(f"-o {out_dir} is a file; figures go into a folder")
    # Every run is read (and checked) before anything is drawn; a run named twice is drawn once.
    first: dict[Path, str] = {}
    for p in run_paths:
        first.setdefault(Path(p).expanduser().resolve(), p)
    run_paths = list(first.values())
    runs = [read_run(p, fresh=True) for p in run_paths]
    for record in runs:   # one with nothing finished is an error, one partly finished a warning (as report)
        check_complete(record)
    distinguish(runs)
    target = Path(out_dir).expanduser().resolve()
    if any(is_run_folder(folder) for folder in (target, *target.parents)) \
            or any(Path(p).expanduser().resolve() in (target, *target.parents) for p in run_paths):
        raise XlingError(f"-o {out_dir} is (or is inside) a run folder, which holds only what a run "
                         "writes; draw the figures elsewhere")
    ratio_runs = [r for r in runs if isinstance(r, TuneRun)]
    other = [r for r in runs if not isinstance(r, TuneRun)]

    def drawings():
        for key in TABLE_FILES:
            yield table_drawing(key, other)
        yield figure2_drawing(ratio_runs)
        for run in other:
            yield from run_drawings(run)

    # Every figure is drawn and rendered in memory (and closed: one open at a time) before any
    # file is written, so a run that cannot be drawn leaves nothing behind.
    rendered, entries = [], []
    for drawing in drawings():
        files = render_figure(drawing.figure)
        rendered.append((drawing.stem, files))
        entries.append(figure_entry(drawing.stem, drawing.title, files["png"], drawing.table))
    written = []
    for stem, files in rendered:
        written += write_rendered(files, Path(out_dir) / stem)
    page = Path(out_dir) / PAGE
    text = figures_page(entries, [str(p) for p in run_paths])
    with atomic_writer(page) as handle:
        handle.write(text)
    return written + [page]
