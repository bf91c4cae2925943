"""Retention: deleting what is older than a cutoff, in short batches, beside running writers.

``FailureStore.prune(before)`` (``failcat db prune``, ``failcat serve --retention``) deletes, as
CONTRACT §5 r2 says:

- failures whose ``occurred_at`` is older than ``before``;
- patterns whose ``last_seen`` is older (a pattern seen since keeps its lifetime
  ``occurrences`` and ``first_seen``: nothing of a kept pattern is rewritten);
- GenAI operation counts whose hour (``bucket_start``) began before ``before``, and the
  delivery keys that counted into them (``gen_ai_counted_deliveries``, by ``received_at``).

"Older" is strictly before: a row at the cutoff itself is kept.

**Batches.** Every batch deletes at most :data:`BATCH_SIZE` rows in a transaction of its own,
so no lock is held for longer than one batch: a receiver's write waits behind one batch at most
(on SQLite, where a writer locks the whole file, the batch takes the write lock with ``BEGIN
IMMEDIATE`` like every writer and queues on the busy timeout). A batch picks the next keys
through the index that starts with the rows' time, walking ``(time, key)`` forward from where
the last batch stopped (``(occurred_at, id)`` for failures), then deletes those keys through
the primary key: no batch rescans what the batches before it deleted (PostgreSQL's not yet
vacuumed index entries are passed once, not once per batch), and none reads more rows than it
deletes.

**Beside writers.** Each delete states the age condition on the rows it deletes, not only in
the query that picked them: on PostgreSQL a row a writer changed meanwhile (a pattern whose
``last_seen`` a new occurrence just moved forward) is checked again in its new version and
kept. The write path folds occurrences with ``INSERT ... ON CONFLICT DO UPDATE``: a pattern
deleted while a writer counts into it is created again by that writer with the new occurrences,
never updated into nothing. Rows newer than the cutoff are never candidates, so nothing a
writer adds meanwhile is lost.

**Partitions.** Where ``failure_matches`` is range-partitioned (PostgreSQL, see
:mod:`~collector_receiver.store._partitions`), each partition whose whole range is older than
the cutoff is dropped whole and its rows counted — instead of a month of row deletes and the
vacuum after them — and only the partition that straddles the cutoff is deleted from in
batches. On PostgreSQL 14 and later a partition is first detached ``CONCURRENTLY``, which
blocks no reader or writer of ``failure_matches``, then counted and dropped as a table of its
own: the removal of its files at commit (seconds for a big month) locks that table alone.
Before 14 the drop is one transaction holding ``failure_matches`` until its commit. What an
interrupted prune left (a detach pending, a detached table of an expired month) is finished,
counted and dropped by the next one. The dry run counts the same rows by the same condition,
so its counts are what a run at the same moment deletes.

**Ids.** Deleting rows never lets an id be used again: PostgreSQL's ids come from a sequence,
SQLite's ``failure_matches.id`` is ``AUTOINCREMENT`` (migration 0005).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg.errors
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    func,
    literal,
    select,
    text,
    tuple_,
)
from sqlalchemy.exc import DBAPIError

from collector_receiver.store import _partitions
from collector_receiver.store._rows import utc
from collector_receiver.store.tables import (
    failure_matches,
    failure_patterns,
    gen_ai_counted_deliveries,
    gen_ai_operations,
)

#: Rows deleted per statement and transaction. Large enough that the per-batch round trips and
#: commits are a small part of the work; small enough that a batch holds its locks (SQLite: the
#: whole file's write lock) for milliseconds, which is what a concurrent ingest waits at most.
BATCH_SIZE = 5_000

#: What a prune is doing, named as its report names it: ``"failures"``, ``"patterns"``,
#: ``"operation buckets"``, ``"delivery keys"``, or :data:`WAITING`.
PruneStage = str

#: The stage reported (with 0) every half second while another prune of the same PostgreSQL
#: database runs: one prune at a time (see :func:`one_at_a_time`).
WAITING: PruneStage = "waiting for another prune"

#: The PostgreSQL advisory lock a prune holds for its whole run ("prune" in ASCII).
_PRUNE_LOCK_KEY = 0x7072756E65
_TRY_PRUNE_LOCK = f"SELECT pg_try_advisory_xact_lock({_PRUNE_LOCK_KEY})"
_WAIT_SECONDS = 0.5

#: Progress callback: the stage and how many of its rows are deleted (or counted) so far.
PruneProgress = Callable[[PruneStage, int], None]

#: A transaction of its own, committed when the block ends (``FailureStore`` supplies it).
Transaction = Callable[[], AbstractContextManager[Connection]]

# How often dropping a partition is tried when its lock is not granted in time (drop_partition
# sets a lock_timeout so a long read cannot make every write queue behind the drop).
_DROP_ATTEMPTS = 3
_DROP_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class PruneResult:
    """What one prune deleted, or with ``dry_run`` would delete."""

    before: datetime
    dry_run: bool
    failures: int
    patterns: int
    #: Rows of ``gen_ai_operations``: one hour's count of one service and GenAI context each.
    operation_buckets: int
    delivery_keys: int
    #: The partitions of ``failure_matches`` dropped whole (PostgreSQL, partitioned), or that a
    #: real run would drop; their rows are counted in ``failures``.
    dropped_partitions: tuple[str, ...] = ()


def count(transaction: Transaction, before: datetime) -> PruneResult:
    """What :func:`prune` would delete now, counted by the conditions it deletes by."""
    before = utc(before)
    with transaction() as conn:
        expired = _expired_partitions(conn, before)
        detached = _detached_tables(conn, before)
        # A detached table's rows are no longer in failure_matches; the prune drops and counts them.
        leftover_rows = sum(
            int(conn.execute(text(f'SELECT count(*) FROM "{t.name}"')).scalar_one())
            for t in detached
        )
        return PruneResult(
            before=before,
            dry_run=True,
            failures=leftover_rows
            + _count(conn, failure_matches, failure_matches.c.occurred_at < before),
            patterns=_count(conn, failure_patterns, failure_patterns.c.last_seen < before),
            operation_buckets=_count(
                conn, gen_ai_operations, gen_ai_operations.c.bucket_start < before
            ),
            delivery_keys=_count(
                conn, gen_ai_counted_deliveries, gen_ai_counted_deliveries.c.received_at < before
            ),
            dropped_partitions=tuple(t.name for t in detached) + tuple(p.name for p in expired),
        )


def prune(
    transaction: Transaction,
    before: datetime,
    *,
    batch_size: int = BATCH_SIZE,
    progress: PruneProgress | None = None,
    autocommit: Transaction | None = None,
) -> PruneResult:
    """Delete what is older than ``before`` in batches, each in a ``transaction()`` of its own.

    ``autocommit()`` gives a connection outside any transaction, for detaching an expired
    partition without locking ``failure_matches`` (PostgreSQL 14 and later); without it, or
    before 14, a partition is dropped in one transaction, which holds the table until it ends.
    A failure midway (the database went away) leaves every batch before it committed; the next
    prune continues where this one stopped, a detach it left half done included.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    before = utc(before)
    report = progress if progress is not None else _no_progress
    dropped, failures = _drop_expired_partitions(transaction, autocommit, before, report)
    failures += _delete_failures(transaction, before, batch_size, report, failures)
    patterns = _delete_by_age(
        transaction,
        failure_patterns,
        failure_patterns.c.last_seen,
        failure_patterns.c.id,
        before,
        batch_size,
        lambda n: report("patterns", n),
    )
    buckets = _delete_operation_buckets(transaction, before, batch_size, report)
    keys = _delete_by_age(
        transaction,
        gen_ai_counted_deliveries,
        gen_ai_counted_deliveries.c.received_at,
        gen_ai_counted_deliveries.c.delivery_key,
        before,
        batch_size,
        lambda n: report("delivery keys", n),
    )
    return PruneResult(
        before=before,
        dry_run=False,
        failures=failures,
        patterns=patterns,
        operation_buckets=buckets,
        delivery_keys=keys,
        dropped_partitions=dropped,
    )


