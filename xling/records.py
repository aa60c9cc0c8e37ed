"""Typed reading of run folders: what `report`, `figures` and `transfer` need from an MT run,
so that none of them re-derives the records' layout."""
from __future__ import annotations

from .errors import XlingError
from .languages import parse_pair
from .metrics.base import MetricResult, mean_result
from .runs import RunDir


def metric_result(run: RunDir, direction: str, metric: str) -> MetricResult:
    """A metric of a saved MT run as a full MetricResult (with statistics for significance):
    recomputed from the outputs for string metrics, from the stored segment scores for
    model-based ones (which are too expensive to recompute)."""
    from .metrics.registry import get

    spec = get(metric)
    records = run.read_outputs(direction)
    if spec.model_based:
        stored = run.read_metrics()["directions"].get(direction, {}).get("metrics", {}).get(metric)
        if stored is None or "segments" not in stored:
            raise XlingError(f"{run.path}: no {metric} scores for {direction}; run `xling rescore "
                             f"{run.path} -m {metric}` first")
        result = mean_result(stored["name"], stored["segments"], stored["signature"])
        result.higher_is_better = spec.higher_is_better
        return result
    _, tgt = parse_pair(direction)
    return spec([r["output"] for r in records], [r["reference"] for r in records],
                [r["source"] for r in records], tgt.code)
