"""Read side of the store: the queries behind ``/api/v1/...`` and ``failcat failures``.

:class:`FailureQueries` answers with plain frozen dataclasses (:class:`StoredFailure`,
:class:`StoredPattern`) inside a :class:`Page`, so nothing above this module touches SQLAlchemy.

Pagination is keyset ("seek") pagination, newest first by ``(occurred_at DESC, id DESC)``. The
cursor is opaque to callers (:mod:`collector_receiver.store._cursor`: base64url of the JSON
``[occurred_at, id]`` of the last row of the page). A failure stored after the first page was
read is either newer than every row already handed out or has a larger id, so it never shifts
the following pages: paging through a growing table yields each row that existed at the start
exactly once. (An offset would skip or repeat rows whenever something is inserted in front of
it.)

Every filter is a bound parameter of a SQLAlchemy Core statement, and every statement is shaped
to be answered from an index of ``failure_matches`` (see ``tests/.../test_queries_plans_pg.py``).

Errors: an unreachable database raises :class:`~collector_receiver.store.StoreUnavailable`; a
database without the failcat schema raises :class:`~collector_receiver.store.SchemaMissing`; a
malformed cursor or limit raises :class:`ValueError` with a one-line reason.

How a row looks to a reader (the API's JSON, trace links) is not decided here but in
:mod:`collector_receiver.presentation`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from collector_receiver.store._cursor import decode_cursor, encode_cursor
from collector_receiver.store._engine import create_store_engine
from collector_receiver.store._rows import MATCH_COLUMNS
from collector_receiver.store.errors import translate_errors
from collector_receiver.store.rates import RateRow, check_dimension, rate_rows, rates_statement
from collector_receiver.store.tables import (
    GENAI_FILTER_COLUMNS,
    failure_matches,
    failure_patterns,
)

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "EngineReader",
    "FailureQueries",
    "Page",
    "StoredFailure",
    "StoredPattern",
]

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, newest first; ``next_cursor`` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class StoredFailure:
    """One row of ``failure_matches``; times are timezone-aware UTC."""

    id: int
    event_key: str
    trace_id: str | None
    span_id: str | None
    service_name: str
    code: str
    category: str
    severity: str
    catalog_version: str
    exception_type: str
    exception_message: str
    stacktrace: str
    fingerprint: str
    source: str
    occurred_at: datetime
    received_at: datetime
    attributes: Mapping[str, Any] = field(default_factory=dict)
    #: The GenAI context (CONTRACT §5 r2); None when absent.
    gen_ai_provider: str | None = None
    gen_ai_model: str | None = None
    gen_ai_operation: str | None = None
    gen_ai_tool: str | None = None
    gen_ai_agent: str | None = None


@dataclass(frozen=True)
class StoredPattern:
    """One row of ``failure_patterns``: every occurrence of one fingerprint, grouped."""

    fingerprint: str
    code: str
    service_name: str
    exception_type: str
    message_template: str
    first_seen: datetime
    last_seen: datetime
    occurrences: int


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"must be between 1 and {MAX_LIMIT}")
    return limit


def _inline_limit(rows: int) -> sa.BindParameter[int]:
    """A LIMIT written into the SQL as a number rather than sent as a parameter.

    psycopg prepares a statement on the server once a connection has run it five times, and
    PostgreSQL may then keep one generic plan for every parameter value. A generic plan that
    does not know the LIMIT is made for fetching a tenth of the rows it expects, not one page.
    With the number in the SQL (rendered at execution, so the compiled statement is still
    cached) every plan, custom or generic, is made for the page it serves.
    """
    return sa.bindparam("page_rows", rows, type_=sa.Integer(), literal_execute=True)


#: Every column of ``failure_matches`` in the field order of :class:`StoredFailure`: the
#: generated id, then the columns the store writes.
_FAILURE_COLUMNS = tuple(failure_matches.c[name] for name in ("id", *MATCH_COLUMNS))
#: Every column of ``failure_patterns`` but its surrogate id (the fields of :class:`StoredPattern`).
_PATTERN_COLUMNS = tuple(column for column in failure_patterns.c if column.name != "id")


# The column types hand back aware UTC datetimes (``UTCDateTime``) and plain ints, and the field
# names are the column names, so a row maps straight onto its dataclass.
def _failure_from_row(row: sa.Row[Any]) -> StoredFailure:
    return StoredFailure(**row._mapping)


def _pattern_from_row(row: sa.Row[Any]) -> StoredPattern:
    return StoredPattern(**row._mapping)


def _after_cursor(
    moment: sa.ColumnElement[Any],
    key: sa.ColumnElement[Any],
    cursor: str | None,
    key_type: type[int] | type[str],
) -> list[sa.ColumnElement[bool]]:
    """The conditions "strictly after ``cursor``" in ``(moment DESC, key DESC)`` order."""
    if cursor is None:
        return []
    after_moment, after_key = decode_cursor(cursor, key_type)
    # The redundant "<=" gives the planner a plain range bound on the index column; the OR then
    # settles ties within the same instant by the key.
    return [
        moment <= after_moment,
        sa.or_(moment < after_moment, sa.and_(moment == after_moment, key < after_key)),
    ]


_Reader = TypeVar("_Reader", bound="EngineReader")


class EngineReader:
    """Holds the engine of a read side; closes it only if :meth:`from_url` created it.

    Thread-safe (it holds only an engine), so the API can run each call in a worker thread.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._owns_engine = False

    @classmethod
    def from_url(cls: type[_Reader], url: str) -> _Reader:
        """Open the database at ``url`` (the same URLs as ``FailureStore.from_url``)."""
        reader = cls(create_store_engine(url))
        reader._owns_engine = True
        return reader

    def close(self) -> None:
        """Release the engine's connections if this object created it."""
        if self._owns_engine:
            self.engine.dispose()

    def _read(self) -> Connection:
        """A pooled connection for one SELECT.

        On PostgreSQL it runs in autocommit: a single statement sees one snapshot either way,
        and without a transaction around it a read is two round trips to the server (the pool's
        liveness ping and the query) instead of four (with BEGIN, and the ROLLBACK when the pool
        takes the connection back). Each round trip wakes two processes, which on a busy machine
        is most of a first page's time (``benchmarks/bench_query_latency.py``). SQLite keeps its
        explicit BEGINs (``_engine``): it runs in this process, with no round trip to save, and
        its in-memory database shares one connection with the writer.
        """
        connection = self.engine.connect()
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        return connection

    def _fetch_page(
        self,
        statement: sa.Select[Any],
        limit: int,
        build: Callable[[sa.Row[Any]], T],
        position: Callable[[T], tuple[datetime, int | str]],
    ) -> Page[T]:
        """Run a keyset-ordered ``statement`` for one page; the cursor names its last item."""
        with translate_errors(), self._read() as connection:
            rows = connection.execute(statement.limit(_inline_limit(limit + 1))).fetchall()
        items = tuple(build(row) for row in rows[:limit])
        # One row past the page tells whether another page exists without a count(*).
        next_cursor = encode_cursor(*position(items[-1])) if len(rows) > limit else None
        return Page(items, next_cursor)


