"""The HTML report's view of NLI and multiple-choice runs (`xling eval nli`, `xling eval mc`).

`choice_data(runs)` gives the page's `DATA.choice`:

- each run with its cells (a language, or PREMISE>HYPOTHESIS): n, accuracy with the 95% bootstrap
  interval the run stored, the invalid-answer rate of generation, the confusion matrices (rows
  gold, columns predicted and "invalid") — the numbers of metrics.json, not computed again;
- with several runs, each later run against the first on every cell and mode both scored: the
  accuracy difference and an exact McNemar test over the items, paired by item id (a cell whose
  items differ between the two runs is "not comparable");
- the items for the page's browser: every item once (merged across runs holding the same item),
  each run's predictions and log-likelihoods, and what rebuilds the exact prompt `xling prompt
  RUN ID --lang CELL` prints (`prompt_view.item_prompt`): per run and cell the demonstrations
  once and a few prompt patterns in which the item's own texts are slots the page fills in.
  Every item's prompt, rebuilt here as the page rebuilds it, is checked against the prompt
  `item_prompt` would print; an item where the two differ carries its exact text instead.

The items are the bulk of the page (XNLI's texts alone are about 18 MB in 15 languages), so they
go in gzip-compressed and base64-encoded; the page inflates them with the browser's own
DecompressionStream. `items_of(DATA.choice)` reads them back here (tests, tools).
"""
from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Sequence

from ..data.choice import NLI_LABELS
from ..errors import XlingError
from ..runs.records import Cell, ChoiceRun, accuracy_disagreements, unfinished
from .prompt_view import MODES, record_prompt, template_line

# What a record holds beside the item's own fields (premise, hypothesis, stem, options, ...).
RECORD_KEYS = frozenset({"id", "gold", "prompt", "ll_scores", "ll_pred", "gen_raw", "gen_pred"})

# Slots: the k-th text of an item's fields stands as chr(FIRST_SLOT + k) in its prompt patterns
# (private-use characters; an item whose texts hold them fails its check and keeps its exact text).
FIRST_SLOT = 0xE100
LAST_SLOT = 0xE7FF
MIN_SLOT_TEXT = 4          # shorter texts are left in the pattern (they would only split patterns)
GZIP_LEVEL = 6
NLI_LIST = list(NLI_LABELS)
SIGNIFICANCE = 0.05
TEST_NAME = "exact McNemar test (two-sided)"
TEST_NOTE = ("exact McNemar test: over the cell's items, paired by id, the items only one of the two runs "
             "answered correctly, as a two-sided binomial test with p = 1/2 (no sampling, no seed); "
             "an invalid generated answer counts as wrong; * marks p < 0.05")


def choice_data(runs: list[ChoiceRun]) -> dict | None:
    """What the page's choice view shows for these runs (None: no choice run). The records are
    read one cell at a time (every run's records of that cell), and only one cell's are held."""
    if not runs:
        return None
    entries = [_run_entry(run) for run in runs]
    items = Items(runs, entries)
    comparisons: list[dict] = []
    names = list(dict.fromkeys(cell.name for run in runs for cell in run.cells))
    for name in names:
        cells = [next((c for c in run.cells if c.name == name), None) for run in runs]
        records = [None if cell is None else run.run.read_outputs(name) for run, cell in zip(runs, cells)]
        for entry, cell, recs in zip(entries, cells, records):
            if cell is not None and recs is not None:
                entry["notes"] += accuracy_disagreements(cell, recs)
        comparisons += paired_comparisons(runs, cells, records)
        items.add(name, records)
    modes = [m for m in MODES if any(m in c.modes for r in runs for c in r.cells)]
    notes = []
    if items.exact:
        notes.append(f"{items.exact} item prompt(s) are kept whole: the page's own rebuilding would differ "
                     "from what `xling prompt` prints")
    return {"runs": entries, "modes": modes, "nli_labels": list(NLI_LABELS), "comparisons": comparisons,
            "test": {"name": TEST_NAME, "note": TEST_NOTE, "alpha": SIGNIFICANCE},
            "items": items.packed(), "prompts": {"verified": items.verified, "exact": items.exact}, "notes": notes}


