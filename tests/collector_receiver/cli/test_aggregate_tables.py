"""The text report of ``failcat aggregate``, on counts given by hand (no database)."""

from __future__ import annotations

from datetime import datetime, timezone

from collector_receiver.aggregate import AggregateSpec, summarize
from collector_receiver.cli._aggregate_tables import render_tables
from collector_receiver.store.aggregates import (
    CodeCount,
    NewPatternRow,
    ServiceCount,
    WindowCounts,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def test_render_tables_shows_the_verdict_codes_services_and_new_patterns() -> None:
    counts = WindowCounts(
        window_codes=(CodeCount("RATE_LIMITED", "rate_limit", "medium", 30),),
        baseline_codes=(CodeCount("TIMEOUT", "timeout", "medium", 30),),
        window_services=(ServiceCount("planner", 30),),
        new_patterns=(NewPatternRow("f" * 32, "RATE_LIMITED", "openai.RateLimitError", NOW, 30),),
    )
    text = render_tables(summarize(AggregateSpec(now=NOW), counts))
    assert "DRIFTED" in text
    assert "RATE_LIMITED" in text and "TIMEOUT" in text
    assert "planner" in text
    assert "f" * 32 in text
    assert "100.0%" in text
