"""How ability transfers from the targeted languages (Korean, English) to untargeted ones.

From a run: each language's score relative to the model's targeted-language score and to its
English score, grouped by script or family. From two runs: the per-language difference with a
paired bootstrap interval, and the report's Score(X→Y) (Equation 1): the score of a model tuned
in X, tested in Y, divided by that of a model tuned in Y, tested in Y.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import cast

import numpy as np

from ..data.languages import resolve
from ..errors import XlingError
from ..metrics.base import mean_result
from ..metrics.registry import get
from ..metrics.significance import delta_ci, judged_by_both, resampled_scores
from ..runs.folder import RunDir
from ..runs.records import ChoiceRun, MTRun, Run, check_complete, check_paired, distinguish, metric_result, read_run
from .plots import grouped_bars
from .tables import Table, p_text, signed

MT_PREFERENCE = ("xcomet", "comet", "chrf", "chrf++", "bleu")


@dataclass
class LanguageScore:
    lang: str
    score: float
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None


def shared_mode(*runs: ChoiceRun) -> str:
    """The answer mode every language of every run was scored in: log-likelihood where all have
    it, else generation. Accuracy by log-likelihood and by generation are different measures,
    never compared with each other."""
    cells = [cell for run in runs for cell in run.cells if not cell.crossed]
    for mode in ("ll", "gen"):
        if all(mode in cell.modes for cell in cells):
            return mode
    raise XlingError(f"{', '.join(str(r.run.path) for r in runs)}: the languages were not all scored "
                     "in one mode (log-likelihood or generation), and accuracies of different modes "
                     "are not comparable; score them in a shared mode (--mode both)")


def language_scores(run: RunDir | Run, metric: str | None = None, mode: str | None = None,
                    directions: set[str] | None = None) -> tuple[str, dict[str, LanguageScore]]:
    """(metric, scores by language). NLI / multiple-choice runs give accuracy per language in
    one answer mode (`mode`, else `shared_mode`); MT runs the mean of a metric over the
    directions into each language (those of `directions` only, when given: the ones every
    compared run has)."""
    record = run if isinstance(run, Run) else read_run(run, fresh=True)
    if isinstance(record, ChoiceRun):
        mode = mode or shared_mode(record)
        out = {}
        for cell in record.cells:
            if not cell.crossed:
                e = cell.modes[mode]
                out[cell.name] = LanguageScore(cell.name, e["accuracy"], e["ci_low"], e["ci_high"], e["n"])
        return "accuracy", out
    if isinstance(record, MTRun):
        present = set(record.metrics_present())
        metric = metric or next((m for m in MT_PREFERENCE if m in present), None)
        if metric is None or metric not in present:
            raise XlingError(f"{run.path} has no {metric or 'usable'} scores; it has: {', '.join(sorted(present))}")
        check_alike(record, metric)
        by_target: dict[str, list[str]] = {}
        for d in record.directions:
            if directions is None or d.name in directions:
                by_target.setdefault(d.tgt.code, []).append(d.name)
        return metric, {lang: _mt_language_score(record, lang, names, metric) for lang, names in by_target.items()}
    raise XlingError(f"{run.path} is a {record.task!r} run; transfer analysis takes MT, NLI "
                     "and multiple-choice runs")


def check_alike(record: MTRun, metric: str) -> None:
    """A language's score is the mean over its directions: every direction must hold `metric`,
    made with the same settings (an interrupted `rescore --comet-model B` left B's COMET on some
    directions and the old model's on the rest, and their mean was shown as one score)."""
    path = record.run.path
    missing = [d.name for d in record.directions if d.score(metric) is None]
    if missing:
        raise XlingError(f"{path}: no {metric} score for {', '.join(missing)} (never scored, or dropped when "
                         f"its outputs changed), and a language's score averages all its directions: "
                         f"`xling rescore {path} -m {metric}` first")
    mixed = made_otherwise(record, metric)
    if mixed:
        raise XlingError(f"{path}: {mixed}, and a language's score averages its directions: "
                         f"`xling rescore {path} -m {metric} --recompute` scores them alike")


def made_otherwise(record: MTRun, metric: str) -> str | None:
    """What differs between the settings `metric`'s scores of a run's directions were made
    with ("its xcomet scores were made with different model (ko-en; ko-zh)"), if anything.
    Scores stored before made_with existed, or before one of its keys did, say nothing of it:
    only a key both hold can differ, as on resume."""
    made: list[tuple[str, dict]] = [(d.name, m) for d in record.directions
                                    if isinstance(m := (d.entry(metric) or {}).get("made_with"), dict)]
    for name, one in made[1:]:
        first_name, first = made[0]
        # (the rules a score was read by, and a plugin's version, count when only one side has them)
        keys = (one.keys() & first.keys()) | ((one.keys() | first.keys()) & {"rules", "plugin"})
        differ = sorted(k for k in keys if one.get(k) != first.get(k))
        if differ:
            return f"its {metric} scores were made with different {', '.join(differ)} ({first_name}; {name})"
    return None


def _mt_language_score(record: MTRun, lang: str, directions: list[str], metric: str,
                       n_samples: int = 1000, seed: int = 12345) -> LanguageScore:
    """The mean score of the directions into `lang`, with a 95% bootstrap interval: each
    direction's segments resampled (sacrebleu's way for its metrics), the resampled scores
    averaged across directions, percentiles of that mean."""
    by_name = {d.name: d for d in record.directions}
    scores = [cast(float, by_name[name].score(metric)) for name in directions]   # scored: see caller
    try:
        draws = np.mean([resampled_scores(metric_result(record.run, name, metric), n_samples, seed + k)
                         for k, name in enumerate(directions)], axis=0)
    except XlingError:   # a score stored without its segments: the mean, without an interval
        draws = np.array([])
    draws = draws[~np.isnan(draws)]
    low, high = (float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))) if len(draws) else (None, None)
    return LanguageScore(lang, float(np.mean(scores)), low, high, n=len(directions))


