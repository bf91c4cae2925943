"""Counts per bucket and a fingerprint's failures (the web UI's charts and failure page), on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from collector_receiver.store import FailureStore, upgrade
from collector_receiver.store.timeline import TimelineQueries
from tests.collector_receiver.store._helpers import BASE_TIME, failure

HOUR = timedelta(hours=1)


@pytest.fixture
def timeline(db_url: str) -> Iterator[TimelineQueries]:
    """checkout-agent: rate_limit at 12:00:01, 12:30 and 13:59:59.999999 (fingerprint A), a
    timeout at 13:00 exactly (fingerprint B); search-agent: a rate_limit at 12:10 (fingerprint
    C); one rate_limit at 14:00 exactly, just past the last edge."""
    upgrade(db_url)
    store = FailureStore.from_url(db_url)
    a, b, c = "a" * 32, "b" * 32, "c" * 32
    rows = [
        failure(1, fingerprint=a, occurred_at=BASE_TIME + timedelta(seconds=1)),
        failure(2, fingerprint=a, occurred_at=BASE_TIME + timedelta(minutes=30)),
        failure(3, fingerprint=a, occurred_at=BASE_TIME + 2 * HOUR - timedelta(microseconds=1)),
        replace(failure(4, fingerprint=b, occurred_at=BASE_TIME + HOUR), category="timeout"),
        failure(5, fingerprint=c, service_name="search-agent", occurred_at=BASE_TIME + HOUR / 6),
        failure(6, fingerprint=a, occurred_at=BASE_TIME + 2 * HOUR),
    ]
    store.write_batch(rows)
    store.close()
    queries = TimelineQueries.from_url(db_url)
    yield queries
    queries.close()


EDGES = [BASE_TIME, BASE_TIME + HOUR, BASE_TIME + 2 * HOUR]


def test_failures_per_category_fall_in_half_open_buckets(timeline: TimelineQueries) -> None:
    assert timeline.counts_by_category(EDGES) == {"rate_limit": [3, 1], "timeout": [0, 1]}
    assert timeline.counts_by_category(EDGES, service="search-agent") == {"rate_limit": [1, 0]}
    assert timeline.counts_by_category([BASE_TIME - HOUR, BASE_TIME]) == {}


def test_failures_per_fingerprint_only_for_the_asked(timeline: TimelineQueries) -> None:
    assert timeline.counts_by_fingerprint(["a" * 32, "c" * 32, "d" * 32], EDGES) == {
        "a" * 32: [2, 1],
        "c" * 32: [1, 0],
    }
    assert timeline.counts_by_fingerprint([], EDGES) == {}


def test_bad_edges_are_refused(timeline: TimelineQueries) -> None:
    with pytest.raises(ValueError, match="increase"):
        timeline.counts_by_category([BASE_TIME, BASE_TIME])
    with pytest.raises(ValueError, match="edges"):
        timeline.counts_by_category([BASE_TIME])


def test_a_fingerprints_failures_newest_first(timeline: TimelineQueries) -> None:
    found = timeline.failures_of_pattern("a" * 32, "checkout-agent")
    assert [f.event_key[-1] for f in found] == ["6", "3", "2", "1"]
    assert [f.id for f in timeline.failures_of_pattern("a" * 32, "checkout-agent", limit=2)] == [
        found[0].id,
        found[1].id,
    ]
    assert timeline.failures_of_pattern("a" * 32, "search-agent") == []
