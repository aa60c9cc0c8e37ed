"""The HTML pages of `xling meta-eval -o DIR` (DIR/report.html) and `xling figures -o DIR`
(DIR/index.html): each one self-contained file, as `xling report --format html` writes (issue 33):
the data as JSON once, the CSS and the script inline under a hash-based Content-Security-Policy,
nothing fetched. The script draws the page from the data and inserts every text as text.

- meta-eval: the data, the reference, the systems and segments; the metrics x measures table
  with the permutation tests' p-values as report.json holds them; a heatmap of that table; per
  metric its system scores against the human ones (SVG drawn from the data, system names as
  hover titles); the human system scores with their 95% intervals; each metric's signature. The
  page's data holds report.json itself, so every number shown is one of report.json's.
- figures: each figure drawn (its PNG as a data URI, painted on a canvas by the script: an <img>
  with a data: URI counts as a request in the browser's log) with its title and, where it comes from a
  table, the table beside it.
"""
from __future__ import annotations

import base64

from .. import __version__
from ..metrics.registry import display, get
from .html_report import render_page
from .metaeval_figures import COLUMNS, agreement_tables
from .tables import Table

PAGE_TEMPLATE = "page.html.j2"
PAGE_STYLES = ("report.css", "pages.css")
METAEVAL_SCRIPTS = ("common.js", "metaeval.js")
FIGURES_SCRIPTS = ("common.js", "figures.js")

# The long names of the meta-measures (the table's headers keep COLUMNS' short labels).
MEASURE_NAMES = {
    ("system", "pearson"): "system-level Pearson r",
    ("system", "kendall"): "system-level Kendall tau-b",
    ("system", "pairwise_accuracy"): "system-level pairwise accuracy",
    ("system", "soft_pairwise_accuracy"): "system-level soft pairwise accuracy",
    ("segment", "pearson"): "segment-level Pearson r (all segments of all systems)",
    ("segment", "kendall"): "segment-level Kendall tau-b (all segments of all systems)",
    ("segment", "kendall_by_item"): "segment-level Kendall tau-b, averaged over segments",
    ("segment", "acc_eq"): "segment-level pairwise accuracy with tie calibration (acc_eq)",
}


# -- meta-eval -----------------------------------------------------------------------------------
def metaeval_data(report: dict) -> dict:
    """What the meta-eval page shows: report.json unchanged, and how to label it."""
    tested = report.get("significance") or {}
    columns = [{"level": level, "measure": measure, "label": label, "name": MEASURE_NAMES[(level, measure)],
                "tested": f"{level}_{measure}" in tested} for level, measure, label in COLUMNS]
    metrics = {name: {"display": display(name), "higher": get(name).higher_is_better, "digits": get(name).digits}
               for name in report["metrics"]}
    return {"page": "metaeval", "xling": __version__, "title": f"xling meta-eval: {report['data']}",
            "report": report, "columns": columns, "metrics": metrics,
            "notes": agreement_tables(report)[0].notes}


def metaeval_page(report: dict) -> str:
    """The meta-eval report's page (DIR/report.html)."""
    return render_page(metaeval_data(report), PAGE_TEMPLATE, METAEVAL_SCRIPTS, PAGE_STYLES)


# -- figures -------------------------------------------------------------------------------------
def figure_entry(stem: str, title: str, png: bytes, table: Table | None = None) -> dict:
    """One figure of the figures page: its file's stem, title, PNG and the table it shows."""
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"{stem}: not a PNG")
    return {"stem": stem, "title": title, "png": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "table": None if table is None else {"title": table.title, "header": table.header,
                                                 "rows": table.rows, "notes": table.notes}}


def figures_data(entries: list[dict], runs: list[str]) -> dict:
    return {"page": "figures", "xling": __version__, "title": "xling figures", "runs": runs, "figures": entries}


def figures_page(entries: list[dict], runs: list[str]) -> str:
    """The page of `xling figures` (DIR/index.html): every figure drawn, with its table."""
    return render_page(figures_data(entries, runs), PAGE_TEMPLATE, FIGURES_SCRIPTS, PAGE_STYLES)
