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
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import __version__
from ..data import hub
from ..data.languages import Direction, resolve
from ..data.parallel import load_parallel, read_pair_file
from ..errors import XlingError
from ..metrics.registry import display, get, parse_metric_names
from ..metrics.significance import bootstrap_ci
from ..prompts.templates import recorded_template, select_shots
from ..runs.records import ChoiceRun, MTRun, check_paired, read_run
from .buckets import NO_SPACES, buckets
from .chat_templates import quick_renderer
from .document_prompts import document_prompt_view
from .html_choice import choice_data
from .html_spans import segment_spans
from .report import Results, build_report
from .tables import Table

TEMPLATES = Path(__file__).with_name("templates")

# Stands for the source text in a direction's prompt, which the page fills in per segment.
SENTINEL = "\ue000xling:source\ue000"


_COMPARED = re.compile(r"^(?P<score>-?[\d.]+) \((?P<delta>[+-][\d.]+), p=(?P<p>[\d.]+)\)(?P<mark> better\*| worse\*)?$")
_NOT_COMPARABLE = re.compile(r"^(?P<score>-?[\d.]+) \(not comparable\)$")


def html_report(paths: list[str], metrics=None, test: str = "bs", n_samples: int | None = None) -> str:
    """The HTML page for these run folders (MT runs; other runs get their tables only)."""
    return render_page(report_data(paths, metrics, test, n_samples))


