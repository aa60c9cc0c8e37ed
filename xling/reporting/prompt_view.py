"""`xling prompt RUN ID`: the exact prompt behind one NLI / multiple-choice prediction, from the
run folder alone. Records keep each item's own part of its prompt; config.json keeps the cell's
demonstrations once (they are the same for every item of a cell), and the two joined are what
the model was given. MT runs: mt_prompts.segment_prompt."""
from __future__ import annotations

from ..data.choice import NLI_LABELS
from ..data.languages import resolve
from ..errors import XlingError
from ..runs.records import ChoiceRun, MTRun, read_run
from .mt_prompts import segment_prompt

MODES = {"ll": "log-likelihood", "gen": "generation"}


def _find(run: ChoiceRun, item_id: str, cell: str | None) -> tuple[str, dict]:
    cells = [c for c in run.config.get("directions") or [] if isinstance(c, str)]
    if cell is not None and cell not in cells:   # another spelling of its languages (EN, eng, ko>EN)
        try:
            cell = ">".join(resolve(side).code for side in cell.split(">"))
        except XlingError:
            pass
    if cell is not None and cell not in cells:
        raise XlingError(f"{run.path} has no cell {cell!r}; it has: {', '.join(cells)}")
    found = []
    for name in [cell] if cell else cells:
        if not run.run.outputs_path(name).exists():
            continue
        found += [(name, r) for r in run.run.read_outputs(name) if str(r.get("id")) == item_id]
    if not found:
        raise XlingError(f"{run.path} has no item {item_id!r}" + (f" in {cell}" if cell else ""))
    if len(found) > 1:
        raise XlingError(f"item {item_id!r} is in several cells of {run.path} "
                         f"({', '.join(n for n, _ in found)}); pick one with --lang")
    return found[0]


def label_names(task: str, record: dict) -> list[str]:
    """The answer names an item's options get: NLI's labels, else the item's letters."""
    if task == "nli":
        return list(NLI_LABELS)
    return record.get("letters") or [chr(ord("A") + i) for i in range(len(record.get("options", [])))]


def template_line(mode: str, template) -> str:
    """The line that opens a mode's prompt: its name and the template's (name, hash)."""
    text = " ".join(template or [])
    return f"## {MODES[mode]} prompt (template {text})".replace(" ()", "")


def item_prompt(path: str, item_id: str, cell: str | None = None, mode: str | None = None) -> str:
    """The prompt(s) of one item, as text: for log-likelihood the context and each scored
    continuation (with its score, gold and prediction marked); for generation the prompt and
    the answer."""
    run = read_run(path)
    if isinstance(run, MTRun):
        if mode is not None:
            raise XlingError("--mode applies to NLI and multiple-choice runs; an MT segment has one prompt")
        return segment_prompt(run, item_id, cell)
    if not isinstance(run, ChoiceRun):
        raise XlingError(f"{path} is a {run.task} run; `xling prompt` shows the prompts of MT, NLI and "
                         "multiple-choice runs")
    name, record = _find(run, item_id, cell)
    return record_prompt(path, run.task, run.config, name, record, mode)


def record_prompt(path: str, task: str, config: dict, name: str, record: dict, mode: str | None = None) -> str:
    """What `xling prompt PATH ID --lang NAME [--mode MODE]` prints for a record already read."""
    if "prompt" not in record:
        raise XlingError(f"{path} was written before records kept their prompts; run its command "
                         "again with --overwrite to record them")
    demos = (config.get("demonstrations") or {}).get(name, {})
    templates = config.get("templates") or {}
    labels = label_names(task, record)
    gold = record.get("gold")
    lines = [f"# {path}: cell {name}, item {record['id']}, gold {labels[gold] if gold is not None else '?'}"]
    for key in [mode] if mode else [m for m in MODES if m in record["prompt"]]:
        prompt = record["prompt"].get(key)
        if prompt is None:
            raise XlingError(f"{path} scored no {MODES[key]} (--mode {key}) prompts")
        if config.get("shots") and key not in demos:   # (a hand-edited or damaged config.json)
            raise XlingError(f"{path}/config.json has no demonstrations for cell {name} ({MODES[key]}), "
                             "though the run used shots: the prompt cannot be shown whole")
        lines.append(template_line(key, templates.get(key)))
        if key == "ll":
            lines += [demos.get("ll", "") + prompt["context"], "## scored continuations"]
            scores = record.get("ll_scores") or [None] * len(prompt["options"])
            for index, (option, score) in enumerate(zip(prompt["options"], scores)):
                marks = [m for m, on in (("gold", index == gold), ("predicted", index == record.get("ll_pred"))) if on]
                score_text = "" if score is None else f", log-likelihood {score:.4f}"
                lines.append(f"[{labels[index]}{score_text}{''.join(', ' + m for m in marks)}] {option!r}")
        else:
            pred = record.get("gen_pred")
            lines += [demos.get("gen", "") + prompt, "## answer",
                      f"{record.get('gen_raw')!r} -> {labels[pred] if pred is not None else 'invalid'}"]
    return "\n".join(lines) + "\n"
