"""The report's charts, drawn by matplotlib and returned as inline SVG text.

Pure in the sense that matters: data in, an SVG string out, no files, no global pyplot state (the
object-oriented ``Figure`` API with the SVG canvas), so charts can be drawn from any thread and
the same data always gives the same SVG (``svg.hashsalt`` fixes the element ids). Text stays text
(``svg.fonttype = "none"``): the SVG is small, searchable, and uses the page's fonts for å, ä, ö.

Colours follow the municipal KKiK reports: green for the best quarter, yellow for the middle
half, red for the worst quarter. Within a chart a colour means one thing: blue is always the
network mean and purple the national figure; limits (one working day, 60 s) are drawn in their
own colour; categories (outcomes, measures over time) take the Okabe–Ito palette, which readers
with a colour vision deficiency can still tell apart, and lines differ in marker and dash too.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
from matplotlib import transforms
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828", None: "#546e7a"}
NETWORK = "#1565c0"
NATIONAL = "#6a1b9a"
BAR = "#37474f"
LIMIT = "#bf360c"
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
DASHES = ("-", "--", "-.", ":")
#: Okabe & Ito's colour-blind-safe palette, for categories.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000", "#f0e442")
_STYLE: Any = {
    "svg.fonttype": "none",
    "svg.hashsalt": "kkik-harness",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


@dataclass(frozen=True)
class IntervalRow:
    label: str
    value: float | None
    low: float | None
    high: float | None
    colour: str | None


def _svg(fig: Figure, name: str) -> str:
    FigureCanvasSVG(fig)
    buffer = io.StringIO()
    with mpl.rc_context(_STYLE):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    # Inline in HTML: no XML declaration or DOCTYPE; ids made unique per chart.
    text = text[text.index("<svg") :]
    text = re.sub(r'id="([^"]+)"', rf'id="{name}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", text)
    text = re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{name}-\1"', text)
    return text.replace("<svg ", f'<svg data-chart="{name}" role="img" ', 1)


def _figure(width: float, height: float) -> Figure:
    with mpl.rc_context(_STYLE):
        # No layout engine: bbox_inches="tight" at save time fits labels and legends, and a
        # layout engine costs seconds on a chart with 290 labelled rows.
        return Figure(figsize=(width, height))


LABELLED_ROWS = 40


def interval_chart(
    name: str,
    rows: Sequence[IntervalRow],
    *,
    title: str,
    xlabel: str,
    network_mean: float | None,
    national: float | None,
    network_label: str,
    national_label: str,
    colour_labels: Mapping[str | None, str] | None = None,
) -> str:
    """One row per municipality: the value as a dot, its 95% interval as a whisker.

    Up to :data:`LABELLED_ROWS` municipalities get a labelled row each (a county's network);
    more (a national campaign) are drawn as a ranked "caterpillar" without names, which is
    what can be read at that size; the table beside the chart names them all.
    ``colour_labels`` names what each dot colour means, for the legend.
    """
    shown = [r for r in rows if r.value is not None]
    legend = colour_labels or {}
    if len(shown) > LABELLED_ROWS:
        return _caterpillar(name, shown, title=title, ylabel=xlabel, network_mean=network_mean,
                            national=national, network_label=network_label,
                            national_label=national_label, colour_labels=legend)  # fmt: skip
    with mpl.rc_context(_STYLE):
        fig = _figure(7.0, 1.2 + 0.24 * max(1, len(shown)))
        ax = fig.add_subplot()
        # One collection for the whiskers and one for the dots.
        ordered = list(reversed(shown))
        colours = [COLOURS.get(r.colour, COLOURS[None]) for r in ordered]
        _whiskers(ax, ordered, colours, vertical=False)
        values = [r.value or 0.0 for r in ordered]
        ax.scatter(values, range(len(ordered)), c=colours, s=30, zorder=3)
        ax.set_yticks(range(len(ordered)), [r.label for r in ordered])
        _reference_lines(ax, network_mean, national, network_label, national_label, "x")
        ax.set_xlim(-2, 102)  # room for a dot at 0 or 100
        ax.set_ylim(-0.7, max(0.7, len(shown) - 0.3))
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left", fontsize=10)
        _colour_keys(ax, legend)
        _legend_below(ax, fig)
        return _svg(fig, name)


def _caterpillar(
    name: str,
    shown: Sequence[IntervalRow],
    *,
    title: str,
    ylabel: str,
    network_mean: float | None,
    national: float | None,
    network_label: str,
    national_label: str,
    colour_labels: Mapping[str | None, str],
) -> str:
    ordered = sorted(shown, key=lambda r: r.value or 0.0)
    colours = [COLOURS.get(r.colour, COLOURS[None]) for r in ordered]
    with mpl.rc_context(_STYLE):
        fig = _figure(7.0, 3.2)
        ax = fig.add_subplot()
        _whiskers(ax, ordered, colours, vertical=True)
        ax.scatter(range(len(ordered)), [r.value or 0.0 for r in ordered], c=colours, s=8, zorder=3)
        _reference_lines(ax, network_mean, national, network_label, national_label, "y")
        ax.set_ylim(-2, 102)
        ax.set_xlim(-1, len(ordered))
        ax.set_xticks([])
        ax.set_xlabel(f"{len(ordered)}")
        ax.set_ylabel(ylabel)
        ax.set_title(title, loc="left", fontsize=10)
        _colour_keys(ax, colour_labels)
        _legend_below(ax, fig)
        return _svg(fig, name)


def _colour_keys(ax: Any, labels: Mapping[str | None, str]) -> None:
    # Legend entries only: an empty scatter per colour that the chart uses.
    for colour, label in labels.items():
        ax.scatter([], [], c=COLOURS.get(colour, COLOURS[None]), s=30, label=label)


def _legend_below(ax: Any, fig: Figure, ncol: int = 3) -> None:
    """The legend under the axes, a fixed distance below them whatever the chart's height
    (below the tick labels and the axis label), so it never covers a mark."""
    if not ax.get_legend_handles_labels()[0]:
        return
    below = transforms.offset_copy(ax.transAxes, fig=fig, x=0, y=-30, units="points")
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, 0.0), bbox_transform=below, ncol=ncol,
              fontsize=8, frameon=False)  # fmt: skip


def _whiskers(ax: Any, rows: Sequence[IntervalRow], colours: list[str], *, vertical: bool) -> None:
    found = [(i, r) for i, r in enumerate(rows) if r.low is not None and r.high is not None]
    if not found:
        return
    draw = ax.vlines if vertical else ax.hlines
    draw(
        [i for i, _ in found],
        [r.low for _, r in found],
        [r.high for _, r in found],
        colors=[colours[i] for i, _ in found],
        linewidth=2 if not vertical else 1,
        alpha=0.55,
    )


def _reference_lines(
    ax: Any,
    network_mean: float | None,
    national: float | None,
    network_label: str,
    national_label: str,
    axis: str,
) -> None:
    line = ax.axvline if axis == "x" else ax.axhline
    if network_mean is not None:
        line(network_mean, color=NETWORK, linestyle="--", linewidth=1.2,
             label=f"{network_label} {network_mean:.0f}")  # fmt: skip
    if national is not None:
        line(national, color=NATIONAL, linestyle=":", linewidth=1.5,
             label=f"{national_label} {national:.0f}")  # fmt: skip


def histogram(
    name: str,
    values: Sequence[float],
    *,
    bins: Sequence[float],
    title: str,
    xlabel: str,
    ylabel: str,
    lines: Sequence[tuple[float, str]] = (),
    beyond_label: str | None = None,
) -> str:
    """A distribution; values past the last bin edge are gathered in the last bar."""
    top = bins[-1]
    clipped = [min(v, top - 1e-9) for v in values]
    with mpl.rc_context(_STYLE):
        fig = _figure(7.0, 2.5)
        ax = fig.add_subplot()
        ax.hist(clipped, bins=list(bins), color=BAR, alpha=0.8, edgecolor="white")
        for x, label in lines:
            ax.axvline(x, color=LIMIT, linestyle="--", linewidth=1.2)
            ax.annotate(label, (x, 1), xycoords=("data", "axes fraction"), xytext=(3, -12),
                        textcoords="offset points", color=LIMIT, fontsize=8)  # fmt: skip
        ax.set_xlim(bins[0], top)
        ax.set_xlabel(xlabel + (f" ({beyond_label})" if beyond_label else ""))
        ax.set_ylabel(ylabel)
        ax.set_title(title, loc="left", fontsize=10)
        return _svg(fig, name)


def stacked_bars(
    name: str,
    rows: Mapping[str, Mapping[str, int]],
    *,
    order: Sequence[tuple[str, str, str]],
    title: str,
    xlabel: str,
) -> str:
    """One horizontal bar per row (e.g. channel), split by category; ``order`` is
    (category key, label, colour)."""
    labels = list(rows)
    with mpl.rc_context(_STYLE):
        fig = _figure(7.0, 1.0 + 0.5 * max(1, len(labels)))
        ax = fig.add_subplot()
        left = [0] * len(labels)
        for key, label, colour in order:
            widths = [rows[row].get(key, 0) for row in labels]
            if not any(widths):
                continue
            ax.barh(labels, widths, left=left, color=colour, label=label, edgecolor="white")
            left = [a + b for a, b in zip(left, widths, strict=True)]
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left", fontsize=10)
        _legend_below(ax, fig, ncol=4)
        ax.invert_yaxis()
        return _svg(fig, name)


def bar_chart(
    name: str, bars: Sequence[tuple[str, float | None]], *, title: str, xlabel: str
) -> str:
    """Horizontal bars 0–100 (a share per question area, say)."""
    shown = [(label, value) for label, value in bars if value is not None]
    with mpl.rc_context(_STYLE):
        fig = _figure(7.0, 1.0 + 0.3 * max(1, len(shown)))
        ax = fig.add_subplot()
        ax.barh([label for label, _ in shown], [v or 0 for _, v in shown], color=BAR, alpha=0.8)
        ax.set_xlim(0, 100)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left", fontsize=10)
        return _svg(fig, name)


def trend_chart(
    name: str, series: Mapping[str, Sequence[tuple[int, float]]], *, title: str, ylabel: str
) -> str:
    """One line per measure over the campaign years."""
    with mpl.rc_context(_STYLE):
        fig = _figure(7.0, 3.0)
        ax = fig.add_subplot()
        for i, (label, points) in enumerate(series.items()):
            points = sorted(points)
            ax.plot([p[0] for p in points], [p[1] for p in points], label=label,
                    color=PALETTE[i % len(PALETTE)], marker=MARKERS[i % len(MARKERS)],
                    linestyle=DASHES[i % len(DASHES)])  # fmt: skip
        years = sorted({p[0] for points in series.values() for p in points})
        ax.set_xticks(years, [str(y) for y in years])
        ax.set_ylim(0, 100)
        ax.set_ylabel(ylabel)
        ax.set_title(title, loc="left", fontsize=10)
        _legend_below(ax, fig, ncol=2)
        return _svg(fig, name)