def _no_progress(_stage: PruneStage, _done: int) -> None:
    return None


@contextmanager
def one_at_a_time(engine: Engine, progress: PruneProgress | None = None) -> Iterator[None]:
    """Hold PostgreSQL's prune lock for the block, waiting while another prune holds it.

    Two prunes at once (two receivers with ``--retention``, or a ``failcat db prune`` beside
    one) would only contend for the same rows and race to drop the same partitions; the second
    one waits and then finds little left. While waiting, ``progress(WAITING, 0)`` is called
    every half second (it may raise to give up). SQLite needs nothing: its writers already take
    turns, and it has no partitions.

    The lock is a transaction-scoped advisory lock, held by a transaction kept open on a
    connection of its own for the whole prune (the batches run in transactions of their own),
    and ended by its rollback, or by the connection's end if the process dies. Not a session
    lock: behind a pooler in transaction mode (PgBouncer) a session lock stays with a server
    connection, not with the client, so another client handed that connection is granted it
    too, and the unlock may run on another one and leave it held for good. The open
    transaction holds no snapshot (its one statement went by the simple query protocol), so
    it holds back neither vacuum nor a partition's detach or drop; behind such a pooler it
    keeps one server connection for the prune. Were it ended from outside
    (``idle_in_transaction_session_timeout``), the prune goes on unlocked, which is safe: two
    prunes at once delete each row once, only with more waiting.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    report = progress if progress is not None else _no_progress
    with engine.connect() as conn:
        while True:
            holding = conn.begin()
            # By the simple query protocol (no parameters, never prepared): an extended-protocol
            # statement leaves its portal, and the portal's snapshot, open until the
            # transaction's next statement, which here is the end of the prune.
            driver: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
            granted = driver.execute(_TRY_PRUNE_LOCK, prepare=False).fetchone()
            if granted is not None and granted[0]:
                break
            holding.rollback()
            report(WAITING, 0)
            time.sleep(_WAIT_SECONDS)
        try:
            yield
        finally:
            try:
                holding.rollback()  # ends the lock
            except DBAPIError:
                pass  # the connection is gone, and its lock with it


def _count(conn: Connection, table: Table, condition: ColumnElement[bool]) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(condition)).scalar_one())


def _expired_partitions(conn: Connection, before: datetime) -> list[_partitions.PartitionInfo]:
    if not _partitions.is_partitioned(conn):
        return []
    return _partitions.expired_partitions(conn, before)


def _detached_tables(conn: Connection, before: datetime) -> list[_partitions.DetachedTable]:
    if not _partitions.is_partitioned(conn):
        return []
    return _partitions.detached_tables(conn, before)


def _drop_expired_partitions(
    transaction: Transaction,
    autocommit: Transaction | None,
    before: datetime,
    report: PruneProgress,
) -> tuple[tuple[str, ...], int]:
    """Count and drop each partition older than ``before``; their names and rows counted.

    First what an interrupted prune left of an expired month (a pending detach, finished
    here, or a detached table): PostgreSQL detaches one partition of a table at a time, so a
    pending one must be finished before the next is detached.
    """
    with transaction() as conn:
        expired = _expired_partitions(conn, before)
        leftovers = _detached_tables(conn, before)
        concurrent = autocommit is not None and _partitions.detaches_concurrently(conn)
    dropped: list[str] = []
    rows = 0
    for leftover in leftovers:
        if leftover.pending:
            _finish_detach(transaction, leftover.name)
        counted = _drop_detached(transaction, leftover.name)
        if counted is not None:
            rows += counted
            dropped.append(leftover.name)
            report("failures", rows)
    for partition in expired:
        if concurrent and autocommit is not None:
            counted = _detach_and_drop(transaction, autocommit, partition.name)
        else:
            counted = _drop_counted(transaction, partition.name)
        if counted is None:  # another prune dropped it (and counted its rows)
            continue
        rows += counted
        dropped.append(partition.name)
        report("failures", rows)
    return tuple(dropped), rows


def _detach_and_drop(transaction: Transaction, autocommit: Transaction, name: str) -> int | None:
    """Detach partition ``name`` without locking out readers or writers, then count and drop
    the table it leaves; the rows counted, or None when another prune took it first.

    The detach waits (holding back no read or write) for the transactions using
    ``failure_matches`` to end; the drop and the removal of its files at commit lock the
    detached table alone. Once detached no row can be written into it, so the count is exact.
    """
    with autocommit() as conn:
        try:
            _partitions.detach_partition(conn, name)
        except ValueError:  # no longer a partition: another prune took it
            return None
        except DBAPIError as exc:
            if isinstance(exc.orig, psycopg.errors.UndefinedTable):  # dropped since it was listed
                return None
            raise
    return _drop_detached(transaction, name)


def _finish_detach(transaction: Transaction, name: str) -> None:
    with transaction() as conn:
        try:
            _partitions.finish_detach(conn, name)
        except ValueError:  # finished (or dropped) by another prune since it was listed
            pass


def _drop_detached(transaction: Transaction, name: str) -> int | None:
    try:
        with transaction() as conn:
            return _partitions.drop_detached(conn, name)
    except ValueError:  # dropped by another prune since it was listed (and counted there)
        return None
    except DBAPIError as exc:
        if isinstance(exc.orig, psycopg.errors.UndefinedTable):
            return None
        raise


def _drop_counted(transaction: Transaction, name: str) -> int | None:
    """Count the rows of partition ``name``, then drop it in a transaction (PostgreSQL 13 and
    earlier); the rows counted, or None when another prune dropped it first.

    The count and the drop are two transactions: counting under the drop's lock would hold
    back every write for the length of a month's count, and counting under a weaker lock
    first would let two prunes deadlock on upgrading theirs. A failure older than the cutoff
    written into the partition between the two is dropped with it and missing from the count.
    The drop is tried again when its lock is not granted in time (a long read of the table).
    """
    try:
        with transaction() as conn:
            if name not in {p.name for p in _partitions.partitions(conn)}:
                return None
            # ``name`` is one PostgreSQL's catalog just listed, never a caller's text.
            rows = int(conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
    except DBAPIError as exc:
        if isinstance(exc.orig, psycopg.errors.UndefinedTable):  # dropped since it was listed
            return None
        raise
    for attempt in range(1, _DROP_ATTEMPTS + 1):
        try:
            with transaction() as conn:
                _partitions.drop_partition(conn, name)
            return rows
        except ValueError:  # no longer a partition: another prune dropped it (and counted it)
            return None
        except DBAPIError as exc:
            if isinstance(exc.orig, psycopg.errors.UndefinedTable):  # dropped while we waited
                return None
            if attempt == _DROP_ATTEMPTS or not isinstance(
                exc.orig, psycopg.errors.LockNotAvailable
            ):
                raise
            time.sleep(_DROP_RETRY_SECONDS * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _delete_failures(
    transaction: Transaction,
    before: datetime,
    batch_size: int,
    report: PruneProgress,
    already: int,
) -> int:
    """Delete failures older than ``before`` (the straddling partition's, when partitioned)."""
    return _delete_by_age(
        transaction,
        failure_matches,
        failure_matches.c.occurred_at,
        failure_matches.c.id,
        before,
        batch_size,
        lambda n: report("failures", already + n),
    )


def _delete_operation_buckets(
    transaction: Transaction, before: datetime, batch_size: int, report: PruneProgress
) -> int:
    """Delete operation counts of hours before ``before``.

    ``gen_ai_operations`` has no single-column key: a batch is the rows of the oldest hours
    picked by ``bucket_start`` (its unique index starts with it), deleted by that time range,
    so a batch holds every row of the hours it covers and may exceed ``batch_size`` by the rows
    of its last hour.
    """
    table = gen_ai_operations
    deleted = 0
    while True:
        with transaction() as conn:
            oldest = (
                select(table.c.bucket_start)
                .where(table.c.bucket_start < before)
                .order_by(table.c.bucket_start)
                .limit(batch_size)
                .subquery()
            )
            last_hour = conn.execute(select(func.max(oldest.c.bucket_start))).scalar()
            if last_hour is None:
                return deleted
            result = conn.execute(
                delete(table).where(
                    table.c.bucket_start < before, table.c.bucket_start <= last_hour
                )
            )
        deleted += _rowcount(result)
        report("operation buckets", deleted)


def _delete_by_age(
    transaction: Transaction,
    table: Table,
    age: Any,
    key: Any,
    before: datetime,
    batch_size: int,
    report: Callable[[int], None],
) -> int:
    """Delete the rows of ``table`` whose ``age`` is before ``before``, oldest first, walking
    ``(age, key)`` forward from the last row each batch picked; the number deleted.

    A batch is two statements in one transaction: the next keys through the index that starts
    with ``age``, then a delete of those keys, found by the primary key. (One ``DELETE ...
    WHERE key IN (SELECT ...)`` let PostgreSQL's planner scan every row older than the cutoff
    for each batch and join the picked keys to them: quadratic over a month of failures.)
    """
    position = tuple_(age, key)
    after: tuple[Any, Any] | None = None
    deleted = 0
    while True:
        pick = select(age, key).where(age < before)
        if after is not None:
            at, last_key = after
            pick = pick.where(
                position > tuple_(bindparam(None, at, type_=age.type), literal(last_key))
            )
        pick = pick.order_by(age, key).limit(batch_size)
        with transaction() as conn:
            picked = conn.execute(pick).all()
            if not picked:
                return deleted
            # ``age < before`` on the deleted rows themselves, not only where they were picked:
            # a row a writer moved forward since (a pattern seen again) is checked again in its
            # new version and kept (see the module doc); on a partitioned table it also
            # confines the delete to the partitions the cutoff reaches.
            result = conn.execute(
                delete(table).where(age < before, key.in_([row[1] for row in picked]))
            )
        deleted += _rowcount(result)
        report(deleted)
        after = (picked[-1][0], picked[-1][1])


def _rowcount(result: Any) -> int:
    return max(int(result.rowcount), 0)


__all__ = [
    "BATCH_SIZE",
    "WAITING",
    "PruneProgress",
    "PruneResult",
    "PruneStage",
    "Transaction",
    "count",
    "one_at_a_time",
    "prune",
]
