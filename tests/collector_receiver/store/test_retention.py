"""``FailureStore.prune``: what is older than the cutoff goes, in batches; the rest stays."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from collector_receiver.events import GenAIContext, OperationCounts, OperationKey
from collector_receiver.store import FailureStore, SchemaMissing
from collector_receiver.store.tables import gen_ai_counted_deliveries, gen_ai_operations
from tests.collector_receiver.store._helpers import (
    BASE_TIME,
    failure,
    stored_patterns,
    stored_rows,
)

CUTOFF = BASE_TIME + timedelta(days=10)
OLD = "a" * 32
SEEN_AGAIN = "b" * 32
RECENT = "c" * 32
CHAT = GenAIContext(provider="openai", model="gpt-4o", operation="chat")


def _at(days: float) -> datetime:
    return BASE_TIME + timedelta(days=days)


def _fill(store: FailureStore) -> None:
    """Old failures of a pattern never seen since, of one seen again after the cutoff, and
    recent ones; one failure exactly at the cutoff (kept: older means strictly before)."""
    store.write_batch(
        [failure(n, fingerprint=OLD, occurred_at=_at(n / 10)) for n in range(1, 8)]
        + [failure(100 + n, fingerprint=SEEN_AGAIN, occurred_at=_at(1 + n)) for n in range(3)]
        + [failure(200, fingerprint=SEEN_AGAIN, occurred_at=_at(12))]
        + [failure(300 + n, fingerprint=RECENT, occurred_at=_at(11 + n)) for n in range(4)]
        + [failure(400, fingerprint=RECENT, occurred_at=CUTOFF)]
    )


def _operations(store: FailureStore) -> None:
    hours = [
        CUTOFF - timedelta(hours=3),
        CUTOFF - timedelta(hours=1),
        CUTOFF,
        CUTOFF + timedelta(hours=2),
    ]
    store.write_batch(
        [],
        [
            OperationCounts(
                counts={OperationKey(hour, "research-agent", CHAT): 5 for hour in hours},
                delivery_key="d" * 32,
            ),
            OperationCounts(
                counts={OperationKey(hours[0], "other-agent", CHAT): 2},
                delivery_key="e" * 32,
            ),
        ],
    )


def _buckets(store: FailureStore) -> list[datetime]:
    with store.engine.connect() as conn:
        return sorted(conn.execute(sa.select(gen_ai_operations.c.bucket_start)).scalars())


def test_failures_older_than_the_cutoff_are_deleted_and_newer_kept(store: FailureStore) -> None:
    _fill(store)
    before = stored_rows(store)

    result = store.prune(CUTOFF)

    kept = stored_rows(store)
    assert [row["event_key"] for row in kept] == [
        row["event_key"] for row in before if row["occurred_at"] >= CUTOFF
    ]
    assert kept == [row for row in before if row["occurred_at"] >= CUTOFF]  # untouched
    assert result.failures == len(before) - len(kept) == 10
    assert not result.dry_run
    assert result.before == CUTOFF


def test_patterns_last_seen_before_the_cutoff_go_and_kept_ones_keep_their_lifetime(
    store: FailureStore,
) -> None:
    _fill(store)
    before = stored_patterns(store)

    result = store.prune(CUTOFF)

    after = stored_patterns(store)
    assert set(after) == {SEEN_AGAIN, RECENT}
    assert result.patterns == 1
    # Lifetime figures, not the figures of what is left in failure_matches.
    assert after[SEEN_AGAIN]["occurrences"] == 4
    assert after[SEEN_AGAIN]["first_seen"] == _at(1)
    assert after == {key: before[key] for key in after}


def test_operation_buckets_before_the_cutoff_hour_are_deleted(store: FailureStore) -> None:
    _operations(store)

    result = store.prune(CUTOFF)

    assert result.operation_buckets == 3
    assert _buckets(store) == [CUTOFF, CUTOFF + timedelta(hours=2)]


def test_delivery_keys_are_pruned_by_when_they_were_counted(store: FailureStore) -> None:
    _operations(store)
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(gen_ai_counted_deliveries)
            .where(gen_ai_counted_deliveries.c.delivery_key == "d" * 32)
            .values(received_at=CUTOFF - timedelta(seconds=1))
        )

    result = store.prune(CUTOFF)

    assert result.delivery_keys == 1
    with store.engine.connect() as conn:
        keys = list(conn.execute(sa.select(gen_ai_counted_deliveries.c.delivery_key)).scalars())
    assert keys == ["e" * 32]


def test_a_dry_run_counts_exactly_what_a_run_deletes_and_deletes_nothing(
    store: FailureStore,
) -> None:
    _fill(store)
    _operations(store)
    rows, patterns, buckets = stored_rows(store), stored_patterns(store), _buckets(store)

    dry = store.prune(CUTOFF, dry_run=True)

    assert (stored_rows(store), stored_patterns(store), _buckets(store)) == (
        rows,
        patterns,
        buckets,
    )
    real = store.prune(CUTOFF, batch_size=2)
    assert dry.dry_run and not real.dry_run
    assert (dry.failures, dry.patterns, dry.operation_buckets, dry.delivery_keys) == (
        real.failures,
        real.patterns,
        real.operation_buckets,
        real.delivery_keys,
    )
    assert (dry.failures, dry.patterns, dry.operation_buckets) == (10, 1, 3)
    assert dry.dropped_partitions == real.dropped_partitions


def test_small_batches_delete_everything_and_report_progress(store: FailureStore) -> None:
    _fill(store)
    seen: list[tuple[str, int]] = []

    result = store.prune(CUTOFF, batch_size=3, progress=lambda stage, n: seen.append((stage, n)))

    failures = [n for stage, n in seen if stage == "failures"]
    assert failures == sorted(failures)
    assert failures[-1] == result.failures == 10
    assert len(failures) >= 4  # 10 rows, 3 a batch (unless whole partitions were dropped)
    assert [row["occurred_at"] >= CUTOFF for row in stored_rows(store)] == [True] * 6
    assert store.prune(CUTOFF).failures == 0  # nothing left behind


def test_pruning_the_newest_rows_never_lets_their_ids_be_used_again(store: FailureStore) -> None:
    _fill(store)
    largest = max(row["id"] for row in stored_rows(store))

    store.prune(datetime.now(timezone.utc) + timedelta(days=1))
    assert stored_rows(store) == []
    store.write_batch([failure(999, occurred_at=datetime.now(timezone.utc))])

    assert stored_rows(store)[0]["id"] > largest


def test_a_database_without_the_schema_is_one_clear_error(sqlite_url: str) -> None:
    store = FailureStore.from_url(sqlite_url)
    try:
        with pytest.raises(SchemaMissing, match="failcat db upgrade"):
            store.prune(CUTOFF)
    finally:
        store.close()


def test_a_batch_size_below_one_is_refused(store: FailureStore) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        store.prune(CUTOFF, batch_size=0)
