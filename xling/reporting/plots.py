"""Figures: the report's tables drawn from its printed numbers, with the user's runs added as
extra rows; direction-matrix and premise x hypothesis heatmaps of runs. Colour-blind-safe
colours (Okabe-Ito; cividis for heatmaps), labelled axes and units, PNG and PDF. A figure is
fully drawn in memory first and then moved into place, so none is ever left half-written."""
from __future__ import annotations

import functools
import math
import os
import tempfile
from pathlib import Path
from typing import Any, cast

import numpy as np

from ..data.textio import publish
from ..errors import XlingError

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
KOREAN_RED, ENGLISH_BLUE = "#D55E00", "#0072B2"


# xling's figure style, applied while a figure is drawn and saved only: figures are made without
# pyplot, so a notebook's backend, rcParams and open figures are left as they were.
STYLE = {"font.size": 9, "axes.titlesize": 10, "figure.dpi": 150,
                         "font.family": ["DejaVu Sans"], "pdf.fonttype": 42}


def styled(draw):
    """Run a figure-drawing function under xling's style."""
    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        import matplotlib
        with matplotlib.rc_context(cast(Any, STYLE)):
            return draw(*args, **kwargs)
    return wrapper


def new_figure(**options):
    """A figure of its own (not pyplot's: no backend switched, nothing left open)."""
    from matplotlib.figure import Figure
    return Figure(**options)


# No dates or changing tool strings in the files: regenerating a figure changes no byte, so a
# checkout holding the committed figures stays clean.
METADATA = {"pdf": {"CreationDate": None, "ModDate": None, "Creator": "xling", "Producer": "xling"},
            "png": {"Software": "xling"}}


def render_figure(fig) -> dict[str, bytes]:
    """The figure as PNG and PDF bytes, reproducibly."""

    import io

    import matplotlib
    rendered = {}
    with matplotlib.rc_context(cast(Any, STYLE)):
        for ext in ("png", "pdf"):
            buffer = io.BytesIO()
            fig.savefig(buffer, format=ext, bbox_inches="tight", metadata=METADATA[ext])
            rendered[ext] = buffer.getvalue()
    return rendered


FIGURE_FORMATS = ("png", "pdf")


def figure_file(stem: str | Path, ext: str) -> Path:
    """STEM.ext: a dot inside the stem is part of the name ("qwen2.5-7b" is not "qwen2" + ".5-7b",
    which Path.with_suffix would make of it); a ".png"/".pdf" the user typed is dropped first."""
    stem = Path(stem)
    if stem.suffix.lower() in {f".{e}" for e in FIGURE_FORMATS}:
        stem = stem.with_suffix("")
    return stem.with_name(f"{stem.name}.{ext}")


def write_rendered(rendered: dict[str, bytes], stem: str | Path) -> list[Path]:
    """Write render_figure's files as stem.png and stem.pdf, each atomically."""

    stem = Path(stem)
    written = []
    try:
        stem.parent.mkdir(parents=True, exist_ok=True)
        for ext, data in rendered.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{stem.name}.", suffix=f".{ext}", dir=stem.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                publish(tmp, figure_file(stem, ext))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            written.append(figure_file(stem, ext))
    except OSError as exc:
        raise XlingError(f"cannot write the figure {stem}: {exc.strerror or exc} "
                         f"({exc.filename or stem.parent})") from exc
    return written


def save_figure(fig, stem: str | Path) -> list[Path]:
    """Write stem.png and stem.pdf atomically and reproducibly."""

    return write_rendered(render_figure(fig), stem)


