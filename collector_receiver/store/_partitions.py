"""PostgreSQL's monthly range partitions of ``failure_matches`` (CONTRACT §5 r2, Retention).

On PostgreSQL ``failure_matches`` is partitioned by ``RANGE (occurred_at)``, one partition per
calendar month in UTC, named ``failure_matches_pYYYYMM`` and covering ``[first of the month,
first of the next month)``. SQLite keeps one plain table; nothing here applies to it
(:func:`is_partitioned` answers ``False`` there).

Why a month: the contract allows at most one, and a month keeps a year of data at twelve
partitions (plus the few created ahead), so the planner's cost of considering partitions stays
negligible for a query that cannot prune by time (one trace's failures), while retention is
counted in weeks or months: dropping whole months keeps at most one month more than asked until
the month ends. Daily partitions would be 365 a year — every plan of a query without a time
window pays for each of them — to make pruning a day more exact.

There is no DEFAULT partition: a row in it would make creating its month's partition fail
(PostgreSQL refuses a new partition whose range holds rows of the default) and it could never
be dropped as a whole month. Instead every month a batch needs is created before the batch is
written (:func:`ensure_partitions`), whatever its time — days late or early from a skewed clock.

Creating a partition (``CREATE TABLE ... PARTITION OF``) takes a lock on ``failure_matches``
that holds back its readers and writers for the moment it runs: callers run it in a short
transaction of its own, never inside a write. Concurrent receivers may create the same month at
the same time: ``IF NOT EXISTS`` covers a partition that is committed already, and the errors
of a racing creation (a duplicate name in the catalog) are caught in a savepoint and mean the
month exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone

import psycopg.errors
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

#: The partitioned table.
PARENT = "failure_matches"
#: How long creating a partition may wait for its lock on ``failure_matches``.
CREATE_LOCK_TIMEOUT = "5s"
_NAME = re.compile(rf"^{PARENT}_p(\d{{4}})(\d{{2}})$")

# A concurrent CREATE of the same partition fails with one of these (the table's name, or its
# row type's name, inserted into the catalog by the other transaction first), or with an
# overlap when the other one committed between our IF NOT EXISTS check and our insert.
_RACE_ERRORS = (
    psycopg.errors.DuplicateTable,
    psycopg.errors.UniqueViolation,
    psycopg.errors.DuplicateObject,
)

# Bounds are read back as timestamps by PostgreSQL itself (pg_get_expr prints them in the
# session's time zone, with its offset), so no date format is parsed here.
_LIST = text(
    r"""
    SELECT c.relname, b[1]::timestamptz AS lower, b[2]::timestamptz AS upper,
        CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint
             ELSE coalesce(s.n_live_tup, 0) END AS rows_estimate
    FROM pg_inherits AS i
    JOIN pg_class AS c ON c.oid = i.inhrelid
    LEFT JOIN pg_stat_user_tables AS s ON s.relid = c.oid
    CROSS JOIN LATERAL regexp_match(
        pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)'
    ) AS b
    WHERE i.inhparent = to_regclass(:parent)
    ORDER BY lower
    """
)


@dataclass(frozen=True)
class PartitionInfo:
    """One partition of ``failure_matches``: its name and range ``[lower, upper)``."""

    name: str
    lower: datetime
    upper: datetime
    #: The planner's estimate (``pg_class.reltuples``, or the statistics collector's live row
    #: count before the first ANALYZE): for reporting, not an exact count.
    rows_estimate: int


def month_of(moment: datetime) -> date:
    """The first day of the UTC month holding ``moment`` (a naive value is taken to be UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    """The first day of the month after ``month``."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    """``failure_matches_pYYYYMM`` for the month holding ``month``."""
    return f"{PARENT}_p{month.year:04d}{month.month:02d}"


def is_partition_name(name: str) -> bool:
    """Whether ``name`` is the name of a monthly partition of ``failure_matches``."""
    return _NAME.match(name) is not None


def is_partitioned(connection: Connection) -> bool:
    """Whether ``failure_matches`` is a partitioned table here (never on SQLite)."""
    if connection.dialect.name != "postgresql":
        return False
    kind = connection.execute(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:parent)"),
        {"parent": PARENT},
    ).scalar()
    return kind == "p"


def _bound(month: date) -> str:
    return f"{month.isoformat()} 00:00:00+00"


def ensure_partitions(connection: Connection, months: Iterable[date]) -> None:
    """Create the partitions of ``months`` that do not exist yet (idempotent; see the module doc).

    Each value stands for its whole month (any day of it will do). Runs in the caller's
    transaction, one savepoint per month created; the caller should commit soon after, since
    each creation holds a lock on ``failure_matches`` until then. When something is created the
    transaction's ``lock_timeout`` becomes :data:`CREATE_LOCK_TIMEOUT`.
    """
    wanted = sorted({date(m.year, m.month, 1) for m in months})
    timeout_set = False
    for month in wanted:
        name = partition_name(month)
        exists = connection.execute(
            text("SELECT to_regclass(:name) IS NOT NULL"), {"name": name}
        ).scalar()
        if exists:
            continue
        if not timeout_set:
            # The creation queues for its lock behind every open transaction on the table, and
            # every other session's reads and writes queue behind it: give up after a while (a
            # retryable error, LockNotAvailable) rather than stall every receiver behind a long
            # read.
            connection.execute(text(f"SET LOCAL lock_timeout = '{CREATE_LOCK_TIMEOUT}'"))
            timeout_set = True
        create = text(
            f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {PARENT} "
            f"FOR VALUES FROM ('{_bound(month)}') TO ('{_bound(next_month(month))}')"
        )
        savepoint = connection.begin_nested()
        try:
            connection.execute(create)
        except DBAPIError as exc:
            savepoint.rollback()
            if not isinstance(exc.orig, _RACE_ERRORS):
                raise
        else:
            savepoint.commit()


def partitions(connection: Connection) -> list[PartitionInfo]:
    """Every range partition of ``failure_matches``, oldest first."""
    rows = connection.execute(_LIST, {"parent": PARENT}).all()
    return [
        PartitionInfo(
            name=str(name),
            lower=lower.astimezone(timezone.utc),
            upper=upper.astimezone(timezone.utc),
            rows_estimate=int(estimate),
        )
        for name, lower, upper, estimate in rows
        # A partition another session drops while this lists them can still be in this
        # snapshot's pg_inherits while pg_get_expr (which reads the catalog as it is now) finds
        # no bound: it is gone, so it is not listed.
        if lower is not None and upper is not None
    ]


def expired_partitions(connection: Connection, before: datetime) -> list[PartitionInfo]:
    """The partitions whose every row is older than ``before`` (upper bound <= ``before``)."""
    if before.tzinfo is None:
        before = before.replace(tzinfo=timezone.utc)
    return [p for p in partitions(connection) if p.upper <= before]


def drop_partition(connection: Connection, name: str) -> None:
    """Drop the partition ``name`` of ``failure_matches`` with its rows, in the caller's
    transaction.

    Refuses (``ValueError``) a name that is not one of its partitions, so a caller's typo never
    drops another table. Dropping takes a lock on ``failure_matches`` for a moment; a
    ``lock_timeout`` keeps it from queueing every receiver's write behind a long read, and the
    caller may try again (PostgreSQL's ``LockNotAvailable`` arrives as a ``DBAPIError``).
    """
    if not is_partition_name(name) or name not in {p.name for p in partitions(connection)}:
        raise ValueError(f"{name!r} is not a partition of {PARENT}")
    connection.execute(text("SET LOCAL lock_timeout = '5s'"))
    connection.execute(text(f"DROP TABLE {name}"))


__all__ = [
    "CREATE_LOCK_TIMEOUT",
    "PARENT",
    "PartitionInfo",
    "drop_partition",
    "ensure_partitions",
    "expired_partitions",
    "is_partition_name",
    "is_partitioned",
    "month_of",
    "next_month",
    "partition_name",
    "partitions",
]
