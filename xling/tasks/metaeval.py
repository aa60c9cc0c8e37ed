"""`xling meta-eval`: how well each metric agrees with human judgments, as the WMT metrics task
measures it (google-research/mt-metrics-eval's definitions, in xling.metaeval.measures).

Every system but the reference that the humans rated is scored by each metric against the
reference's texts (the reference itself needs no human score; a system without any is left out,
as MT-metrics-eval leaves it out), on the segments the reference and every such system have an
output for. A cell without a human score is left out of each measure, as MT-metrics-eval leaves
out a gold None; the system-level human scores are the data's own where it gives them (MTME's
`sys.score`), else each system's mean over its rated segments. System-level
metric scores are corpus scores (sacrebleu's corpus BLEU/chrF, the mean for segment-level
metrics), segment-level scores sentence scores; scores where lower is better (TER, MetricX,
the off-target rate: off-target = worst) are negated so that higher is better throughout, as
are the human scores (MQM is negated when read). With an output folder, each metric's scores
are kept there, keyed by what they were computed from: adding a metric re-scores nothing else;
the folder also holds report.json, its figures and report.html, one page that shows it all.
"""
from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..data.human import HumanJudgments
from ..data.languages import resolve
from ..data.registry import DataOptions, load_dataset
from ..data.textio import atomic_writer
from ..errors import XlingError
from ..metaeval import measures
from ..metrics.base import refuse_non_finite
from ..metrics.registry import get, parse_metric_names
from ..reporting.html_pages import metaeval_page
from ..reporting.metaeval_figures import agreement_heatmap, system_scatter
from ..reporting.plots import FIGURE_FORMATS, figure_file, render_figure, write_rendered
from ..runs.folder import MARKER, META_EVAL_MARKER, RunDir
from ..version import __version__

SYSTEM_MEASURES = ("pearson", "kendall", "pairwise_accuracy", "soft_pairwise_accuracy")
SEGMENT_MEASURES = ("pearson", "kendall", "kendall_by_item", "acc_eq")
# The measures whose difference between two metrics is tested (paired permutation test, each
# metric against the best one): system-level Pearson (resampling systems) and segment-level
# Kendall over items (resampling segments).
TESTED = (("system", "pearson"), ("segment", "kendall_by_item"))
PAGE = "report.html"     # the page of an output folder


@dataclass
class MetricScores:
    """One metric's scores on the common segments, oriented so that higher is better."""
    name: str
    signature: str
    system: dict[str, float]          # corpus score per system
    segment: dict[str, list[float]]   # sentence scores per system


def _system_rng(seed: int, system: str):
    """A system's own resampling stream: its interval is the same whichever systems are beside it
    (one stream drawn in list order moved it when another system was excluded)."""
    import hashlib

    return np.random.default_rng([seed, int(hashlib.sha256(system.encode()).hexdigest()[:8], 16)])


def load_judgments(spec: str, data_dir: str | None = None) -> HumanJudgments:
    return load_dataset(spec, DataOptions(data_dir, task="judgments"))


@dataclass
class Selection:
    """What is meta-evaluated: the rated systems besides the reference, the segments they and
    the reference all have an output for (and that at least one of them has a human score on),
    the systems left out for having no human score there, and those left out on purpose."""
    systems: list[str]
    positions: list[int]
    unrated: list[str]
    excluded: tuple[str, ...] = ()


def select(judgments: HumanJudgments, reference: str, exclude: tuple[str, ...] = ()) -> Selection:
    """`exclude`: systems left out on purpose (human translations besides the reference, say)."""
    if reference not in judgments.outputs:
        raise XlingError(f"{judgments.spec} has no system {reference!r} to serve as the reference; its systems: "
                         f"{', '.join(judgments.systems())}")
    unknown = [s for s in exclude if s not in judgments.systems()]
    if unknown:
        raise XlingError(f"--exclude: {judgments.spec} has no system {', '.join(map(repr, unknown))}; its systems: "
                         f"{', '.join(judgments.systems())}")
    if reference in exclude:
        raise XlingError(f"--exclude names the reference {reference!r}, which is never scored")
    outputs, scores = judgments.outputs, judgments.scores
    if not any(text is not None for texts in outputs.values() for text in texts):
        raise XlingError(f"{judgments.spec} holds human scores only, no translations for a metric to "
                         "score: give the file with the outputs (mqm:FILE.tsv, or mtme:ROOT:LP)")
    candidates = [s for s in judgments.systems() if s != reference and s not in exclude]

    def rated(system: str, where: list[int]) -> bool:   # a human score on a segment it translated
        return system in outputs and system in scores and \
            any(scores[system][i] is not None and outputs[system][i] is not None for i in where)

    translated = [i for i, text in enumerate(outputs[reference]) if text is not None]
    systems = [s for s in candidates if rated(s, translated)]
    while True:   # a system left out frees the segments it lacked: settles in a step or two
        positions = [i for i in translated if all(outputs[s][i] is not None for s in systems)
                     and any(scores[s][i] is not None for s in systems)]
        kept = [s for s in systems if rated(s, positions)]
        if kept == systems:
            break
        systems = kept
    return Selection(systems, positions, [s for s in candidates if s not in systems], exclude)


