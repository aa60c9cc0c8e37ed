"""`xling report RUN ... --format html -o report.html`: one self-contained HTML page for MT run
folders (issue 33). Everything is inline (the CSS, the JS, the data as JSON once); nothing is
fetched, and a Content-Security-Policy with the hashes of the page's own style and script
forbids anything else.

The page holds:

- an overview: each run's scores by direction (signature as a tooltip; 95% intervals where the
  run keeps them), off-target and undetermined rates, generation cost, and with several runs the
  paired tests against the first — the numbers of `build_report`'s "runs compared" tables, not
  computed again — and an N x N heatmap of each metric over the direction matrix;
- a segment browser for the first two runs (the same segments in each): source, reference, both
  outputs with their word-level differences, sentence-level metric deltas, off-target and
  realignment flags, sorting, filters, and the exact prompt of each output, rebuilt from the run's
  template and demonstrations and checked against the record's prompt_hash;
- chrF by reference length (compare-mt's buckets), for every run;
- every table of the text report.

The JS draws one page of segment rows at a time and inserts every text with textContent.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
from pathlib import Path

from .. import __version__
from ..data.languages import Direction
from ..data.textio import is_blank
from ..errors import XlingError
from ..metrics.registry import display, get, parse_metric_names
from ..metrics.significance import bootstrap_ci
from ..runs.records import ChoiceRun, MTRun, check_paired, distinguish, read_run, unfinished
from .buckets import buckets, unspaced
from .html_choice import choice_data
from .html_spans import segment_spans
from .mt_prompts import PromptRebuilder
from .report import Results, build_report, data_note
from .scores import OFF_TARGET_NOTE
from .tables import Table

TEMPLATES = Path(__file__).with_name("templates")

def html_report(paths: list[str], metrics=None, test: str = "bs", n_samples: int | None = None) -> str:
    """The HTML page for these run folders (MT runs; other runs get their tables only)."""
    return render_page(report_data(paths, metrics, test, n_samples))


# -- the data ------------------------------------------------------------------------------------
def report_data(paths: list[str], metrics=None, test: str = "bs", n_samples: int | None = None) -> dict:
    """Everything the page shows, as JSON-ready data."""

    results = Results()
    paths = [paths] if isinstance(paths, (str, Path)) else paths   # one run folder given alone
    tables = build_report(paths, metrics, test, n_samples, results)   # checks every run first
    chosen = parse_metric_names(metrics) if metrics else None
    runs = [read_run(p, fresh=True) for p in paths]
    distinguish(runs)
    title = "xling report: " + ", ".join(r.label for r in runs)   # (labels hold no bidi controls)
    data: dict = {"xling": __version__, "title": title,
                  "tables": [_table(t) for t in tables], "runs": [], "metrics": {}, "significance": [],
                  "segments": None, "buckets": None,
                  "test": {"name": test, "samples": n_samples},
                  "choice": choice_data([r for r in runs if isinstance(r, ChoiceRun)])}
    if not all(isinstance(r, MTRun) for r in runs):
        return data
    mt = [r for r in runs if isinstance(r, MTRun)]
    names = list(dict.fromkeys(m for r in mt for m in r.metrics_present() if chosen is None or m in chosen))
    data["metrics"] = {m: _metric_info(m) for m in names}
    data["runs"] = [_run_entry(r, names, results) for r in mt]
    data["intervals"] = {"samples": INTERVAL_SAMPLES, "seed": INTERVAL_SEED}
    data["offtarget_note"] = OFF_TARGET_NOTE   # the text report's words, never a shorter copy
    data["significance"] = _significance(tables, names, results) if len(mt) > 1 else []
    data["segments"] = _segments(mt[0], mt[1] if len(mt) > 1 else None, names, results)
    data["buckets"] = buckets(mt, [m for m in names if m != "offtarget"], results)
    return data


def _table(table: Table) -> dict:
    return {"title": table.title, "header": table.header, "rows": table.rows, "notes": table.notes}


def _metric_info(metric: str) -> dict:
    spec = get(metric)
    return {"display": display(metric), "higher": spec.higher_is_better, "digits": spec.digits,
            "beside": [title for _, title in spec.beside], "model_based": spec.model_based}


def _interval(entry: dict) -> list[float] | None:
    """A stored 95% interval (low, high), where the run keeps one."""
    for where in (entry, entry.get("extra") or {}):
        low, high = where.get("ci_low"), where.get("ci_high")
        if isinstance(low, (int, float)) and isinstance(high, (int, float)):
            return [float(low), float(high)]
    return None


def _cost(generation: dict | None) -> dict | None:
    """What generating a direction cost, as the run recorded it (numbers only)."""
    if not generation:
        return None
    cost = {k: v for k, v in generation.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if generation.get("from_cache") is True:   # outputs made by an earlier (interrupted) pass: its cost is unknown
        # (what the outputs are stays: answers their budget ended, budgets the window cut)
        cost = {"from_cache": True, **{k: cost[k] for k in ("cut_at_budget", "cut_by_content_filter", "clipped_budgets")
                                          if k in cost}}
    batches = generation.get("batches")
    if isinstance(batches, dict) and isinstance(batches.get("count"), int):
        cost["batches"] = batches["count"]
    queue = generation.get("queue")   # translated in one queue with other directions: a share
    if isinstance(queue, dict) and isinstance(queue.get("directions"), int) and isinstance(queue.get("seconds"), float):
        cost["queue_directions"], cost["queue_seconds"] = queue["directions"], queue["seconds"]
    return cost or None


INTERVAL_SAMPLES = 1000
INTERVAL_SEED = 12345


def _bootstrap_interval(results: Results, run: MTRun, name: str, metric: str, entry: dict) -> list[float] | None:
    """The 95% bootstrap interval of a stored score (percentile; INTERVAL_SAMPLES resamples of the
    segments, seeded), from the result recomputed for this report — None where it no longer
    equals the stored score (a model file changed since) or cannot be resampled."""
    try:
        result = results.get(run, name, metric)
    except XlingError:
        return None
    if result.stats is None or result.scorer is None or not len(result.stats) \
            or result.signature != entry["signature"] or abs(result.score - entry["score"]) > 1e-6:
        return None
    _, low, high = bootstrap_ci(result, INTERVAL_SAMPLES, INTERVAL_SEED)
    if not (math.isfinite(low) and math.isfinite(high)):   # resamples of a judge's unparsed segments only
        return None
    return [round(low, 4), round(high, 4)]


def _run_entry(run: MTRun, names: list[str], results: Results) -> dict:
    stored = run.run.read_metrics()["directions"]
    directions = []
    for d in run.directions:
        scores = {}
        for m in names:
            entry = d.metrics.get(m)
            if entry is None:
                continue
            scores[m] = {"score": entry["score"], "signature": entry["signature"],
                         "ci": _interval(entry) or _bootstrap_interval(results, run, d.name, m, entry),
                         "beside": get(m).beside_values(entry)}
        directions.append({"name": d.name, "src": d.src.code, "tgt": d.tgt.code, "n": d.n, "scores": scores,
                           "cost": _cost(stored.get(d.name, {}).get("generation")),
                           "realignment": d.realignment})
    settings = run.settings
    template = run.config.get("template") or {}
    return {"label": run.label, "path": str(run.path), "model": run.model.get("model") or "(embedded)",
            "revision": run.model.get("revision"), "backend": run.model.get("backend"),
            "data": (run.config.get("data") or {}).get("spec", settings.get("data")),
            "template": template.get("name"), "shots": settings.get("shots") or 0,
            "unit": settings.get("unit", "segment"), "select": settings.get("select", "greedy"),
            "created": run.config.get("created"), "directions": directions,
            "data_note": data_note(run),   # (the segments dropped and the references scored)
            "unfinished": unfinished(run)}   # shown on the page, not only said on stderr


def _significance(tables: list[Table], names: list[str], results: Results) -> list[dict]:
    """The paired tests of build_report's "runs compared" tables, as the numbers comparison()
    kept beside each table: per metric, each row (a direction, or one of its domains) with each
    later run's score, delta, p, verdict and (a judge's) the segments judged for both."""
    by_title = {t.title: t for t in tables}
    found = []
    for m in names:
        table = by_title.get(f"{display(m)}: runs compared")
        if table is None:
            continue
        rows = []   # (none where the table only says why nothing was compared: its notes are kept)
        for row in results.compared.get(m, []):
            direction, _, domain = row["label"].partition(" ")
            rows.append({"label": row["label"], "direction": direction, "domain": domain or None,
                         "base": row["base"], "cells": row["cells"]})
        found.append({"metric": m, "runs": table.header[1:], "rows": rows, "notes": table.notes})
    return found


# -- segments ------------------------------------------------------------------------------------
def _rounded(values, digits: int = 4) -> list:
    return [None if v is None else round(float(v), digits) for v in values]


def _segment_scores(results: Results, run: MTRun, name: str, metric: str, records: list[dict]) -> list | None:
    """Sentence-level scores of one metric: kept in the run (model-based metrics) or computed from
    the metric's per-segment statistics (BLEU with effective order, chrF, TER)."""
    try:
        result = results.get(run, name, metric)
    except XlingError:
        return None
    segments = result.segments
    return None if segments is None else _rounded(segments)


