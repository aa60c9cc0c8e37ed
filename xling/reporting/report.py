"""`xling report`: tables from run folders — per-direction scores, the N×N direction matrix for
each metric, off-target rates, and paired significance of each run against the first."""
from __future__ import annotations

import math
from pathlib import Path
from typing import cast

from ..data.choice import NLI_LABELS
from ..data.languages import resolve
from ..data.textio import counted
from ..errors import XlingError
from ..metrics.registry import ALIASES, display, get, parse_metric_names
from ..metrics.significance import paired_test, same_measure
from ..metrics.unsegmented import result_warning, warn
from ..prompts.choice import CHOICE_PARSER
from ..runs.records import (
    ChoiceRun,
    DirectionScores,
    MTRun,
    TuneRun,
    by_field,
    check_complete,
    check_paired,
    distinguish,
    document_result,
    metric_result,
    read_run,
)
from .scores import OFF_TARGET_NOTE
from .tables import Table, p_text, signed


class Results:
    """Each run's outputs and metric results, read and computed once per report: the tables, the
    paired tests and the HTML page's segment browser share them (string metrics are recomputed
    from the outputs; model-based ones come from the stored segment scores)."""

    def __init__(self) -> None:
        self._records: dict = {}
        self._results: dict = {}
        # metric -> the "runs compared" table's rows as numbers (the page draws them; no text re-read)
        self.compared: dict[str, list[dict]] = {}

    def records(self, run: MTRun, name: str) -> list[dict]:
        key = (str(run.path), name)
        if key not in self._records:
            self._records[key] = run.run.read_outputs(name)
        return self._records[key]

    def get(self, run: MTRun, name: str, metric: str, positions: list[int] | None = None):
        key = (str(run.path), name, metric, None if positions is None else tuple(positions))
        if key not in self._results:
            self._results[key] = metric_result(run.run, name, metric, positions, self.records(run, name))
        return self._results[key]


def _columns(metrics: list[str]) -> list[str]:
    """Each metric's column, then the figures its spec shows beside it (Undetermined%)."""
    return [title for m in metrics for title in (display(m), *(t for _, t in get(m).beside))]


def _figures(metric: str, result) -> list[str]:
    """The cells of _columns for one metric: its score and its beside figures, from a stored
    entry (a dict; None when not scored) or a MetricResult; '' where a figure is missing."""
    spec = get(metric)
    if result is None:
        return [""] * (1 + len(spec.beside))
    score = result["score"] if isinstance(result, dict) else result.score
    return [_score_text(score, spec.digits)] + ["" if v is None else _score_text(v) for v in spec.beside_values(result)]


def _shown(value: float | None, digits: int) -> float | None:
    """A number as its table cell shows it (the page shows the same); None for n/a."""
    return None if value is None or math.isnan(value) else float(f"{value:.{digits}f}")


def _cell(score: float | None, digits: int, *, comparable: bool = True, p=None, why: str | None = None) -> dict:
    """A "runs compared" cell as numbers: the later run's score, and its paired test against the
    first (`p`, a PairedResult) or why there is none."""
    tested = p is not None and not math.isnan(p.delta)
    return {"score": _shown(score, digits), "delta": _shown(p.delta, digits) if tested else None,
            "p": float(p_text(p.p_value)) if tested else None, "mark": (p.verdict or None) if tested else None,
            "comparable": comparable, "judged_both": p.judged_both if p is not None else None, "why": why}


def _score_text(score: float | None, digits: int = 2) -> str:
    """A score as shown: two decimals (four on COMET's 0-1 scale, where systems differ in the
    third); n/a where there is none (NaN: nothing could be scored)."""
    return "n/a" if score is None or math.isnan(score) else f"{score:.{digits}f}"


# Metrics that reward what another of their family chose: one family each (chrF++ with chrF,
# spBLEU with BLEU; CometKiwi, xCOMET and COMET-22 are models of one family and training data,
# and reranking by one inflates the others; MetricX-QE with MetricX)
_FAMILIES = {"chrf++": "chrf", "spbleu": "bleu", "cometkiwi": "comet", "cometkiwi-xl": "comet", "xcomet": "comet",
             "xcomet-qe": "comet", "metricx-qe": "metricx"}


