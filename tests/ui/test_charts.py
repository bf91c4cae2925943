"""Chart geometry: every count inside the plot, labels apart, series told apart without colour."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import pairwise

from collector_receiver.ui._charts import bar_chart, line_chart

START = datetime(2026, 3, 1, tzinfo=timezone.utc)
EDGES = [START + timedelta(hours=h) for h in range(5)]


def test_lines_stay_in_the_plot_and_their_labels_apart() -> None:
    chart = line_chart(
        {"timeout": [0, 7, 3, 0], "rate_limit": [1, 7, 3, 1], "auth": [0, 0, 0, 0]}, EDGES
    )
    assert [s.name for s in chart.series] == ["rate_limit", "timeout", "auth"]  # largest first
    assert [s.total for s in chart.series] == [12, 10, 0]
    for series in chart.series:
        for x, y in series.markers:
            assert chart.left <= x <= chart.right and chart.top <= y <= chart.bottom
    labels = sorted(s.label_y for s in chart.series)
    assert all(b - a >= 13 for a, b in pairwise(labels))
    assert len({(s.dash, s.marker) for s in chart.series}) == 3
    assert chart.y_ticks[-1].label == "10"  # 7 rounds up to the next 1-2-5 number
    assert chart.x_ticks[0].label == "00:00"


def test_bars_scale_to_the_peak_and_show_a_single_failure() -> None:
    chart = bar_chart([0, 1, 200, 0], EDGES)
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0 and heights[1] >= 1 and heights[2] == chart.height
    assert chart.peak == 200 and chart.bars[2].start == EDGES[2]