@dataclass
class RelativeRow:
    lang: str
    score: float
    targeted: bool
    script: str
    family: str
    rel_targeted: float | None     # score / mean score of the targeted languages (ko, en) in the run
    rel_english: float | None      # score / English score
    ci_low: float | None = None
    ci_high: float | None = None
    anchor: float | None = None    # the targeted languages' mean score
    higher_is_better: bool = True
    above_chance: float | None = None   # (score - chance) / (anchor - chance), accuracies only


def relative(score: float, anchor: float | None, higher_is_better: bool = True) -> float | None:
    """How a score compares with an anchor, > 1 meaning better whichever way the metric points:
    score / anchor, or anchor / score for a lower-is-better metric (TER, MetricX, off-target).
    None where no ratio reads that way: a negative score or anchor (GEMBA-MQM's penalties, an
    old COMET's: -10 / -2 = 5 for five times worse), an anchor of 0, or a perfect 0 of an error
    rate (infinitely better)."""
    if anchor is None or score < 0 or anchor <= 0:
        return None
    if higher_is_better:
        return score / anchor
    return anchor / score if score else None


def above_chance(score: float, anchor: float | None, chance: Chance | None) -> float | None:
    """The share of the targeted languages' above-chance accuracy a language keeps:
    (score - c) / (anchor - c); None without a chance level, or where the anchor is not above
    chance (anchor <= c, or its 95% interval reaches down to c): no ability there to keep."""
    if chance is None or anchor is None or not chance.anchor_above(anchor):
        return None
    return (score - chance.level) / (anchor - chance.level)


