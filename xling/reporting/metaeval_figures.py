"""What `xling meta-eval` shows: the agreement table (metrics x meta-measures, with the p-values
of the tests against the best metric), the human system scores beside each metric's, and the
figures (a heatmap of the table, metric vs human system scores)."""
from __future__ import annotations

import numpy as np

from ..metrics.registry import display, get
from .plots import OKABE_ITO, heatmap, new_figure, styled
from .tables import Table, p_text

COLUMNS = (("system", "pearson", "sys r"), ("system", "kendall", "sys tau"),
           ("system", "pairwise_accuracy", "sys acc"), ("system", "soft_pairwise_accuracy", "sys SPA"),
           ("segment", "pearson", "seg r"), ("segment", "kendall", "seg tau"),
           ("segment", "kendall_by_item", "seg tau/item"), ("segment", "acc_eq", "seg acc_eq"))


def permutation_p(p: float, samples: int) -> str:
    """A permutation test's p as MT-metrics-eval computes it (the share of permutations at least
    as extreme) cannot be told below 1/samples: a 0 reads "p<1/samples" (one permutation gave
    "p=0.0000*"), and is significant only where 1/samples is."""
    shown = max(p, 1 / samples)
    return (f" p<{p_text(shown)}" if p < shown else f" p={p_text(p)}") + ("*" if shown < 0.05 else "")


def _segments(n: int) -> str:
    return f"{n} segment{'' if n == 1 else 's'}"


def _spa_notes(report: dict) -> list[str]:
    """Which segments soft pairwise accuracy is on, where not all: it pairs whole segments, so it
    takes those rated for every system (it used 8 of 60 with nothing said, and its n/a blamed
    constant scores)."""
    used, segments = report.get("spa_segments"), report["segments"]
    if used is None or used >= segments:
        return []
    if used == 0:
        return ["SPA n/a: no segment is rated for every system (SPA compares the systems on segments rated "
                "for all of them)"]
    return [f"SPA on {used} of {_segments(segments)} rated for every system (SPA compares the systems on "
            "segments rated for all of them)"]


def agreement_tables(report: dict) -> list[Table]:
    metrics = report["metrics"]
    tested = report.get("significance", {})
    rows = []
    for name, result in metrics.items():
        row = [display(name)]
        for level, measure, _ in COLUMNS:
            value = result[level][measure]
            if value is None:
                row.append("n/a")
                continue
            cell = f"{value:.3f}"
            p = tested.get(f"{level}_{measure}", {}).get(name, "absent")
            if p is None:
                cell += " (best)"
            elif p != "absent":
                cell += permutation_p(p, report["samples"])
            row.append(cell)
        epsilon = result["segment"]["epsilon"]
        row.append("n/a" if epsilon is None else f"{epsilon:.4g}")
        rows.append(row)
    notes = [f"{len(report['systems'])} systems against {report['reference']} on {_segments(report['segments'])} "
             "every system translated (a cell without a human score is left out of each measure; "
             f"human system scores: {report['human'].get('system_source', 'segment means')}); "
             "sys = system level (corpus scores), seg = "
             "segment level (sentence scores); acc = pairwise accuracy (Kocmi et al. 2021), SPA = soft "
             "pairwise accuracy (Thompson et al. 2024), tau = Kendall's tau-b (seg tau: over every (system, "
             "segment) cell, no grouping), tau/item = Kendall's tau-b averaged over segments, "
             "acc_eq = pairwise accuracy with tie calibration (Deutsch et al. 2023) at threshold eps; "
             "n/a: undefined (the metric, or the human scores, give every system or segment the same score, "
             "or order the systems on no segment)."]
    notes += _spa_notes(report)
    if report.get("unrated_systems"):
        notes.append(f"left out, no human score: {', '.join(report['unrated_systems'])}")
    if report.get("excluded_systems"):
        notes.append(f"left out by --exclude: {', '.join(report['excluded_systems'])}")
    if report.get("human_systems"):
        notes.append(f"human translations scored as systems: {', '.join(report['human_systems'])}")
    notes += [f"{display(name)}: {signature}" for name, signature in report.get("signatures", {}).items()
              if signature]
    if report.get("xling_version"):
        notes.append(f"xling {report['xling_version']}")
    if tested:
        notes.append(f"p: one-sided paired permutation test against the best metric by that measure "
                     f"({report['samples']} permutations, seed {report['seed']}; SPA's own draws too); "
                     "* p < 0.05.")
    else:   # SPA moves with its draws
        notes.append(f"SPA: {report['samples']} permutations, seed {report['seed']}.")
    agreement = Table(f"Agreement with human judgments: {report['data']}",
                      ["metric"] + [label for _, _, label in COLUMNS] + ["eps"], rows, notes)
    human = report["human"]["system"]
    order = sorted(human, key=lambda s: -human[s])
    scores = report["metric_system_scores"]
    systems = Table("System scores (higher is better; error rates and MQM negated)",
                    ["system", "human"] + [display(m) for m in scores],
                    [[s, f"{human[s]:.3f}"] + [f"{scores[m][s]:.{get(m).digits}f}" for m in scores] for s in order])
    return [agreement, systems]