def human_matrix(judgments: HumanJudgments, systems: list[str], positions: list[int]) -> np.ndarray:
    """Systems x segments of human scores, NaN where a cell is not rated."""
    return np.array([[math.nan if judgments.scores[s][i] is None else judgments.scores[s][i] for i in positions]
                     for s in systems], dtype=float)


def human_system_scores(judgments: HumanJudgments, systems: list[str], segment: np.ndarray) -> tuple[np.ndarray, str]:
    """Each system's human score and where it comes from: the data's own system scores when
    it gives one for every system (as MTME uses `LP.HUMAN.sys.score`), else the mean of the
    system's rated segments (one source for all: scores of two kinds are not ranked together;
    the source says which systems the data's system scores lack)."""
    given = judgments.system_scores or {}
    if systems and all(s in given for s in systems):
        return np.array([given[s] for s in systems], dtype=float), "the data's system scores"
    lacking = [s for s in systems if s not in given]
    why = f" (the data's system scores lack {', '.join(lacking)})" if given and lacking else ""
    return np.nanmean(segment, axis=1), "the mean of each system's rated segments" + why


def score_metric(name: str, judgments: HumanJudgments, systems: list[str], reference: str,
                 positions: list[int], tgt_lang: str, settings: dict | None = None, done: dict | None = None,
                 on_system=None, progress: bool = False) -> MetricScores:
    """Corpus and sentence scores of every system by one metric, against the reference's texts.
    `done`: systems scored before ({system: {"system", "segment", "signature"}}, not scored
    again); on_system(system, entry) is called as each of the others is scored (an interrupted
    meta-eval keeps them)."""
    from ..progress import bar

    spec = get(name)
    done = done or {}
    refs = [_text(judgments, reference, i) for i in positions]
    srcs = [judgments.sources[i] for i in positions]
    sign = 1.0 if spec.higher_is_better else -1.0
    system, segment, signature = {}, {}, ""
    unscored: dict[str, int] = {}
    todo = [s for s in systems if s not in done]
    ticks = bar(total=len(systems), initial=len(systems) - len(todo), desc=spec.display, unit="system",
                disable=not progress or not todo, leave=False)
    for name_ in systems:
        if name_ in done:
            system[name_], segment[name_], signature = (done[name_][k] for k in ("system", "segment", "signature"))
            continue
        hyps = [_text(judgments, name_, i) for i in positions]
        result = spec(hyps, refs if spec.needs_refs else None, srcs if spec.needs_srcs or srcs else None,
                      tgt_lang, **spec.options_from(settings or {}))
        segments = result.segments
        if segments is None or len(segments) != len(hyps):
            raise XlingError(f"{spec.display} gives no sentence scores, so it has no segment-level "
                             "agreement with the human scores")
        if any(s is None for s in segments):   # (a judge's unparseable answers): every system is judged first
            unscored[name_] = sum(s is None for s in segments)
            continue
        # (a plugin's NaN or inf: a measure's refusal naming no metric, or an SPA made of inf - inf)
        refuse_non_finite(f"{spec.display} on {name_}", [float(s) for s in segments if s is not None],
                          "a metric must give a finite score for every segment")
        system[name_] = sign * float(result.score) + 0.0    # (+ 0.0: no negative zero)
        segment[name_] = [sign * float(s) + 0.0 for s in segments if s is not None]
        signature = result.signature
        ticks.update()
        if on_system is not None:
            on_system(name_, {"system": system[name_], "segment": segment[name_], "signature": signature})
    ticks.close()
    if unscored:
        counts = ", ".join(f"{n} of {len(positions)} segments of {s}" for s, n in unscored.items())
        raise XlingError(f"{spec.display} gave no score for {counts} (answers it could not read); its agreement "
                         "with the human scores is measured on every cell, so it needs a score for each: try a "
                         "stronger judge model, or leave those systems out (meta-eval -x SYSTEM)")
    return MetricScores(name, signature, system, segment)