def relative_table(scores: dict[str, LanguageScore], higher_is_better: bool = True,
                   anchor_langs: set[str] | None = None, chance: Chance | None = None) -> list[RelativeRow]:
    """Each language's score against the mean of the targeted languages (`anchor_langs`, when
    given: those every compared run has, so that runs are divided by the same languages); with
    `chance` (an accuracy's), above chance too."""
    targeted = [s.score for lang, s in scores.items() if resolve(lang).targeted
                and (anchor_langs is None or lang in anchor_langs)]
    anchor = float(np.mean(targeted)) if targeted else None
    english = scores["en"].score if "en" in scores else None
    rows = []
    for lang, s in scores.items():
        info = resolve(lang)
        rows.append(RelativeRow(lang, s.score, info.targeted, info.script, info.family.split("/")[0],
                                relative(s.score, anchor, higher_is_better),
                                relative(s.score, english, higher_is_better), s.ci_low, s.ci_high,
                                anchor, higher_is_better, above_chance(s.score, anchor, chance)))
    return rows


@dataclass
class Chance:
    """An accuracy run's chance level (the mean over its items of 1 / the item's number of
    options) and the 95% bootstrap interval of its targeted languages' mean accuracy."""
    level: float
    options: tuple[int, int]                 # fewest and most options of an item
    anchor_ci: tuple[float, float] | None    # None: no targeted language (or no item)

    def anchor_above(self, anchor: float) -> bool:
        return anchor > self.level and (self.anchor_ci is None or self.anchor_ci[0] > self.level)


def _options(record: dict, task: str) -> int | None:
    """How many answers an item offered: its options (multiple choice, XCOPA, PAWS-X), else
    the log-likelihoods scored, else NLI's three labels."""
    for found in (record.get("options"), record.get("ll_scores"), ((record.get("prompt") or {}).get("ll") or {}).get(
            "options")):
        if isinstance(found, list) and found:
            return len(found)
    return 3 if task == "nli" else None


def chance_level(record: Run, langs: list[str], anchor_langs: list[str], mode: str) -> Chance | None:
    """The chance level of an NLI / multiple-choice run over the items of `langs` (None for an
    MT run, or where an item's number of options is unknown), and the interval of the mean
    accuracy of `anchor_langs`: each language's items resampled as the run resampled them for its
    own interval (its seed and number of resamples), the resamples averaged across the languages."""
    if not isinstance(record, ChoiceRun):
        return None
    counts = []
    draws = []
    for cell in record.cells:
        if cell.crossed or cell.name not in langs:
            continue
        records = record.run.read_outputs(cell.name)
        counts += [_options(r, record.task) for r in records]
        if cell.name in anchor_langs and records:
            entry = cell.modes[mode]
            key = f"{mode}_pred"
            correct = np.array([float(r.get(key) == r["gold"]) for r in records])
            rng = np.random.default_rng(entry.get("seed", record.settings.get("seed") or 0))
            draws.append(correct[rng.integers(0, len(correct), size=(entry.get("bootstrap", 1000), len(correct)))]
                         .mean(1))
    if not counts or None in counts:
        return None
    known = cast(list[int], counts)
    mean = np.mean(draws, axis=0) if draws and len({len(d) for d in draws}) == 1 else None
    ci = (float(np.percentile(mean, 2.5)), float(np.percentile(mean, 97.5))) if mean is not None else None
    return Chance(float(np.mean([1 / k for k in known])), (min(known), max(known)), ci)


def chance_notes(chance: Chance, rows: list[RelativeRow], used: list[str]) -> list[str]:
    """What the chance level is, what the above-chance column means, and why it is blank."""
    few, many = chance.options
    notes = [f"chance (guessing): accuracy {chance.level:.3f}, 1 ÷ " + (
        f"{few} options" if few == many else f"options, averaged over the items ({few} to {many} options)")
             + "; ÷ targeted ignores chance (a model at chance everywhere reads 1.000 there); above chance "
             "÷ targeted = (accuracy − chance) ÷ (targeted − chance), the share of the targeted languages' "
             "above-chance accuracy kept"]
    anchor = next((r.anchor for r in rows if r.anchor is not None), None)
    if used and anchor is not None and not chance.anchor_above(anchor):
        interval = f", 95% CI [{chance.anchor_ci[0]:.3f}, {chance.anchor_ci[1]:.3f}]" if chance.anchor_ci else ""
        notes.append(f"above chance ÷ targeted is blank: the targeted languages' accuracy ({', '.join(used)}: "
                     f"{anchor:.3f}{interval}) is not above chance ({chance.level:.3f}), so there is no "
                     "above-chance ability to divide by")
    return notes


