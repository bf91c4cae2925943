"""Failures counted over time, and the failures of one fingerprint: what the web UI charts.

:class:`TimelineQueries` is :class:`~collector_receiver.store.queries.FailureQueries` (the
queries behind ``/api/v1``) plus three reads the API has no endpoint for:

* :meth:`~TimelineQueries.counts_by_category` — failures per category in each of a list of
  consecutive half-open buckets ``[edges[i], edges[i + 1])``;
* :meth:`~TimelineQueries.counts_by_fingerprint` — the same per fingerprint, for a page of
  patterns;
* :meth:`~TimelineQueries.failures_of_pattern` — the newest failures of one fingerprint.

Buckets are counted in SQL as one ``SUM(CASE WHEN edge <= occurred_at < next edge ...)`` column
per bucket over the window's ``occurred_at`` range, grouped by the series: the same statement on
SQLite and PostgreSQL (no dialect's date arithmetic), one row per series crossing into Python,
and the edges bound through the column's own type so both databases compare UTC to UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise

import sqlalchemy as sa

from collector_receiver.store.errors import translate_errors
from collector_receiver.store.queries import (
    _FAILURE_COLUMNS,
    MAX_LIMIT,
    FailureQueries,
    StoredFailure,
    _failure_from_row,
    _inline_limit,
)
from collector_receiver.store.tables import failure_matches

__all__ = ["MAX_BUCKETS", "TimelineQueries"]

#: A chart has at most this many buckets: one column of the statement each.
MAX_BUCKETS = 200


def _check_edges(edges: Sequence[datetime]) -> None:
    if not 2 <= len(edges) <= MAX_BUCKETS + 1:
        raise ValueError(f"need from 2 to {MAX_BUCKETS + 1} bucket edges")
    if any(later <= earlier for earlier, later in pairwise(edges)):
        raise ValueError("bucket edges must increase")


def _bucket_columns(edges: Sequence[datetime]) -> list[sa.ColumnElement[int]]:
    occurred = failure_matches.c.occurred_at
    return [
        sa.func.sum(sa.case((sa.and_(occurred >= start, occurred < end), 1), else_=0)).label(
            f"b{index}"
        )
        for index, (start, end) in enumerate(pairwise(edges))
    ]


class TimelineQueries(FailureQueries):
    """The API's queries plus counts over time and the failures of a fingerprint."""

    def _counts_by(
        self,
        series: sa.ColumnElement[str],
        edges: Sequence[datetime],
        conditions: Sequence[sa.ColumnElement[bool]] = (),
    ) -> dict[str, list[int]]:
        _check_edges(edges)
        t = failure_matches
        statement = (
            sa.select(series.label("series"), *_bucket_columns(edges))
            .where(t.c.occurred_at >= edges[0], t.c.occurred_at < edges[-1], *conditions)
            .group_by(series)
        )
        with translate_errors(), self._read() as connection:
            rows = connection.execute(statement).fetchall()
        buckets = len(edges) - 1
        return {row.series: [int(row[i + 1] or 0) for i in range(buckets)] for row in rows}

    def counts_by_category(
        self, edges: Sequence[datetime], service: str | None = None
    ) -> dict[str, list[int]]:
        """Failures per category in each bucket between consecutive ``edges`` (increasing).

        Categories without a failure in the whole range are absent. ``ValueError`` for fewer
        than two, more than ``MAX_BUCKETS + 1`` or non-increasing edges.
        """
        t = failure_matches
        conditions = [t.c.service_name == service] if service is not None else []
        return self._counts_by(t.c.category, edges, conditions)

    def counts_by_fingerprint(
        self, fingerprints: Sequence[str], edges: Sequence[datetime]
    ) -> dict[str, list[int]]:
        """Failures of each of ``fingerprints`` (a page of patterns) in each bucket."""
        if not fingerprints:
            return {}
        t = failure_matches
        return self._counts_by(t.c.fingerprint, edges, [t.c.fingerprint.in_(list(fingerprints))])

    def failures_of_pattern(
        self, fingerprint: str, service: str, limit: int = 20
    ) -> list[StoredFailure]:
        """The newest ``limit`` failures with this fingerprint, newest first.

        A fingerprint is computed from its service's name (``failcat.fp.v2``), so the statement
        names the service too: the ``(service_name, occurred_at, id)`` index then walks only that
        service's failures, newest first, instead of the whole table. (Not the code: a catalog
        reload can give later failures of one fingerprint another code.)
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        t = failure_matches
        statement = (
            sa.select(*_FAILURE_COLUMNS)
            .where(t.c.service_name == service, t.c.fingerprint == fingerprint)
            .order_by(t.c.occurred_at.desc(), t.c.id.desc())
            .limit(_inline_limit(limit))
        )
        with translate_errors(), self._read() as connection:
            rows = connection.execute(statement).fetchall()
        return [_failure_from_row(row) for row in rows]