def _text(judgments: HumanJudgments, system: str, i: int) -> str:
    text = judgments.outputs[system][i]
    if text is None:    # select() keeps only segments with outputs
        raise XlingError(f"{system} has no output for segment {judgments.segment_ids[i]}")
    return text


def agreement(metric: MetricScores, human_system: np.ndarray, human_segment: np.ndarray, systems: list[str],
              *, seed: int = 0, samples: int = 1000) -> dict[str, dict[str, float | None]]:
    """Every meta-measure of one metric: system level (one score per system) and segment level."""
    metric_system = np.array([metric.system[s] for s in systems])
    metric_segment = np.array([metric.segment[s] for s in systems])
    accuracy, epsilon = measures.acc_eq_calibrated(metric_segment, human_segment)
    values = {
        "system": {
            "pearson": measures.pearson(metric_system, human_system),
            "kendall": measures.kendall_tau_b(metric_system, human_system),
            "pairwise_accuracy": measures.pairwise_accuracy(metric_system, human_system),
            "soft_pairwise_accuracy": _soft_pairwise_accuracy(metric_segment, human_segment, samples, seed),
        },
        "segment": {
            "pearson": measures.pearson(metric_segment.ravel(), human_segment.ravel()),
            "kendall": measures.kendall_tau_b(metric_segment.ravel(), human_segment.ravel()),
            # MTME's 0.0 where no item has a tau (a constant metric) is not a measured 0: n/a
            "kendall_by_item": measures.kendall_by_item(metric_segment, human_segment, undefined=math.nan),
            "acc_eq": accuracy,
            "epsilon": epsilon,
        },
    }
    # A correlation with a constant vector is undefined (MTME: NaN); shown as null / n/a.
    return {level: {k: float(v) if math.isfinite(v) else None for k, v in row.items()}
            for level, row in values.items()}


def _full_segments(human_segment: np.ndarray) -> np.ndarray:
    """Which segments every system is rated on: the ones soft pairwise accuracy uses."""
    return ~np.isnan(human_segment).any(axis=0)


def _rated_by_all(human_segment: np.ndarray) -> int:
    """How many segments soft pairwise accuracy uses (report.json's spa_segments)."""
    return int(_full_segments(human_segment).sum())


def _soft_pairwise_accuracy(metric_segment: np.ndarray, human_segment: np.ndarray, samples: int,
                            seed: int) -> float:
    """SPA on the segments every system is rated on (its permutation test pairs whole segments,
    as MTME's, which takes no missing score); NaN without such a segment."""
    full = _full_segments(human_segment)
    if not full.any():
        return math.nan
    return measures.soft_pairwise_accuracy(metric_segment[:, full], human_segment[:, full],
                                           samples=samples, seed=seed)


def _tested_measure(level: str, measure: str) -> Callable[..., float]:
    tested: dict[tuple[str, str], Callable[..., float]] = {("system", "pearson"): measures.pearson,
                                                          ("segment", "kendall_by_item"): measures.kendall_by_item}
    return tested[(level, measure)]


def significance(scores: dict[str, MetricScores], results: dict, human_system, human_segment, systems,
                 *, seed: int, samples: int) -> dict[str, dict[str, float | None]]:
    """For each tested measure: each metric's p-value against the best metric by that measure
    (one-sided paired permutation test; None for the best itself, and where the measure is
    undefined)."""
    out: dict[str, dict[str, float | None]] = {}
    for level, measure in TESTED:
        defined = [m for m in results if results[m][level][measure] is not None]
        if len(defined) < 2:
            continue
        best = max(defined, key=lambda m: results[m][level][measure])
        human = human_system if level == "system" else human_segment

        def values(name, level=level):
            metric = scores[name]
            return np.array([metric.system[s] for s in systems]) if level == "system" else \
                np.array([metric.segment[s] for s in systems])
        out[f"{level}_{measure}"] = {
            name: None if name == best or name not in defined else measures.paired_permutation_test(
                _tested_measure(level, measure), values(best), values(name), human, samples=samples, seed=seed)
            for name in results}
    return out