def _family(metric: str) -> str:
    name = metric.lower()
    name = ALIASES.get(name, name)
    return _FAMILIES.get(name, name)


def chosen_by(run: MTRun, metric: str) -> str | None:
    """A note for a run whose outputs were chosen among candidates by `metric` (or its family):
    the score the choice optimised reads better than the outputs are."""
    select = run.settings.get("select") or "greedy"
    chooser = run.settings.get("utility") if select == "mbr" else run.settings.get("qe") if select == "rerank" else None
    if not isinstance(chooser, str) or _family(chooser) != _family(metric):
        return None
    same = ALIASES.get(chooser.lower(), chooser.lower()) == ALIASES.get(metric.lower(), metric.lower())
    # (MetricX and TER: the choice took the lowest)
    try:
        optimised = "maximised" if get(chooser).higher_is_better else "minimised"
    except XlingError:   # (a plugin's metric no longer installed)
        optimised = "optimised"
    return (f"{run.label} chose each output among candidates by {display(chooser)} ({select}): its "
            f"{display(metric)} is " + (f"what the choice {optimised}" if same else "of that metric's family, which "
                                        "favours what it chose") + ", not an independent measure")


def data_note(run: MTRun) -> str | None:
    """What the run's data says of itself (config.json's data.note: WMT24++'s segments dropped and
    the references scored, FLORES+ for FLORES-200), named by its spec; None where it says nothing."""
    data = run.config.get("data") or {}
    note, spec = data.get("note"), data.get("spec") or run.settings.get("data")
    if not isinstance(note, str) or not note.strip():
        return None
    return f"data ({spec}): {note}" if spec else f"data: {note}"


def direction_table(run: MTRun, only: list[str] | None = None) -> Table:
    metrics = [m for m in run.metrics_present() if only is None or m in only]
    rows = [[d.name, "" if d.n is None else str(d.n)]
            + [cell for m in metrics for cell in _figures(m, d.metrics.get(m))] for d in run.directions]
    notes = [note for note in (data_note(run),) if note]   # (two runs on other references read alike)
    for m in metrics:
        by_signature: dict[str, list[str]] = {}   # BLEU's tokenizer differs by target language
        for d in run.directions:
            if m in d.metrics:
                by_signature.setdefault(d.metrics[m]["signature"], []).append(d.name)
        for sig, dirs in by_signature.items():
            where = f" [{', '.join(dirs)}]" if len(by_signature) > 1 else ""
            notes.append(f"{display(m)}: {sig}{where}")
    for d in run.directions:
        if d.realignment:
            r = d.realignment
            notes.append(f"{d.name}, translated by document: {r['failed_chunks']} of {counted(r['chunks'], 'chunk')} "
                         f"could not be split back into segments ({counted(r['failed_segments'], 'segment')} "
                         "scored as empty)")
    for d in run.directions:   # (the run said so on stderr; the scores hold them as they were cut)
        for n, chunks, outputs in ((d.cut_at_budget, "that stopped at the token budget",
                                    "stopped at the token budget"),
                                   (d.cut_by_content_filter, "that the server's content filter stopped",
                                    "stopped by the server's content filter")):
            plural = "s" * (n != 1)
            if n and d.realignment:
                empty = ", or as empty where not split back" if d.realignment.get("failed_segments") else ""
                notes.append(f"{d.name}: {n} segment{plural} from chunk answers {chunks} (scored as cut{empty})")
            elif n:
                notes.append(f"{d.name}: {n} output{plural} {outputs} (scored as cut)")
    notes += [note for note in (chosen_by(run, m) for m in metrics) if note]
    lower = [display(m) for m in metrics if not get(m).higher_is_better]
    if lower:   # (as `xling score` says: the single-run tables have no better/worse marks)
        notes.append(f"lower is better: {', '.join(lower)}")
    if "offtarget" in metrics:
        notes.append(OFF_TARGET_NOTE)
    return Table(f"{run.label}: {run.model.get('model', '?')} ({run.model.get('revision', '?')})",
                 ["direction", "n"] + _columns(metrics), rows, notes)