def _higher_is_better(metric: str) -> bool:
    """Accuracy (NLI, multiple choice), or what the metric's spec says."""

    return metric == "accuracy" or get(metric).higher_is_better


def grouped(rows: list[RelativeRow], by: str = "script",
            languages: set[str] | None = None) -> list[tuple[str, float, float | None, int]]:
    """(group, mean score, mean score relative to the targeted languages, languages) per script
    or family, untargeted languages only (those of `languages`, when given). The group's ratio is
    its mean score's (an error rate's perfect 0 has no ratio of its own, and was left out of a
    mean of ratios)."""
    groups: dict[str, list[RelativeRow]] = {}
    for row in rows:
        if not row.targeted and (languages is None or row.lang in languages):
            groups.setdefault(getattr(row, by), []).append(row)
    out = []
    for name, members in sorted(groups.items()):
        mean = float(np.mean([m.score for m in members]))
        out.append((name, mean, relative(mean, members[0].anchor, members[0].higher_is_better), len(members)))
    return out


def score_x_to_y(tuned_x: dict[str, LanguageScore], tuned_y: dict[str, LanguageScore],
                 higher_is_better: bool = True) -> dict[str, float]:
    """Equation 1 for every test language Y that both runs scored (inverted for a lower-is-better
    metric, so that > 1 always means the model tuned in X does better)."""
    out = {}
    for lang in tuned_x:
        if lang in tuned_y:
            ratio = relative(tuned_x[lang].score, tuned_y[lang].score, higher_is_better)
            if ratio is not None and tuned_y[lang].score:
                out[lang] = ratio
    return out


def _per_item_results(record: ChoiceRun | MTRun, cell: str, metric: str, mode: str):
    """A MetricResult with per-segment statistics for one language of a run (accuracy in
    `mode` for NLI / multiple choice)."""

    records = record.run.read_outputs(cell)
    if isinstance(record, ChoiceRun):
        key = f"{mode}_pred"
        if not all(key in r and "gold" in r for r in records):
            raise XlingError(f"{record.run.outputs_path(cell)}: a record lacks its {key} or gold label; "
                             "run the evaluation again into a new folder")
        return records, mean_result("accuracy", [float(r[key] == r["gold"]) for r in records], "")
    return records, metric_result(record.run, cell, metric)


class NothingPaired(XlingError):
    """Two runs of one kind with no cell scored on the same items (or no cell in common)."""