# -- runs ----------------------------------------------------------------------------------------
def label_names(task: str, width: int) -> list[str]:
    """The names of a confusion matrix's gold rows and predicted columns (as `xling report`)."""
    return list(NLI_LABELS) if task == "nli" and width == len(NLI_LABELS) else [chr(ord("A") + i) for i in range(width)]


def _mode_entry(task: str, summary: dict) -> dict:
    entry = {k: summary[k] for k in ("accuracy", "ci_low", "ci_high", "ci_level", "bootstrap", "invalid_rate")
             if k in summary}
    confusion = summary.get("confusion")
    if isinstance(confusion, list) and confusion:
        entry["confusion"] = confusion
        entry["labels"] = label_names(task, len(confusion))
    return entry


def _run_entry(run: ChoiceRun) -> dict:
    settings = run.settings
    templates = run.config.get("templates") or {}
    cells = [{"name": cell.name, "premise": cell.premise, "hypothesis": cell.hypothesis, "crossed": cell.crossed,
              "n": cell.n, "modes": {mode: _mode_entry(run.task, s) for mode, s in cell.modes.items()}}
             for cell in run.cells]
    note = (run.config.get("data") or {}).get("note")
    scored = {mode for cell in run.cells for mode in cell.modes}   # a gen run used no ll template
    return {"label": run.label, "path": str(run.path), "task": run.task,
            "model": run.model.get("model") or "(embedded)", "revision": run.model.get("revision"),
            "backend": run.model.get("backend"),
            "data": (run.config.get("data") or {}).get("spec", settings.get("data")),
            "note": note or None, "shots": settings.get("shots") or 0, "mode": settings.get("mode"),
            "prompt_lang": settings.get("prompt_lang"), "created": run.config.get("created"),
            "templates": {m: " ".join(templates.get(m) or []) for m in MODES if templates.get(m) and m in scored},
            "heads": {m: template_line(m, templates.get(m)) for m in MODES},
            "cells": cells, "notes": [f"not finished: {', '.join(left)} (the run was stopped before it "
                                      "finished, or is being written)"] if (left := unfinished(run)) else []}


# -- paired tests --------------------------------------------------------------------------------
def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p: the discordant items (only the first run right: only_a; only
    the second: only_b) as a binomial test with p = 1/2, in exact integers."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    term = tail = 1                      # C(n, 0)
    for k in range(1, min(only_a, only_b) + 1):
        term = term * (n - k + 1) // k   # C(n, k), exactly
        tail += term
    return min(1.0, 2 * tail / 2 ** n)


def _correct(records: list[dict], mode: str) -> dict[str, bool] | None:
    key = "ll_pred" if mode == "ll" else "gen_pred"
    if not all(key in r for r in records):
        return None
    return {str(r["id"]): r[key] is not None and r[key] == r["gold"] for r in records}


def _item_key(record: dict) -> tuple:
    """What makes two records the same item: gold label and the item's own fields."""
    return record["gold"], tuple((k, v if isinstance(v, str) else json.dumps(v, sort_keys=True, ensure_ascii=False))
                                 for k, v in record.items() if k not in RECORD_KEYS)


def _not_paired(base: list[dict], other: list[dict]) -> str | None:
    """Why two runs' records of one cell cannot be paired by item id (None: they can)."""
    ids = [str(r["id"]) for r in base], [str(r["id"]) for r in other]
    for which, found in zip(("the first run", "this run"), ids):
        if len(set(found)) != len(found):
            return f"{which} holds an item id twice"
    if set(ids[0]) != set(ids[1]):
        only = len(set(ids[0]) ^ set(ids[1]))
        return f"the runs hold different items ({only} id(s) in one run only)"
    theirs = {str(r["id"]): _item_key(r) for r in other}
    for r in base:
        if _item_key(r) != theirs[str(r["id"])]:
            return f"item {r['id']} has other texts or another gold label in each run"
    return None


