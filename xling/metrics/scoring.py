"""Score several systems' outputs against references with any metrics, optionally with paired
significance against the first system; format the result as text, JSON or LaTeX.
The library behind `xling score`."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import XlingError
from ..data.languages import resolve
from .base import MetricResult, check_lengths
from .registry import parse_metric_names
from .significance import PairedResult, paired_test
from ..reporting.tables import tex_escape

@dataclass
class ScoreReport:
    systems: dict[str, dict[str, MetricResult]]
    paired: dict[str, list[PairedResult]] = field(default_factory=dict)   # metric -> results
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"settings": self.settings,
                "systems": {s: {m: r.to_dict(segments=False) for m, r in res.items()}
                            for s, res in self.systems.items()},
                "paired": {m: [p.to_dict() for p in ps] for m, ps in self.paired.items()}}


def score_systems(systems: dict[str, list[str]], refs: list[str] | None, metrics, tgt_lang: str,
                  srcs: list[str] | None = None, src_lang: str | None = None,
                  test: str | None = None, n_samples: int | None = None, seed: int = 12345,
                  on_target_only: bool = False, tokenize: str | None = None,
                  settings: dict | None = None, gpus: int | None = None) -> ScoreReport:
    """`settings` are metric settings by their run-config names (comet_model, xcomet_model,
    cometkiwi_model, metricx_model, comet_batch_size, precision, ...): each metric takes its
    own, as in a run."""
    from . import on_target_mask
    from .registry import get

    tgt = resolve(tgt_lang)
    src = resolve(src_lang) if src_lang else None
    metrics = parse_metric_names(metrics)
    specs = {m: get(m) for m in metrics}
    lacking = [s.display for s in specs.values() if s.needs_refs and refs is None]
    if lacking:
        raise XlingError(f"{', '.join(lacking)} need{'s' * (len(lacking) == 1)} references (-r)")
    lacking = [s.display for s in specs.values() if s.needs_srcs and srcs is None]
    if lacking:
        raise XlingError(f"{', '.join(lacking)} need{'s' * (len(lacking) == 1)} the source sentences "
                         "(-s/--source)")
    check_lengths(references=refs, sources=srcs,
                  **{f"hypotheses {name}": hyps for name, hyps in systems.items()})
    report = ScoreReport(systems={}, settings={
        "tgt_lang": tgt.code, "src_lang": src.code if src else None, "metrics": metrics,
        "test": test, "n_samples": n_samples, "seed": seed, "on_target_only": on_target_only})
    options = {m: dict(spec.options_from(settings or {}), tokenize=tokenize, gpus=gpus,
                       src_lang=src.code if src else None, progress=_terminal())
               for m, spec in specs.items()}
    for name, hyps in systems.items():
        keep = on_target_mask(get("offtarget")(hyps, None, srcs, tgt.code)) if on_target_only else None
        report.systems[name] = {m: spec(hyps, refs, srcs, tgt.code, keep=keep, **options[m])
                                for m, spec in specs.items()}
    if test and len(systems) > 1:
        if on_target_only:
            raise XlingError("paired tests need the same segments for every system; "
                             "drop --on-target-only")
        names = list(systems)
        for metric in metrics:
            baseline = report.systems[names[0]][metric]
            report.paired[metric] = paired_test(
                baseline, {n: report.systems[n][metric] for n in names[1:]}, test, n_samples, seed)
    return report


def _terminal() -> bool:
    """Progress bars (model-based metrics, judges) on an interactive stderr only: a log or a
    pipe gets the result alone."""
    import sys

    return sys.stderr.isatty()


# -- formatting ----------------------------------------------------------------------------------
def _cells(report: ScoreReport, latex: bool = False) -> tuple[list[str], list[list[str]]]:
    names = list(report.systems)
    metrics = list(next(iter(report.systems.values())))
    header = ["system"] + [report.systems[names[0]][m].name for m in metrics]
    paired = {(p.system, m): p for m, ps in report.paired.items() for p in ps}
    rows = []
    for name in names:
        row = [name]
        for m in metrics:
            cell = f"{report.systems[name][m].score:.2f}"
            p = paired.get((name, m))
            if p is not None:
                mark = ("$^\\dagger$" if latex else (" better*" if p.better else " worse*")) \
                    if p.p_value < 0.05 else ""
                ci = f" [{p.ci_low:.2f}, {p.ci_high:.2f}]" if p.ci_low is not None else ""
                cell += f"{ci} (p={p.p_value:.4f}){mark}"
            row.append(cell)
        rows.append(row)
    return header, rows


def _signatures(report: ScoreReport) -> list[tuple[str, str]]:
    first = next(iter(report.systems.values()))
    sigs = [(r.name, r.signature) for r in first.values()]
    if report.paired:
        p = next(iter(report.paired.values()))[0]
        sigs.append(("paired", p.signature + f"|baseline:{list(report.systems)[0]}"))
    return sigs


def format_text(report: ScoreReport) -> str:
    from ..reporting.text_table import table

    header, rows = _cells(report)
    lines = [table([header] + rows), ""]
    lines += [f"{name}: {sig}" for name, sig in _signatures(report)]
    if report.paired:
        lines.append("better*/worse*: p < 0.05 against the first system (the baseline), in each "
                     "metric's own direction")
    lower = [r.name for r in next(iter(report.systems.values())).values() if not r.higher_is_better]
    if lower:
        lines.append(f"lower is better: {', '.join(lower)}")
    return "\n".join(lines)


def format_json(report: ScoreReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2)


def format_latex(report: ScoreReport) -> str:
    header, rows = _cells(report, latex=True)
    lines = ["\\begin{tabular}{l" + "r" * (len(header) - 1) + "}", "\\toprule",
             " & ".join(tex_escape(h) for h in header) + " \\\\", "\\midrule"]
    lines += [" & ".join([tex_escape(r[0])] + [c.replace("%", "\\%") for c in r[1:]]) + " \\\\" for r in rows]
    lines += ["\\bottomrule", "\\end{tabular}"]
    lines += [f"% {name}: {sig}" for name, sig in _signatures(report)]
    return "\n".join(lines)


FORMATTERS = {"text": format_text, "json": format_json, "latex": format_latex}