def delta_table(run_a: RunDir, run_b: RunDir, metric: str | None = None, n_samples: int = 1000,
                seed: int = 12345) -> list[dict]:
    """Per language (or direction, for MT): B - A with a paired bootstrap 95% interval."""

    a_run, b_run = read_run(run_a, fresh=True), read_run(run_b, fresh=True)
    if a_run.task != b_run.task:
        raise XlingError(f"{run_a.path} and {run_b.path} are runs of different tasks")
    if not isinstance(a_run, (ChoiceRun, MTRun)) or not isinstance(b_run, (ChoiceRun, MTRun)):
        raise XlingError(f"{run_a.path} is a {a_run.task!r} run; transfer analysis takes MT, NLI "
                         "and multiple-choice runs")
    mode = shared_mode(cast(ChoiceRun, a_run), cast(ChoiceRun, b_run)) if isinstance(a_run, ChoiceRun) else ""
    metric_a, _ = language_scores(a_run, metric, mode or None)
    names = lambda r: [c.name for c in r.cells if not c.crossed] if isinstance(r, ChoiceRun) \
        else [d.name for d in r.directions]   # noqa: E731
    cells = [c for c in names(a_run) if c in names(b_run)]
    if not cells:
        raise NothingPaired(f"{run_a.path} and {run_b.path} share no language or direction to compare")
    for run, one, other in ((run_a, a_run, b_run), (run_b, b_run, a_run)):
        alone = [c for c in names(one) if c not in names(other)]
        if alone:
            print(f"xling: note: {', '.join(alone)}: only in {run.path}, left out of the comparison",
                  file=sys.stderr)
    rows, unpaired = [], []
    for cell in cells:
        records_a, a = _per_item_results(a_run, cell, metric_a, mode)
        records_b, b = _per_item_results(b_run, cell, metric_a, mode)
        try:   # (another --limit there, or another metric checkpoint): that cell alone is left out, and said
            check_paired(run_a.path, records_a, run_b.path, records_b, cell)
            delta, low, high, p = delta_ci(a, b, n_samples, seed)
        except XlingError as exc:
            unpaired.append(str(exc))
            continue
        judged = judged_by_both(a, b)[2]   # (a judge's Δ is over the segments judged for both)
        if judged and np.isnan(delta):
            unpaired.append(f"{cell}: no segment was judged for both runs")
            continue
        rows.append({"cell": cell, "a": a.score, "b": b.score, "delta": delta, "ci_low": low,
                     "ci_high": high, "p_value": p, "judged_both": judged,
                     "ratio": relative(b.score, a.score, _higher_is_better(metric_a))})
    if unpaired and not rows:
        raise NothingPaired(unpaired[0])
    for reason in unpaired:
        print(f"xling: note: left out of the comparison: {reason}", file=sys.stderr)
    return rows


def anchor_languages(scores: dict[str, LanguageScore], anchor: set[str] | None) -> list[str]:
    """The targeted languages the ratios divide by: those of the scores (every compared run's)."""
    return sorted((lang for lang in scores if resolve(lang).targeted and (anchor is None or lang in anchor)),
                  key=lambda lang: (lang != "ko", lang))   # (ko, en), as the report writes them


def _anchor_notes(used: list[str], scores: dict[str, LanguageScore], compared: bool,
                  english: bool = True) -> list[str]:
    """What the ratio columns divide by when it is not both targeted languages (and, with
    `english`, English)."""
    notes = []
    lacking = [lang for lang in ("ko", "en") if lang not in used]
    if used and lacking:
        notes.append(f"÷ targeted divides by {', '.join(used)} alone: {', '.join(lacking)} "
                     + ("is not in every run" if compared else "is not in this run"))
    if english and "en" not in scores and used:
        notes.append("÷ English is blank: this run has no en" + (" that every run has" if compared else ""))
    return notes


def _averaged_note(run: RunDir, scores: dict[str, LanguageScore]) -> list[str]:
    """An MT language's score is the mean over the directions into it: how many, where not one."""
    if not isinstance(read_run(run), MTRun) or all(s.n == 1 for s in scores.values()):
        return []
    return ["an MT language's score is the mean over the directions into it: "
            + ", ".join(f"{lang} {s.n}" for lang, s in scores.items())]


def _no_targeted_note(run: RunDir) -> str:
    record = read_run(run)
    if isinstance(record, ChoiceRun) and any(c.crossed for c in record.cells):
        return ("crossed cells (premise > hypothesis language) are left out here: each language is "
                "compared by its own cell; add the languages themselves (--langs) to compare them, "
                "see `xling report` for the crossed cells")
    return "no targeted language (ko, en) in this run: add one to get relative scores"


MODE_NAMES = {"ll": "log-likelihood", "gen": "generation"}


def _common_mode(runs: list[RunDir]) -> str | None:
    """The answer mode shared by NLI / multiple-choice runs (None for MT runs), so that every
    table and bar of one analysis measures the same thing."""
    records = [read_run(run, fresh=True) for run in runs]
    choice = [r for r in records if isinstance(r, ChoiceRun)]
    return shared_mode(*choice) if choice else None


