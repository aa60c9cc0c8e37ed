"""The HyperCLOVA X report's printed numbers (experiments/paper/*.csv) as tables to draw."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field

from ..data.resources import data_folder
from ..errors import XlingError

TABLES = {
    "table01": ("table01_tokens_per_doc.csv", "Table 1: average tokens per document", "tokens per document"),
    "table13": ("table13_xnli.csv", "Table 13: XNLI, 5-shot, test accuracy", "accuracy"),
    "table14": ("table14_xcsqa.csv", "Table 14: X-CSQA, 0-shot, dev accuracy", "accuracy"),
    "table15": ("table15_xcomet.csv", "Table 15: FLORES, 1-shot, xCOMET", "xCOMET (0-100)"),
    "table16": ("table16_score_x_to_y.csv", "Table 16: cross-lingual instruction following, Score(X→Y)",
                "Score(X→Y)"),
}
# Columns that are not per-language values.
SIDE_COLUMNS = {"vocab_size", "average", "avg_as_printed", "avg"}


@dataclass
class PaperTable:
    key: str
    title: str
    unit: str
    columns: list[str]                       # the value columns (languages, directions, settings)
    rows: dict[str, dict[str, float]]        # model -> column -> value
    side: dict[str, dict[str, float]] = field(default_factory=dict)   # model -> printed averages etc.
    printed: dict[str, dict[str, str]] = field(default_factory=dict)  # the digits as printed


def load_paper_table(key: str) -> PaperTable:
    if key not in TABLES:
        raise XlingError(f"unknown report table {key!r}; known: {', '.join(TABLES)}")
    filename, title, unit = TABLES[key]
    path = data_folder("experiments") / "paper" / filename
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fieldnames = reader.fieldnames
        if not fieldnames:
            raise XlingError(f"the report table {path} has no header row")
        first = fieldnames[0]
        columns = [c for c in fieldnames[1:] if c not in SIDE_COLUMNS]
        rows, side, printed = {}, {}, {}
        for row in reader:
            name = row[first]
            printed[name] = {c: row[c] for c in fieldnames[1:]}
            rows[name] = {c: float(row[c]) for c in columns}
            side[name] = {c: float(row[c]) for c in fieldnames[1:] if c in SIDE_COLUMNS}
    return PaperTable(key, title, unit, columns, rows, side, printed)