def paired_comparisons(runs: list[ChoiceRun], cells: list[Cell | None], records: list[list[dict] | None]) -> list[dict]:
    """Each later run against the first on one cell, for each mode both scored: the accuracy
    difference and the exact McNemar p over the items paired by id."""
    found: list[dict] = []
    base_cell, base_records = cells[0], records[0]
    if base_cell is None or base_records is None:
        return found
    for k in range(1, len(runs)):
        cell, recs = cells[k], records[k]
        if cell is None or recs is None:
            continue
        problem = _not_paired(base_records, recs)
        for mode in MODES:
            if mode not in cell.modes or mode not in base_cell.modes:
                continue
            entry: dict = {"run": k, "cell": cell.name, "mode": mode, "comparable": False, "reason": problem,
                           "base": base_cell.modes[mode].get("accuracy"), "acc": cell.modes[mode].get("accuracy")}
            a, b = _correct(base_records, mode), _correct(recs, mode)
            if a is None or b is None:
                entry["reason"] = entry["reason"] or "a record lacks its prediction"
            elif problem is None:
                only_a = sum(a[i] and not b[i] for i in a)
                only_b = sum(b[i] and not a[i] for i in a)
                n = len(a)
                delta = (sum(b.values()) - sum(a.values())) / n if n else 0.0
                p = mcnemar_exact(only_a, only_b)
                entry.update(comparable=True, n=n, delta=delta, p=p, only_base=only_a, only_run=only_b,
                             mark=("better" if delta > 0 else "worse") if p < SIGNIFICANCE and delta else None)
            found.append(entry)
    return found


# -- item prompts --------------------------------------------------------------------------------
def prompt_text(path: str, task: str, config: dict, name: str, record: dict) -> str | None:
    """What `xling prompt PATH ID --lang NAME` prints for this record (`item_prompt`, from a record
    already read); None where it prints an error instead."""
    try:
        if not isinstance(record.get("prompt"), dict):
            return None
        return record_prompt(path, task, config, name, record)
    except (XlingError, KeyError, IndexError, TypeError, ValueError, AttributeError):
        return None


def simple_repr(text: str) -> str:
    """Python's repr of a string whose characters are all printable but tabs and line ends: the
    page's own `choicePyRepr` (choice.js) does exactly this."""
    quote = '"' if "'" in text and '"' not in text else "'"
    out = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    if quote == "'":
        out = out.replace("'", "\\'")
    return quote + out + quote


def repr_is_simple(text) -> bool:
    """Whether Python's repr of this text is `simple_repr`'s (what the page makes itself)."""
    if not isinstance(text, str):
        return False
    shown = repr(text)
    return shown[1:-1] == text or shown == simple_repr(text)