def direction_matrix(run: MTRun, metric: str, beside: int | None = None) -> Table | None:
    """The N×N matrix of a metric's score, or (`beside`: its index) of one of its beside figures."""
    scored = [d for d in run.directions if metric in d.metrics]
    if not scored:
        return None
    langs = list(dict.fromkeys(lang.code for d in scored for lang in (d.src, d.tgt)))
    spec = get(metric)
    if beside is None:
        title, cell = display(metric), {(d.src.code, d.tgt.code): d.score(metric) for d in scored}
    else:
        title = spec.beside[beside][1]
        cell = {(d.src.code, d.tgt.code): spec.beside_values(d.metrics[metric])[beside] for d in scored}
    digits = spec.digits if beside is None else 2
    rows = [[f"{s} →"] + ["—" if s == t else ("" if cell.get((s, t)) is None else _score_text(cell[s, t], digits))
                          for t in langs] for s in langs]
    return Table(f"{run.label}: {title} by direction (rows: source, columns: target)",
                 ["src \\ tgt"] + langs, rows)


DOCUMENT_METRICS = ("bleu", "chrf")


def domain_table(run: MTRun, direction, only: list[str] | None = None, results: Results | None = None) -> Table | None:
    """Scores by domain (WMT24++: news, social, speech, literary) and over all segments, with
    document-level BLEU/chrF (each document's segments joined) beside the segment-level ones."""
    results = results or Results()
    records = results.records(run, direction.name)
    domains = by_field(records, "domain")
    documents = by_field(records, "document_id")
    if not domains and not documents:
        return None
    metrics = [m for m in direction.metrics if only is None or m in only]
    doc_metrics = [m for m in metrics if m in DOCUMENT_METRICS] if documents else []
    if not domains and not doc_metrics:
        return None
    rows, changed, whole = [], [], {}
    for label, positions in [("all", None), *domains.items()]:
        row = [label, str(len(records) if positions is None else len(positions))]
        found = {m: results.get(run, direction.name, m, positions) for m in metrics}
        if positions is None:   # recomputed now: a model file changed since the run was scored?
            whole = found
            changed = [m for m in metrics if _stored_otherwise(direction, m, found[m])]
        row += [cell for m in metrics for cell in _figures(m, found[m])]
        if doc_metrics:
            subset = records if positions is None else [records[i] for i in positions]
            doc_results = [document_result(run.run, direction.name, m, positions, records) for m in doc_metrics]
            total = len(by_field(subset, "document_id"))
            scored = doc_results[0].extra["documents_scored"] if doc_results[0] is not None else 0
            row.append(str(total) if scored == total else f"{scored}/{total} realigned")
            row += ["—" if r is None else f"{r.score:.2f}" for r in doc_results]
        rows.append(row)
    # (headed "domain" even for data without domains, its one row "all": a script reading the
    # table's CSV finds the same column whatever the data; review C)
    header = ["domain", "n"] + _columns(metrics)
    if doc_metrics:
        header += ["documents"] + [f"{display(m)} (doc)" for m in doc_metrics]
    notes = ["(doc): each document's outputs and references joined in segment order and scored as "
             "one segment"] if doc_metrics else []
    if doc_metrics and run.config.get("documents_cut"):
        notes.append(f"{run.config['documents_cut']} document(s) cut short by --limit/--limit-per-domain: "
                     "counted and scored on the segments taken")
    notes += [_restated_note(run, direction.name, m, whole[m], "these rows are") for m in changed]
    what = "by domain" if domains else "by document"
    return Table(f"{run.label}: {direction.name} {what}", header, rows, notes)


def _stored_otherwise(direction, metric: str, recomputed) -> bool:
    """Whether a direction's stored score was made otherwise than it is recomputed now (a model
    file changed since, an older xling's rules, or another version or code of its plugin)."""
    stored = direction.metrics.get(metric, {})
    if _plugin_changed(stored, metric):   # same signature, other code: a plugin edited in place
        return True
    return stored.get("signature") not in (None, recomputed.signature) and "subset:" not in recomputed.signature


