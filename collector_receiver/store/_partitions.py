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

Dropping a month (retention) on PostgreSQL 14 and later detaches it first (``DETACH PARTITION
... CONCURRENTLY``, :func:`detach_partition`, which blocks no read or write of
``failure_matches``), then drops the table it leaves (:func:`drop_detached`), whose lock is its
own: a plain ``DROP`` of a partition (:func:`drop_partition`, PostgreSQL 13's way) holds
``failure_matches`` for every reader and writer until its commit, and the commit of a big month
is seconds of removing its files. A prune interrupted between the steps leaves a partition
detach pending or a detached table, which :func:`detached_tables` finds for the next one.
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
# Later than every month's end: "whatever its month" for detached_tables.
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=timezone.utc)

# A concurrent CREATE of the same partition fails with one of these (the table's name, or its
# row type's name, inserted into the catalog by the other transaction first), or with an
# overlap when the other one committed between our IF NOT EXISTS check and our insert.
_RACE_ERRORS = (
    psycopg.errors.DuplicateTable,
    psycopg.errors.UniqueViolation,
    psycopg.errors.DuplicateObject,
)

# Bounds are read back as timestamps by PostgreSQL itself (pg_get_expr prints them in the
# session's time zone, with its offset), so no date format is parsed here. ``{pending}`` is
# whether a partition is being detached (PostgreSQL 14's ``pg_inherits.inhdetachpending``).
_LIST = r"""
    SELECT c.relname, b[1]::timestamptz AS lower, b[2]::timestamptz AS upper,
        CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint
             ELSE coalesce(s.n_live_tup, 0) END AS rows_estimate
    FROM pg_inherits AS i
    JOIN pg_class AS c ON c.oid = i.inhrelid
    LEFT JOIN pg_stat_user_tables AS s ON s.relid = c.oid
    CROSS JOIN LATERAL regexp_match(
        pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)'
    ) AS b
    WHERE i.inhparent = to_regclass(:parent) AND NOT {pending}
    ORDER BY lower
"""

# The tables a prune detached and did not drop (it was interrupted): named like a month's
# partition, resolving by that bare name (so in failure_matches' schema, as every partition
# is made), a plain table and no partition, or a partition of failure_matches whose detach is
# pending. Nothing else is ever listed.
_DETACHED = r"""
    SELECT c.relname, {pending} AS pending
    FROM pg_class AS c
    LEFT JOIN pg_inherits AS i ON i.inhrelid = c.oid
    WHERE c.relname ~ '^{parent}_p[0-9]{{6}}$'
        AND c.relkind = 'r'
        AND c.oid = to_regclass(quote_ident(c.relname))
        AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = to_regclass(:parent))
        AND (
            (NOT c.relispartition AND i.inhrelid IS NULL)
            OR (i.inhparent = to_regclass(:parent) AND {pending})
        )
    ORDER BY c.relname
"""


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


def detaches_concurrently(connection: Connection) -> bool:
    """Whether this server detaches a partition without locking out ``failure_matches``'
    readers and writers (``DETACH PARTITION ... CONCURRENTLY``, PostgreSQL 14 and later)."""
    version = connection.dialect.server_version_info
    return version is not None and version >= (14,)


def _pending(connection: Connection) -> str:
    # pg_inherits.inhdetachpending came with PostgreSQL 14; before it nothing is ever pending.
    return "coalesce(i.inhdetachpending, false)" if detaches_concurrently(connection) else "false"


def partitions(connection: Connection) -> list[PartitionInfo]:
    """Every range partition of ``failure_matches``, oldest first.

    A partition whose detach is pending (:func:`detached_tables`) is not one any more: no new
    query reads it and no row is routed to it.
    """
    query = text(_LIST.format(pending=_pending(connection)))
    rows = connection.execute(query, {"parent": PARENT}).all()
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


@dataclass(frozen=True)
class DetachedTable:
    """A month's table a prune detached from ``failure_matches`` and has not dropped yet."""

    name: str
    #: ``[lower, upper)``: the month its name says.
    lower: datetime
    upper: datetime
    #: Still listed as a partition, its detach pending: ``DETACH PARTITION ... CONCURRENTLY``
    #: was interrupted after its first step (see :func:`finish_detach`).
    pending: bool


def _month_of_name(name: str) -> date | None:
    found = _NAME.match(name)
    # A real month, whose end is a date too (year 9999's December has none).
    if found is None or not 1 <= int(found[1]) <= 9998 or not 1 <= int(found[2]) <= 12:
        return None
    return date(int(found[1]), int(found[2]), 1)


