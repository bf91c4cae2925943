"""``FailureStore``: durable, idempotent writes of matched failures.

One call of :meth:`FailureStore.write_batch` is one transaction. It inserts the batch into
``failure_matches`` with ``INSERT ... ON CONFLICT (event_key) DO NOTHING RETURNING event_key``
(on PostgreSQL ``(event_key, occurred_at)``: the table is partitioned by month of its time, and
the months a batch needs are made first, ``_partitions``) so that a batch delivered twice (a
sender retrying after a lost acknowledgement) stores each failure once, and folds the rows it
actually inserted — never the duplicates — into ``failure_patterns`` in the same transaction.
When the call returns, the batch is committed; when it raises, nothing of it is, and
:class:`StoreUnavailable` says the caller may retry the whole batch.

Concurrent writers (several receiver processes, or threads sharing one store) are safe: rows are
written in ``event_key`` order and patterns in ``fingerprint`` order, so racing transactions lock
in the same order and cannot deadlock; a failure both deliver is stored by exactly one of them and
counted in its pattern exactly once.

A failure recorded on two signals (an exception log record and a library's status-only span of
its lineage) is stored once, whichever arrives first: the write transaction looks for the other
recording first (``_other_signal``).

The same call counts the GenAI operations of the requests whose failures it writes
(``operations``, one :class:`~collector_receiver.events.OperationCounts` per request), once per
delivery key, after the failures and in the same transaction (``_operation_counts`` says how);
:attr:`WriteResult.newly_counted_operations` names the requests counted for the first time, so
the metrics move for those only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

import psycopg.errors
from sqlalchemy import Connection, Engine, bindparam, case, text, update
from sqlalchemy.dialects import postgresql, sqlite

from collector_receiver.events import MatchedFailure, OperationCounts
from collector_receiver.store import _operation_counts, _other_signal, _pg_copy, _rows, retention
from collector_receiver.store._engine import SQLITE_BEGIN_OPTION, create_store_engine
from collector_receiver.store._partitions import ensure_partitions, month_of, next_month
from collector_receiver.store.errors import (
    DATABASE_ERRORS,
    StoreConfigError,
    translate,
    translate_errors,
)
from collector_receiver.store.tables import UTCDateTime, failure_matches, failure_patterns


@dataclass(frozen=True)
class NewPattern:
    """A fingerprint stored for the first time by a :meth:`FailureStore.write_batch` call."""

    fingerprint: str
    service_name: str
    code: str


@dataclass(frozen=True)
class WriteResult:
    """What one :meth:`FailureStore.write_batch` call committed."""

    #: The failures newly stored, in input order; repeats of stored event keys are left out.
    inserted: tuple[MatchedFailure, ...]
    #: Failures of the batch that were already stored, or repeated inside the batch.
    duplicates: int
    #: Patterns (fingerprints) this call created, sorted by fingerprint.
    new_patterns: tuple[NewPattern, ...]
    #: The ``operations`` counted by this call, in input order: their delivery key was not
    #: stored before (a redelivered request, or a repeat inside the call, is left out).
    newly_counted_operations: list[OperationCounts] = field(default_factory=list)


class FailureStore:
    """Writes matched failures to SQLite or PostgreSQL (see the module docstring).

    Built on an existing engine, the store shares it (and its pool) and leaves it open on
    :meth:`close`; built by :meth:`from_url`, it owns its engine and closes it.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._owns_engine = False
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise StoreConfigError(f"unsupported database dialect {dialect!r}")
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self._is_sqlite = dialect == "sqlite"
        # An in-memory SQLite database is one shared connection: serialise its writers here.
        in_memory = self._is_sqlite and engine.url.database in (None, "", ":memory:")
        self._memory_lock: threading.Lock | None = threading.Lock() if in_memory else None
        # PostgreSQL: the months whose partition of failure_matches this store knows to exist.
        self._partition_months: set[date] = set()

    @classmethod
    def from_url(cls, url: str) -> FailureStore:
        """A store for ``url``; raises :class:`StoreConfigError` for a malformed or unknown URL.

        No connection is made here: an unreachable database shows up on the first call.
        """
        store = cls(create_store_engine(url))
        store._owns_engine = True
        return store

    @property
    def engine(self) -> Engine:
        """The engine, for read-side modules (queries, aggregates) sharing the same pool."""
        return self._engine

    def ping(self) -> None:
        """Run ``SELECT 1``; raise :class:`StoreUnavailable` when the database cannot be reached."""
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except DATABASE_ERRORS as exc:
            raise translate(exc, "database ping failed") from exc

    def close(self) -> None:
        """Close every pooled connection if this store owns its engine (see the class doc).

        The store reconnects if it is used again.
        """
        if self._owns_engine:
            self._engine.dispose()

    def write_batch(
        self,
        failures: Sequence[MatchedFailure],
        operations: Sequence[OperationCounts] = (),
    ) -> WriteResult:
        """Store ``failures`` and count ``operations`` in one transaction, idempotently (by
        ``event_key`` and by ``delivery_key``).

        Raises :class:`StoreUnavailable` (retry the same batch later) or :class:`StoreError`;
        in both cases nothing of the batch is committed.
        """
        if not failures and not operations:
            return WriteResult(inserted=(), duplicates=0, new_patterns=())
        unique = _rows.unique_by_event_key(failures)
        deliveries = _operation_counts.unique_by_delivery_key(operations)
        received_at = datetime.now(timezone.utc)
        count = (
            _operation_counts.count_sqlite
            if self._is_sqlite
            else _operation_counts.count_postgresql
        )
        # Twice at most: a month this store created may have been pruned since (by another
        # process); the second attempt creates it again instead of failing the batch.
        for attempt in (1, 2):
            try:
                if not self._is_sqlite:
                    self._ensure_partitions(unique, received_at)
                with self._write_transaction() as conn:
                    stored_keys: set[str] = set()
                    new_patterns: tuple[NewPattern, ...] = ()
                    # A log record and a status-only span of one failure: the first stored is
                    # the row, the other a repeat of it (``_other_signal``).
                    repeats = _other_signal.recorded_on_other_signal(
                        conn, unique, postgresql=not self._is_sqlite
                    )
                    rows = [f for f in unique if f.event_key not in repeats] if repeats else unique
                    if rows:
                        stored_keys, new_patterns = self._write_rows(conn, rows, received_at)
                    counted_keys = count(conn, deliveries, received_at)
                break
            except DATABASE_ERRORS as exc:
                if attempt == 1 and _no_partition_for_row(exc):
                    self._partition_months.clear()
                    continue
                raise translate(exc, "writing failures failed") from exc
        inserted = tuple(f for f in unique if f.event_key in stored_keys)
        return WriteResult(
            inserted=inserted,
            duplicates=len(failures) - len(inserted),
            new_patterns=new_patterns,
            newly_counted_operations=[c for c in deliveries if c.delivery_key in counted_keys],
        )

    def _ensure_partitions(self, failures: Sequence[MatchedFailure], now: datetime) -> None:
        """PostgreSQL: create the monthly partitions ``failures`` need, before writing them.

        The months of the batch (however late or early their times), this month and the next
        one (so the first writes of a month never wait for a creation); each month is asked of
        the database once per store, after which this is a set lookup per failure. The
        creation runs in a short transaction of its own: it locks ``failure_matches`` for the
        moment it takes, and must not hold that lock for a whole write (``_partitions``).
        """
        current = month_of(now)
        months = {month_of(failure.occurred_at) for failure in failures}
        months.update((current, next_month(current)))
        missing = months - self._partition_months
        if not missing:
            return
        with self._engine.begin() as conn:
            ensure_partitions(conn, missing)
        self._partition_months |= missing

    def _write_rows(
        self, conn: Connection, unique: Sequence[MatchedFailure], received_at: datetime
    ) -> tuple[set[str], tuple[NewPattern, ...]]:
        """Insert ``unique`` and fold it into the patterns; return stored keys, new patterns."""
        if self._is_sqlite:
            return self._write_rows_portable(conn, unique, received_at)
        written = _pg_copy.write_failures(conn, unique, received_at)
        new_patterns = tuple(
            NewPattern(fingerprint=fingerprint, service_name=service_name, code=code)
            for fingerprint, service_name, code in sorted(written.new_patterns)
        )
        return written.inserted_keys, new_patterns

    def _write_rows_portable(
        self, conn: Connection, unique: Sequence[MatchedFailure], received_at: datetime
    ) -> tuple[set[str], tuple[NewPattern, ...]]:
        """SQLite's path (portable SQL through SQLAlchemy); PostgreSQL's is ``_pg_copy``."""
        rows = sorted(
            (_rows.match_row(failure, received_at) for failure in unique),
            key=lambda row: row["event_key"],
        )
        stored_keys = self._insert_matches_executemany(conn, rows)
        inserted = [f for f in unique if f.event_key in stored_keys]
        return stored_keys, self._upsert_patterns(conn, inserted)

    def prune(
        self,
        before: datetime,
        *,
        dry_run: bool = False,
        batch_size: int = retention.BATCH_SIZE,
        progress: retention.PruneProgress | None = None,
    ) -> retention.PruneResult:
        """Delete failures, patterns and operation counts older than ``before`` (or, with
        ``dry_run``, count them), in batches of their own transactions, safe beside writers.

        :mod:`collector_receiver.store.retention` says what is deleted and how. Raises
        :class:`StoreUnavailable` (what was deleted before it stays deleted; prune again),
        :class:`SchemaMissing` or :class:`StoreError`.
        """
        with translate_errors("pruning the failure store failed"):
            if dry_run:
                return retention.count(self._read_transaction, before)
            with retention.one_at_a_time(self._engine, progress):
                return retention.prune(
                    self._write_transaction,
                    before,
                    batch_size=batch_size,
                    progress=progress,
                    autocommit=self._autocommit,
                )

    @contextmanager
    def _read_transaction(self) -> Iterator[Connection]:
        """A transaction that reads (one snapshot on SQLite), beside the writers."""
        lock = self._memory_lock if self._memory_lock is not None else nullcontext()
        with lock, self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _autocommit(self) -> Iterator[Connection]:
        """A connection outside any transaction (for what PostgreSQL refuses inside one)."""
        with self._engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def _write_transaction(self) -> Iterator[Connection]:
        lock = self._memory_lock if self._memory_lock is not None else nullcontext()
        with lock, self._engine.connect() as conn:
            if self._is_sqlite:
                # Take SQLite's write lock at BEGIN: writers queue on the busy timeout.
                conn = conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            with conn.begin():
                yield conn

    def _insert_matches_executemany(self, conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
        """The portable path: ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, executemany.

        On PostgreSQL the COPY path measured faster (see ``_pg_copy``).
        """
        # The idempotency key of the dialect's table: PostgreSQL's holds the partition key.
        key = [failure_matches.c.event_key]
        if not self._is_sqlite:
            key.append(failure_matches.c.occurred_at)
        stmt = (
            self._insert(failure_matches)
            .on_conflict_do_nothing(index_elements=key)
            .returning(failure_matches.c.event_key)
        )
        return set(conn.execute(stmt, rows).scalars())

    def _upsert_patterns(
        self, conn: Connection, inserted: Sequence[MatchedFailure]
    ) -> tuple[NewPattern, ...]:
        """Fold the newly inserted failures into ``failure_patterns``; return the new ones.

        Two steps, both in fingerprint order: insert the fingerprints not stored yet (the
        RETURNING rows are exactly the new patterns, on both dialects), then widen the time range
        and add the counts of the others. A racing writer's uncommitted insert of the same
        fingerprint makes the first step wait for it, and its committed row is then updated by
        the second step, so no occurrence is lost or counted twice.
        """
        deltas = _rows.pattern_rows(inserted)
        if not deltas:
            return ()
        created_stmt = (
            self._insert(failure_patterns)
            .on_conflict_do_nothing(index_elements=[failure_patterns.c.fingerprint])
            .returning(failure_patterns.c.fingerprint)
        )
        created = set(conn.execute(created_stmt, deltas).scalars())
        existing = [row for row in deltas if row["fingerprint"] not in created]
        if existing:
            first = bindparam("b_first_seen", type_=UTCDateTime())
            last = bindparam("b_last_seen", type_=UTCDateTime())
            table = failure_patterns
            widen = (
                update(table)
                .where(table.c.fingerprint == bindparam("b_fingerprint"))
                .values(
                    first_seen=case((first < table.c.first_seen, first), else_=table.c.first_seen),
                    last_seen=case((last > table.c.last_seen, last), else_=table.c.last_seen),
                    occurrences=table.c.occurrences + bindparam("b_occurrences"),
                )
            )
            conn.execute(
                widen,
                [
                    {
                        "b_fingerprint": row["fingerprint"],
                        "b_first_seen": row["first_seen"],
                        "b_last_seen": row["last_seen"],
                        "b_occurrences": row["occurrences"],
                    }
                    for row in existing
                ],
            )
        return tuple(
            NewPattern(
                fingerprint=row["fingerprint"],
                service_name=row["service_name"],
                code=row["code"],
            )
            for row in deltas
            if row["fingerprint"] in created
        )


def _no_partition_for_row(exc: Exception) -> bool:
    """Whether PostgreSQL refused a row for want of its partition ("no partition of relation
    ... found for row", a check violation: the store's tables have no CHECK constraint)."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, psycopg.errors.CheckViolation)


__all__ = ["FailureStore", "NewPattern", "WriteResult"]