def meta_evaluate(spec: str, reference: str, metrics, *, data_dir: str | None = None, settings: dict | None = None,
                  tgt_lang: str | None = None, seed: int = 0, samples: int = 1000, out: str | Path | None = None,
                  progress: bool = True, exclude=()) -> dict:
    """The meta-evaluation report (the JSON `xling meta-eval --format json` prints). `exclude`:
    systems left out (human translations scored as systems weigh heavily at system level)."""
    metrics = parse_metric_names(metrics)
    judgments = load_judgments(spec, data_dir)     # bad data is refused before a folder is made
    chosen = select(judgments, reference, tuple(dict.fromkeys(exclude)))   # (-x ref,ref: named once)
    if len(chosen.systems) < 2:
        raise XlingError(f"{spec}: meta-evaluation needs two systems with human scores besides the reference "
                         f"{reference}, not {len(chosen.systems)}"
                         + (f" (no human score: {', '.join(chosen.unrated)})" if chosen.unrated else ""))
    tgt = _target(spec, judgments, tgt_lang)
    # an unknown code is refused before a folder is claimed or a metric runs
    if judgments.tgt_lang and resolve(tgt).code != resolve(judgments.tgt_lang).code:
        print(f"xling: warning: {spec} holds translations into {resolve(judgments.tgt_lang).name}, and they are "
              f"scored as {resolve(tgt).name} (--tgt-lang {tgt}: its tokenizer and off-target checks)",
              file=sys.stderr)
    resolve(tgt)
    from ..metrics.preflight import check_metric_models
    check_metric_models(metrics, settings or {}, translating=False)   # a model that cannot load fails before the folder
    if out is not None:   # claimed (checked and locked) before any scoring, as every run folder
        with RunDir(out) as run:
            if run.exists():   # its files would mix with that run's
                raise XlingError(f"{run.path} holds a {run.read_config()['task']} run; meta-eval writes a folder "
                                 "of its own: choose another --out")
            (run.path / MARKER).write_text(META_EVAL_MARKER, encoding="utf-8")
            return _meta_evaluate(spec, reference, metrics, judgments, chosen, tgt, settings, seed, samples,
                                  run.path, progress)
    return _meta_evaluate(spec, reference, metrics, judgments, chosen, tgt, settings, seed, samples, None, progress)


def _target(spec: str, judgments: HumanJudgments, tgt_lang: str | None) -> str:
    """The target language the outputs are scored as: --tgt-lang, else the data's."""
    tgt = tgt_lang or judgments.tgt_lang
    if tgt is None:
        raise XlingError(f"{spec} does not say its target language (its file name holds no language pair): "
                         f"give the pair after the file, {spec}:SRC-TGT, or pass --tgt-lang")
    return tgt


def _say_languages(judgments: HumanJudgments, tgt: str) -> None:
    """One note where the languages come from the file's name (a word in it was read as a pair,
    every output off-target with nothing said), said after every refusal; another --tgt-lang is
    warned about instead."""
    if judgments.languages_note and resolve(tgt).code == judgments.tgt_lang:
        print(f"xling: note: {judgments.languages_note}", file=sys.stderr)


