"""Error spans for the HTML report's segment browser (issue 33): where in each output the metrics
that mark errors put them, as character ranges the page can highlight (spans.js, `spanNodes`).

Two kinds of stored entries hold spans (a run's metrics.json, `RunDir.read_metrics()`:
["directions"][direction]["metrics"][metric]):

- xCOMET and its kind (comet_scoring: `extra["error_spans"]`, per segment a list of
  {text, start, end, severity, confidence} as unbabel-comet gives them). `start`/`end` are the
  encoder tokenizer's character offsets into the output, which the `tokenizers` library gives in
  Unicode code points (measured: an emoji counts 1, as in Python). A run of tagged subwords that
  ends on the closing special token (offset (0, 0)) has its end before its start (or at 0, when
  it started at 0 and holds words): it ran to the end of the encoded output, so it ends at the
  output's end (for an output the encoder cut, a little past its last encoded word). A span of
  special tokens only, or outside the output, is not placed.
- GEMBA-MQM / GEMBA-ESA judges (judge.py: `extra["judgments"][i]["errors"]`, a list of
  {severity, category, span} or None): `span` is the words the judge quoted, not offsets. Each is
  looked for in the output: exactly, then ignoring case and runs of white space, then the same
  without surrounding punctuation and quotes; of these occurrences, in that order, the first that
  no earlier error of the same segment took (an error quoting the same words again goes to their
  next occurrence; when every occurrence is taken, to the first). Quoted words not found in the
  output, and errors that quote nothing, are not placed.

What is not placed goes to the segment's `unplaced` list, so that the page can list it.

Overlaps within one metric and segment are split, not dropped: the text is cut at every span's
start and end, each piece covered by spans takes the most severe of their severities (critical >
major > minor > any other) and all their labels (each once, "; "-joined, in order of the spans'
starts), and neighbouring pieces with the same severity and labels are joined again. So the
spans given back are sorted, do not overlap, and every marked character says every error that
covers it. White space at a span's edges is left unmarked (a span of white space only is kept).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

from ..metrics.registry import display

SEVERITY_RANK = {"critical": 3, "major": 2, "minor": 1}   # any other severity ranks 0
# Special tokens as a tokenizer's decode() writes them (their offsets are (0, 0)).
_SPECIALS = re.compile(r"\[(?:CLS|SEP|PAD|MASK)\]|</?s>|<pad>")
_PUNCTUATION = " \t\n.,;:!?…\"'“”‘’«»「」『』()[]"


def segment_spans(metrics: dict[str, dict], outputs: list[str]) -> dict[str, dict[str, list[list[dict]]]]:
    """Per metric holding error spans, per segment of `outputs`, where its errors are.

    `metrics`: one direction's stored entries by metric name, as metrics.json holds them
    (`MTRun.direction(name).metrics`, or `read_metrics()["directions"][name]["metrics"]`);
    `outputs`: the direction's outputs, `[r["output"] for r in records]`, in record order.

    Returns {metric: {"spans": [[span, ...] per segment], "unplaced": [[error, ...] per segment]}}
    where a span is {"start": int, "end": int, "severity": str, "label": str} in code points of
    that output (sorted, non-overlapping: see the module's docstring) and an unplaced error is
    {"severity": str, "label": str, "text": str} (the words it quoted or decoded, "" if none).
    Severities are lowercase ("minor", "major", "critical", or what the metric said). Metrics
    without spans are left out, and so is a metric whose per-segment lists are not one per output
    (scored on a subset: they could not be matched to their segments)."""

    found: dict[str, dict[str, list[list[dict]]]] = {}
    for metric, entry in metrics.items():
        extra = (entry or {}).get("extra") or {}
        locate: Callable[[str, str, Any], tuple[list[dict], list[dict]]]
        if isinstance(extra.get("error_spans"), list):
            rows, locate = extra["error_spans"], _comet_row
        elif isinstance(extra.get("judgments"), list):
            rows, locate = extra["judgments"], _judge_row
        else:
            continue
        if len(rows) != len(outputs) or extra.get("segments_kept") is not None:
            continue
        name = display(metric)
        spans, unplaced = [], []
        for text, row in zip(outputs, rows):
            raw, missing = locate(name, str(text or ""), row)
            spans.append(merge_spans(raw))
            unplaced.append(missing)
        found[metric] = {"spans": spans, "unplaced": unplaced}
    return found


# -- the two kinds ------------------------------------------------------------------------------
def _severity(value: Any) -> str:
    text = re.sub(r"[^a-z0-9-]+", "-", str(value or "").strip().lower()).strip("-")
    return text or "unknown"


def _offset(value: Any) -> int | None:
    """An offset as stored, or None for anything that is not a whole number."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _comet_row(name: str, text: str, row: Any) -> tuple[list[dict], list[dict]]:
    placed: list[dict] = []
    missing: list[dict] = []
    for span in row or []:
        if not isinstance(span, dict):
            continue
        severity = _severity(span.get("severity"))
        confidence = span.get("confidence")
        label = f"{name}: {severity} error" + (
            f" (confidence {confidence:.2f})" if isinstance(confidence, (int, float)) else "")
        start, end = _offset(span.get("start")), _offset(span.get("end"))
        words = _SPECIALS.sub("", str(span.get("text") or "")).strip()
        if start is not None and end is not None and (end < start < len(text) or start == end == 0 and words):
            end = len(text)     # ran on through the closing special token, whose offset is (0, 0)
        if start is None or end is None or not 0 <= start < end <= len(text):
            missing.append({"severity": severity, "label": label, "text": str(span.get("text") or "")})
            continue
        placed.append(_trimmed(text, start, end, severity, label))
    return placed, missing


def _judge_row(name: str, text: str, judgment: Any) -> tuple[list[dict], list[dict]]:
    placed: list[dict] = []
    missing: list[dict] = []
    errors = judgment.get("errors") if isinstance(judgment, dict) else None
    taken: set[tuple[int, int]] = set()
    for error in errors or []:
        if not isinstance(error, dict):
            continue
        severity = _severity(error.get("severity"))
        category = str(error.get("category") or "").strip()
        label = f"{name}: {severity}" + (f" {category}" if category else "") + " error"
        quoted = str(error.get("span") or "")
        where = locate_quote(text, quoted, taken)
        if where is None:
            missing.append({"severity": severity, "label": label, "text": quoted})
            continue
        taken.add(where)
        placed.append(_trimmed(text, where[0], where[1], severity, label))
    return placed, missing


def locate_quote(text: str, quoted: str, taken: Collection[tuple[int, int]] = ()) -> tuple[int, int] | None:
    """Where the words a judge quoted are in `text` (code points, end exclusive), or None when
    they are not found (or nothing is quoted). Occurrences are tried exactly, then ignoring case
    and runs of white space, then the same without surrounding punctuation and quotes; the first
    of them not in `taken` is chosen, else the first of them."""
    needle = quoted.strip()
    places: list[tuple[int, int]] = []
    for attempt in dict.fromkeys((needle, needle.strip(_PUNCTUATION))):
        if not attempt:
            continue
        at = text.find(attempt)
        while at >= 0:
            places.append((at, at + len(attempt)))
            at = text.find(attempt, at + 1)
        loose = r"\s+".join(re.escape(w) for w in attempt.split())
        places += [(m.start(), m.end()) for m in re.finditer(loose, text, re.IGNORECASE)]
    places = list(dict.fromkeys(places))
    if not places:
        return None
    return next((p for p in places if p not in taken), places[0])


def _trimmed(text: str, start: int, end: int, severity: str, label: str) -> dict:
    inner = text[start:end]
    if inner.strip():
        start += len(inner) - len(inner.lstrip())
        end -= len(inner) - len(inner.rstrip())
    return {"start": start, "end": end, "severity": severity, "label": label}


# -- overlaps -----------------------------------------------------------------------------------
def merge_spans(spans: list[dict]) -> list[dict]:
    """Sorted, non-overlapping spans covering what `spans` cover: overlaps are split at every
    edge, each piece with the most severe severity of the spans over it and all their labels (in
    order of start, each once); neighbours alike are joined."""
    spans = sorted((s for s in spans if s["end"] > s["start"]), key=lambda s: (s["start"], s["end"]))
    if not spans:
        return []
    edges = sorted({s["start"] for s in spans} | {s["end"] for s in spans})
    pieces: list[dict] = []
    for a, b in zip(edges, edges[1:]):
        over = [s for s in spans if s["start"] <= a and s["end"] >= b]
        if not over:
            continue
        severity = max(over, key=lambda s: SEVERITY_RANK.get(s["severity"], 0))["severity"]
        label = "; ".join(dict.fromkeys(s["label"] for s in over))
        last = pieces[-1] if pieces else None
        if last is not None and last["end"] == a and last["severity"] == severity and last["label"] == label:
            last["end"] = b
        else:
            pieces.append({"start": a, "end": b, "severity": severity, "label": label})
    return pieces