def _plugin_changed(stored: dict, metric: str) -> str | None:
    """How the plugin that made a stored score differs from the one loaded now (as `spec.stale`
    compares them); None where it does not, or the score predates `made_with`."""
    made, spec = stored.get("made_with") or {}, get(metric)
    if spec.plugin is None or "plugin" not in made:
        return None
    if made["plugin"] != spec.plugin:
        return f"plugin {made['plugin']} (the plugin changed since: {spec.plugin} is installed now)"
    if made.get("plugin_content", spec.plugin_content) != spec.plugin_content:
        return f"plugin {spec.plugin}'s code as it was then (the plugin changed since: its code was edited)"
    return None


def _restated_note(run: MTRun, name: str, metric: str, recomputed, what: str) -> str:
    stored = cast(DirectionScores, run.direction(name)).metrics[metric]
    made = _plugin_changed(stored, metric) or (f"{stored['signature']} (a model file changed since, "
                                               "or an older xling's rules)")
    return (f"{display(metric)}: {what} recomputed with {recomputed.signature}, but {run.label} {name}'s stored "
            f"score was made with {made}: `xling rescore {run.path} -m {metric} --recompute` makes them agree")


def _reference(run: MTRun) -> str:
    """The WMT24++ references a run scored against (--reference; a run before the setting: post-edit)."""
    return str(run.settings.get("reference") or "post-edit")


def reference_notes(runs: list[MTRun]) -> list[str]:
    """Each later run scored against other WMT24++ references than the first (the post-edits or the
    originals): said, where the tables would otherwise only show "another reference" in some item."""
    return [f"{runs[0].label} and {run.label} were scored against different references: {_reference(runs[0])} "
            f"vs {_reference(run)} (--reference)" for run in runs[1:] if _reference(run) != _reference(runs[0])]