# Measures that are shares of pairs ordered right: 0.5 is chance, not 0.
ACCURACIES = frozenset({"pairwise_accuracy", "soft_pairwise_accuracy", "acc_eq"})


def agreement_colour(measure: str, value: float) -> float:
    """Where a measure's value sits on the agreement figure's one colour scale, -1 to 1 with 0 for
    no agreement: a correlation as it is, an accuracy as 2 acc - 1 (chance, 0.5, at 0; 0 at -1)."""
    return 2 * value - 1 if measure in ACCURACIES else value


def agreement_heatmap(report: dict):
    names = list(report["metrics"])
    measured = [[report["metrics"][m][level][measure] for level, measure, _ in COLUMNS] for m in names]
    colours = [[np.nan if v is None else agreement_colour(measure, v) for v, (_, measure, _) in zip(row, COLUMNS)]
               for row in measured]
    labels = [["" if v is None else f"{v:.2f}" for v in row] for row in measured]
    return heatmap(f"Agreement with human judgments ({report['segments']} segments, "
                   f"{len(report['systems'])} systems)", [display(m) for m in names],
                   [label for _, _, label in COLUMNS], colours, labels=labels, vmin=-1, vmax=1, missing="n/a",
                   column_rotation=45,
                   unit="r, tau or 2 acc - 1 (0: none, chance)")


@styled
def system_scatter(report: dict):
    """Each metric's system scores against the human ones (one panel per metric)."""
    human = report["human"]["system"]
    systems = list(human)
    scores = report["metric_system_scores"]
    fig = new_figure(figsize=(2.6 * len(scores), 2.6))
    axes = fig.subplots(1, len(scores), squeeze=False)
    for k, (ax, (name, per_system)) in enumerate(zip(axes[0], scores.items())):
        x = np.array([human[s] for s in systems])
        y = np.array([per_system[s] for s in systems])
        ax.scatter(x, y, s=14, color=OKABE_ITO[k % len(OKABE_ITO)], edgecolor="black", linewidth=0.3)
        r = report["metrics"][name]["system"]["pearson"]
        ax.set_title(f"{display(name)} (r = {'n/a' if r is None else f'{r:.2f}'})")
        ax.set_xlabel("human system score")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0][0].set_ylabel("metric system score")
    fig.tight_layout()
    return fig


def human_score_table(report: dict) -> Table:
    """`xling score --human`: systems by human score, with intervals and each metric's score and rank."""
    humans, metrics = report["systems"], report["metrics"]
    order = sorted(humans, key=lambda s: -humans[s]["score"])
    # competition ranks: systems a metric scores alike share a rank (1 + the systems it scores better)
    ranks = {m: {s: 1 + sum((per[o] > per[s]) if get(m).higher_is_better else (per[o] < per[s]) for o in per)
                 for s in per} for m, per in metrics.items()}
    # Where the data gives system scores, they rank (as in meta-eval) and the segment mean sits beside.
    given = report.get("human_source", "").startswith("the data's")
    rows = [[str(1 + sum(humans[o]["score"] > humans[s]["score"] for o in humans)), s, f"{humans[s]['score']:.3f}"]
            + ([f"{humans[s]['segment_mean']:.3f}"] if given else [])
            + [f"[{humans[s]['low']:.3f}, {humans[s]['high']:.3f}]", str(humans[s]["segments"])]
            + [f"{metrics[m][s]:.{get(m).digits}f} ({ranks[m][s]})" for m in metrics]
            for s in order]
    interval = (f"95% interval: bootstrap of the rated segments' mean, {report['samples']} resamples, "
                f"seed {report['seed']}")
    notes = [(f"human: {report['human_source']}, as meta-eval takes them; segment mean and its {interval}"
              if given else f"human: the mean of each system's rated segments; {interval}")
             + (f"; metrics against {report['reference']} on the segments every system and it translated"
                if report["reference"] else "")]
    if report.get("unrated_systems"):
        notes.append(f"left out, no human score: {', '.join(report['unrated_systems'])}")
    notes += [f"{display(name)}: {signature}" for name, signature in report.get("signatures", {}).items()
              if signature]
    if report.get("xling_version"):
        notes.append(f"xling {report['xling_version']}")
    return Table(f"Human scores: {report['data']}", ["rank", "system", "human"] + (["segment mean"] if given else [])
                 + ["95% CI", "segments"]
                 + [f"{display(m)} (rank)" for m in metrics], rows, notes)
