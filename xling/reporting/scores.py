"""`xling score`'s report (what xling.tasks.score makes): the systems' results and paired tests,
as text, JSON or LaTeX."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from ..metrics.base import MetricResult
from ..metrics.registry import display, get
from ..metrics.significance import PairedResult
from .tables import one_line, p_text, tex_escape
from .text_table import table

# what `--paired-bs` keeps of the baseline's own bootstrap (its interval)
BASELINE_FIELDS = ("system", "mean", "ci_low", "ci_high", "ci_half", "samples", "seed")


@dataclass
class ScoreReport:
    systems: dict[str, dict[str, MetricResult]]
    paired: dict[str, list[PairedResult]] = field(default_factory=dict)   # metric -> results
    settings: dict = field(default_factory=dict)
    baseline: dict[str, PairedResult] = field(default_factory=dict)   # metric -> its bootstrap interval

    def to_dict(self) -> dict:
        # each result named by its spec's display, the title of its column in text and LaTeX
        return {"settings": self.settings,
                "systems": {s: {m: {**r.to_dict(segments=False), "name": display(m)} for m, r in res.items()}
                            for s, res in self.systems.items()},
                "paired": {m: [p.to_dict() for p in ps] for m, ps in self.paired.items()},
                **({"baseline": {m: {k: v for k, v in p.to_dict().items() if k in BASELINE_FIELDS}
                                 for m, p in self.baseline.items()}} if self.baseline else {})}



# What the two rates count, under every table that shows them.
OFF_TARGET_NOTE = ("OffTarget%: outputs empty, not in the target language, or in the other Chinese script "
                   "(Traditional for zh, Simplified for zh-Hant); Undetermined%: outputs whose language cannot be "
                   "told (no letters, letters no detector here places for this target, or, for a Chinese target, "
                   "characters both scripts share), neither off- nor on-target; both over all outputs")


# -- formatting ----------------------------------------------------------------------------------
def _cells(report: ScoreReport, latex: bool = False) -> tuple[list[str], list[list[str]]]:
    """One column per metric, each followed by the figures its spec shows beside it (the
    undetermined rate beside OffTarget%)."""

    names = list(report.systems)
    metrics = list(next(iter(report.systems.values())))
    header = ["system"]
    for m in metrics:
        # the spec's display, as `report` and the HTML pages title it (a plugin's result may be named otherwise)
        header += [display(m)] + [title for _, title in get(m).beside]
    paired = {(p.system, m): p for m, ps in report.paired.items() for p in ps}
    rows = []
    for name in names:
        row = [one_line(name)]   # (a file name may hold a line break: it would break the row)
        for m in metrics:
            result = report.systems[name][m]
            digits = get(m).digits
            cell = f"{result.score:.{digits}f}"
            p = paired.get((name, m))
            own = report.baseline.get(m) if name == names[0] else None
            if own is not None and own.interval():
                cell += f" ({own.interval(digits)})"
            if p is not None:
                mark = (LATEX_MARKS[p.verdict] if latex else f" {p.verdict}*") if p.verdict else ""
                if p.judged_both and math.isnan(p.delta):
                    cell += " (no test: no segment judged for both)"
                elif p.judged_both:   # (a judge's test over the segments both systems' answers were read on)
                    cell += (f" (p={p_text(p.p_value)}; on the {p.judged_both} segments judged for both: "
                             f"{p.score:.{digits}f} vs {p.baseline_score:.{digits}f}){mark}")
                else:
                    ci = f" ({p.interval(digits)})" if p.interval() else ""
                    cell += f"{ci} (p={p_text(p.p_value)}){mark}"
            row.append(cell)
            row += ["" if v is None else f"{v:.2f}" for v in get(m).beside_values(result)]
        rows.append(row)
    return header, rows


def _signatures(report: ScoreReport) -> list[tuple[str, str]]:
    """One signature per metric; where systems differ in it (--on-target-only scores each on its
    own outputs: subset:8/10 beside 10/10), one per signature, naming its systems."""
    sigs = []
    for metric, first in next(iter(report.systems.values())).items():
        by_signature: dict[str, list[str]] = {}
        for system, results in report.systems.items():
            by_signature.setdefault(results[metric].signature, []).append(system)
        if len(by_signature) == 1:
            sigs.append((display(metric), first.signature))
        else:
            sigs += [(f"{display(metric)} [{', '.join(map(one_line, systems))}]", sig)
                     for sig, systems in by_signature.items()]
    if report.paired:   # (a metric's own test where it is not a judge's on fewer segments)
        tests = [p for ps in report.paired.values() for p in ps]
        p = next((p for p in tests if not p.judged_both), tests[0])
        sigs.append(("paired", p.signature + f"|baseline:{one_line(list(report.systems)[0])}"))
    return sigs


def format_text(report: ScoreReport) -> str:

    header, rows = _cells(report)
    lines = [table([header] + rows), ""]
    lines += [f"{name}: {sig}" for name, sig in _signatures(report)]
    if report.paired:
        lines.append("better*/worse*: p < 0.05 against the first system (the baseline), in each "
                     "metric's own direction")
        if next(iter(report.paired.values()))[0].test == "bs":
            lines.append("intervals: BLEU/chrF/TER as sacrebleu prints them (bootstrap mean ± half the "
                         "95% order-statistic gap); other metrics [2.5th, 97.5th percentile]")
    lower = [display(m) for m, r in next(iter(report.systems.values())).items() if not r.higher_is_better]
    if lower:
        lines.append(f"lower is better: {', '.join(lower)}")
    if "offtarget" in next(iter(report.systems.values())):
        lines.append(OFF_TARGET_NOTE)
    return "\n".join(lines)


def format_json(report: ScoreReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


LATEX_MARKS = {"better": "$^{\\uparrow}$", "worse": "$^{\\downarrow}$"}


def format_latex(report: ScoreReport) -> str:
    header, rows = _cells(report, latex=True)
    lines = ["\\begin{tabular}{l" + "r" * (len(header) - 1) + "}", "\\toprule",
             " & ".join(tex_escape(h) for h in header) + " \\\\", "\\midrule"]
    lines += [" & ".join([tex_escape(r[0])] + [c.replace("%", "\\%") for c in r[1:]]) + " \\\\" for r in rows]
    lines += ["\\bottomrule", "\\end{tabular}"]
    lines += [f"% {name}: {sig}" for name, sig in _signatures(report)]
    if report.paired:
        lines.append("% $^{\\uparrow}$ better, $^{\\downarrow}$ worse: p < 0.05 against the first system, in each "
                     "metric's own direction")
    lower = [display(m) for m, r in next(iter(report.systems.values())).items() if not r.higher_is_better]
    if lower:
        lines.append(f"% lower is better: {', '.join(lower)}")
    if "offtarget" in next(iter(report.systems.values())):
        lines.append(f"% {OFF_TARGET_NOTE}")
    return "\n".join(lines)


FORMATTERS = {"text": format_text, "json": format_json, "latex": format_latex}