def _meta_evaluate(spec, reference, metrics, judgments: HumanJudgments, chosen: Selection, tgt: str, settings,
                   seed, samples, out: Path | None, progress) -> dict:
    systems, positions = chosen.systems, chosen.positions
    human_segment = human_matrix(judgments, systems, positions)
    human_system, human_system_source = human_system_scores(judgments, systems, human_segment)
    rated = int((~np.isnan(human_segment)).sum())
    if progress:
        _say_languages(judgments, tgt)
        print(f"xling: {len(systems)} systems against {reference} on {len(positions)} of "
              f"{len(judgments.segment_ids)} segments ({rated} of {human_segment.size} system-segment cells "
              "rated by the humans)", file=sys.stderr)
        if chosen.unrated:
            print(f"xling: left out, no human score on the segments compared: {', '.join(chosen.unrated)}",
                  file=sys.stderr)
        humans = [s for s in systems if s in judgments.human_systems]
        if humans:
            print(f"xling: scored as systems, human translations: {', '.join(humans)} (--exclude leaves them out)",
                  file=sys.stderr)
    intervals = {s: list(mean_interval(row[~np.isnan(row)], _system_rng(seed, s), samples))
                 for s, row in zip(systems, human_segment)}
    store = _ScoreStore(Path(out) / "scores.json") if out else None
    scores: dict[str, MetricScores] = {}
    for name in metrics:
        key = _key(name, spec, reference, systems, positions, tgt, settings, judgments)
        found = store.get(key, systems, len(positions)) if store else None
        if found is None:
            if progress:
                print(f"xling: scoring {len(systems)} systems with {get(name).display}", file=sys.stderr)
            partial = f"{key} (systems so far)"   # (an interrupted metric resumes at its next system)
            done = store.partial(partial, len(positions)) if store else {}

            def keep(system: str, entry: dict, partial=partial, done=done) -> None:
                done[system] = entry
                if store:
                    store.put_entry(partial, done)

            found = score_metric(name, judgments, systems, reference, positions, tgt, settings,
                                 done=done, on_system=keep, progress=progress)
            if store:
                store.put(key, found, drop=partial)
        scores[name] = found
    results = {name: agreement(score, human_system, human_segment, systems, seed=seed, samples=samples)
               for name, score in scores.items()}
    report = {"systems": systems, "segments": len(positions), "metrics": results,
              "data": spec, "reference": reference, "tgt_lang": tgt, "data_segments": len(judgments.segment_ids),
              "rated_cells": rated, "spa_segments": _rated_by_all(human_segment),
              "unrated_systems": chosen.unrated, "excluded_systems": list(chosen.excluded),
              "human_systems": [s for s in systems if s in judgments.human_systems],
              "human": {"system": dict(zip(systems, human_system.tolist())), "system_source": human_system_source,
                        "interval": intervals},
              "metric_system_scores": {name: s.system for name, s in scores.items()},
              "signatures": {name: s.signature for name, s in scores.items()},
              "significance": significance(scores, results, human_system, human_segment, systems,
                                           seed=seed, samples=samples) if len(results) > 1 else {},
              "seed": seed, "samples": samples, "xling_version": __version__}
    if out:
        _write_folder(Path(out), report)
    return report


def _key(name, spec, reference, systems, positions, tgt, settings, judgments: HumanJudgments) -> str:
    """What a metric's scores depend on: the metric and what it is made with (its options but
    the batch size, a local checkpoint's or template's content, its rules' version: a folder
    made by an older xling or before a checkpoint was replaced scores again), the texts and
    segments."""
    options = get(name).made_with(settings or {})
    digest = hashlib.sha256()
    for system in [reference, *systems]:
        for i in positions:
            digest.update((judgments.outputs[system][i] or "").encode() + b"\0")
    for i in positions:
        digest.update(judgments.sources[i].encode() + b"\0")
    return json.dumps([name, options, reference, systems, tgt, digest.hexdigest()], sort_keys=True, default=str)


