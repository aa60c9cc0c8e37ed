"""compare-mt's bucketed analyses of two or more MT runs on the same segments (Neubig et al.,
2019), from what the report has computed already:

- by sentence length: segments grouped by their reference's length (words; characters for
  languages written without spaces), and each metric computed over each group — corpus metrics
  from the group's summed statistics (BLEU of a bucket is a corpus BLEU, not a mean of sentence
  BLEUs), model-based ones as the mean of their segment scores;
- by word frequency: each reference word bucketed by how often it occurs in the direction's
  references (no training corpus is at hand; compare-mt counts the test references then too),
  output words by the same counts (words the references never hold: "unseen"), and per bucket
  the precision, recall and F-measure of clipped word matches (per segment, a word matches as
  many times as it occurs in both output and reference). Words are BLEU's tokens for the target
  language (13a, zh, ja-mecab, ko-mecab), so CJK text is split as BLEU splits it.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from ..data.languages import Direction
from ..errors import XlingError
from ..metrics.registry import display, get
from ..metrics.sacre import bleu_tokenizer_for
from ..runs.records import MTRun, check_paired

# Reference length edges (upper edges exclusive): words, or characters for unspaced scripts.
WORD_EDGES = (10, 20, 30, 40, 50, 60)
CHAR_EDGES = (20, 40, 60, 80, 100, 120)
NO_SPACES = {"zh", "ja", "th", "lo", "km", "my", "bo", "yue"}


def unspaced(code: str) -> bool:
    """Whether a language writes no spaces between words (zh-Hant as zh)."""
    return code.split("-")[0] in NO_SPACES
# Reference word frequency edges, as compare-mt's defaults (FreqWordBucketer's cutoffs 1, 2, 3,
# 4, 5, 10, 100, 1000): 1, 2, 3, 4, 5-9, 10-99, 100-999, 1000+.
FREQUENCY_EDGES = (2, 3, 4, 5, 10, 100, 1000)


def bucket_of(value: int, edges: tuple[int, ...]) -> int:
    for k, edge in enumerate(edges):
        if value < edge:
            return k
    return len(edges)


def bucket_labels(edges: tuple[int, ...], first: int = 0) -> list[str]:
    """Labels of the buckets below edges[0], between the edges, and from the last edge on."""
    bounds = [first, *edges]
    labels = [str(a) if b - a == 1 else f"{a}-{b - 1}" for a, b in zip(bounds, bounds[1:])]
    if first == 0:
        labels[0] = f"<{edges[0]}"
    return labels + [f">={edges[-1]}"]


def _bucket_score(result, positions: list[int]) -> float | None:
    """A metric over some segments: from their summed statistics, or the mean of their scores."""
    if not positions:
        return None
    if result.stats is not None and result.scorer is not None:
        value = result.aggregate(np.asarray(result.stats)[positions].sum(0), len(positions))
        return round(value, 4) if math.isfinite(value) else None    # a judge's unparsed segments only
    if result.segments is not None:
        values = [result.segments[i] for i in positions if result.segments[i] is not None]
        return round(float(np.mean(values)), 4) if values else None
    return None


def _tokenizer(tgt_code: str):
    """BLEU's tokenizer for the target (a function str -> list of words) and its name."""
    from ..metrics.sacre import _bleu

    name = bleu_tokenizer_for(tgt_code)
    try:
        tokenize = _bleu(name, False, False).tokenizer
    except XlingError:     # a SentencePiece model that is not here: words by spaces
        return str.split, "whitespace"
    return (lambda text: tokenize(text.strip()).split()), name


def _paired(results, first: MTRun, run: MTRun, name: str) -> bool:
    """Whether `run` holds the same segments as `first` in this direction (buckets are the first
    run's positions; a run with other segments gets none)."""
    if run is first:
        return True
    try:
        check_paired(first.path, results.records(first, name), run.path, results.records(run, name), name)
    except XlingError:
        return False
    return True


