"""Pruning PostgreSQL, as a plain table (revision 0005) and range-partitioned (the head): whole
expired months dropped, the straddling one deleted in batches, the dry run counting the same;
and pruning beside a writer (and beside another prune) loses nothing newer than the cutoff."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from collector_receiver.events import MatchedFailure
from collector_receiver.store import FailureStore, head_revision, upgrade
from collector_receiver.store._partitions import is_partitioned
from collector_receiver.store._rows import STORE_ONLY_COLUMNS, match_row, pattern_rows
from collector_receiver.store.tables import failure_matches, failure_patterns
from tests.collector_receiver.store._helpers import failure, stored_patterns, stored_rows

JANUARY = datetime(2026, 1, 10, tzinfo=timezone.utc)
FEBRUARY = datetime(2026, 2, 10, tzinfo=timezone.utc)
CUTOFF = datetime(2026, 3, 15, tzinfo=timezone.utc)
OLD = "a" * 32  # seen in January only
SHARED = "b" * 32  # seen before the cutoff, and again by the writer
FRESH = "c" * 32  # the writer's own


def _open(url: str, shape: str) -> FailureStore:
    if shape == "plain":
        upgrade(url, "0005")
    else:
        if head_revision() == "0005":
            pytest.skip("no partitioning migration after 0005 in this tree")
        upgrade(url)
    store = FailureStore.from_url(url)
    with store.engine.connect() as conn:
        assert is_partitioned(conn) == (shape == "partitioned")
    return store


@pytest.fixture(params=["plain", "partitioned"])
def shaped(request: pytest.FixtureRequest, postgres_url: str) -> Iterator[FailureStore]:
    """Each shape PostgreSQL's failure_matches has had: plain (before partitioning) or
    partitioned."""
    store = _open(postgres_url, request.param)
    yield store
    store.close()


@pytest.fixture
def store(postgres_url: str) -> Iterator[FailureStore]:
    """The schema of the newest revision, written by the store's own write path."""
    upgrade(postgres_url)
    store = FailureStore.from_url(postgres_url)
    yield store
    store.close()


def _batches() -> list[list[MatchedFailure]]:
    """600 failures in January, 400 in February, 300 in March before the cutoff, 200 after."""
    return [
        [
            failure(n, fingerprint=OLD, occurred_at=JANUARY + timedelta(minutes=n))
            for n in range(600)
        ],
        [
            failure(1_000 + n, fingerprint=SHARED, occurred_at=FEBRUARY + timedelta(minutes=n))
            for n in range(400)
        ],
        [
            failure(2_000 + n, fingerprint=SHARED, occurred_at=CUTOFF - timedelta(minutes=1 + n))
            for n in range(300)
        ],
        [
            failure(3_000 + n, fingerprint=SHARED, occurred_at=CUTOFF + timedelta(minutes=n))
            for n in range(200)
        ],
    ]


def _fill(store: FailureStore) -> None:
    for batch in _batches():
        store.write_batch(batch)


def _fill_rows(store: FailureStore) -> None:
    """The rows write_batch would store, inserted as they are: the store's write path of this
    tree writes the partitioned table only, and a plain one is what a database held before."""
    failures = [f for batch in _batches() for f in batch]
    received_at = datetime.now(timezone.utc)
    with store.engine.begin() as conn:
        # Without the store's own columns, which the plain table of 0005 does not have yet.
        rows = [match_row(f, received_at) for f in failures]
        for row in rows:
            for column in STORE_ONLY_COLUMNS:
                del row[column]
        conn.execute(sa.insert(failure_matches), rows)
        conn.execute(sa.insert(failure_patterns), pattern_rows(failures))


def test_expired_months_go_whole_and_the_rest_in_batches(shaped: FailureStore) -> None:
    store = shaped
    with store.engine.connect() as conn:
        partitioned = is_partitioned(conn)
    if partitioned:
        _fill(store)
    else:
        _fill_rows(store)

    dry = store.prune(CUTOFF, dry_run=True)
    real = store.prune(CUTOFF, batch_size=70)

    expected_dropped = ("failure_matches_p202601", "failure_matches_p202602") if partitioned else ()
    assert real.dropped_partitions == dry.dropped_partitions == expected_dropped
    assert dry.failures == real.failures == 1_300
    assert dry.patterns == real.patterns == 1
    rows = stored_rows(store)
    assert len(rows) == 200 and all(row["occurred_at"] >= CUTOFF for row in rows)
    assert stored_patterns(store)[SHARED]["occurrences"] == 900
    assert store.prune(CUTOFF).failures == 0


def test_a_writer_during_the_prune_loses_nothing_newer_than_the_cutoff(
    store: FailureStore,
) -> None:
    _fill(store)
    written: Counter[str] = Counter()
    errors: list[BaseException] = []
    done = threading.Event()
    now = datetime.now(timezone.utc)

    def write() -> None:
        n = 100_000
        try:
            while not done.is_set() or n < 100_400:
                batch = [
                    failure(
                        n + i,
                        fingerprint=(SHARED, FRESH, OLD)[i % 3],
                        occurred_at=now + timedelta(seconds=n + i - 100_000),
                    )
                    for i in range(20)
                ]
                store.write_batch(batch)
                written.update(f.fingerprint for f in batch)
                n += 20
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        result = store.prune(CUTOFF, batch_size=50)
    finally:
        done.set()
        writer.join(60)

    assert not errors, errors
    assert result.failures == 1_300
    rows = stored_rows(store)
    assert all(row["occurred_at"] >= CUTOFF for row in rows)
    assert len(rows) == 200 + sum(written.values())
    patterns = stored_patterns(store)
    assert patterns[FRESH]["occurrences"] == written[FRESH]
    # OLD was last seen in January until the writer saw it again: the prune either deleted it
    # first (the writer then created it anew: only occurrences after that) or found it moved
    # forward and kept it (all of them). Either way it is there, last seen by the writer.
    newest_old = max(row["occurred_at"] for row in rows if row["fingerprint"] == OLD)
    assert patterns[OLD]["last_seen"] == newest_old
    occurrences = patterns[OLD]["occurrences"]
    assert occurrences == 600 + written[OLD] or 1 <= occurrences <= written[OLD]
    # SHARED was last seen at the cutoff and after it, so it is kept, with its whole lifetime
    # and every occurrence the writer added.
    assert patterns[SHARED]["occurrences"] == 900 + written[SHARED]
    assert patterns[SHARED]["first_seen"] == FEBRUARY


def test_two_prunes_at_once_delete_each_row_once(store: FailureStore) -> None:
    _fill(store)
    results = []
    errors: list[BaseException] = []

    def prune() -> None:
        try:
            results.append(store.prune(CUTOFF, batch_size=40))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=prune) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not errors, errors
    assert sum(r.failures for r in results) == 1_300
    assert sum(r.patterns for r in results) == 1
    assert len(stored_rows(store)) == 200
