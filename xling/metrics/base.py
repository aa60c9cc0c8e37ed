"""What every metric returns, and the input checks they share."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, MappingView
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from ..errors import XlingError

if TYPE_CHECKING:   # numpy loads where a metric computes: plugins import this module under `xling --help`
    import numpy as np

# How a result's per-segment statistics become scores, by the kind named in `MetricResult.scorer`:
# kind -> (aggregate(scorer, summed_stats, n) -> corpus score, segment(scorer, row) -> score).
# Modules register their kinds ("mean" here, "sacrebleu" in sacre.py); results carry only the
# hashable description, never closures, so they can be stored, compared and rebuilt.
SCORERS: dict[str, tuple[Callable, Callable]] = {}


def register_scorer(kind: str, aggregate: Callable, segment: Callable) -> None:
    SCORERS[kind] = (aggregate, segment)


register_scorer("mean", lambda scorer, summed, n: float(summed[0] / n * scorer[1]),
                lambda scorer, row: float(row[0]))


@dataclass(frozen=True)
class Signature:
    """What makes two scores comparable, as `key:value|key:value` (sacrebleu's style)."""
    fields: tuple[tuple[str, object], ...]

    @classmethod
    def of(cls, **fields) -> "Signature":
        return cls(tuple(fields.items()))

    def format(self) -> str:
        return "|".join(f"{k}:{v}" for k, v in self.fields)


@dataclass
class MetricResult:
    """A corpus score, per-segment scores where the metric has them, and a signature that makes
    two numbers comparable. `stats` (one row of sufficient statistics per segment) and `scorer`
    (how summed statistics become a score, see SCORERS) let the significance engine resample
    without re-tokenizing; they are not serialized."""

    name: str
    score: float
    signature: str
    extra: dict = field(default_factory=dict)
    higher_is_better: bool = True
    stats: np.ndarray | None = field(default=None, repr=False, compare=False)
    scorer: tuple | None = field(default=None, repr=False, compare=False)
    _segments: list[float | None] | None = field(default=None, repr=False, compare=False)
    digits: int = field(default=2, repr=False, compare=False)   # decimals printed (COMET's 0-1 scale: 4)

    def aggregate(self, summed: np.ndarray, n: int) -> float:
        """The corpus score of summed statistics over n segments (for resampling)."""
        if self.scorer is None:
            raise ValueError(f"{self.name} has no scorer: its statistics cannot be resampled")
        return SCORERS[self.scorer[0]][0](self.scorer, summed, n)

    @property
    def segments(self) -> list[float | None] | None:
        """Per-segment scores (computed on first use from the statistics; None where a judge gave no
        parsable answer)."""
        if self._segments is None and self.stats is not None and self.scorer is not None:
            segment = SCORERS[self.scorer[0]][1]
            self._segments = [segment(self.scorer, row) for row in self.stats]
        return self._segments

    @property
    def n(self) -> int | None:
        return None if self.stats is None else len(self.stats)

    def to_dict(self, segments: bool = True) -> dict:
        out = {"name": self.name, "score": self.score, "signature": self.signature}
        if self.extra:
            out["extra"] = self.extra
        if segments and self.segments is not None:
            out["segments"] = self.segments
        return out

    def to_json(self, segments: bool = True) -> str:
        return json.dumps(self.to_dict(segments), ensure_ascii=False)

    def __str__(self) -> str:
        return f"{self.name} = {self.score:.{self.digits}f}  ({self.signature})"


def mask_extra(keep) -> dict:
    """What a result scored on a subset records of it: how many segments, of how many, and
    which (a digest of the mask, so that two subsets of one size are not paired as one)."""
    if keep is None:
        return {}
    import numpy as np

    mask = np.asarray(list(keep), dtype=bool)
    digest = hashlib.sha256(np.packbits(mask).tobytes() + str(len(mask)).encode()).hexdigest()[:16]
    return {"segments_kept": int(mask.sum()), "segments_total": len(mask), "segments_kept_digest": digest}


def texts_digest(streams: Sequence[Sequence[str]]) -> str:
    """A digest of reference streams (paired tests refuse results scored on other references)."""
    digest = hashlib.sha256()
    for stream in streams:
        for text in stream:   # (None: a segment without this reference)
            digest.update(b"\x02" if text is None else text.encode("utf-8", "surrogatepass") + b"\x00")
        digest.update(b"\x01")
    return digest.hexdigest()[:16]


def mean_result(name: str, values: Sequence[float], signature: str, scale: float = 1.0,
                extra: dict | None = None) -> MetricResult:
    """A metric whose corpus score is the (scaled) mean of its segment scores."""
    import numpy as np

    stats = np.asarray(values, dtype=np.float64).reshape(-1, 1)
    return MetricResult(
        name=name, score=float(stats.mean() * scale) if len(stats) else 0.0, signature=signature,
        extra=extra or {}, stats=stats, scorer=("mean", scale), _segments=[float(v) for v in stats[:, 0]])


def refuse_non_finite(name: str, values: Sequence[float], cure: str, keep: Sequence[bool] | None = None) -> None:
    """A NaN or infinite segment score (a half-precision overflow, broken weights) stops with one
    line: its mean printed and stored as the score was NaN, and paired tests read its segments as
    unscorable. `keep`: the mask the values were scored under (the line named is the input's)."""
    import math

    bad = [i for i, value in enumerate(values) if not math.isfinite(value)]
    if not bad:
        return
    lines = [i for i, kept in enumerate(keep) if kept] if keep is not None else range(len(values))
    raise XlingError(f"{name} scored {len(bad)} of {len(values)} segments as NaN/inf (first: line "
                     f"{lines[bad[0]] + 1}); {cure}")


def no_such_folder(model: str) -> str:
    """What an offline error about a model adds when the name, as hub names may, looks like a
    relative path (m/nothere): that no such local folder exists either, so a mistyped path is
    not read as a network problem only. Nothing for the metrics' own default hub names."""
    from . import settings

    defaults = {s.default for s in vars(settings).values() if isinstance(s, settings.MetricSetting)}
    path = Path(model).expanduser()
    # a path where it can only be one (/x, ~/x, ./x, a/b/c) or its parent folder is here (m/ of
    # m/nothere); a well-formed hub id (Unbabel/XCOMET-XXL) is not called a mistyped path
    pathlike = model.startswith(("/", "~", ".")) or model.count("/") > 1 or str(path.parent) not in (".", "") \
        and path.parent.is_dir()
    return "" if model in defaults or not pathlike else f" (nor is there a local folder {model!r}: a mistyped path?)"


def as_reference_streams(refs, required: bool = False, missing: str | None = None) -> list[list[str]]:
    """Accept one reference per segment (list[str]) or several streams (list[list[str]]);
    `required`: the metric needs references, so None is an error; `missing`: what a segment
    without its reference is told (by default, a string metric's)."""
    if refs is None:
        if required:
            raise XlingError("references: got None; this metric needs a list of reference strings "
                             "(or several such lists), one per segment")
        return []
    refs = texts(refs, "references", nested=True, missing=missing)
    if not refs:
        raise XlingError("references: got an empty list; pass one reference string per segment (or "
                         "several such lists)")
    if isinstance(refs[0], str):
        return [texts(refs, "references", missing=missing)]
    # several streams: a segment may lack one of its references (None, as sacrebleu takes it:
    # signed nrefs:var), never all of them
    streams = [texts(stream, f"references[{i}]", missing_ok=len(refs) > 1, missing=missing)
               for i, stream in enumerate(refs)]
    for k, given in enumerate(zip(*streams)):
        if all(text is None for text in given):
            raise XlingError(f"segment {k} has no reference: each segment needs at least one of its "
                             f"{len(streams)} references")
    return streams


# what a reference stream's None is told, by default (a string metric's references)
MISSING_REFERENCE = ("a segment may lack a reference (None) only where it has others: with one reference stream, "
                     "'' is an empty reference, not a missing one (it changes BLEU's brevity penalty and TER)")


def texts(seq, name: str, nested: bool = False, missing_ok: bool = False, missing: str | None = None) -> list:
    """`seq` as a list of strings, one per segment, or an XlingError saying what it is instead
    (None, one string, a generator that could be read only once, an item that is not text).
    `missing_ok`: None items stand for a missing reference (one of several reference streams);
    `missing`: what a reference's None is told instead of MISSING_REFERENCE."""
    if seq is None:
        raise XlingError(f"{name}: got None; pass a list of strings, one per segment")
    if isinstance(seq, (str, bytes)):
        raise XlingError(f"{name}: got a single {type(seq).__name__}; pass a list of strings, one per segment")
    refuse_table(seq, name)
    if isinstance(seq, AbstractSet) and not isinstance(seq, MappingView):   # (read as often as one likes)
        raise XlingError(f"{name}: got a {type(seq).__name__}, which has no order: its texts could not be "
                         "matched with the others'; pass a list of strings, one per segment")
    if isinstance(seq, MappingView):   # a dict's values (or keys), in the dict's order
        seq = list(iter(seq))  # type: ignore[call-overload]
    if not hasattr(seq, "__len__") or not hasattr(seq, "__getitem__"):
        raise XlingError(f"{name}: got a {type(seq).__name__}, which can be read only once; pass a list "
                         "of strings, one per segment (list(...))")
    seq = list(seq)
    for i, item in enumerate(seq):
        # several reference streams: lists, tuples, or columns of a table (a pandas Series, an array)
        stream = nested and not isinstance(item, (str, bytes)) and hasattr(item, "__len__") \
            and hasattr(item, "__getitem__")
        if item is None and missing_ok:
            continue
        if not isinstance(item, str) and not stream:
            many = name == "references" and not isinstance(item, bytes) and hasattr(item, "__len__") \
                and hasattr(item, "__getitem__")   # several reference streams where one is taken
            raise XlingError(f"{name}[{i}] is {item!r:.40} ({type(item).__name__}), not text"
                             + ("; this metric takes one reference per segment (a list of strings), "
                                "not several reference streams" if many else "")
                             + (f"; {missing or MISSING_REFERENCE}" if item is None and name.startswith("references")
                                else ""))
        if stream:
            refuse_table(item, f"{name}[{i}]")
        for text in (item,) if isinstance(item, str) else item:
            if isinstance(text, str) and not text.isascii():
                try:   # a lone surrogate ("\ud800", from a surrogateescape read) crashes lingua and MeCab
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    raise XlingError(f"{name}[{i}] holds a lone surrogate (U+D800-U+DFFF), which is not "
                                     "text: read files as UTF-8 without errors='surrogateescape'") from None
    return seq


def check_flag(name: str, value) -> None:
    """A yes/no option given as what it is: "no" is a true string, which would turn it on."""
    import numpy as np

    if not isinstance(value, (bool, np.bool_)):
        raise XlingError(f"{name} must be True or False, not {value!r}")


def refuse_table(seq, name: str, several: str = "; several references: a list of such lists") -> None:
    """A dict or a table is not a list of texts: iterating it gives its keys or column names,
    which would be scored (or translated) silently."""
    if isinstance(seq, Mapping) or hasattr(seq, "columns"):
        kind = "dict" if isinstance(seq, Mapping) else type(seq).__name__
        raise XlingError(f"{name}: got a {kind}, whose iteration gives its keys/column names, not its texts; "
                         f"pass a list of strings (one column: df['col'], a dict's values: list(d.values()){several})")


def one_reference_stream(refs, metric: str) -> list[str]:
    """A model-based metric's references: one per segment, as a list of strings or in sacrebleu's
    layout of one stream ([refs], as bleu/chrf/ter take it)."""
    streams = as_reference_streams(refs, missing=f"{metric} needs a reference for every segment")
    if len(streams) > 1:
        raise XlingError(f"{metric} takes one reference per segment, not {len(streams)} reference streams")
    return streams[0]


def check_reference_layout(hyps: Sequence[str], streams: list[list[str]]) -> None:
    """One list per segment (Hugging Face evaluate's layout) where xling, as sacrebleu, takes one
    list per reference set: said as such, not as "segment counts differ". (A square layout, as
    many segments as references each, cannot be told apart: sacrebleu reads it so too.)"""
    if len(streams) > 1 and len(streams) == len(hyps) and len({len(s) for s in streams}) == 1 \
            and len(streams[0]) != len(hyps):
        raise XlingError(f"references: {len(streams)} lists of {len(streams[0])} for {len(hyps)} hypotheses look "
                         "like one list per segment (Hugging Face evaluate's layout); pass one list per "
                         "reference set, one reference per segment in each: [list(r) for r in zip(*refs)]")


def check_lengths(**named: Sequence | None) -> int:
    """All given sequences must be lists of strings of the same, non-zero length (hypotheses
    are always given: None there is a mistake, not "none")."""
    named = {name: None if seq is None and name != "hypotheses"
             else texts(seq, name, missing_ok=name.startswith("references[")) for name, seq in named.items()}
    sizes = {name: len(seq) for name, seq in named.items() if seq is not None}
    if len(set(sizes.values())) > 1:
        detail = ", ".join(f"{n} {s}" for n, s in sizes.items())
        raise XlingError(f"segment counts differ ({detail}); every input needs one line per segment")
    n = next(iter(sizes.values()), 0)
    if n == 0:
        raise XlingError("nothing to score: the inputs are empty")
    return n


def apply_mask(keep: Sequence[bool] | None, *columns, names: Sequence[str] | None = None):
    """Keep only the segments where `keep` is true (e.g. on-target outputs); `names`: what the
    columns are, for messages (default: hypotheses, references, sources)."""
    if keep is None:
        return columns
    names = names or ("hypotheses", "references", "sources")[:len(columns)]
    # (a reference stream may lack a reference here and there: checked where streams are read)
    columns = tuple(None if col is None else texts(col, name, missing_ok=k > 0)
                    for k, (col, name) in enumerate(zip(columns, names)))
    sizes = {name: len(col) for col, name in zip(columns, names) if col is not None}
    if len(set(sizes.values())) > 1:   # (zip below would cut the longer ones to fit, unsaid)
        raise XlingError(f"segment counts differ ({', '.join(f'{n} {k}' for n, k in sizes.items())}); every input "
                         "needs one line per segment")
    keep = texts_mask(keep, len(columns[0]))
    if columns[0] and not any(keep):   # (else "nothing to score: the inputs are empty")
        raise XlingError(f"nothing to score: keep drops all {len(keep)} segments (with on_target_mask: "
                         "every output is off-target)")
    return tuple(None if col is None else [x for x, k in zip(col, keep) if k] for col in columns)


def texts_mask(keep, n: int) -> list[bool]:
    """A keep mask of one flag per segment."""
    if isinstance(keep, (str, bytes)) or not hasattr(keep, "__len__"):
        raise XlingError(f"keep: got a {type(keep).__name__}; pass a list of {n} true/false flags")
    import numpy as np

    keep = list(keep)
    if len(keep) != n:
        raise XlingError(f"keep has {len(keep)} flags for {n} segments; pass one flag per segment")
    odd = next((k for k in keep if not (isinstance(k, (bool, np.bool_)) or isinstance(k, (int, np.integer))
                                        and k in (0, 1))), None)
    if odd is not None:   # bool("no") is True: a string flag would keep what it means to drop
        raise XlingError(f"keep holds {odd!r}; pass true/false flags (or 1/0)")
    return [bool(k) for k in keep]
