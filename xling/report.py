"""`xling report`: tables from run folders — per-direction scores, the N×N direction matrix for
each metric, off-target rates, and paired significance of each run against the first."""
from __future__ import annotations

from .errors import XlingError
from .languages import parse_pair
from .metrics.registry import display
from .runs import RunDir
from .tables import Table



def _scores(run: RunDir, metrics: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Scores by direction and metric (only `metrics` if given). Metrics computed on other
    outputs than the ones in the folder (outputs rewritten or cut after scoring) are never
    shown: that is an error saying how to recompute them."""
    stored = run.read_metrics()["directions"]
    stale = [d for d in run.directions()
             if stored.get(d, {}).get("outputs_sha256") != run.outputs_digest(d)]
    if stale:
        names = sorted({m for e in stored.values() for m in e.get("metrics", {})}) or ["bleu", "chrf"]
        state = "older than its outputs" if any(d in stored for d in stale) else "missing"
        raise XlingError(f"{run.path}: the metrics of {', '.join(stale)} are {state}; "
                         f"`xling rescore {run.path} -m {','.join(names)}` recomputes them")
    return {d: {m: r["score"] for m, r in stored[d].get("metrics", {}).items()
                if metrics is None or m in metrics}
            for d in run.directions()}


def _label(run: RunDir) -> str:
    return run.path.name or str(run.path)


def direction_table(run: RunDir, only: list[str] | None = None) -> Table:
    scores = _scores(run, only)
    metrics = list(dict.fromkeys(m for s in scores.values() for m in s))
    rows = [[d, str(run.read_metrics()["directions"].get(d, {}).get("n", ""))]
            + [f"{scores[d][m]:.2f}" if m in scores[d] else "" for m in metrics] for d in scores]
    stored = run.read_metrics()["directions"]
    notes = []
    for m in metrics:
        by_signature: dict[str, list[str]] = {}   # BLEU's tokenizer differs by target language
        for d, e in stored.items():
            if m in e.get("metrics", {}):
                by_signature.setdefault(e["metrics"][m]["signature"], []).append(d)
        for sig, dirs in by_signature.items():
            where = f" [{', '.join(dirs)}]" if len(by_signature) > 1 else ""
            notes.append(f"{display(m)}: {sig}{where}")
    model = run.read_config().get("model", {})
    return Table(f"{_label(run)}: {model.get('model', '?')} ({model.get('revision', '?')})",
                 ["direction", "n"] + [display(m) for m in metrics], rows, notes)


def direction_matrix(run: RunDir, metric: str) -> Table | None:
    scores = _scores(run)
    pairs = [(parse_pair(d), d) for d in scores if metric in scores[d]]
    if not pairs:
        return None
    langs = list(dict.fromkeys(l.code for (src, tgt), _ in pairs for l in (src, tgt)))
    cell = {(src.code, tgt.code): scores[d][metric] for (src, tgt), d in pairs}
    rows = [[f"{s} →"] + ["—" if s == t else (f"{cell[s, t]:.2f}" if (s, t) in cell else "")
                          for t in langs] for s in langs]
    return Table(f"{_label(run)}: {display(metric)} by direction (rows: source, columns: target)",
                 ["src \\ tgt"] + langs, rows)


def comparison(runs: list[RunDir], metric: str, test: str = "bs", n_samples: int | None = None,
               seed: int = 12345) -> Table | None:
    """Each later run against the first on the directions they share (same segment ids)."""
    from .metrics.significance import paired_test
    from .records import metric_result

    base = runs[0]
    shared = [d for d in base.directions() if all(d in r.directions() for r in runs[1:])]
    shared = [d for d in shared if metric in _scores(base).get(d, {})]
    if not shared:
        return None
    rows = []
    for d in shared:
        ids = [r["id"] for r in base.read_outputs(d)]
        baseline = metric_result(base, d, metric)
        row = [d, f"{baseline.score:.2f}"]
        for other in runs[1:]:
            if [r["id"] for r in other.read_outputs(d)] != ids:
                raise XlingError(f"{other.path} and {base.path} scored different segments for {d}")
            (p,) = paired_test(baseline, {"x": metric_result(other, d, metric)}, test, n_samples, seed)
            row.append(f"{p.score:.2f} ({p.delta:+.2f}, p={p.p_value:.3f}){'*' if p.p_value < 0.05 else ''}")
        rows.append(row)
    from .metrics.registry import get

    note = (f"paired {'bootstrap' if test == 'bs' else 'approximate randomization'} against "
            f"{_label(base)}; * p < 0.05"
            + ("" if get(metric).higher_is_better else f"; lower {display(metric)} is better"))
    return Table(f"{display(metric)}: runs compared", ["direction"] + [_label(r) for r in runs],
                 rows, [note])


def choice_tables(run: RunDir) -> list[Table]:
    """Accuracy per language (with 95% bootstrap interval), invalid-answer rate, and the premise x
    hypothesis matrix when the run crossed languages."""
    stored = run.read_metrics()["directions"]
    config = run.read_config()
    modes = [m for m in ("ll", "gen") if any(m in e for e in stored.values())]
    header = ["language", "n"]
    for m in modes:
        header += [f"acc ({m})", "95% CI"] + (["invalid"] if m == "gen" else [])
    rows = []
    for cell, entry in stored.items():
        row = [cell, str(entry["n"])]
        for m in modes:
            e = entry.get(m)
            row += [f"{e['accuracy']:.3f}", f"[{e['ci_low']:.3f}, {e['ci_high']:.3f}]"] if e else ["", ""]
            if m == "gen":
                row.append(f"{e['invalid_rate']:.1%}" if e else "")
        rows.append(row)
    model = config.get("model", {})
    notes = [config["data"]["note"]] if config.get("data", {}).get("note") else []
    tables = [Table(f"{_label(run)}: {config['settings']['data']}, {model.get('model', '?')}, "
                    f"{config['settings']['shots']}-shot", header, rows, notes)]
    crossed = [c for c in stored if ">" in c]
    if crossed:
        mode = modes[0]
        premises = list(dict.fromkeys(c.split(">")[0] for c in stored))
        hypotheses = list(dict.fromkeys(c.split(">")[-1] for c in stored))
        value = {(c.split(">")[0], c.split(">")[-1]): e[mode]["accuracy"] for c, e in stored.items()}
        tables.append(Table(f"{_label(run)}: accuracy ({mode}) by premise (rows) x hypothesis (columns) language",
                            ["premise \\ hypothesis"] + hypotheses,
                            [[p] + [f"{value[p, h]:.3f}" if (p, h) in value else "" for h in hypotheses]
                             for p in premises]))
    return tables


def build_report(paths: list[str], metrics: list[str] | None = None, test: str = "bs",
                 n_samples: int | None = None) -> list[Table]:
    from .metrics.registry import parse_metric_names

    metrics = parse_metric_names(metrics) if metrics else None
    runs = [RunDir(p) for p in paths]
    choice = [r for r in runs if r.read_config().get("task") in ("nli", "multiple_choice")]
    if choice:
        return [t for r in choice for t in choice_tables(r)]
    for run in runs:
        if run.read_config().get("task") != "mt":
            raise XlingError(f"{run.path} is not an MT run")
    tables = []
    for run in runs:
        present = list(dict.fromkeys(m for s in _scores(run).values() for m in s))
        missing = [m for m in metrics or [] if m not in present]
        if missing:
            raise XlingError(f"{run.path} has no {', '.join(missing)} scores; `xling rescore "
                             f"{run.path} -m {','.join(missing)}` adds them")
        tables.append(direction_table(run, metrics))
        for metric in metrics or present:
            matrix = direction_matrix(run, metric)
            if matrix:
                tables.append(matrix)
    if len(runs) > 1:
        for metric in metrics or list(dict.fromkeys(m for s in _scores(runs[0]).values() for m in s)):
            table = comparison(runs, metric, test, n_samples)
            if table:
                tables.append(table)
    return tables
