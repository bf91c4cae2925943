"""Chart geometry for the UI's SVG: counts in, coordinates out (the templates draw them).

Pure arithmetic, no markup: the templates turn these dataclasses into ``<svg>`` elements, so
every label passes through Jinja2's autoescaping like any other text. A line chart tells its
series apart by dash pattern and marker shape as well as by colour, and names each line at its
end, so it reads without colour (and in grey print).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = ["BarChart", "LineChart", "bar_chart", "line_chart"]

#: Dash patterns and marker shapes, paired with the colours in ui.css (``series-0`` ...).
_DASHES = ("", "6 3", "2 3", "10 3 2 3", "1 2", "8 2 2 2 2 2")
_MARKERS = ("circle", "square", "diamond", "triangle", "cross", "bar")
_SERIES_STYLES = len(_DASHES)


@dataclass(frozen=True)
class Series:
    name: str
    total: int
    points: str  # "x,y x,y ..." for <polyline points>
    markers: tuple[tuple[float, float], ...]
    marker: str
    dash: str
    style: int  # the CSS class suffix (colour)
    label_y: float


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    series: tuple[Series, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    start: datetime


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    peak: int


def _nice_top(peak: int) -> int:
    """The smallest of 1, 2, 5 x 10^n at or above ``peak`` (an axis that ends on a round number)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= peak:
                return factor * step
        step *= 10


def _tick_label(moment: datetime, span_hours: float) -> str:
    return moment.strftime("%H:%M" if span_hours <= 48 else "%m-%d")


def line_chart(
    counts: Mapping[str, Sequence[int]],
    edges: Sequence[datetime],
    *,
    width: int = 720,
    height: int = 240,
) -> LineChart:
    """One line per series over the buckets between ``edges``; the largest series first."""
    left, right, top, bottom = 40, 150, 10, 30
    buckets = len(edges) - 1
    plot_w = width - left - right
    plot_h = height - top - bottom
    peak = max((max(values, default=0) for values in counts.values()), default=0)
    y_top = _nice_top(max(peak, 1))

    def x_of(index: int) -> float:
        # Each count sits in the middle of its bucket.
        return round(left + plot_w * (index + 0.5) / buckets, 1)

    def y_of(value: int) -> float:
        return round(top + plot_h * (1 - value / y_top), 1)

    ordered = sorted(counts.items(), key=lambda item: (-sum(item[1]), item[0]))
    series = []
    for number, (name, values) in enumerate(ordered):
        style = number % _SERIES_STYLES
        marks = tuple((x_of(i), y_of(v)) for i, v in enumerate(values))
        series.append(
            Series(
                name=name,
                total=sum(values),
                points=" ".join(f"{x},{y}" for x, y in marks),
                markers=marks,
                marker=_MARKERS[style],
                dash=_DASHES[style],
                style=style,
                label_y=marks[-1][1] if marks else float(top),
            )
        )
    # End labels must not sit on top of each other: push each down below the one above.
    placed: list[Series] = []
    for item in sorted(series, key=lambda s: s.label_y):
        floor = placed[-1].label_y + 13 if placed else top + 4.0
        placed.append(_with_label_y(item, max(item.label_y + 4, floor)))
    by_name = {s.name: s for s in placed}
    span_hours = (edges[-1] - edges[0]).total_seconds() / 3600
    every = max(1, buckets // 6)
    x_ticks = tuple(
        Tick(round(left + plot_w * i / buckets, 1), _tick_label(edges[i], span_hours))
        for i in range(0, buckets + 1, every)
    )
    y_ticks = tuple(Tick(y_of(v), str(v)) for v in (0, y_top // 2, y_top) if v or y_top)
    return LineChart(
        width,
        height,
        left,
        width - right,
        top,
        height - bottom,
        tuple(by_name[s.name] for s in series),
        x_ticks,
        y_ticks,
    )


def _with_label_y(item: Series, label_y: float) -> Series:
    return Series(
        item.name,
        item.total,
        item.points,
        item.markers,
        item.marker,
        item.dash,
        item.style,
        round(label_y, 1),
    )


def bar_chart(
    values: Sequence[int], edges: Sequence[datetime], *, width: int = 120, height: int = 24
) -> BarChart:
    """A small bar per bucket (a pattern's count over time); the tallest bar fills the height."""
    peak = max(values, default=0)
    slot = width / max(len(values), 1)
    bars = []
    for index, value in enumerate(values):
        # A bucket with failures is at least one pixel tall, so a single failure shows.
        tall = 0.0 if value == 0 else max(1.0, height * value / peak)
        bars.append(
            Bar(
                round(index * slot, 2),
                round(height - tall, 2),
                round(max(slot - 1, 0.5), 2),
                round(tall, 2),
                value,
                edges[index],
            )
        )
    return BarChart(width, height, tuple(bars), peak)