def comparison(runs: list[MTRun], metric: str, test: str = "bs", n_samples: int | None = None,
               seed: int = 12345, results: Results | None = None) -> Table | None:
    """Each later run against the first on each direction the first scored with `metric`, where
    the later run scored it too (same segment ids); "—" where it did not (a run lacking the
    direction, or the metric, never hides the others' tests, and no score is made up for it)."""
    results = results or Results()
    digits = get(metric).digits
    base = runs[0]

    def scored(run: MTRun, name: str) -> bool:
        direction = run.direction(name)
        return direction is not None and metric in direction.metrics

    # every direction the baseline scored: one no other run has is a row of "—", said (with two
    # runs it was left out without a word, and a metric only the baseline has with it)
    shared = [d.name for d in base.directions if metric in d.metrics]
    if not shared:
        return None
    if not any(scored(r, name) for r in runs[1:] for name in shared):
        return Table(f"{display(metric)}: runs compared", ["direction"], [], [
            f"not compared: no run but {base.label} (the baseline) has a {display(metric)} score; "
            f"`xling rescore RUN -m {metric}` adds them"])
    rows: list[list[str]] = []
    refused: dict[tuple[str, str], tuple[str, str]] = {}   # (run, direction) -> (its signature, theirs)
    absent: dict[str, list[str]] = {}    # run -> directions it did not score with the metric
    restated: list[str] = []             # scores the tests recompute otherwise than they are stored
    mismatched: list[str] = []           # directions two runs scored on other segments
    compared: list[dict] = []            # the rows as numbers, for the page
    for name in shared:
        records = results.records(base, name)
        unpaired = set()
        for other in runs[1:]:
            if not scored(other, name):
                absent.setdefault(other.label, []).append(name)
                continue
            try:   # other segments (another --limit): no paired test, the other tables stay
                check_paired(base.path, records, other.path, results.records(other, name), name)
            except XlingError as exc:
                unpaired.add(other.label)
                mismatched.append(f"—: {exc}")
        # The whole direction, then each domain on its own (when the data has domains).
        for label, positions in [(name, None), *((f"{name} {d}", p) for d, p in by_field(records, "domain").items())]:
            baseline = results.get(base, name, metric, positions)
            row = [label, _score_text(baseline.score, digits)]
            cells: list[dict | None] = []
            if positions is None:   # a stored score the other tables show, made otherwise: said
                restated += [_restated_note(run, name, metric, results.get(run, name, metric), "the tests are")
                             for run in runs if scored(run, name)
                             and _stored_otherwise(run.direction(name), metric, results.get(run, name, metric))]
            for other in runs[1:]:
                if not scored(other, name) or other.label in unpaired:
                    row.append("—")
                    cells.append(None)
                    continue
                result = results.get(other, name, metric, positions)
                if not same_measure(result.signature, baseline.signature):   # another tokenizer, model, ...
                    row.append(f"{_score_text(result.score, digits)} (not comparable)")
                    cells.append(_cell(result.score, digits, comparable=False, why="not comparable"))
                    refused.setdefault((other.label, name), (baseline.signature, result.signature))
                    continue
                if math.isnan(baseline.score) or math.isnan(result.score):   # e.g. no judge answer read
                    row.append(f"{_score_text(result.score, digits)} (no test)")
                    cells.append(_cell(result.score, digits, why="no test"))
                    continue
                (p,) = paired_test(baseline, {"x": result}, test, n_samples, seed)
                verdict = f" {p.verdict}*" if p.verdict else ""
                if p.judged_both and math.isnan(p.delta):
                    row.append(f"{_score_text(result.score, digits)} (no test: no segment judged for both)")
                    cells.append(_cell(result.score, digits, p=p, why="no test: no segment judged for both"))
                elif p.judged_both:   # (a judge's test over the segments both runs' answers were read on)
                    row.append(f"{result.score:.{digits}f} ({signed(p.delta, digits)} on the {p.judged_both} segments "
                               f"judged for both, p={p_text(p.p_value)}){verdict}")
                    cells.append(_cell(result.score, digits, p=p))
                else:
                    row.append(f"{p.score:.{digits}f} ({signed(p.delta, digits)}, p={p_text(p.p_value)}){verdict}")
                    cells.append(_cell(p.score, digits, p=p))
            rows.append(row)
            compared.append({"label": label, "base": _shown(baseline.score, digits), "cells": cells})
    note = (f"paired {'bootstrap' if test == 'bs' else 'approximate randomization'} against "
            f"{base.label}; better*/worse*: p < 0.05, in the metric's own direction (never for equal scores)"
            + ("" if get(metric).higher_is_better else f"; lower {display(metric)} is better"))
    notes = [note] + [f"not comparable: {label} {direction} was scored with another {display(metric)} "
                      f"({theirs}) than {base.label} ({ours}); no test is made across signatures"
                      for (label, direction), (ours, theirs) in refused.items()]
    notes += [f"—: {label} has no {display(metric)} score for {', '.join(names)}" for label, names in absent.items()]
    notes += reference_notes(runs) + mismatched + restated
    notes += [note for note in (chosen_by(run, metric) for run in runs) if note]
    unbased = [d.name for r in runs[1:] for d in r.directions if metric in d.metrics
               and not scored(base, d.name)]
    if unbased:   # nothing to test them against: said, never silently left out
        notes.append(f"not compared: {', '.join(dict.fromkeys(unbased))}, which {base.label} (the baseline) did "
                     f"not score with {display(metric)}; put a run that did first")
    results.compared[metric] = compared
    return Table(f"{display(metric)}: runs compared", ["direction"] + [r.label for r in runs], rows, notes)


