"""SQL side of ``failcat aggregate``: the counts it needs, and the ``failure_aggregates`` table.

Every number is a ``GROUP BY`` answered by the database over an ``occurred_at`` range (an index
range scan), so the job's memory does not grow with the number of failures: only one row per code,
per service and per new fingerprint crosses into Python. The arithmetic on those rows (shares,
drift) lives in :mod:`collector_receiver.aggregate`.

All counts of one run are read in one transaction (``REPEATABLE READ`` on PostgreSQL), so the
window, the baseline and the totals agree with each other even while the receiver writes.

``failure_aggregates`` (created by Alembic revision ``0002``) keeps one row per stored run so the
history of the mix of codes and of the drift score can be charted.

:meth:`AggregateQueries.uncataloged_patterns` feeds ``failcat catalog suggest``: the most frequent
``UNCATALOGED`` kinds of failure in a time range, one row per exception type and message template
(a template shared by several services or call paths is one catalog entry).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from collector_receiver.events import UNCATALOGED
from collector_receiver.store.errors import translate_errors
from collector_receiver.store.queries import EngineReader
from collector_receiver.store.tables import (
    UTCDateTime,
    failure_matches,
    failure_patterns,
    metadata,
)

__all__ = [
    "MAX_NEW_PATTERNS",
    "AggregateQueries",
    "AggregateRecord",
    "CodeCount",
    "NewPatternRow",
    "ServiceCount",
    "UncatalogedPattern",
    "WindowCounts",
    "failure_aggregates",
]

#: At most this many new fingerprints are listed per run (most frequent first).
MAX_NEW_PATTERNS = 500


failure_aggregates = sa.Table(
    "failure_aggregates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("computed_at", UTCDateTime(), nullable=False),
    sa.Column("window_start", UTCDateTime(), nullable=False),
    sa.Column("window_end", UTCDateTime(), nullable=False),
    sa.Column("baseline_start", UTCDateTime(), nullable=False),
    sa.Column("baseline_end", UTCDateTime(), nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("uncataloged", sa.Integer, nullable=False),
    sa.Column("drift_score", sa.Float, nullable=True),
    sa.Column("drifted", sa.Boolean, nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Index("ix_failure_aggregates_window_end", "window_end"),
)

# "New fingerprints first seen inside the window" and the patterns list (newest first_seen
# first) seek on first_seen; revision 0002 creates this index beside the table above.
sa.Index("ix_failure_patterns_first_seen", failure_patterns.c.first_seen)


@dataclass(frozen=True)
class CodeCount:
    code: str
    category: str
    severity: str
    count: int


@dataclass(frozen=True)
class ServiceCount:
    service_name: str
    count: int


@dataclass(frozen=True)
class NewPatternRow:
    fingerprint: str
    code: str
    exception_type: str
    first_seen: datetime
    occurrences: int


@dataclass(frozen=True)
class UncatalogedPattern:
    """One kind of failure no catalog entry matched: a type and a template, counted in a range."""

    exception_type: str
    message_template: str
    occurrences: int
    services: int
    example_message: str
    last_seen: datetime


@dataclass(frozen=True)
class WindowCounts:
    """Everything the job reads for one run, from one consistent snapshot."""

    window_codes: tuple[CodeCount, ...]
    baseline_codes: tuple[CodeCount, ...]
    window_services: tuple[ServiceCount, ...]
    new_patterns: tuple[NewPatternRow, ...]


@dataclass(frozen=True)
class AggregateRecord:
    """One row of ``failure_aggregates``."""

    computed_at: datetime
    window_start: datetime
    window_end: datetime
    baseline_start: datetime
    baseline_end: datetime
    total: int
    uncataloged: int
    drift_score: float | None
    drifted: bool
    result: Mapping[str, Any]


def _code_counts(connection: Connection, start: datetime, end: datetime) -> tuple[CodeCount, ...]:
    t = failure_matches
    # One row per code. A catalog change can move a code to another category or severity; the
    # run then reports the greatest value seen in the range rather than splitting the code.
    statement = (
        sa.select(
            t.c.code,
            sa.func.max(t.c.category).label("category"),
            sa.func.max(t.c.severity).label("severity"),
            sa.func.count().label("n"),
        )
        .where(t.c.occurred_at >= start, t.c.occurred_at < end)
        .group_by(t.c.code)
        .order_by(t.c.code)
    )
    return tuple(
        CodeCount(row.code, row.category, row.severity, int(row.n))
        for row in connection.execute(statement)
    )


def _service_counts(
    connection: Connection, start: datetime, end: datetime
) -> tuple[ServiceCount, ...]:
    t = failure_matches
    statement = (
        sa.select(t.c.service_name, sa.func.count().label("n"))
        .where(t.c.occurred_at >= start, t.c.occurred_at < end)
        .group_by(t.c.service_name)
        .order_by(sa.func.count().desc(), t.c.service_name)
    )
    return tuple(
        ServiceCount(row.service_name, int(row.n)) for row in connection.execute(statement)
    )


def _new_patterns(
    connection: Connection, start: datetime, end: datetime
) -> tuple[NewPatternRow, ...]:
    p = failure_patterns
    statement = (
        sa.select(p.c.fingerprint, p.c.code, p.c.exception_type, p.c.first_seen, p.c.occurrences)
        .where(p.c.first_seen >= start, p.c.first_seen < end)
        .order_by(p.c.occurrences.desc(), p.c.first_seen, p.c.fingerprint)
        .limit(MAX_NEW_PATTERNS)
    )
    return tuple(
        NewPatternRow(
            row.fingerprint, row.code, row.exception_type, row.first_seen, row.occurrences
        )
        for row in connection.execute(statement)
    )


class AggregateQueries(EngineReader):
    """The aggregation job's access to the database: read counts, store results."""

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        with translate_errors(), self.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection

    def window_counts(
        self,
        window_start: datetime,
        window_end: datetime,
        baseline_start: datetime,
        baseline_end: datetime,
    ) -> WindowCounts:
        """Counts per code (window and baseline), per service, and the new fingerprints."""
        with self._snapshot() as connection:
            return WindowCounts(
                window_codes=_code_counts(connection, window_start, window_end),
                baseline_codes=_code_counts(connection, baseline_start, baseline_end),
                window_services=_service_counts(connection, window_start, window_end),
                new_patterns=_new_patterns(connection, window_start, window_end),
            )

    def uncataloged_patterns(
        self, start: datetime, end: datetime, limit: int
    ) -> list[UncatalogedPattern]:
        """The ``limit`` most frequent UNCATALOGED (type, template) pairs occurring in ``[start,
        end)``, most occurrences first.

        Counted from ``failure_matches`` (the code index gives the range scan), each row joined
        to its pattern for the template. The example is one stored (redacted) message of the
        group, chosen deterministically (the greatest), so it matches the group's template.
        """
        m, p = failure_matches, failure_patterns
        count = sa.func.count().label("n")
        statement = (
            sa.select(
                p.c.exception_type,
                p.c.message_template,
                count,
                sa.func.count(sa.distinct(m.c.service_name)).label("services"),
                sa.func.max(m.c.exception_message).label("example"),
                sa.func.max(m.c.occurred_at).label("last_seen"),
            )
            .select_from(m.join(p, p.c.fingerprint == m.c.fingerprint))
            .where(m.c.code == UNCATALOGED, m.c.occurred_at >= start, m.c.occurred_at < end)
            .group_by(p.c.exception_type, p.c.message_template)
            .order_by(count.desc(), p.c.exception_type, p.c.message_template)
            .limit(limit)
        )
        with translate_errors(), self.engine.connect() as connection:
            return [
                UncatalogedPattern(
                    exception_type=row.exception_type,
                    message_template=row.message_template,
                    occurrences=int(row.n),
                    services=int(row.services),
                    example_message=row.example,
                    # max() keeps its argument's type, so UTCDateTime reads it back aware UTC
                    last_seen=row.last_seen,
                )
                for row in connection.execute(statement)
            ]

    def save(self, record: AggregateRecord) -> int:
        """Insert one run into ``failure_aggregates``; returns its id."""
        statement = sa.insert(failure_aggregates).values(
            computed_at=record.computed_at,
            window_start=record.window_start,
            window_end=record.window_end,
            baseline_start=record.baseline_start,
            baseline_end=record.baseline_end,
            total=record.total,
            uncataloged=record.uncataloged,
            drift_score=record.drift_score,
            drifted=record.drifted,
            result=dict(record.result),
        )
        with translate_errors(), self.engine.begin() as connection:
            result = connection.execute(statement)
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def history(self, limit: int = 100) -> list[AggregateRecord]:
        """The most recent stored runs, newest window first."""
        a = failure_aggregates
        statement = sa.select(a).order_by(a.c.window_end.desc(), a.c.id.desc()).limit(limit)
        with translate_errors(), self.engine.connect() as connection:
            rows = connection.execute(statement).fetchall()
        # UTCDateTime columns read back aware UTC, and the other names are the record's fields.
        return [
            AggregateRecord(**{name: value for name, value in row._mapping.items() if name != "id"})
            for row in rows
        ]