def _flags(results: Results, run: MTRun, name: str, records: list[dict]) -> list[int] | None:
    """Per segment: 1 off-target, 2 undetermined, 0 neither (as the run's OffTarget% counts)."""
    direction = run.direction(name)
    if direction is None or "offtarget" not in direction.metrics:
        return None
    flags = results.get(run, name, "offtarget").extra["flags"]
    return [1 if f["off_target"] else 2 if f["undetermined"] else 0 for f in flags]


def _segments(a: MTRun, b: MTRun | None, names: list[str], results: Results) -> dict:
    """The browser's rows: for each direction of the first run (that the second also has), each
    segment with both outputs, sentence scores, flags and what rebuilds its prompt."""
    runs = [a] if b is None else [a, b]
    directions: list[dict] = []
    rows: list[dict] = []
    notes: list[str] = []
    wanted = [m for m in names if m != "offtarget"]
    rebuilders = [PromptRebuilder(r) for r in runs]
    notes += _unshared(b, a) + _unshared(a, b)
    for name in [d.name for d in a.directions]:
        if b is not None and b.direction(name) is None:
            continue
        records = [results.records(r, name) for r in runs]
        if b is not None:
            try:   # other segments (another --limit): not browsed, as the text report makes no test
                check_paired(a.path, records[0], b.path, records[1], name)
            except XlingError as exc:
                notes.append(f"{name}: {exc}; not browsed")
                continue
        shared = [m for m in wanted if all(m in r.direction(name).metrics for r in runs)]  # type: ignore[union-attr]
        scores = {m: [_segment_scores(results, r, name, m, recs) for r, recs in zip(runs, records)] for m in shared}
        scores = {m: s for m, s in scores.items() if all(v is not None for v in s)}
        flags = [_flags(results, r, name, recs) for r, recs in zip(runs, records)]
        marks = [segment_spans(r.direction(name).metrics, [x["output"] for x in recs])  # type: ignore[union-attr]
                 for r, recs in zip(runs, records)]
        span_metrics = list(dict.fromkeys(display(m) for found in marks for m in found))
        prompts = [rebuilder.view(name, recs) for rebuilder, recs in zip(rebuilders, records)]
        index = len(directions)
        tgt = Direction.parse(name).tgt
        chunks: list[dict] = [{} for _ in runs]   # document mode: each chunk's raw answer, once
        directions.append({"name": name, "chars": unspaced(tgt.code), "metrics": list(scores), "spans": span_metrics,
                           "prompts": [p for p, _ in prompts], "chunks": chunks})
        for i, first in enumerate(records[0]):
            row = {"d": index, "i": i, "id": str(first.get("id", i)), "src": first["source"], "ref": first["reference"],
                   "dom": str(first.get("domain", "")), "doc": first.get("document_id")}
            sides = []
            for k, recs in enumerate(records):
                r = recs[i]
                lang = r.get("lang")
                if lang == "und" and is_blank(r["output"]):   # (runs before rules14 recorded "und" for these)
                    lang = "blank" if not r["source"].strip() else "empty"
                side = {"out": r["output"], "lang": lang, "hash": r.get("prompt_hash", ""),
                        "s": [scores[m][k][i] for m in scores],  # type: ignore[index]
                        "off": flags[k][i] if flags[k] is not None else None,   # type: ignore[index]
                        "ok": prompts[k][1][i]}
                if r.get("raw") != r["output"]:
                    side["raw"] = r.get("raw")
                if r.get("removed"):
                    side["removed"] = r["removed"]
                if "chunk" in r:
                    side["chunk"] = r["chunk"]
                    if "chunk_raw" in r:
                        chunks[k][str(r["chunk"])] = r["chunk_raw"]
                if r.get("realigned") is False:
                    side["unaligned"] = True
                if is_blank(r["source"]) and not r.get("prompt_hash"):   # no prompt made: none to show
                    side["unsent"] = True
                _add_spans(side, marks[k], i)
                if isinstance(r.get("chosen"), int) and isinstance(r.get("candidates"), list):   # MBR, rerank
                    utilities = r.get("candidate_scores") or []
                    side["chosen"] = {"index": r["chosen"], "of": len(r["candidates"]), "select": r.get("select"),
                                      "score": utilities[r["chosen"]] if r["chosen"] < len(utilities) else None}
                sides.append(side)
            row["sides"] = sides
            rows.append(row)
    return {"runs": [r.label for r in runs], "directions": directions, "rows": rows, "notes": notes}