def flat_texts(values: Sequence) -> list[str]:
    """An item's field values as the slots number them: each text, each text of a list of texts."""
    flat: list[str] = []
    for value in values:
        if isinstance(value, str):
            flat.append(value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            flat.extend(value)
    return flat


_SLOT = re.compile("[\ue100-\ue7ff]")


def _pattern(prompt, flat: list[str]) -> tuple | None:
    """The record's prompt parts with the item's texts as slots, as (context, options, generation
    prompt) with None for a mode it lacks (None: not expressible so). Filling the slots in gives
    the parts back unless a text already holds a slot's character; the whole prompt is checked
    afterwards, and an item whose check fails keeps its exact text."""
    if not isinstance(prompt, dict) or len(flat) > LAST_SLOT - FIRST_SLOT + 1:
        return None
    slots = sorted(((v, chr(FIRST_SLOT + i)) for i, v in enumerate(flat) if len(v) >= MIN_SLOT_TEXT),
                   key=lambda pair: -len(pair[0]))

    def sub(text) -> str:
        if not isinstance(text, str):
            raise ValueError
        for value, slot in slots:
            text = text.replace(value, slot)
        return text

    try:
        context = options = generation = None
        if "ll" in prompt:
            part = prompt["ll"]
            if not isinstance(part, dict) or not isinstance(part.get("options"), list):
                return None
            context, options = sub(part["context"]), tuple(sub(o) for o in part["options"])
        if "gen" in prompt:
            generation = sub(prompt["gen"])
    except (ValueError, KeyError):
        return None
    return context, options, generation


def _pattern_entry(pattern: tuple) -> dict:
    context, options, generation = pattern
    out: dict = {}
    if options is not None:
        out["ll"] = {"c": context, "o": list(options)}
    if generation is not None:
        out["gen"] = generation
    return out


def fill(pattern: str, flat: list[str]) -> str:
    """A pattern with its slots filled (as choice.js `choiceFillSlots`)."""
    if len(pattern) < 2:
        return flat[ord(pattern) - FIRST_SLOT] if pattern and FIRST_SLOT <= ord(pattern) <= LAST_SLOT else pattern
    return _SLOT.sub(lambda m: flat[ord(m.group()) - FIRST_SLOT], pattern)


def _score_text(score) -> str:
    return f"{score:.4f}"


def rebuilt_prompt(run: dict, demos: dict, name: str, row: dict, pattern: dict, entry: dict,
                   schema: list[str], flat: list[str]) -> str:
    """The prompt as the page's script rebuilds it (choice.js `choicePromptText`, line for line;
    `flat`: the row's texts, `flat_texts(row["f"])`)."""
    if run["task"] == "nli":
        labels: list = NLI_LIST
    else:
        fields = dict(zip(schema, row["f"]))
        letters = fields.get("letters")
        options = fields.get("options")
        labels = letters if isinstance(letters, list) and letters else \
            [chr(ord("A") + i) for i in range(len(options) if isinstance(options, list) else 0)]
    gold = row["g"]
    lines = [f"# {run['path']}: cell {name}, item {row['id']}, gold {labels[gold]}"]
    if "ll" in pattern:
        context = fill(pattern["ll"]["c"], flat)
        options = [fill(o, flat) for o in pattern["ll"]["o"]]
        lines += [run["heads"]["ll"], demos.get("ll", "") + context, "## scored continuations"]
        scores = entry.get("s") or [None] * len(options)
        overrides = entry.get("or") or {}
        for index in range(min(len(options), len(scores))):
            marks = (", gold" if index == gold else "") + (", predicted" if index == entry.get("l") else "")
            score = "" if scores[index] is None else ", log-likelihood " + scores[index]
            shown = overrides.get(str(index), simple_repr(options[index]))
            lines.append(f"[{labels[index]}{score}{marks}] {shown}")
    if "gen" in pattern:
        raw = entry.get("r")
        answer = entry["rr"] if "rr" in entry else ("None" if raw is None else simple_repr(raw))
        pred = entry.get("q")
        lines += [run["heads"]["gen"], demos.get("gen", "") + fill(pattern["gen"], flat), "## answer",
                  f"{answer} -> {labels[pred] if pred is not None else 'invalid'}"]
    return "\n".join(lines) + "\n"


# -- items ---------------------------------------------------------------------------------------
def _run_side(record: dict) -> dict:
    """One run's answers to an item: log-likelihoods (as `xling prompt` prints them), predictions,
    the generated answer, and the reprs the page cannot make itself."""
    side: dict = {}
    scores = record.get("ll_scores")
    if scores:
        side["s"] = [_score_text(s) for s in scores]
    if "ll_pred" in record:
        side["l"] = record["ll_pred"]
    if "gen_pred" in record or "gen_raw" in record:
        raw = record.get("gen_raw")
        side["r"] = raw if raw is None or isinstance(raw, str) else repr(raw)
        side["q"] = record.get("gen_pred")
        if raw is not None and not repr_is_simple(raw):
            side["rr"] = repr(raw)
    prompt = record.get("prompt")
    options = prompt["ll"].get("options") if isinstance(prompt, dict) and isinstance(prompt.get("ll"), dict) else None
    if isinstance(options, list):
        odd = {str(i): repr(o) for i, o in enumerate(options) if not repr_is_simple(o)}
        if odd:
            side["or"] = odd
    return side


class Items:
    """The browser's items, built one cell at a time: every item once (the runs' records of the
    same item, by cell, id, gold and fields, merged into one row), each run's side of it, and per
    run and cell the demonstrations and prompt patterns; each prompt checked as it is added."""

    def __init__(self, runs: list[ChoiceRun], entries: list[dict]) -> None:
        self.runs, self.entries = runs, entries
        self.cells: list[str] = []
        self.schemas: list[list[str]] = []
        self._schema_index: dict[tuple, int] = {}
        self.rows: list[dict] = []
        self.prompts: list[dict] = [{} for _ in runs]
        self.verified = self.exact = 0

    def add(self, name: str, records: list[list[dict] | None]) -> None:
        c = len(self.cells)
        self.cells.append(name)
        where: dict[tuple, list[int]] = {}
        for k, recs in enumerate(records):
            if recs is None:
                continue
            run, entry = self.runs[k], self.entries[k]
            given = (run.config.get("demonstrations") or {}).get(name) or {}
            demos = {m: given.get(m, "") for m in MODES if isinstance(given.get(m, ""), str)}
            patterns: list[dict] = []
            known: dict[tuple, int] = {}
            self.prompts[k][str(c)] = {"demos": demos, "patterns": patterns}
            for record in recs:
                fields = {key: v for key, v in record.items() if key not in RECORD_KEYS}
                schema = tuple(fields)
                if schema not in self._schema_index:
                    self._schema_index[schema] = len(self.schemas)
                    self.schemas.append(list(schema))
                key = (str(record["id"]), *_item_key(record))
                spot = next((i for i in where.get(key, []) if self.rows[i]["p"][k] is None), None)
                if spot is None:
                    spot = len(self.rows)
                    where.setdefault(key, []).append(spot)
                    self.rows.append({"c": c, "id": str(record["id"]), "k": self._schema_index[schema],
                                      "f": list(fields.values()), "g": record["gold"], "p": [None] * len(self.runs)})
                row = self.rows[spot]
                side = _run_side(record)
                expected = prompt_text(entry["path"], run.task, run.config, name, record)
                if expected is not None:
                    self.verified += 1
                    rebuilt = None
                    flat = flat_texts(row["f"])
                    pattern = _pattern(record["prompt"], flat)
                    if pattern is not None:
                        if pattern not in known:
                            known[pattern] = len(patterns)
                            patterns.append(_pattern_entry(pattern))
                        side["t"] = known[pattern]
                        try:
                            rebuilt = rebuilt_prompt(entry, demos, name, row, patterns[side["t"]], side, list(schema),
                                                     flat)
                        except (IndexError, KeyError, TypeError):
                            rebuilt = None
                    if rebuilt != expected:
                        side["e"] = expected
                        self.exact += 1
                row["p"][k] = side

    def packed(self) -> dict:
        """The items as the page holds them: JSON, gzip-compressed, base64-encoded."""
        payload = {"cells": self.cells, "schemas": self.schemas, "prompts": self.prompts, "rows": self.rows}
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        raw = text.encode("utf-8", "surrogatepass")
        packed = gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)
        return {"gzip": base64.b64encode(packed).decode("ascii"), "count": len(self.rows), "cells": self.cells,
                "json_bytes": len(raw)}


def items_of(choice: dict) -> dict:
    """The browser's items of a page's `DATA.choice`, uncompressed."""
    try:
        return json.loads(gzip.decompress(base64.b64decode(choice["items"]["gzip"])).decode("utf-8"))
    except (KeyError, ValueError, OSError) as exc:
        raise XlingError(f"the page's items cannot be read: {exc}") from exc