@styled
def heatmap(title: str, row_labels: list[str], col_labels: list[str], values, *, unit: str,
            labels: list[list[str]] | None = None, vmin=None, vmax=None, xlabel="", ylabel="",
            separator_after: int | None = None, higher_is_better: bool = True, digits: int = 2,
            missing: str = "", column_rotation: float = 0):
    """A table as a heatmap with every value written in its cell (at `digits` decimals); NaN
    cells are blank but for `missing`. The colour scale follows the metric's direction: brighter is
    better either way. `column_rotation`: degrees the column labels turn (long ones overlap)."""
    values = np.asarray(values, dtype=float)
    # (a floor: a 2x2 grid's title and axis label overlapped)
    fig = new_figure(figsize=(max(3.4, 1.0 + 0.85 * len(col_labels)), max(2.6, 0.9 + 0.42 * len(row_labels))))
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(values), cmap="cividis" if higher_is_better else "cividis_r",
                      aspect="auto", vmin=vmin, vmax=vmax)
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=column_rotation,
                  ha="right" if column_rotation else "center", rotation_mode="anchor")
    ax.set_yticks(range(len(row_labels)), row_labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    finite = values[np.isfinite(values)]
    middle = (np.nanmin(finite) + np.nanmax(finite)) / 2 if finite.size else 0
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if not math.isfinite(values[i, j]):
                if missing:
                    ax.text(j, i, missing, ha="center", va="center", fontsize=7, color="black")
                continue
            text = labels[i][j] if labels else f"{values[i, j]:.{digits}f}"
            dark = values[i, j] < middle if higher_is_better else values[i, j] > middle
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
    if separator_after is not None:
        ax.axhline(separator_after + 0.5, color="white", linewidth=2)
    fig.colorbar(image, ax=ax, label=unit if higher_is_better or "lower is better" in unit
                 else f"{unit} (lower is better)", shrink=0.8)
    fig.tight_layout()
    return fig


@styled
def grouped_bars(title: str, groups: list[str], series: dict[str, list[float]], *, unit: str,
                 xlabel: str = "", annotations: dict[str, list[str]] | None = None):
    fig = new_figure(figsize=(1.2 + 1.1 * len(groups), 3.2))
    ax = fig.subplots()
    width = 0.8 / max(1, len(series))
    x = np.arange(len(groups))
    for k, (name, values) in enumerate(series.items()):
        bars = ax.bar(x + (k - (len(series) - 1) / 2) * width, values, width, label=name,
                      color=OKABE_ITO[k % len(OKABE_ITO)], edgecolor="black", linewidth=0.3)
        if annotations and name in annotations:
            for bar, text in zip(bars, annotations[name]):
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), text, ha="center",
                        va="bottom", fontsize=6, rotation=90)
    ax.set_xticks(x, groups)
    ax.set_ylabel(unit)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(fontsize=7, frameon=False, ncol=2)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


@styled
def ratio_panels(panels: dict[str, dict], title: str):
    """Figure 2's layout: four panels, x = % Korean in training, Korean red, English blue;
    points per seed plus a moving average. `panels[name] = {"ylabel", "ko": [(x, y)], "en": ...}`
    or an empty dict for a panel without runs yet."""
    fig = new_figure(figsize=(8, 6))
    axes = fig.subplots(2, 2, sharex=True)
    for ax, (name, panel) in zip(axes.flat, panels.items()):
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("Korean share of training data (%)")
        ax.set_ylabel(panel.get("ylabel", "score"))
        ax.set_xlim(-3, 103)
        drawn = False
        for lang, colour, marker in (("ko", KOREAN_RED, "o"), ("en", ENGLISH_BLUE, "s")):
            points = sorted(panel.get(lang, []))
            if not points:
                continue
            xs, ys = zip(*points)
            ax.scatter(xs, ys, color=colour, marker=marker, s=14, alpha=0.6,
                       label=f"tested in {'Korean' if lang == 'ko' else 'English'}")
            mx, my = moving_average(points)
            ax.plot(mx, my, color=colour, linewidth=1.5)
            drawn = True
        if drawn:
            ax.legend(fontsize=7, frameon=False)
        else:
            ax.text(0.5, 0.5, "no runs yet\n(xling tune-ratio ...)", ha="center", va="center",
                    transform=ax.transAxes, color="grey")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def moving_average(points, window: int = 3):
    """Mean over each x of the points, then a centred moving average over neighbouring x."""
    by_x: dict[float, list[float]] = {}
    for x, y in points:
        if math.isfinite(y):   # a point without a score would blank the line around it
            by_x.setdefault(x, []).append(y)
    xs = sorted(by_x)
    means = [float(np.mean(by_x[x])) for x in xs]
    half = window // 2
    smooth = [float(np.mean(means[max(0, i - half):i + half + 1])) for i in range(len(means))]
    return xs, smooth
