"""The aggregation job against hand-computed fixtures, on SQLite and PostgreSQL.

``NOW`` is 2026-11-28T12:00Z; ``--window 1h --baseline 24h`` gives the window
[11:00, 12:00) and the baseline [2026-11-27T11:00, 11:00). Rows sit on both edges of both
ranges, so an off-by-one in a bound changes a count.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from collector_receiver.aggregate import AggregateSpec, compute_aggregate, to_record
from collector_receiver.events import MatchedFailure
from collector_receiver.store import SchemaMissing, downgrade, upgrade
from collector_receiver.store.aggregates import AggregateQueries, failure_aggregates
from collector_receiver.store.migrate import comparison_options
from collector_receiver.store.tables import metadata
from tests.collector_receiver.store._inspection_data import (
    NOW,
    drifted_mix,
    failure,
    seed,
    stable_mix,
)

WINDOW_START = NOW - timedelta(hours=1)
BASELINE_START = NOW - timedelta(hours=25)

TOP_KEYS = ["window", "baseline", "totals", "by_code", "by_service", "new_patterns", "drift"]


def _run(url: str, **spec: object) -> dict[str, object]:
    queries = AggregateQueries.from_url(url)
    try:
        return compute_aggregate(queries, AggregateSpec(now=NOW, **spec))  # type: ignore[arg-type]
    finally:
        queries.close()


def test_stable_mix_counts_shares_and_verdict(db_url: str) -> None:
    seed(db_url, stable_mix())
    result = _run(db_url)

    assert list(result) == TOP_KEYS
    assert result["window"] == {"start": "2026-11-28T11:00:00Z", "end": "2026-11-28T12:00:00Z"}
    assert result["baseline"] == {
        "start": "2026-11-27T11:00:00Z",
        "end": "2026-11-28T11:00:00Z",
    }
    assert result["totals"] == {"failures": 20, "uncataloged": 2, "services": 2, "codes": 3}
    assert result["by_code"] == [
        {
            "code": "RATE_LIMITED",
            "category": "rate_limit",
            "severity": "medium",
            "count": 12,
            "share": 0.6,
            "baseline_share": 0.6,
        },
        {
            "code": "TIMEOUT",
            "category": "timeout",
            "severity": "medium",
            "count": 6,
            "share": 0.3,
            "baseline_share": 0.3,
        },
        {
            "code": "UNCATALOGED",
            "category": "uncataloged",
            "severity": "medium",
            "count": 2,
            "share": 0.1,
            "baseline_share": 0.1,
        },
    ]
    assert result["by_service"] == [
        {"service_name": "planner", "count": 14},
        {"service_name": "coder", "count": 6},
    ]
    # Every fingerprint was first seen in the baseline.
    assert result["new_patterns"] == []
    assert result["drift"] == {
        "method": "jensen_shannon_divergence_base2",
        "score": 0.0,
        "threshold": 0.1,
        "drifted": False,
    }


def test_drifted_mix_with_a_new_pattern(db_url: str) -> None:
    seed(db_url, drifted_mix())
    result = _run(db_url)
    assert result["totals"] == {"failures": 20, "uncataloged": 0, "services": 1, "codes": 2}
    assert result["by_code"] == [
        {
            "code": "PROVIDER_OVERLOADED",
            "category": "overloaded",
            "severity": "high",
            "count": 15,
            "share": 0.75,
            "baseline_share": 0.0,
        },
        {
            "code": "RATE_LIMITED",
            "category": "rate_limit",
            "severity": "medium",
            "count": 5,
            "share": 0.25,
            "baseline_share": 1.0,
        },
    ]
    assert result["new_patterns"] == [
        {
            "fingerprint": "0f" * 16,
            "code": "PROVIDER_OVERLOADED",
            "exception_type": "anthropic.InternalServerError",
            "first_seen": "2026-11-28T11:10:00Z",
            "occurrences": 15,
        }
    ]
    # P = (0.75, 0.25), Q = (0, 1): JSD = ½(0.75 + 0.25·log2 0.4) + ½·log2 1.6 = 0.548795
    assert result["drift"] == {
        "method": "jensen_shannon_divergence_base2",
        "score": 0.548795,
        "threshold": 0.1,
        "drifted": True,
    }


def test_the_same_drift_below_the_minimum_count_is_not_called(db_url: str) -> None:
    seed(db_url, drifted_mix())
    result = _run(db_url, min_failures=21)
    assert result["drift"]["score"] == 0.548795  # type: ignore[index]
    assert result["drift"]["drifted"] is False  # type: ignore[index]
    assert _run(db_url, drift_threshold=0.6)["drift"]["drifted"] is False  # type: ignore[index]


def test_empty_database_gives_zeros(db_url: str) -> None:
    seed(db_url, [])
    result = _run(db_url)
    assert result["totals"] == {"failures": 0, "uncataloged": 0, "services": 0, "codes": 0}
    assert result["by_code"] == result["by_service"] == result["new_patterns"] == []
    assert result["drift"]["score"] is None  # type: ignore[index]
    assert result["drift"]["drifted"] is False  # type: ignore[index]


def test_store_keeps_the_result_for_history(db_url: str) -> None:
    seed(db_url, drifted_mix())
    queries = AggregateQueries.from_url(db_url)
    spec = AggregateSpec(now=NOW)
    result = compute_aggregate(queries, spec)
    first = queries.save(to_record(spec, result, NOW + timedelta(seconds=3)))
    later = AggregateSpec(now=NOW + timedelta(hours=1))
    second = queries.save(
        to_record(later, compute_aggregate(queries, later), NOW + timedelta(hours=1))
    )
    assert second > first
    history = queries.history()
    queries.close()
    assert [h.window_end for h in history] == [NOW + timedelta(hours=1), NOW]
    stored = history[1]
    assert stored.computed_at == NOW + timedelta(seconds=3)
    assert (stored.window_start, stored.baseline_start, stored.baseline_end) == (
        WINDOW_START,
        BASELINE_START,
        WINDOW_START,
    )
    assert (stored.total, stored.uncataloged, stored.drifted) == (20, 0, True)
    assert stored.drift_score == pytest.approx(0.548795)
    assert stored.result == result


def test_store_before_migration_0002_says_to_upgrade(db_url: str) -> None:
    upgrade(db_url, "0001")
    queries = AggregateQueries.from_url(db_url)
    spec = AggregateSpec(now=NOW)
    result = compute_aggregate(queries, spec)
    with pytest.raises(SchemaMissing, match="failcat db upgrade"):
        queries.save(to_record(spec, result, NOW))
    queries.close()


def test_migration_0002_matches_the_table_definition_and_downgrades(db_url: str) -> None:
    upgrade(db_url)
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            options = {"compare_type": False, **comparison_options(connection.dialect.name)}
            context = MigrationContext.configure(connection, opts=options)
            differences = compare_metadata(context, metadata)
        assert differences == []
        downgrade(db_url, "0001")
        inspector = sa.inspect(engine)
        assert failure_aggregates.name not in inspector.get_table_names()
        assert "ix_failure_patterns_first_seen" not in {
            index["name"] for index in inspector.get_indexes("failure_patterns")
        }
        upgrade(db_url)
        assert failure_aggregates.name in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_counts_equal_the_stored_failures_in_each_range(db_url: str) -> None:
    """Hundreds of failures scattered over and around both ranges, many on their very edges.

    The expected numbers are counted here from the fixture itself, independently of SQL.
    """
    rng = random.Random(5)
    edges = [NOW, WINDOW_START, BASELINE_START]
    codes = ["RATE_LIMITED", "TIMEOUT", "UNCATALOGED", "TOOL_FAILED"]
    services = ["planner", "coder", "critic"]
    rows = []
    for _ in range(300):
        if rng.random() < 0.2:
            moment = rng.choice(edges) + timedelta(microseconds=rng.choice([-1, 0, 1]))
        else:
            moment = NOW - timedelta(seconds=rng.uniform(-3600, 26 * 3600))
        rows.append(failure(moment, code=rng.choice(codes), service=rng.choice(services)))
    seed(db_url, rows)

    def inside(start: datetime, end: datetime) -> list[MatchedFailure]:
        return [f for f in rows if start <= f.occurred_at < end]

    window, baseline = inside(WINDOW_START, NOW), inside(BASELINE_START, WINDOW_START)
    result = _run(db_url)
    by_code = {c["code"]: c for c in result["by_code"]}  # type: ignore[attr-defined]
    assert {code: c["count"] for code, c in by_code.items() if c["count"]} == dict(
        Counter(f.code for f in window)
    )
    for code, entry in by_code.items():
        expected = sum(f.code == code for f in baseline) / len(baseline)
        assert entry["baseline_share"] == round(expected, 6), code
    assert {s["service_name"]: s["count"] for s in result["by_service"]} == dict(  # type: ignore[attr-defined]
        Counter(f.service_name for f in window)
    )
    assert result["totals"] == {
        "failures": len(window),
        "uncataloged": sum(f.code == "UNCATALOGED" for f in window),
        "services": len({f.service_name for f in window}),
        "codes": len({f.code for f in window}),
    }