def _utc_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def detached_tables(connection: Connection, before: datetime) -> list[DetachedTable]:
    """The tables of months wholly older than ``before`` that a prune detached from
    ``failure_matches`` and did not drop (it was interrupted), oldest first.

    Only a table named ``failure_matches_pYYYYMM`` (a real month) in ``failure_matches``'
    schema that is a partition of nothing, or a partition of ``failure_matches`` whose detach
    is pending; a table of a month not wholly before ``before``, or of any other name or
    schema, is never listed.
    """
    if before.tzinfo is None:
        before = before.replace(tzinfo=timezone.utc)
    query = text(_DETACHED.format(pending=_pending(connection), parent=PARENT))
    found = []
    for name, pending in connection.execute(query, {"parent": PARENT}).all():
        month = _month_of_name(str(name))
        if month is None or _utc_midnight(next_month(month)) > before:
            continue
        found.append(
            DetachedTable(
                name=str(name),
                lower=_utc_midnight(month),
                upper=_utc_midnight(next_month(month)),
                pending=bool(pending),
            )
        )
    return sorted(found, key=lambda table: table.lower)


def expired_partitions(connection: Connection, before: datetime) -> list[PartitionInfo]:
    """The partitions whose every row is older than ``before`` (upper bound <= ``before``)."""
    if before.tzinfo is None:
        before = before.replace(tzinfo=timezone.utc)
    return [p for p in partitions(connection) if p.upper <= before]


def drop_partition(connection: Connection, name: str) -> None:
    """Drop the partition ``name`` of ``failure_matches`` with its rows, in the caller's
    transaction: PostgreSQL 13 and earlier's way (see :func:`detach_partition`).

    Refuses (``ValueError``) a name that is not one of its partitions, so a caller's typo never
    drops another table. Dropping takes ``failure_matches``' ACCESS EXCLUSIVE lock until the
    transaction ends, the removal of the partition's files at commit included; a
    ``lock_timeout`` keeps it from queueing every receiver's write behind a long read, and the
    caller may try again (PostgreSQL's ``LockNotAvailable`` arrives as a ``DBAPIError``).
    """
    if not is_partition_name(name) or name not in {p.name for p in partitions(connection)}:
        raise ValueError(f"{name!r} is not a partition of {PARENT}")
    connection.execute(text("SET LOCAL lock_timeout = '5s'"))
    connection.execute(text(f"DROP TABLE {name}"))


def detach_partition(connection: Connection, name: str) -> None:
    """``ALTER TABLE failure_matches DETACH PARTITION name CONCURRENTLY`` (PostgreSQL 14+), on
    a ``connection`` in autocommit (PostgreSQL refuses it inside a transaction block).

    It takes SHARE UPDATE EXCLUSIVE on ``failure_matches``, which holds back no read and no
    write (only DDL: creating a month's partition waits for it), marks the partition detach
    pending (no new query reads it or routes a row to it), waits for the transactions that
    were using the table to end, and then detaches it. The table and its rows stay, for
    :func:`drop_detached`. Interrupted after its first step, the partition stays pending until
    :func:`finish_detach`. Refuses (``ValueError``) a name that is not a partition.
    """
    if not is_partition_name(name) or name not in {p.name for p in partitions(connection)}:
        raise ValueError(f"{name!r} is not a partition of {PARENT}")
    connection.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {name} CONCURRENTLY"))


def finish_detach(connection: Connection, name: str) -> None:
    """Complete the pending detach of ``name`` (``DETACH PARTITION ... FINALIZE``), which may
    run in a transaction; it waits for older snapshots and holds only the locks
    :func:`detach_partition` does. Refuses (``ValueError``) a name whose detach is not
    pending."""
    pending = {t.name for t in detached_tables(connection, _FAR_FUTURE) if t.pending}
    if name not in pending:
        raise ValueError(f"{name!r} is not a partition of {PARENT} being detached")
    connection.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {name} FINALIZE"))


def drop_detached(connection: Connection, name: str) -> int:
    """Count and drop ``name``, a month's table detached from ``failure_matches``, in the
    caller's transaction; the rows it held.

    It locks that table alone, which no one reads any more, so the count and the removal of
    its files at commit hold back nothing else. Refuses (``ValueError``) a name
    :func:`detached_tables` would not list (whatever its month), or one whose detach is still
    pending: never a partition, never another table.
    """
    detached = {t.name for t in detached_tables(connection, _FAR_FUTURE) if not t.pending}
    if name not in detached:
        raise ValueError(f"{name!r} is not a table detached from {PARENT}")
    connection.execute(text("SET LOCAL lock_timeout = '5s'"))
    # The lock first: counting under a weaker one would let two prunes deadlock on upgrading.
    connection.execute(text(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE"))
    rows = int(connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one())
    connection.execute(text(f"DROP TABLE {name}"))
    return rows


__all__ = [
    "CREATE_LOCK_TIMEOUT",
    "PARENT",
    "DetachedTable",
    "PartitionInfo",
    "detach_partition",
    "detached_tables",
    "detaches_concurrently",
    "drop_detached",
    "drop_partition",
    "ensure_partitions",
    "expired_partitions",
    "finish_detach",
    "is_partition_name",
    "is_partitioned",
    "month_of",
    "next_month",
    "partition_name",
    "partitions",
]