def _common_metric(runs: list[RunDir], metric: str | None) -> str | None:
    """The one MT metric of an analysis: the one asked for, else the first of MT_PREFERENCE that
    every run has (each run choosing its own put chrF beside COMET on one axis)."""
    records = [read_run(run, fresh=True) for run in runs]
    for record in records:
        check_complete(record)   # a language of an unfinished run averages fewer directions
    mt = [r for r in records if isinstance(r, MTRun)]
    if metric is not None and not mt:   # (taken and unused before)
        raise XlingError(f"-m {metric} chooses the metric of MT runs; {records[0].path} is scored by its accuracy")
    if metric is not None or not mt:
        return metric
    shared = set.intersection(*(set(r.metrics_present()) for r in mt))
    found = next((m for m in MT_PREFERENCE if m in shared), None)
    if found is None:
        raise XlingError(f"{', '.join(str(r.path) for r in mt)} share none of "
                         f"{', '.join(MT_PREFERENCE)}: choose one they all have (-m)")
    return found


def _labels(runs: list[RunDir]) -> list[str]:
    """What each run is called in tables and figures: its folder's name, or as much of its path
    as tells it from the others (runs/modelA/xnli, runs/modelB/xnli); a run given twice is refused."""
    seen = [run.path.resolve() for run in runs]
    if len(set(seen)) < len(seen):
        raise XlingError(f"{next(str(r.path) for r, p in zip(runs, seen) if seen.count(p) > 1)} is given twice")
    records = [read_run(run) for run in runs]
    distinguish(records)
    return [record.label for record in records]


@dataclass
class Shared:
    """What runs compared side by side must share to be measured alike (all None for one run):
    the MT directions a language's score averages (the same outputs gave Thai 0.357 and 0.454
    when one run had more directions into it), the languages a script's or family's group
    averages (ar and ur in one run beside ar alone in the other read as equal where one run was
    twice the other on ar), and the targeted languages the ratios divide by (÷ ko+en beside ÷ en
    alone)."""
    directions: set[str] | None = None
    languages: set[str] | None = None
    anchor: set[str] | None = None
    notes: tuple[str, ...] = ()


def _shared(runs: list[RunDir]) -> Shared:
    if len(runs) < 2:
        return Shared()
    records = [read_run(run, fresh=True) for run in runs]
    notes = []
    directions = None
    if all(isinstance(r, MTRun) for r in records):
        names = [{d.name for d in cast(MTRun, r).directions} for r in records]
        directions = set.intersection(*names)
        left = sorted(set.union(*names) - directions)
        if left:
            notes.append(f"{', '.join(left)}: not in every run, left out of the languages' scores "
                         "(each language averages the directions all runs have)")
    langs = [{d.tgt.code for d in r.directions if directions is None or d.name in directions}
             if isinstance(r, MTRun) else {c.name for c in cast(ChoiceRun, r).cells if not c.crossed}
             for r in records]
    languages = set.intersection(*langs)
    left = sorted(lang for lang in set.union(*langs) - languages if not resolve(lang).targeted)
    if left:
        notes.append(f"{', '.join(left)}: not in every run, left out of the groups by script and family "
                     "(each group averages the languages all runs have)")
    return Shared(directions, languages, {lang for lang in languages if resolve(lang).targeted}, tuple(notes))


