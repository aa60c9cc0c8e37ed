"""Typed reading of run folders. One reader per kind of run — MT directions, NLI / multiple-
choice cells, ratio-tuning units — so that `report`, `figures`, `transfer` and the CLI never
re-derive the layout of metrics.json (direction names, premise>hypothesis cells, ll/gen modes).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..data.languages import Direction, Language
from ..errors import XlingError
from ..metrics.base import MetricResult, mean_result
from ..metrics.registry import ALIASES, canonical_keys, get
from ..plugins import FAILED
from .config import TASKS
from .folder import REWRITE, RunDir


@dataclass
class MTRecord:
    """One segment of an MT run's outputs file (`outputs/<direction>.jsonl`), as it is written;
    readers get these keys back, the data set's own fields (`meta`: domain, document_id, ...)
    and the unit's (`unit`: document chunks, candidates) beside them."""
    id: str
    meta: dict
    source: str
    reference: str
    prompt_hash: str
    raw: str                 # what the model produced
    output: str              # the cleaned translation that is scored
    removed: list            # what cleaning removed
    lang: str                # the output's detected language (as offtarget counts it: "empty", "blank")
    unit: dict | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, **self.meta, "source": self.source, "reference": self.reference,
                "prompt_hash": self.prompt_hash, "raw": self.raw, "output": self.output,
                "removed": self.removed, "lang": self.lang, **(self.unit or {})}


@dataclass
class DirectionScores:
    """One MT direction of a run and its stored metrics."""
    name: str                      # "ko-en"
    src: Language
    tgt: Language
    n: int | None
    metrics: dict[str, dict]       # metric -> {"score", "signature", ...}
    realignment: dict | None = None   # document mode: chunks, failed_chunks, failed_segments
    cut_at_budget: int = 0   # outputs (document mode: segments of chunk answers) their token budget ended
    cut_by_content_filter: int = 0   # outputs a server's content filter ended

    def entry(self, metric: str) -> dict | None:
        """The stored result of `metric` (any spelling or alias: "BLEU", "chrfpp"), None if not scored."""
        return self.metrics.get(metric) or self.metrics.get(ALIASES.get(metric.lower(), metric.lower()))

    def score(self, metric: str) -> float | None:
        entry = self.entry(metric)
        return entry["score"] if entry else None


@dataclass
class Cell:
    """One NLI / multiple-choice cell: premise and hypothesis languages (equal unless crossed)."""
    name: str
    premise: str
    hypothesis: str
    n: int
    modes: dict[str, dict]         # "ll" / "gen" -> accuracy summary

    @property
    def crossed(self) -> bool:
        return self.premise != self.hypothesis

    @property
    def mode(self) -> str:
        """The mode a single number reports: log-likelihood where scored, else generation."""
        return "ll" if "ll" in self.modes else "gen"

    @property
    def summary(self) -> dict:
        return self.modes[self.mode]


@dataclass
class Run:
    run: RunDir
    config: dict
    task: str

    @property
    def path(self) -> Path:
        return self.run.path

    @property
    def label(self) -> str:
        """The folder's name, or as much of its path as tells it from the other runs shown
        beside it (see `distinguish`); bidi controls left out (an override never closed turned
        the rest of a sentence naming the run around)."""
        return _BIDI_CONTROLS.sub("", getattr(self, "_label", None) or self.run.path.resolve().name
                                  or str(self.run.path))

    @property
    def model(self) -> dict:
        return self.config.get("model") or {}

    @property
    def settings(self) -> dict:
        return self.config.get("settings") or {}


_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def distinguish(runs: list) -> None:
    """Give runs whose folders share a name (runs/A, other/A) labels that tell them apart: the
    shortest ending of their paths that differs."""
    paths = [r.run.path.resolve() for r in runs]
    for depth in range(1, max((len(p.parts) for p in paths), default=1) + 1):
        labels = ["/".join(p.parts[-depth:]).lstrip("/") or "/" for p in paths]
        if len({_BIDI_CONTROLS.sub("", label) for label in labels}) == len(labels):   # (as shown)
            break
    else:
        labels = [str(p) for p in paths]
    for run, label, path in zip(runs, labels, paths):
        if label != path.name:
            run._label = label