class FailureQueries(EngineReader):
    """Read-only queries over ``failure_matches`` and ``failure_patterns``."""

    # -- failures ---------------------------------------------------------------------------

    def list_failures(
        self,
        service: str | None = None,
        code: str | None = None,
        category: str | None = None,
        trace_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        tool: str | None = None,
        agent: str | None = None,
    ) -> Page[StoredFailure]:
        """Failures matching every given filter, newest first, ``since <= occurred_at < until``.

        ``provider``, ``model``, ``tool`` and ``agent`` match the GenAI columns exactly.
        """
        _check_limit(limit)
        t = failure_matches
        conditions: list[sa.ColumnElement[bool]] = []
        genai = zip(GENAI_FILTER_COLUMNS, (provider, model, tool, agent), strict=True)
        # Each filter implies "column IS NOT NULL", which lets the planners use the partial
        # (service_name, column, occurred_at, id) index of that column (``tables``).
        conditions += [t.c[column] == value for column, value in genai if value is not None]
        if service is not None:
            conditions.append(t.c.service_name == service)
        if code is not None:
            conditions.append(t.c.code == code)
        if category is not None:
            conditions.append(t.c.category == category)
        if trace_id is not None:
            conditions.append(t.c.trace_id == trace_id)
        if since is not None:
            conditions.append(t.c.occurred_at >= since)
        if until is not None:
            conditions.append(t.c.occurred_at < until)
        conditions += _after_cursor(t.c.occurred_at, t.c.id, cursor, int)
        newest_first = (t.c.occurred_at.desc(), t.c.id.desc())
        # The page's ids first, then their rows. The ids alone come from an index-only scan of
        # the filtered index, which holds the filter's columns, the order and the id, so the
        # planner picks it whatever it believes about when a service's failures happened.
        # Asked for whole rows in one step, it estimates a page of a service holding a quarter
        # of the rows at four rows of the time index a hit and walks that index, filtering:
        # for a service quiet for 20 days that read half the table, 0.7 s a page at a million
        # failures, against 0.6 ms this way (``benchmarks/bench_query_latency.py``).
        page_ids = (
            sa.select(t.c.id, t.c.occurred_at)
            .where(*conditions)
            .order_by(*newest_first)
            .limit(_inline_limit(limit + 1))
        )
        # Each row is found by (id, occurred_at), its primary key on PostgreSQL, so each lookup
        # reads the one monthly partition holding it (run-time partition pruning, ``_partitions``).
        statement = (
            sa.select(*_FAILURE_COLUMNS)
            .where(sa.tuple_(t.c.id, t.c.occurred_at).in_(page_ids))
            .order_by(*newest_first)
        )
        return self._fetch_page(
            statement, limit, _failure_from_row, lambda f: (f.occurred_at, f.id)
        )

    def get_failure(self, failure_id: int) -> StoredFailure | None:
        """The failure with this id, or None."""
        statement = sa.select(*_FAILURE_COLUMNS).where(failure_matches.c.id == failure_id)
        with translate_errors(), self._read() as connection:
            row = connection.execute(statement).first()
        return None if row is None else _failure_from_row(row)

    def failures_for_trace(self, trace_id: str, limit: int = MAX_LIMIT) -> list[StoredFailure]:
        """The failures of one trace in the order they happened (oldest first), at most ``limit``.

        A trace is one request of an agent; a thousand failures in one is already a loop gone
        wrong, so the first ``limit`` tell the story.
        """
        _check_limit(limit)
        t = failure_matches
        statement = (
            sa.select(*_FAILURE_COLUMNS)
            .where(t.c.trace_id == trace_id)
            .order_by(t.c.occurred_at.asc(), t.c.id.asc())
            .limit(_inline_limit(limit))
        )
        with translate_errors(), self._read() as connection:
            rows = connection.execute(statement).fetchall()
        return [_failure_from_row(row) for row in rows]

    # -- patterns ---------------------------------------------------------------------------

    def list_patterns(
        self,
        service: str | None = None,
        code: str | None = None,
        since: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page[StoredPattern]:
        """Patterns (one per fingerprint) seen at or after ``since``, newest first by first_seen.

        Ordered by ``first_seen`` rather than ``last_seen`` because first_seen only ever moves
        back in time (a late failure with an older timestamp): a pattern that recurs while
        someone pages can never jump over the cursor and be missed. A pattern already handed out
        whose first_seen a late failure moves back can come again on a later page.
        """
        _check_limit(limit)
        p = failure_patterns
        conditions: list[sa.ColumnElement[bool]] = []
        if service is not None:
            conditions.append(p.c.service_name == service)
        if code is not None:
            conditions.append(p.c.code == code)
        if since is not None:
            conditions.append(p.c.last_seen >= since)
        conditions += _after_cursor(p.c.first_seen, p.c.fingerprint, cursor, str)
        statement = (
            sa.select(*_PATTERN_COLUMNS)
            .where(*conditions)
            .order_by(p.c.first_seen.desc(), p.c.fingerprint.desc())
        )
        return self._fetch_page(
            statement, limit, _pattern_from_row, lambda p: (p.first_seen, p.fingerprint)
        )

    # -- catalog ----------------------------------------------------------------------------

    def catalog_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """Number of failures per code with ``since <= occurred_at < until`` (GROUP BY in SQL)."""
        t = failure_matches
        statement = (
            sa.select(t.c.code, sa.func.count().label("n"))
            .where(t.c.occurred_at >= since, t.c.occurred_at < until)
            .group_by(t.c.code)
        )
        with translate_errors(), self._read() as connection:
            rows = connection.execute(statement).fetchall()
        return {row.code: int(row.n) for row in rows}

    # -- GenAI failure rates ----------------------------------------------------------------

    def rates(
        self,
        by: str,
        service: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[RateRow]:
        """Failures, operations and their ratio per value of ``by`` (see :mod:`.rates`).

        ``by`` is one of :data:`~.rates.RATE_DIMENSIONS`; another raises :class:`ValueError`.
        """
        statement = rates_statement(check_dimension(by), service, since, until)
        with translate_errors(), self._read() as connection:
            return rate_rows(connection.execute(statement).fetchall())
