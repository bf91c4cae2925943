"""Dropping an expired month on PostgreSQL 14+: detached ``CONCURRENTLY`` first, then dropped as
a table of its own, so neither step holds back a reader or writer of ``failure_matches``; what an
interrupted prune leaves (a pending detach, a detached table) is finished by the next one, and no
other table is ever touched."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timezone

import psycopg
import psycopg.errors
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from collector_receiver.store import FailureStore, StoreError, _partitions, retention, upgrade
from collector_receiver.store._rows import match_row
from collector_receiver.store.tables import failure_matches
from tests.collector_receiver.store._helpers import failure, stored_rows
from tests.collector_receiver.store.test_retention_pg import CUTOFF, JANUARY, _fill

JAN = "failure_matches_p202601"
FEB = "failure_matches_p202602"


@pytest.fixture
def store(postgres_url: str) -> Iterator[FailureStore]:
    upgrade(postgres_url)
    store = FailureStore.from_url(postgres_url)
    with store.engine.connect() as conn:
        if not _partitions.detaches_concurrently(conn):
            pytest.skip("DETACH PARTITION CONCURRENTLY needs PostgreSQL 14")
    yield store
    store.close()


def _libpq(store: FailureStore) -> str:
    return store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _insert_now_and_count(conn: sa.Connection, n: int) -> int:
    """In the caller's open transaction, with a short lock_timeout: write a failure of now into
    failure_matches and read the table back."""
    conn.execute(sa.text("SET LOCAL lock_timeout = '1s'"))
    row = match_row(failure(n, occurred_at=datetime.now(timezone.utc)), datetime.now(timezone.utc))
    conn.execute(sa.insert(failure_matches), [row])
    return int(conn.execute(sa.text("SELECT count(*) FROM failure_matches")).scalar_one())


def _table_names(store: FailureStore) -> set[str]:
    with store.engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def test_dropping_a_detached_month_holds_back_no_insert_or_read(store: FailureStore) -> None:
    _fill(store)  # 600 in January, 400 in February, 500 in March
    with store.engine.connect() as auto:
        _partitions.detach_partition(auto.execution_options(isolation_level="AUTOCOMMIT"), JAN)

    with store.engine.connect() as dropping, dropping.begin():
        assert _partitions.drop_detached(dropping, JAN) == 600
        # The drop is not committed: its lock (and the removal of its files) is still to come.
        with store.engine.connect() as other, other.begin():
            assert _insert_now_and_count(other, 10_000) == 400 + 500 + 1

    assert JAN not in _table_names(store)
    assert len(stored_rows(store)) == 901


def test_the_drop_in_a_transaction_before_postgresql_14_holds_every_insert(
    store: FailureStore,
) -> None:
    # The path kept for PostgreSQL 13 and earlier, and what every version did before: the
    # drop of a partition holds failure_matches until it commits.
    _fill(store)
    with store.engine.connect() as dropping, dropping.begin():
        _partitions.drop_partition(dropping, JAN)
        with store.engine.connect() as other, other.begin():
            with pytest.raises(DBAPIError) as waited:
                _insert_now_and_count(other, 10_000)
    assert isinstance(waited.value.orig, psycopg.errors.LockNotAvailable)


def _interrupt_a_detach(store: FailureStore, name: str) -> None:
    """Start DETACH ... CONCURRENTLY and cancel it in its wait for a reader of the table: the
    partition stays detach pending, as after a prune killed in that step."""
    with store.engine.connect() as reader, reader.begin():
        reader.execute(sa.text("SELECT count(*) FROM failure_matches"))
        with psycopg.connect(_libpq(store), autocommit=True) as detaching:
            detaching.execute("SET statement_timeout = '1s'")
            with pytest.raises(psycopg.errors.QueryCanceled):
                detaching.execute(
                    f"ALTER TABLE failure_matches DETACH PARTITION {name} CONCURRENTLY"
                )


def test_an_interrupted_detach_is_finished_dropped_and_counted_by_the_next_prune(
    store: FailureStore,
) -> None:
    _fill(store)
    _interrupt_a_detach(store, JAN)
    with store.engine.connect() as conn:
        assert JAN not in {p.name for p in _partitions.partitions(conn)}
        (pending,) = _partitions.detached_tables(conn, CUTOFF)
    assert (pending.name, pending.pending) == (JAN, True)
    assert len(stored_rows(store)) == 900  # January is no longer read

    # A late January failure cannot be written meanwhile: its batch fails whole (the sender is
    # asked to retry), the fresh failure beside it is not stored without it.
    batch = [failure(20_000, occurred_at=JANUARY), failure(20_001, occurred_at=CUTOFF)]
    with pytest.raises(StoreError, match="no partition"):
        store.write_batch(batch)
    assert len(stored_rows(store)) == 900

    dry = store.prune(CUTOFF, dry_run=True)
    real = store.prune(CUTOFF)

    assert dry.dropped_partitions == real.dropped_partitions == (JAN, FEB)
    assert dry.failures == real.failures == 600 + 400 + 300
    assert JAN not in _table_names(store)
    with store.engine.connect() as conn:
        assert _partitions.detached_tables(conn, CUTOFF) == []
    # Retried after the prune, the batch is stored whole (January is made again).
    assert len(store.write_batch(batch).inserted) == 2
    assert store.prune(CUTOFF).dropped_partitions == (JAN,)


def test_a_leftover_detached_month_is_dropped_and_counted_and_no_other_table_is_touched(
    store: FailureStore,
) -> None:
    _fill(store)
    april = datetime(2026, 4, 3, tzinfo=timezone.utc)  # after the cutoff: not expired
    store.write_batch([failure(30_000 + n, occurred_at=april) for n in range(7)])
    with store.engine.begin() as conn:
        # What a prune killed between detaching and dropping leaves, and a recent month
        # detached by hand: both plain tables named like a partition.
        conn.execute(sa.text(f"ALTER TABLE failure_matches DETACH PARTITION {JAN}"))
        conn.execute(
            sa.text("ALTER TABLE failure_matches DETACH PARTITION failure_matches_p202604")
        )
        # Expired months by name, which are not failure_matches' partitions or not its tables.
        conn.execute(sa.text("CREATE SCHEMA archive"))
        conn.execute(sa.text("CREATE TABLE archive.failure_matches_p202512 AS SELECT 1 AS n"))
        conn.execute(sa.text("CREATE TABLE failure_matches_p202513 AS SELECT 1 AS n"))
        conn.execute(sa.text("CREATE TABLE failure_matches_p202512_copy AS SELECT 1 AS n"))
        conn.execute(sa.text("CREATE TABLE other (t date) PARTITION BY RANGE (t)"))
        conn.execute(
            sa.text(
                "CREATE TABLE failure_matches_p202511 PARTITION OF other "
                "FOR VALUES FROM ('2025-11-01') TO ('2025-12-01')"
            )
        )
        conn.execute(sa.text("INSERT INTO other VALUES ('2025-11-05')"))
    others = {
        "archive.failure_matches_p202512": 1,
        "failure_matches_p202513": 1,
        "failure_matches_p202512_copy": 1,
        "failure_matches_p202511": 1,
        "failure_matches_p202604": 7,
    }
    with store.engine.connect() as conn:
        listed = _partitions.detached_tables(conn, CUTOFF)
    assert [(t.name, t.pending, t.lower) for t in listed] == [
        (JAN, False, datetime(2026, 1, 1, tzinfo=timezone.utc))
    ]

    dry = store.prune(CUTOFF, dry_run=True)
    real = store.prune(CUTOFF)

    assert dry.dropped_partitions == real.dropped_partitions == (JAN, FEB)
    assert dry.failures == real.failures == 600 + 400 + 300
    assert JAN not in _table_names(store)
    with store.engine.connect() as conn:
        for name, rows in others.items():
            assert conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one() == rows
        # Asked by name, the drop refuses each of them too, and a partition of failure_matches.
        refused = ("failure_matches_p202513", "failure_matches_p202511", "failure_matches_p202603")
        for name in refused:
            with pytest.raises(ValueError, match="not a table detached"):
                _partitions.drop_detached(conn, name)


def test_without_an_autocommit_connection_the_prune_drops_in_transactions(
    store: FailureStore,
) -> None:
    _fill(store)
    with store.engine.begin() as conn:
        _partitions.ensure_partitions(conn, [date(2025, 12, 1)])

    result = retention.prune(store._write_transaction, CUTOFF)

    assert result.dropped_partitions == ("failure_matches_p202512", JAN, FEB)
    assert result.failures == 1_300
    assert all(row["occurred_at"] >= CUTOFF for row in stored_rows(store))
    assert len(stored_rows(store)) == 200