def transfer_tables(paths: list[str], metric: str | None = None, by: str = "script") -> list[Table]:
    runs = [RunDir(p) for p in paths]
    labels = _labels(runs)
    mode = _common_mode(runs)
    metric = _common_metric(runs, metric)
    shared = _shared(runs)
    tables = []
    for run, label in zip(runs, labels):
        name, scores = language_scores(run, metric, mode, shared.directions)
        used = anchor_languages(scores, shared.anchor)
        chance = chance_level(read_run(run), list(scores), used, mode) if mode else None
        rows = relative_table(scores, _higher_is_better(name), shared.anchor, chance)
        fmt = lambda v: "" if v is None else f"{v:.3f}"   # noqa: E731
        measure = f"{name} ({MODE_NAMES[mode]})" if mode else name
        extra = ["above chance ÷ targeted"] if chance else []   # (accuracies: MT metrics have no chance level)
        tables.append(Table(
            f"{label}: {measure} by language, relative to the targeted languages ({', '.join(used) or 'none'}) "
            "and to English",
            ["language", "targeted", "script", "family", name, "95% CI", "÷ targeted", "÷ English"] + extra,
            [[r.lang, "yes" if r.targeted else "", r.script, r.family, f"{r.score:.3f}",
              f"[{r.ci_low:.3f}, {r.ci_high:.3f}]" if r.ci_low is not None else "",
              fmt(r.rel_targeted), fmt(r.rel_english)] + ([fmt(r.above_chance)] if chance else []) for r in rows],
            ([] if any(r.targeted for r in rows) else [_no_targeted_note(run)]) + list(shared.notes)
            + _anchor_notes(used, scores, len(runs) > 1)
            + _averaged_note(run, scores)
            + ([] if _higher_is_better(name) else
               [f"lower {name} is better: ratios are inverted (anchor ÷ score), so > 1 is better"])
            + (["a blank ratio: no ratio reads as better or worse there (a score or anchor below 0, an anchor "
                "of 0, or an error rate's perfect 0)"] if any(r.rel_targeted is None for r in rows) else [])
            + (chance_notes(chance, rows, used) if chance else [])))
        anchor = next((r.anchor for r in rows), None)
        groups = grouped(rows, by, shared.languages)
        tables.append(Table(f"{label}: untargeted languages by {by} ({measure})",
                            [by, name, "÷ targeted", "languages"] + extra,
                            [[g, f"{s:.3f}", fmt(rel), str(n)]
                             + ([fmt(above_chance(s, anchor, chance))] if chance else [])
                             for g, s, rel, n in groups],
                            ([f"above chance ÷ targeted: as in the table above (chance {chance.level:.3f})"]
                             if chance else [])
                            # (an empty table otherwise reads as a failure to group)
                            + ([] if groups else ["no untargeted language in this run: every language it "
                                                  "scored is a targeted one (or left out above)"])))
    if len(runs) == 2:
        try:
            deltas = delta_table(runs[0], runs[1], metric)
        except NothingPaired as exc:   # (another --limit everywhere): each run's tables still hold
            print(f"xling: warning: the two runs are not compared: {exc}", file=sys.stderr)
            tables.append(Table(f"{labels[1]} − {labels[0]}: not compared", ["reason"], [[str(exc)]]))
            return tables
        higher = _higher_is_better(name)
        tables.append(Table(
            f"{labels[1]} − {labels[0]}, "
            f"{f'accuracy ({MODE_NAMES[mode]})' if mode else metric} (paired bootstrap, 95% CI); "
            f"ratio = Score(X→Y) when the first run is tuned in Y and the second in X",
            ["language", labels[0], labels[1], "Δ", "95% CI", "p", "ratio"],
            [[r["cell"], f"{r['a']:.3f}", f"{r['b']:.3f}", signed(r['delta'], 3),
              f"[{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]", p_text(r["p_value"]),
              "" if r["ratio"] is None else f"{r['ratio']:.3f}"] for r in deltas],
            [CHOICE_DELTA_P_NOTE if mode else DELTA_P_NOTE]
            + ([] if higher else [f"lower {name} is better: Δ > 0 is worse; ratio = A ÷ B"])
            + (["a judge's Δ, interval and p are over the segments judged for both runs (" + ", ".join(
                f"{r['cell']} {r['judged_both']}" for r in deltas if r["judged_both"]) + "); the scores are "
                "each run's own"] if any(r["judged_both"] for r in deltas) else [])))
    return tables