def choice_comparison_table(runs: list[ChoiceRun]) -> Table:
    """Each later run against the first, cell by cell and mode by mode: the accuracy difference
    and the exact McNemar p over the items paired by id (the HTML page's test)."""
    from .html_choice import paired_comparisons

    rows, compared = [], set()
    for base_cell in runs[0].cells:
        cells = [next((c for c in r.cells if c.name == base_cell.name), None) for r in runs]
        records = [r.run.read_outputs(c.name) if c is not None else None for r, c in zip(runs, cells)]
        for entry in paired_comparisons(runs, cells, records):
            compared.add(entry["run"])
            label = runs[entry["run"]].label
            if not entry["comparable"]:
                rows.append([entry["cell"], entry["mode"], label, "", "", "", f"not comparable: {entry['reason']}"])
                continue
            verdict = f" {entry['mark']}*" if entry["mark"] else ""
            rows.append([entry["cell"], entry["mode"], label, f"{entry['base']:.3f}", f"{entry['acc']:.3f}",
                         signed(entry['delta'], 3), f"p={p_text(entry['p'])}{verdict}"])
    modes = lambda run: "/".join(sorted({m for c in run.cells for m in c.modes}))   # noqa: E731
    unpaired = [f"{run.label} shares no cell and answer mode with {runs[0].label} ({modes(run)} vs "
                f"{modes(runs[0])}): not compared" for k, run in enumerate(runs[1:], 1) if k not in compared]
    # what one side scored and the other did not: said, never silently left out (as for MT)
    scored = lambda run: [(c.name, m) for c in run.cells for m in ("ll", "gen") if m in c.modes]   # noqa: E731
    shown = lambda pairs: ", ".join(f"{cell} ({mode})" for cell, mode in pairs)   # noqa: E731
    partly = []
    for k, run in enumerate(runs[1:], 1):
        if k not in compared:
            continue
        lacking = [pair for pair in scored(runs[0]) if pair not in scored(run)]
        unbased = [pair for pair in scored(run) if pair not in scored(runs[0])]
        if lacking:
            partly.append(f"not compared: {shown(lacking)}, which {run.label} did not score")
        if unbased:
            partly.append(f"not compared: {shown(unbased)} of {run.label}, which {runs[0].label} (the baseline) "
                          "did not score; put a run that did first")
    return Table(f"runs compared with {runs[0].label}", ["cell", "mode", "run", runs[0].label, "accuracy", "Δ", "test"],
                 rows, ["exact McNemar test over the items paired by id (two-sided); better*/worse*: p < 0.05"]
                 + unpaired + partly)


def choice_tables(run: ChoiceRun) -> list[Table]:
    """Accuracy per language (with 95% bootstrap interval), invalid-answer rate, and the premise x
    hypothesis matrix when the run crossed languages."""
    modes = [m for m in ("ll", "gen") if any(m in c.modes for c in run.cells)]
    header = ["language", "n"]
    for m in modes:
        header += [f"acc ({m})", "95% CI"] + (["invalid"] if m == "gen" else [])
    rows = []
    for cell in run.cells:
        row = [cell.name, str(cell.n)]
        for m in modes:
            e = cell.modes.get(m)
            row += [f"{e['accuracy']:.3f}", f"[{e['ci_low']:.3f}, {e['ci_high']:.3f}]"] if e else ["", ""]
            if m == "gen":
                row.append(f"{e['invalid_rate']:.1%}" if e else "")
        rows.append(row)
    note = run.config.get("data", {}).get("note")
    notes = [note] if note else []
    older = sorted({c.name for c in run.cells if "gen" in c.modes
                    and c.modes["gen"].get("parser", 1) < CHOICE_PARSER})
    if older:
        notes.append(f"{', '.join(older)}: generated answers read by an older xling's parser (now parser "
                     f"{CHOICE_PARSER}); run the same `xling eval` again to read them anew (from the cache, "
                     "no model call)" + ("; a PAWS-X run asked in another --prompt-lang than its data's is "
                     "refused since round 24 (its prompts changed): --overwrite asks the model again"
                     if str(run.config.get("data", {}).get("spec", "")).startswith(("pawsx", "paws-x"))
                     and (run.settings.get("prompt_lang") or "data") != "data" else ""))
    # (two runs differing only in --prompt-lang read the same)
    prompts = run.settings.get("prompt_lang") or "data"
    if prompts != "data":
        try:
            prompts = resolve(str(prompts)).name
        except XlingError:
            pass
    tables = [Table(f"{run.label}: {run.settings['data']}, {run.model.get('model', '?')}, "
                    f"{run.settings['shots']}-shot" + (f", prompts in {prompts}" if prompts != "data" else ""),
                    header, rows, notes)]
    tables += label_tables(run, modes)
    if any(c.crossed for c in run.cells):
        premises = list(dict.fromkeys(c.premise for c in run.cells))
        hypotheses = list(dict.fromkeys(c.hypothesis for c in run.cells))
        second = "hypothesis" if run.task == "nli" else "options"   # a COPA cell's alternatives
        for mode in modes:   # (the first mode's alone was drawn)
            value = {(c.premise, c.hypothesis): c.modes[mode]["accuracy"] for c in run.cells if mode in c.modes}
            tables.append(Table(f"{run.label}: accuracy ({mode}) by premise (rows) x {second} (columns) language",
                                [f"premise \\ {second}"] + hypotheses,
                                [[p] + [f"{value[p, h]:.3f}" if (p, h) in value else "" for h in hypotheses]
                                 for p in premises]))
    return tables