def _kept_system(entry, segments: int) -> bool:
    """Whether a system's kept scores are whole: a finite corpus score and one per segment."""
    def finite(value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

    return isinstance(entry, dict) and finite(entry.get("system")) and isinstance(entry.get("segment"), list) \
        and len(entry["segment"]) == segments and all(map(finite, entry["segment"]))


class _ScoreStore:
    """Metric scores kept in the output folder (scores.json), written atomically."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.entries = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (OSError, ValueError) as exc:
            raise XlingError(f"cannot read {path}: {exc}; remove it to score again") from exc
        if not isinstance(self.entries, dict):
            raise XlingError(f"{path} is not a meta-eval score file; remove it to score again")

    def get(self, key: str, systems: list[str], segments: int) -> MetricScores | None:
        """A metric's kept scores; None (scored again) for an entry damaged or edited by hand."""
        entry = self.entries.get(key)
        if not isinstance(entry, dict) or set(entry) != {"name", "signature", "system", "segment"} \
                or not isinstance(entry["system"], dict) or not isinstance(entry["segment"], dict) \
                or not all(_kept_system({"system": entry["system"].get(s), "segment": entry["segment"].get(s)},
                                        segments) for s in systems):
            return None
        return MetricScores(**entry)

    def partial(self, key: str, segments: int) -> dict:
        """The systems of an interrupted metric kept so far, each whole (others are scored again)."""
        entries = self.entries.get(key)
        if not isinstance(entries, dict):
            return {}
        return {s: e for s, e in entries.items() if _kept_system(e, segments) and isinstance(e.get("signature"), str)}

    def put(self, key: str, scores: MetricScores, drop: str | None = None) -> None:
        """Keep a metric's scores (and drop `drop`, its systems kept one by one so far)."""
        self.entries.pop(drop, None)
        self.put_entry(key, scores.__dict__)

    def put_entry(self, key: str, entry: dict) -> None:
        self.entries[key] = entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(self.path) as handle:
            json.dump(self.entries, handle, ensure_ascii=False)


def _write_folder(out: Path, report: dict) -> None:
    """The figures (metrics x meta-measures, metric vs human system scores), report.html (the page
    that shows it all) and report.json, last. The earlier run's files go first (an interrupt
    left its page and figures beside a new report.json): the folder then holds one run's files,
    and without report.json its run did not finish."""
    figures = {"agreement": render_figure(agreement_heatmap(report)), "systems": render_figure(system_scatter(report))}
    page = metaeval_page(report)
    out.mkdir(parents=True, exist_ok=True)
    earlier = [out / "report.json", out / PAGE, *(figure_file(out / stem, ext) for stem in figures
                                                   for ext in FIGURE_FORMATS)]
    for path in earlier:   # (a link is written through, as atomic_writer does; another kind refuses then)
        if path.is_file() and not path.is_symlink():
            try:
                path.unlink()
            except OSError as exc:
                raise XlingError(f"cannot replace {path}: {exc.strerror or exc}") from exc
    for stem, rendered in figures.items():
        write_rendered(rendered, out / stem)
    with atomic_writer(out / PAGE) as handle:
        handle.write(page)
    with atomic_writer(out / "report.json") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=1)


def mean_interval(values: np.ndarray, rng: np.random.Generator, samples: int) -> tuple[float, float]:
    """A 95% bootstrap interval of the mean of `values` (resampled `samples` times, percentile),
    drawn a block of resamples at a time (the same draws as all at once, in less memory)."""
    block = max(1, 4_000_000 // len(values))
    means = np.concatenate([values[rng.integers(0, len(values), size=(min(block, samples - start), len(values)))]
                            .mean(axis=1) for start in range(0, samples, block)])
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def human_scores(spec: str, *, reference: str | None = None, metrics=(), data_dir: str | None = None,
                 settings: dict | None = None, tgt_lang: str | None = None, seed: int = 12345,
                 samples: int = 1000) -> dict:
    """Each system's human score, as `meta-eval` takes it (the data's own system scores where it
    gives one for every system, else the mean over its rated segments), and the mean over its
    rated segments with a 95% bootstrap interval (segments resampled, percentile); systems
    without a human score are left out (listed in `unrated_systems`). With a `reference`, on the
    segments it and every rated system translated, beside each metric's corpus score against
    that reference."""
    judgments = load_judgments(spec, data_dir)
    if reference is not None:
        chosen = select(judgments, reference)
        systems, positions, unrated = chosen.systems, chosen.positions, chosen.unrated
    else:
        systems = [s for s in judgments.systems() if any(v is not None for v in judgments.scores.get(s, []))]
        positions = list(range(len(judgments.segment_ids)))
        unrated = [s for s in judgments.systems() if s not in systems]
    if not systems:
        raise XlingError(f"{spec}: no system has a human score" + (f" on a segment {reference} has an output for"
                                                                  if reference is not None else ""))
    human = human_matrix(judgments, systems, positions)
    system_scores, source = human_system_scores(judgments, systems, human)
    table = {}
    for system, row, score in zip(systems, human, system_scores):
        values = row[~np.isnan(row)]
        low, high = mean_interval(values, _system_rng(seed, system), samples)
        table[system] = {"score": float(score), "segment_mean": float(values.mean()), "low": low, "high": high,
                         "segments": len(values)}
    metric_scores = {}
    if reference is not None and metrics:
        tgt = _target(spec, judgments, tgt_lang)
        _say_languages(judgments, tgt)
        for name in parse_metric_names(metrics):
            result = score_metric(name, judgments, systems, reference, positions, tgt, settings)
            sign = 1.0 if get(name).higher_is_better else -1.0
            metric_scores[name] = {s: sign * v for s, v in result.system.items()}   # as the metric reports it
    return {"data": spec, "reference": reference, "systems": table, "human_source": source,
            "metrics": metric_scores, "unrated_systems": unrated, "seed": seed, "samples": samples}