@dataclass
class MTRun(Run):
    directions: list[DirectionScores] = field(default_factory=list)

    def metrics_present(self) -> list[str]:
        return list(dict.fromkeys(m for d in self.directions for m in d.metrics))

    def direction(self, name: str) -> DirectionScores | None:
        return next((d for d in self.directions if d.name == name), None)


@dataclass
class ChoiceRun(Run):
    cells: list[Cell] = field(default_factory=list)


@dataclass
class TuneRun(Run):
    units: list[dict] = field(default_factory=list)       # ratio, seed, rougeL_*, losses, ...
    score_x_to_y: dict = field(default_factory=dict)
    figure2: dict = field(default_factory=dict)


def cell_name(premise: str, hypothesis: str) -> str:
    return premise if premise == hypothesis else f"{premise}>{hypothesis}"


def _cell_languages(name: str) -> tuple[str, str]:
    premise, _, hypothesis = name.partition(">")
    return premise, hypothesis or premise


def read_run(path: str | Path | RunDir, fresh: bool = False) -> MTRun | ChoiceRun | TuneRun:
    """The run in a folder, typed by its task. With `fresh`, an MT run whose metrics were
    computed on other outputs than the ones in the folder is an error (never shown stale)."""
    run = path if isinstance(path, RunDir) else RunDir(path)
    config = run.read_config()
    task = config["task"]
    stored = run.read_metrics()
    entries = stored["directions"]
    kind = TASKS[task].records if task in TASKS else None
    if kind == "mt":
        if fresh:
            _check_fresh(run, entries)
        present = run.directions()
        lost = [name for name in entries if name not in present]
        unnamed = [name for name in lost if run.outputs_path(name).is_file()]
        if unnamed:   # (its file is there: config.json was edited or damaged since)
            raise XlingError(f"{run.path} has scores and outputs for {', '.join(unnamed)}, which its config.json "
                             "does not name (edited or damaged since); restore config.json, or run the command "
                             "that made the run again")
        if lost:   # scored, so once written: the outputs file was removed since
            raise XlingError(f"{run.path} has scores for {', '.join(lost)} but no outputs file "
                             f"({run.outputs_path(lost[0])}); restore it, or run the command that made the "
                             "run again to write it anew")
        _refuse_scores_of_missing_plugins(run, entries)
        directions = []
        for name in present:
            entry = entries.get(name, {})
            src, tgt = Direction.parse(name)
            generation = entry.get("generation") if isinstance(entry.get("generation"), dict) else {}
            cut, filtered = generation.get("cut_at_budget"), generation.get("cut_by_content_filter")
            directions.append(DirectionScores(name, src, tgt, entry.get("n"), canonical_keys(entry.get("metrics", {})),
                                        entry.get("realignment"), cut if isinstance(cut, int) else 0,
                                        filtered if isinstance(filtered, int) else 0))
        return MTRun(run, config, task, directions)
    if kind == "choice":
        cells = [Cell(name, *_cell_languages(name), e.get("n", 0), {m: e[m] for m in ("ll", "gen") if m in e})
                 for name, e in entries.items()]
        if fresh:   # a records file cut short (or edited) is never shown with its old accuracy
            import sys

            for cell, entry in zip(cells, entries.values()):
                records = run.read_outputs(cell.name)
                if isinstance(entry.get("n"), int) and len(records) != entry["n"]:
                    raise XlingError(f"{run.outputs_path(cell.name)} holds {len(records)} records, its scores "
                                     f"{entry['n']} (cut short or edited?); {REWRITE}")
                for note in accuracy_disagreements(cell, records):   # predictions edited: said (once)
                    line = f"xling: warning: {run.path}: {note}"
                    if line not in _SAID:
                        _SAID.add(line)
                        print(line, file=sys.stderr)
        return ChoiceRun(run, config, task, cells)
    if kind == "tuning":
        return TuneRun(run, config, task, [e for e in entries.values() if isinstance(e, dict)],
                       stored.get("score_x_to_y", {}), stored.get("figure2", {}))
    raise XlingError(f"{run.path} holds a {task!r} run, which xling cannot read")