# -- the data ------------------------------------------------------------------------------------
def report_data(paths: list[str], metrics=None, test: str = "bs", n_samples: int | None = None) -> dict:
    """Everything the page shows, as JSON-ready data."""

    results = Results()
    tables = build_report(paths, metrics, test, n_samples, results)   # checks every run first
    chosen = parse_metric_names(metrics) if metrics else None
    runs = [read_run(p, fresh=True) for p in paths]
    data: dict = {"xling": __version__, "title": "xling report: " + ", ".join(r.label for r in runs),
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
    data["significance"] = _significance(tables, names, len(mt))
    data["segments"] = _segments(mt[0], mt[1] if len(mt) > 1 else None, names, results)
    data["buckets"] = buckets(mt, [m for m in names if m != "offtarget"], results)
    return data


def _table(table: Table) -> dict:
    return {"title": table.title, "header": table.header, "rows": table.rows, "notes": table.notes}


def _metric_info(metric: str) -> dict:
    spec = get(metric)
    return {"display": display(metric), "higher": spec.higher_is_better,
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
    batches = generation.get("batches")
    if isinstance(batches, dict) and isinstance(batches.get("count"), int):
        cost["batches"] = batches["count"]
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
            "created": run.config.get("created"), "directions": directions}


def _significance(tables: list[Table], names: list[str], n_runs: int) -> list[dict]:
    """The paired tests of build_report's "runs compared" tables, as numbers: per metric, each
    row (a direction, or one of its domains) with each later run's score, delta, p and verdict."""
    if n_runs < 2:
        return []
    by_title = {t.title: t for t in tables}
    found = []
    for m in names:
        table = by_title.get(f"{display(m)}: runs compared")
        if table is None:
            continue
        rows = []
        for row in table.rows:
            direction, _, domain = row[0].partition(" ")
            cells = []
            for text in row[2:]:
                match = _COMPARED.match(text)
                if match:
                    mark = (match["mark"] or "").strip(" *") or None
                    cells.append({"score": float(match["score"]), "delta": float(match["delta"]),
                                  "p": float(match["p"]), "mark": mark, "comparable": True})
                    continue
                other = _NOT_COMPARABLE.match(text)
                cells.append({"score": float(other["score"]) if other else None, "delta": None, "p": None,
                              "mark": None, "comparable": False})
            rows.append({"label": row[0], "direction": direction, "domain": domain or None,
                         "base": float(row[1]), "cells": cells})
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
    for name in [d.name for d in a.directions]:
        if b is not None and b.direction(name) is None:
            notes.append(f"{name}: only in {a.label}, not browsed")
            continue
        records = [results.records(r, name) for r in runs]
        if b is not None:
            check_paired(a.path, records[0], b.path, records[1], name)
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
        directions.append({"name": name, "chars": tgt.code in NO_SPACES, "metrics": list(scores), "spans": span_metrics,
                           "prompts": [p for p, _ in prompts], "chunks": chunks})
        for i, first in enumerate(records[0]):
            row = {"d": index, "i": i, "id": str(first.get("id", i)), "src": first["source"], "ref": first["reference"],
                   "dom": str(first.get("domain", "")), "doc": first.get("document_id")}
            sides = []
            for k, recs in enumerate(records):
                r = recs[i]
                side = {"out": r["output"], "lang": r.get("lang"), "hash": r.get("prompt_hash", ""),
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
                _add_spans(side, marks[k], i)
                if "chosen" in r:
                    side["chosen"] = r["chosen"]
                sides.append(side)
            row["sides"] = sides
            rows.append(row)
    return {"runs": [r.label for r in runs], "directions": directions, "rows": rows, "notes": notes}


def _add_spans(side: dict, found: dict, i: int) -> None:
    """A segment's error spans by metric (`err`: placed in the output; `lost`: quoted words the
    output does not hold), only where it has any."""
    for metric, spans in found.items():
        if spans["spans"][i]:
            side.setdefault("err", {})[display(metric)] = spans["spans"][i]
        if spans["unplaced"][i]:
            side.setdefault("lost", {})[display(metric)] = spans["unplaced"][i]


# -- prompts -------------------------------------------------------------------------------------
class PromptRebuilder:
    """Rebuilds the prompts of one run's records: its template, the pool of its demonstrations and
    its model's chat template are each read once, for all its directions."""

    def __init__(self, run: MTRun) -> None:
        self.run = run
        self._data: dict = {}
        self._renderer: tuple[Callable[[list], str] | None, str] | None = None
        self._quick: Callable[[list], str] | None | bool = False     # False: not read yet

    def pool(self, src, tgt):
        return _shot_pool(self.run, src, tgt, self._data)

    def renderer(self) -> tuple[Callable[[list], str] | None, str]:
        if self._renderer is None:
            self._renderer = _chat_renderer(self.run)
        return self._renderer

    def quick_renderer(self) -> Callable[[list], str] | None:
        """The chat template rendered with Jinja2 alone (no transformers import), or None."""
        if self._quick is False:
            model = self.run.model.get("model")
            self._quick = quick_renderer(model, self.run.model.get("revision")) if model else None
        return self._quick  # type: ignore[return-value]

    def template_and_shots(self, template_info: dict, src, tgt, records: list[dict]) -> tuple[Any, list, dict | None]:
        """The run's template as it was and a direction's demonstrations drawn again, or (third)
        the view that says why they cannot be."""
        settings = self.run.settings
        try:
            template = recorded_template(settings.get("template") or template_info["name"], template_info.get("hash"))
        except XlingError as exc:
            return None, [], {"status": str(exc)}
        shots: list = []
        if settings.get("shots"):
            try:
                shots = select_shots(self.pool(src, tgt), settings["shots"], settings.get("seed") or 0,
                                     exclude=[r["source"] for r in records])
            except XlingError as exc:
                return template, [], {"status": f"its {settings['shots']} demonstrations cannot be drawn again "
                                                f"here: {exc}", "template": template.name}
        return template, shots, None

    def view(self, name: str, records: list[dict]) -> tuple[dict, list[bool | None]]:
        return prompt_view(self.run, name, records, self)


def _shot_pool(run: MTRun, src, tgt, loaded: dict | None = None):
    """The demonstrations' pool of a run: its shots file (unchanged since) or its data set's dev
    split (`loaded`: data sets read before, by spec)."""

    settings = run.settings
    source = run.config.get("shots") or {}
    if settings.get("shots_file"):
        path = source.get("path") or settings["shots_file"]
        if not Path(path).is_file():
            raise XlingError(f"its shots file {path} is not here")
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        if source.get("sha256") not in (None, digest):
            raise XlingError(f"its shots file {path} changed since the run")
        return read_pair_file(path)
    key = (settings.get("data") or run.config["data"]["spec"], settings.get("data_dir"),
           bool(settings.get("keep_bad_sources")), settings.get("reference") or "post-edit")
    loaded = {} if loaded is None else loaded
    if key not in loaded:
        loaded[key] = load_parallel(key[0], key[1], keep_bad_sources=key[2], reference=key[3])
    data = loaded[key]
    pool = data.dev_pool(src, tgt)
    if pool is None:
        raise XlingError(f"{data.spec} has no dev split")
    return pool


def _chat_renderer(run: MTRun) -> tuple[Callable[[list], str] | None, str]:
    """How the run's backend turned chat messages into the model's input (the tokenizer's chat
    template, read from the local files only), or None and why not."""
    model, backend = run.model.get("model"), run.model.get("backend")
    if backend == "http":
        return (lambda messages: json.dumps([list(m) for m in messages], ensure_ascii=False)), \
            "the server applied its own chat template to these messages"
    if backend not in ("hf", "vllm") or not model:
        return None, f"the chat template of the {backend or 'embedded'} model is not read here"
    try:
        from transformers import AutoTokenizer


        hub.quiet_transformers()
        local = Path(model).is_dir()
        revision = None if local else run.model.get("revision")
        tokenizer = AutoTokenizer.from_pretrained(model, revision=revision, local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure only means the page cannot check
        return None, f"the tokenizer of {model} could not be read here ({type(exc).__name__})"

    def render(messages: list) -> str:
        chat = [{"role": role, "content": content} for role, content in messages]
        return str(tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True))

    return render, CHAT_TEMPLATE_APPLIED


def prompt_view(run: MTRun, name: str, records: list[dict],
                rebuilder: PromptRebuilder | None = None) -> tuple[dict, list[bool | None]]:
    """What rebuilds each record's prompt in the page — the direction's prompt with SENTINEL for
    the source (template messages or completion text, and the model's input where its chat
    template can be read) — and per record whether the rebuilt prompt hashes to its prompt_hash
    (None: the record had no prompt, or it could not be checked)."""

    rebuilder = rebuilder or PromptRebuilder(run)
    none: list[bool | None] = [None] * len(records)
    settings = run.settings
    src, tgt = Direction.parse(name)
    if settings.get("unit") == "document" or any("chunk" in r for r in records):
        return document_prompt_view(run, name, records, rebuilder)
    template_info = run.config.get("template")
    if template_info is None:    # an encoder-decoder model: the bare source
        seen = f"{resolve(src.code).flores}>{resolve(tgt.code).flores}\n{SENTINEL}"
        return _checked({"status": "an encoder-decoder model: the bare source, with its language codes",
                         "input": seen}, records, lambda s: seen.replace(SENTINEL, s))
    template, shots, refused = rebuilder.template_and_shots(template_info, src, tgt, records)
    if refused is not None:
        return refused, none
    prompt = template.render_translation(src, tgt, SENTINEL, shots)
    view: dict = {"template": template.name, "shots": len(shots)}
    if prompt.messages is None:
        text = prompt.text or ""
        view |= {"status": "a completion prompt", "input": text}
        return _checked(view, records, lambda s: text.replace(SENTINEL, s))
    messages = [list(m) for m in prompt.messages]
    view["messages"] = messages
    quick = rebuilder.quick_renderer() if run.model.get("backend") in ("hf", "vllm") else None
    if quick is not None:   # taken only where every prompt checks: else the tokenizer decides
        found = _rendered(dict(view), records, messages, quick, CHAT_TEMPLATE_APPLIED, local=True)
        if found[0].get("checked") and found[0]["verified"] == found[0]["checked"]:
            return found
    render, how = rebuilder.renderer()
    if render is None:
        view["status"] = f"the template's messages; {how}, so the prompt_hash is not checked"
        return view, none
    return _rendered(view, records, messages, render, how, local=run.model.get("backend") != "http")


CHAT_TEMPLATE_APPLIED = "the model's chat template applied to these messages"


def _rendered(view: dict, records: list[dict], messages: list, render: Callable[[list], str], how: str,
              local: bool) -> tuple[dict, list[bool | None]]:
    """The view of chat messages as `render` turns them into the model's input (`local`: the
    input is made here, not by a server), with each record's prompt checked."""
    view["status"] = how
    if local:
        try:
            shown = render(messages)
        except Exception as exc:  # noqa: BLE001 - a template that fails here fails the check only
            view["status"] = f"the chat template could not be applied here ({type(exc).__name__})"
            return view, [None] * len(records)
        if shown.count(SENTINEL) == 1:
            view["input"] = shown
    return _checked(view, records,
                    lambda s: render([[role, content.replace(SENTINEL, s)] for role, content in messages]))


def _prompt_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _checked(view: dict, records: list[dict], seen: Callable[[str], str]) -> tuple[dict, list[bool | None]]:
    """Whether each record's prompt_hash is the hash of the prompt rebuilt for its source (as
    Translator.request hashes what the model sees); records with no prompt get None. Where the
    page's own filling-in of the source would differ from the model's input, the record keeps
    that input (`view["exact"]`: position -> input)."""
    verified: list[bool | None] = []
    exact = {}
    for i, record in enumerate(records):
        if not record.get("prompt_hash") or not record["source"].strip():
            verified.append(None)
            continue
        if "input" in view:   # the page's own filling-in is what the model saw: nothing to render
            filled = view["input"].replace(SENTINEL, record["source"])
            if _prompt_hash(filled) == record["prompt_hash"]:
                verified.append(True)
                continue
        text = seen(record["source"])
        verified.append(_prompt_hash(text) == record["prompt_hash"])
        if "input" in view and filled != text:
            exact[str(i)] = text
    if exact:
        view["exact"] = exact
    checked = [v for v in verified if v is not None]
    view["verified"] = sum(checked)
    view["checked"] = len(checked)
    return view, verified


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
                           data=Markup(page_json(data)))