# transfer's p and `report`'s answer different questions; the tables say which.
DELTA_P_NOTE = ("p: two-sided, from the same resampled differences as the interval (2 x the share on "
                "the far side of 0, so p < 0.05 where the interval leaves out 0); `xling report`'s p "
                "is sacrebleu's paired test, about half of this for a clear difference")
CHOICE_DELTA_P_NOTE = ("p: two-sided, from the same resampled differences as the interval (2 x the share "
                       "on the far side of 0, so p < 0.05 where the interval leaves out 0); `xling report`'s "
                       "p is an exact McNemar test over the items paired by id: another test, whose p may "
                       "be larger or smaller than this")


def transfer_figure(paths: list[str], metric: str | None = None):
    """Score relative to the targeted languages per language, one bar group per run."""

    series: dict[str, dict[str, RelativeRow]] = {}
    langs: list[str] = []
    runs = [RunDir(path) for path in paths]
    mode = _common_mode(runs)
    metric = _common_metric(runs, metric)
    untargeted = []
    chance_bars: dict[str, float] = {}
    shared = _shared(runs)
    for n, (run, label) in enumerate(zip(runs, _labels(runs))):
        name, scores = language_scores(run, metric, mode, shared.directions)
        rows = {r.lang: r for r in relative_table(scores, _higher_is_better(name), shared.anchor)}
        used = anchor_languages(scores, shared.anchor)
        if n == 0:   # (what the bars divide by is every run's: said once)
            for note in list(shared.notes) + _anchor_notes(used, scores, len(runs) > 1, english=False):
                print(f"xling: note: {note}", file=sys.stderr)
        chance = chance_level(read_run(run), list(scores), used, mode) if mode else None
        anchor = next((r.anchor for r in rows.values() if r.anchor), None)
        if chance and anchor:   # the bar of a model guessing in that language: c ÷ targeted, not 0
            chance_bars[label] = chance.level / anchor
            print(f"xling: note: {label}: chance (guessing) is accuracy {chance.level:.3f}, "
                  f"{chance.level / anchor:.3f} ÷ targeted (dashed line); `xling transfer` gives the "
                  "above-chance ratio", file=sys.stderr)
        langs = langs + [lang for lang in rows if lang not in langs]
        series[label] = rows
        if not any(r.targeted for r in rows.values()):
            untargeted.append((run, label))
    if len(untargeted) == len(runs):   # every bar would be empty
        raise XlingError(f"{untargeted[0][1]}: nothing to draw: {_no_targeted_note(untargeted[0][0])}")
    for run, label in untargeted:
        print(f"xling: note: {label} has no bars: {_no_targeted_note(run)}", file=sys.stderr)

    def rel_targeted(row: RelativeRow | None) -> float:
        return row.rel_targeted if row is not None and row.rel_targeted is not None else np.nan

    values = {label: [rel_targeted(rows.get(lang)) for lang in langs] for label, rows in series.items()}
    measure = f"{name} ({MODE_NAMES[mode]})" if mode else name
    # (a lower-is-better metric's ratios are inverted, as the tables say: > 1 is better either way)
    unit = "score ÷ mean targeted-language score" if _higher_is_better(name) else \
        f"mean targeted-language score ÷ score (lower {name} is better)"
    figure = grouped_bars(f"{measure} relative to the targeted languages (> 1: better)", langs, values,
                          unit=unit, xlabel="language")
    axes = figure.axes[0]
    for k, (label, level) in enumerate(chance_bars.items()):   # (named beside the line, the legend is the runs')
        axes.axhline(level, color="black", linestyle="--" if k == 0 else ":", linewidth=0.8)
        axes.annotate(f"chance{f' ({label})' if len(runs) > 1 else ''}", (1, level), xycoords=("axes fraction", "data"),
                      ha="right", va="bottom", fontsize=6)
    return figure