def _refuse_scores_of_missing_plugins(run: RunDir, entries: dict) -> None:
    """Scores of a plugin's metric whose plugin is not installed now: named with the plugin (was
    "unknown metric 'x'", the run's other scores unreadable without a hint why)."""
    for entry in entries.values():
        for name, stored in (entry.get("metrics") or {}).items():
            plugin = isinstance(stored, dict) and (stored.get("made_with") or {}).get("plugin")
            if not plugin:
                continue
            try:
                get(name)
            except XlingError:
                distribution = plugin.partition("==")[0]
                if ("xling.metrics", distribution) in FAILED:   # installed, its import failed (warned)
                    installed = f"{distribution}=={FAILED['xling.metrics', distribution]}"
                    which = ", which" if installed == plugin else f"; {installed}"
                    raise XlingError(f"{run.path} holds {name!r} scores made by plugin {plugin}{which} is installed "
                                     "here but does not load (see the warning above): fix its import to report or "
                                     "rescore this run") from None
                raise XlingError(f"{run.path} holds {name!r} scores made by plugin {plugin}, which is not "
                                 f"installed here: install it (pip install '{plugin}') to report or rescore "
                                 "this run") from None


_SAID: set[str] = set()   # warnings a process gave (a report reads its runs more than once)


def accuracy_disagreements(cell: Cell, records: list[dict]) -> list[str]:
    """Where metrics.json's accuracy is not the share of correct predictions in the outputs."""
    notes = []
    for mode, summary in cell.modes.items():
        key = "ll_pred" if mode == "ll" else "gen_pred"
        if records and all(key in r for r in records) and isinstance(summary.get("accuracy"), (int, float)):
            counted = sum(r[key] is not None and r[key] == r["gold"] for r in records) / len(records)
            if abs(counted - summary["accuracy"]) > 1e-9:
                notes.append(f"{cell.name} ({mode}): metrics.json gives accuracy {summary['accuracy']:.4f}, "
                             f"its outputs {counted:.4f}")
    return notes


def unfinished(record: Run) -> list[str]:
    """The directions (or cells, units) a run's config names that it has not finished."""
    done = record.run.read_metrics()["directions"]
    return [d for d in record.config.get("directions") or [] if isinstance(d, str)
            and (d not in done or isinstance(done[d], dict) and done[d].get("scoring"))]   # (stopped mid-scoring)


def check_complete(record: Run) -> None:
    """A run with nothing finished is an error, one with some of its directions (or cells)
    finished a warning: each says whether it is still being written and how to go on."""
    import sys

    expected = [d for d in record.config.get("directions") or [] if isinstance(d, str)]
    finished = [d for d in expected if d not in unfinished(record)]
    if finished and len(finished) == len(expected):
        return
    state = ("it is being written by another xling process now" if record.run.being_written() else
             "it was stopped before it finished; run the command that made it again to resume it "
             "(what is finished is kept, outputs come from the cache)")
    if not finished:
        raise XlingError(f"{record.path} has no finished outputs yet: {state}")
    print(f"xling: warning: {record.path} has finished {len(finished)} of its {len(expected)} "
          f"directions: {state}", file=sys.stderr)


def _check_fresh(run: RunDir, entries: dict) -> None:
    stale = [d for d in run.directions() if entries.get(d, {}).get("outputs_sha256") != run.outputs_digest(d)]
    if stale:
        for direction in stale:   # damaged outputs are their own error: rescoring cannot mend them
            run.read_outputs(direction)
        names = sorted({m for e in entries.values() for m in e.get("metrics", {})}) or ["bleu", "chrf"]
        state = "older than its outputs" if any(d in entries for d in stale) else "missing"
        raise XlingError(f"{run.path}: the metrics of {', '.join(stale)} are {state}; "
                         f"`xling rescore {run.path} -m {','.join(names)}` recomputes them")