def _label_names(run: ChoiceRun, n: int) -> list[str]:

    return list(NLI_LABELS) if run.task == "nli" and n == len(NLI_LABELS) else [chr(ord("A") + i) for i in range(n)]


def label_tables(run: ChoiceRun, modes: list[str]) -> list[Table]:
    """What the model answered: the share of each predicted label per language (a model that
    answers one label most of the time shows at a glance), and the confusion matrix over all
    languages (rows gold, columns predicted; "invalid" for answers that name no label)."""
    tables = []
    for mode in modes:
        entries = [(c.name, c.modes[mode]) for c in run.cells if "confusion" in c.modes.get(mode, {})]
        if not entries:
            continue
        width = len(entries[0][1]["confusion"])
        names = _label_names(run, width)
        rows, gold = [], [0] * width
        for name, entry in entries:
            predicted = [sum(row[k] for row in entry["confusion"]) for k in range(width + 1)]
            total = sum(predicted) or 1
            rows.append([name] + [f"{100 * v / total:.1f}" for v in predicted])
            gold = [g + sum(entry["confusion"][k]) for k, g in enumerate(gold)]
        # the gold shares of these very items (a --limit subset or a user's file need not be balanced)
        shares = ", ".join(f"{n} {100 * g / (sum(gold) or 1):.1f}%" for n, g in zip(names, gold))
        notes = [f"gold labels of these items: {shares}"]
        if names[0] == "A":
            notes.append("A, B, ...: the options in the data's order (PAWS-X: A = paraphrase; XCOPA: A = choice1)")
        tables.append(Table(f"{run.label}: predicted labels ({mode}), % of items", ["language"] + names + ["invalid"],
                            rows, notes))
        summed = [[sum(e["confusion"][g][k] for _, e in entries) for k in range(width + 1)] for g in range(width)]
        tables.append(Table(f"{run.label}: confusion ({mode}), all languages: gold (rows) x predicted (columns)",
                            ["gold \\ predicted"] + names + ["invalid"],
                            [[names[g]] + [str(v) for v in summed[g]] for g in range(width)]))
    return tables


