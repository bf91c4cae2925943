"""FailureQueries on both databases: filters, order, keyset pages, single rows, traces, patterns."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest

from collector_receiver.presentation import failure_json
from collector_receiver.store import SchemaMissing, StoreUnavailable
from collector_receiver.store._cursor import encode_cursor
from collector_receiver.store.queries import FailureQueries
from tests.collector_receiver.store._inspection_data import NOW, failure, minutes_ago, seed

TRACE_A = "a" * 32
TRACE_B = "0123456789abcdef" * 2


@pytest.fixture
def queries(db_url: str) -> FailureQueries:
    seed(
        db_url,
        [
            failure(minutes_ago(50), "RATE_LIMITED", "planner", TRACE_A, "1" * 16),
            failure(minutes_ago(40), "TIMEOUT", "planner", TRACE_A, "2" * 16),
            failure(minutes_ago(30), "TOOL_FAILED", "coder", TRACE_B, "3" * 16),
            failure(minutes_ago(20), "RATE_LIMITED", "coder", None, None),
            failure(minutes_ago(10), "UNCATALOGED", "planner", TRACE_A, "4" * 16),
            # Two failures at the very same instant: the id breaks the tie.
            failure(minutes_ago(5), "TIMEOUT", "coder", None, None),
            failure(minutes_ago(5), "TIMEOUT", "coder", None, None),
        ],
    )
    return FailureQueries.from_url(db_url)


def test_lists_everything_newest_first_with_ids_breaking_ties(queries: FailureQueries) -> None:
    page = queries.list_failures()
    keys = [(f.occurred_at, f.id) for f in page.items]
    assert len(keys) == 7
    assert keys == sorted(keys, reverse=True)
    assert page.next_cursor is None
    assert page.items[0].occurred_at == minutes_ago(5)
    assert page.items[0].occurred_at.tzinfo is not None


FILTER_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"service": "planner"}, ["UNCATALOGED", "TIMEOUT", "RATE_LIMITED"]),
    ({"code": "RATE_LIMITED"}, ["RATE_LIMITED", "RATE_LIMITED"]),
    ({"category": "timeout"}, ["TIMEOUT", "TIMEOUT", "TIMEOUT"]),
    ({"trace_id": TRACE_A}, ["UNCATALOGED", "TIMEOUT", "RATE_LIMITED"]),
    ({"service": "coder", "code": "RATE_LIMITED"}, ["RATE_LIMITED"]),
    ({"service": "nobody"}, []),
]


def test_filters(queries: FailureQueries) -> None:
    for filters, expected_codes in FILTER_CASES:
        assert [f.code for f in queries.list_failures(**filters).items] == expected_codes


def test_since_is_inclusive_and_until_exclusive(queries: FailureQueries) -> None:
    page = queries.list_failures(since=minutes_ago(40), until=minutes_ago(10))
    assert [f.code for f in page.items] == ["RATE_LIMITED", "TOOL_FAILED", "TIMEOUT"]


def test_pages_follow_each_other_without_gaps_or_repeats(queries: FailureQueries) -> None:
    everything = [f.id for f in queries.list_failures().items]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = queries.list_failures(limit=2, cursor=cursor)
        seen.extend(f.id for f in page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == everything
    assert pages == 4  # 2 + 2 + 2 + 1


def test_cursor_keeps_the_filters_it_is_used_with(queries: FailureQueries) -> None:
    first = queries.list_failures(service="coder", limit=2)
    assert first.next_cursor is not None
    rest = queries.list_failures(service="coder", limit=10, cursor=first.next_cursor)
    assert [f.service_name for f in rest.items] == ["coder", "coder"]
    assert {f.id for f in first.items}.isdisjoint(f.id for f in rest.items)


def _forged_cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_malformed_cursor_is_a_value_error(queries: FailureQueries) -> None:
    forged = [
        ["2026-11-28T10:00:00Z", 2**63],  # past BIGINT: must not reach the database
        ["2026-11-28T10:00:00Z", -1],
        ["2026-11-28T10:00:00Z", True],
        ["0001-01-01T00:00:00+01:00", 1],  # before the first UTC instant
        ["2026-11-28T10:00:00", 1],  # no offset
    ]
    cursors = ["garbage", "", "W10", encode_cursor(NOW, "fingerprint")]
    for cursor in cursors + [_forged_cursor(payload) for payload in forged]:
        with pytest.raises(ValueError, match="cursor"):
            queries.list_failures(cursor=cursor)
    with pytest.raises(ValueError, match="cursor"):
        queries.list_patterns(cursor=encode_cursor(NOW, 7))


def test_limit_is_bounded(queries: FailureQueries) -> None:
    for limit in [0, -1, 1001]:
        with pytest.raises(ValueError, match="between 1 and 1000"):
            queries.list_failures(limit=limit)


def test_get_failure_by_id_and_unknown_id(queries: FailureQueries) -> None:
    newest = queries.list_failures(limit=1).items[0]
    again = queries.get_failure(newest.id)
    assert again == newest
    assert again is not None and again.attributes == {"gen_ai.system": "openai"}
    assert queries.get_failure(10**12) is None


def test_failures_for_trace_in_time_order(queries: FailureQueries) -> None:
    chain = queries.failures_for_trace(TRACE_A)
    assert [f.code for f in chain] == ["RATE_LIMITED", "TIMEOUT", "UNCATALOGED"]
    assert [f.span_id for f in chain] == ["1" * 16, "2" * 16, "4" * 16]
    assert queries.failures_for_trace("f" * 32) == []


def test_patterns_group_occurrences_per_fingerprint(queries: FailureQueries) -> None:
    page = queries.list_patterns()
    by_key = {(p.service_name, p.code): p for p in page.items}
    assert len(page.items) == 6  # one fingerprint per (service, type) in the test data
    coder_timeouts = by_key[("coder", "TIMEOUT")]
    assert coder_timeouts.occurrences == 2
    assert coder_timeouts.first_seen == minutes_ago(5)
    planner_rate = by_key[("planner", "RATE_LIMITED")]
    assert planner_rate.first_seen == planner_rate.last_seen == minutes_ago(50)
    firsts = [p.first_seen for p in page.items]
    assert firsts == sorted(firsts, reverse=True)


def test_patterns_filters_and_pages(queries: FailureQueries) -> None:
    assert {p.code for p in queries.list_patterns(service="coder").items} == {
        "TOOL_FAILED",
        "RATE_LIMITED",
        "TIMEOUT",
    }
    assert [p.service_name for p in queries.list_patterns(code="UNCATALOGED").items] == ["planner"]
    recent = queries.list_patterns(since=minutes_ago(25))
    assert {p.code for p in recent.items} == {"RATE_LIMITED", "UNCATALOGED", "TIMEOUT"}
    first = queries.list_patterns(limit=3)
    assert first.next_cursor is not None
    second = queries.list_patterns(limit=3, cursor=first.next_cursor)
    assert second.next_cursor is None
    all_prints = [p.fingerprint for p in first.items + second.items]
    assert sorted(all_prints) == sorted(p.fingerprint for p in queries.list_patterns().items)
    assert len(set(all_prints)) == 6


def test_catalog_counts_in_a_window(queries: FailureQueries) -> None:
    assert queries.catalog_counts(minutes_ago(45), NOW) == {
        "TIMEOUT": 3,
        "TOOL_FAILED": 1,
        "RATE_LIMITED": 1,
        "UNCATALOGED": 1,
    }
    assert queries.catalog_counts(NOW, NOW + timedelta(hours=1)) == {}


def test_json_item_carries_the_trace_link(queries: FailureQueries) -> None:
    item = failure_json(
        queries.failures_for_trace(TRACE_A)[0],
        "https://jaeger.example/trace/{trace_id}?span={span_id}&svc={service_name}",
    )
    assert item["trace_url"] == (
        f"https://jaeger.example/trace/{TRACE_A}?span={'1' * 16}&svc=planner"
    )
    assert item["occurred_at"].endswith("Z")
    no_trace = queries.list_failures(trace_id=None, code="RATE_LIMITED").items[0]
    assert no_trace.trace_id is None
    assert failure_json(no_trace, "https://x/{trace_id}")["trace_url"] is None


def test_database_without_schema_says_to_upgrade(sqlite_url: str) -> None:
    with pytest.raises(SchemaMissing, match="failcat db upgrade"):
        FailureQueries.from_url(sqlite_url).list_failures()


def test_unreachable_database_is_unavailable() -> None:
    queries = FailureQueries.from_url("postgresql+psycopg://postgres@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailable):
        queries.list_failures()