def _unshared(a: MTRun | None, b: MTRun | None) -> list[str]:
    """Notes on the directions of `b` that `a` lacks (none without both): the browser pairs the
    runs' outputs, so it shows neither run's."""
    if a is None or b is None:
        return []
    return [f"{d.name}: only in {b.label}, not browsed" for d in b.directions if a.direction(d.name) is None]


def _add_spans(side: dict, found: dict, i: int) -> None:
    """A segment's error spans by metric (`err`: placed in the output; `lost`: quoted words the
    output does not hold), only where it has any."""
    for metric, spans in found.items():
        if spans["spans"][i]:
            side.setdefault("err", {})[display(metric)] = spans["spans"][i]
        if spans["unplaced"][i]:
            side.setdefault("lost", {})[display(metric)] = spans["unplaced"][i]


# -- the page ------------------------------------------------------------------------------------
def page_json(data: dict) -> str:
    """The data as JSON that no text in it can end the script element that holds it: `<`, `>`
    and `&` as \\u escapes (and the two line separators JavaScript once treated as line ends)."""
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:    # NaN: a stored score no answer of a judge could give, say
        text = json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def _finite(value):
    """The data with every NaN or infinity as None (JSON has neither; the page shows a blank)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _asset(name: str, closing: str) -> str:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    if closing in text.lower():
        raise XlingError(f"{name} holds {closing!r}, which would end its element early")
    return text


REPORT_STYLES = ("report.css", "choice.css")

# The scripts of the report page, joined in one function scope in this order (common.js first:
# the data and the helpers the others use; main.js last: it draws the page).
REPORT_SCRIPTS = ("common.js", "spans.js", "mt.js", "choice.js", "main.js")


def page_script(names: tuple[str, ...]) -> str:
    """The page's one script: these files in one function scope (nothing leaks into `window`)."""
    return "(function () {\n" + "\n".join(_asset(n, "</script") for n in names) + "})();\n"


def render_page(data: dict, template_name: str = "report.html.j2", scripts: tuple[str, ...] = REPORT_SCRIPTS,
                styles: tuple[str, ...] = REPORT_STYLES) -> str:
    """A self-contained page: `template_name` (Jinja2, autoescaped) with the data as JSON, the
    styles and the scripts inline, and a CSP that allows only those."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
    from markupsafe import Markup

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(
        enabled_extensions=("html", "j2", "html.j2"), default_for_string=True, default=True),
        undefined=StrictUndefined, keep_trailing_newline=True)
    css = "\n".join(_asset(n, "</style") for n in styles)
    js = page_script(scripts)
    # The page's own style and script are allowed by their hashes; nothing else loads or runs.
    csp = (f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
           "img-src data:; base-uri 'none'; form-action 'none'")
    template = env.get_template(template_name)
    return template.render(title=data.get("title", "xling report"), csp=csp, css=Markup(css), js=Markup(js),
                           data=Markup(page_json(data)), tables=data.get("tables") or [])