def by_length(runs: list[MTRun], name: str, metrics: list[str], results) -> dict:
    tgt = Direction.parse(name).tgt
    chars = unspaced(tgt.code)
    edges = CHAR_EDGES if chars else WORD_EDGES
    present = [r for r in runs if r.direction(name) is not None]
    records = results.records(present[0], name)
    groups: list[list[int]] = [[] for _ in range(len(edges) + 1)]
    for i, record in enumerate(records):
        ref = record["reference"]
        groups[bucket_of(len(ref.replace(" ", "")) if chars else len(ref.split()), edges)].append(i)
    values: dict[str, list] = {}
    for metric in metrics:
        per_run: list[list | None] = []
        for run in runs:
            entry = run.direction(name)
            if entry is None or metric not in entry.metrics or not _paired(results, present[0], run, name):
                per_run.append(None)
                continue
            try:
                result = results.get(run, name, metric)
            except XlingError:      # a model-based metric without stored segment scores
                per_run.append(None)
                continue
            per_run.append([_bucket_score(result, g) for g in groups])
        if any(v is not None for v in per_run):
            values[display(metric)] = per_run
    return {"kind": "length", "title": "by sentence length",
            "unit": "reference characters" if chars else "reference words",
            "labels": bucket_labels(edges), "counts": [len(g) for g in groups],
            "count_unit": "segments", "values": values,
            "higher": {display(m): get(m).higher_is_better for m in metrics},
            "digits": {display(m): get(m).digits for m in metrics},
            "note": "Segments grouped by the length of their reference; each bucket's score is computed over its "
                    "segments (corpus metrics from the bucket's summed statistics, others as the mean of segment "
                    "scores)."}


def by_frequency(runs: list[MTRun], name: str, results) -> dict:
    tgt = Direction.parse(name).tgt
    tokenize, tokenizer = _tokenizer(tgt.code)
    present = [r for r in runs if r.direction(name) is not None]
    references = [tokenize(r["reference"]) for r in results.records(present[0], name)]
    frequency = Counter(word for words in references for word in words)
    n = len(FREQUENCY_EDGES) + 2          # "unseen" (output words only), then the edges' buckets
    labels = ["unseen"] + bucket_labels(FREQUENCY_EDGES, first=1)

    def bucket(word: str) -> int:
        count = frequency.get(word, 0)
        return 0 if count == 0 else 1 + bucket_of(count, FREQUENCY_EDGES)

    ref_totals = [0] * n
    for words in references:
        for word in words:
            ref_totals[bucket(word)] += 1
    values: dict[str, list] = {"word F-measure": [], "precision": [], "recall": []}
    for run in runs:
        if run.direction(name) is None or not _paired(results, present[0], run, name):
            for v in values.values():
                v.append(None)
            continue
        matched, out_totals = [0] * n, [0] * n
        for record, ref_words in zip(results.records(run, name), references):
            out = Counter(tokenize(record["output"]))
            ref = Counter(ref_words)
            for word, count in out.items():
                k = bucket(word)
                out_totals[k] += count
                matched[k] += min(count, ref.get(word, 0))
        precision = [None if not t else round(100 * m / t, 2) for m, t in zip(matched, out_totals)]
        recall = [None if not t else round(100 * m / t, 2) for m, t in zip(matched, ref_totals)]
        # a bucket of reference words the output never uses matched none of them: 0, as compare-mt
        # gives it (blank read as "no data", hiding a run's worst buckets)
        f_measure = [None if r is None else 0.0 if p is None or p + r == 0 else round(2 * p * r / (p + r), 2)
                     for p, r in zip(precision, recall)]
        values["word F-measure"].append(f_measure)
        values["precision"].append(precision)
        values["recall"].append(recall)
    return {"kind": "frequency", "title": "by word frequency",
            "unit": "occurrences in this direction's references", "labels": labels, "counts": ref_totals,
            "count_unit": "reference words", "values": values,
            "higher": {k: True for k in values},
            "note": f"Words as BLEU tokenizes the target ({tokenizer}), bucketed by how often they occur in the "
                    "references of this direction; per bucket, the share of output words that match the reference "
                    "(precision), of reference words matched (recall), and their F-measure, in %. Unseen: output "
                    "words the references never hold (precision only)."}


def buckets(runs: list[MTRun], metrics: list[str], results) -> dict:
    """Both analyses for each direction of these runs."""
    directions = []
    for name in dict.fromkeys(d.name for r in runs for d in r.directions):
        directions.append({"name": name, "analyses": [by_length(runs, name, metrics, results),
                                                      by_frequency(runs, name, results)]})
    return {"runs": [r.label for r in runs], "directions": directions}