def metric_result(run: RunDir, direction: str, metric: str,
                  positions: list[int] | None = None, records: list[dict] | None = None) -> MetricResult:
    """A metric of a saved MT run as a full MetricResult (with statistics for significance):
    recomputed from the outputs for string metrics, from the stored segment scores for
    model-based ones (which are too expensive to recompute). `positions` restricts it to
    those segments (a domain, say); `records`, when the caller has read them already."""

    spec = get(metric)
    records = run.read_outputs(direction) if records is None else records
    keep = range(len(records)) if positions is None else positions
    if spec.model_based:
        stored = run.read_metrics()["directions"].get(direction, {}).get("metrics", {}).get(metric)
        if stored is None or "segments" not in stored:
            raise XlingError(f"{run.path}: no {metric} scores for {direction}; run `xling rescore "
                             f"{run.path} -m {metric}` first")
        values = [stored["segments"][i] for i in keep]
        # a judge's (unparseable answers, or none: still its kind, paired with a run that had some)
        if any(v is None for v in stored["segments"]) or "|parsed:" in str(stored.get("signature")):
            from ..metrics.judge import parsed_mean_result
            result = parsed_mean_result(stored["name"], values, stored["signature"])
        else:
            result = mean_result(stored["name"], values, stored["signature"])
        result.higher_is_better = spec.higher_is_better
        return result
    tgt = Direction.parse(direction).tgt
    chosen = [records[i] for i in keep]
    return spec([r["output"] for r in chosen], [r["reference"] for r in chosen],
                [r["source"] for r in chosen], tgt.code, **_options(run, direction, spec))


def _options(run: RunDir, direction: str, spec) -> dict:
    """The options a string metric is recomputed with: the run's settings, and those its stored
    result records (spBLEU's model file, given to `rescore`)."""
    settings = dict(run.read_config().get("settings") or {})
    stored = run.read_metrics()["directions"].get(direction, {}).get("metrics", {}).get(spec.name) or {}
    names = {spec.setting_name(option) for option in spec.settings}
    settings.update({k: v for k, v in stored.get("extra", {}).items() if k in names})
    return spec.options_from(settings)


def check_paired(path_a, records_a: list[dict], path_b, records_b: list[dict], name: str) -> None:
    """A paired comparison needs the same items in both runs, in the same order: the same ids
    and the same inputs and references (ids alone repeat across data sets: 00001, 00002, ...).
    Everything but the model's own answers counts."""
    if len(records_a) != len(records_b):
        raise XlingError(f"{path_b} and {path_a} scored different segments for {name} "
                         f"({len(records_b)} vs {len(records_a)}); a paired test needs the same ones")
    for a, b in zip(records_a, records_b):
        for key in ("id", "source", "reference", "gold", *sorted(set(a) & ITEM_FIELDS)):
            if a.get(key) != b.get(key):
                raise XlingError(f"{path_b} and {path_a} scored different segments for {name}: item "
                                 f"{a.get('id')} has another {key} in each; a paired test needs the same "
                                 "inputs and references")


ITEM_FIELDS = {"premise", "hypothesis", "stem", "options"}   # choice tasks' inputs


def by_field(records: list[dict], key: str) -> dict[str, list[int]]:
    """Positions of the records by the value of one field (domain, document_id), in order of
    first appearance; empty when the records do not carry it."""
    if not records or any(key not in r for r in records):
        return {}
    groups: dict[str, list[int]] = {}
    for position, record in enumerate(records):
        groups.setdefault(str(record[key]), []).append(position)
    return groups


def document_result(run: RunDir, direction: str, metric: str, positions: list[int] | None = None,
                    records: list[dict] | None = None) -> MetricResult | None:
    """A string metric over whole documents: each document's outputs (and references) joined
    in segment order, scored as one segment (restricted to `positions` if given), over the
    documents realigned in full (`extra`: documents_scored of documents_total). None when the
    records carry no document ids, or no document was realigned in full."""

    records = run.read_outputs(direction) if records is None else records
    if positions is not None:
        records = [records[i] for i in positions]
    every = by_field(records, "document_id")
    # Only documents realigned in full: a segment that could not be split back is empty, and
    # would score its whole document as if the model had left it out.
    documents = {d: p for d, p in every.items() if all(records[i].get("realigned") is not False for i in p)}
    if not documents:
        return None
    tgt = Direction.parse(direction).tgt

    def joined(key: str) -> list[str]:
        return [" ".join(records[i][key] for i in positions) for positions in documents.values()]

    spec = get(metric)
    result = spec(joined("output"), joined("reference"), joined("source"), tgt.code,
                  **_options(run, direction, spec))
    result.extra.update(documents_scored=len(documents), documents_total=len(every))
    return result