def tune_table(run: TuneRun) -> Table:
    """The language-ratio sweep: Rouge-L (and, judged, the preference with its unreadable
    verdicts) per share and seed, losses, and Score(X->Y)."""
    judged = any("preference_ko" in u or "preference_en" in u for u in run.units)

    def number(value) -> str:
        return f"{value:.3f}" if isinstance(value, (int, float)) and math.isfinite(value) else "n/a"

    def share(u) -> str:   # the share trained on (a share of few examples rounds), and the one asked
        trained = u.get("korean_share", u["ratio"])
        return f"{trained:.1%}" + (f" (asked {u['ratio']:.1%})" if abs(trained - u["ratio"]) > 1e-9 else "")

    rows = [[share(u), str(u["seed"]), number(u.get("rougeL_ko")), number(u.get("rougeL_en"))]
            + ([number(u.get("preference_ko")), number(u.get("preference_en")),
                str(u.get("unparseable_ko", 0) + u.get("unparseable_en", 0))] if judged else [])
            + [f"{u['losses'][0]:.3f}" if u["losses"] else "", f"{u['losses'][-1]:.3f}" if u["losses"] else ""]
            for u in run.units]
    header = ["share of Korean", "seed", "Rouge-L ko", "Rouge-L en"] \
        + (["preference ko", "preference en", "unreadable verdicts"] if judged else []) + ["first loss", "last loss"]
    scores = ", ".join(f"{k} {v:.3f}" for k, v in run.score_x_to_y.items())
    notes = ["Score(X->Y): " + (scores or "none (a setting needs a readable, non-zero score at every share it "
                                          "compares, the monolingual one included)")]
    if judged:
        notes.append("preference: share of judged wins against the monolingual model (n/a: no readable verdict)")
    return Table(f"{run.label}: language-ratio sweep", header, rows, notes)


def build_report(paths: list[str], metrics: list[str] | None = None, test: str = "bs",
                 n_samples: int | None = None, results: Results | None = None) -> list[Table]:
    """The report's tables; `results`: a memo shared with the caller (the HTML page)."""
    results = results or Results()

    metrics = parse_metric_names(metrics) if metrics else None
    paths = [paths] if isinstance(paths, (str, Path)) else paths   # one run folder given alone
    runs = [read_run(p, fresh=True) for p in paths]
    distinguish(runs)
    for run in runs:
        check_complete(run)
    kinds = {r.path: "MT" if isinstance(r, MTRun) else "tuning" if isinstance(r, TuneRun) else r.task
             for r in runs}
    if len({k if k in ("MT", "tuning") else "choice" for k in kinds.values()}) > 1:
        raise XlingError("xling report compares runs of one kind; these are not: "
                         + ", ".join(f"{path} ({kind})" for path, kind in kinds.items()))
    choice = [r for r in runs if isinstance(r, ChoiceRun)]
    if choice:
        return [t for r in choice for t in choice_tables(r)] + ([choice_comparison_table(choice)]
                                                                 if len(choice) > 1 else [])
    tuned = [r for r in runs if isinstance(r, TuneRun)]
    if tuned:
        return [tune_table(r) for r in tuned]
    mt_runs: list[MTRun] = []
    for run in runs:
        if not isinstance(run, MTRun):
            raise XlingError(f"{run.path} is not an MT run")
        mt_runs.append(run)
    tables = []
    warn(result_warning(m, entry["signature"], d.tgt.code) for run in mt_runs for d in run.directions
         for m, entry in d.metrics.items() if metrics is None or m in metrics)
    for run in mt_runs:
        present = run.metrics_present()
        missing = [m for m in metrics or [] if m not in present]
        if missing:
            raise XlingError(f"{run.path} has no {', '.join(missing)} scores; `xling rescore "
                             f"{run.path} -m {','.join(missing)}` adds them")
        tables.append(direction_table(run, metrics))
        for direction in run.directions:
            by_domain = domain_table(run, direction, metrics, results)
            if by_domain:
                tables.append(by_domain)
        for metric in metrics or present:
            for beside in (None, *range(len(get(metric).beside))):
                matrix = direction_matrix(run, metric, beside)
                if matrix:
                    tables.append(matrix)
    if len(mt_runs) > 1:
        for metric in metrics or dict.fromkeys(m for run in mt_runs for m in run.metrics_present()):
            if not any(metric in d.metrics for d in mt_runs[0].directions):   # said, never dropped
                tables.append(Table(f"{display(metric)}: runs compared", ["direction"], [], [
                    f"not compared: {mt_runs[0].label} (the baseline) has no {display(metric)} score; "
                    f"`xling rescore {mt_runs[0].path} -m {metric}` adds them, or put a run that has them first"]))
                continue
            table = comparison(mt_runs, metric, test, n_samples, results=results)
            if table:
                tables.append(table)
    return tables
