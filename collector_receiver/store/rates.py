"""Failure rates by a GenAI dimension: failures divided by the operations counted (CONTRACT §7 r2).

``FailureQueries.rates(by, service, since, until)`` answers one :class:`RateRow` per value of the
dimension ``by`` (``tool``, ``model``, ``provider``, ``agent`` or ``operation``, the columns
``gen_ai_<by>``) found in either table in the window, the absent value (None) included:

- ``failures``: rows of ``failure_matches`` with ``since <= occurred_at < until``;
- ``operations``: the sum of ``gen_ai_operations.operations`` over the buckets whose start is
  in ``[since, until)`` (a bucket is an hour; a window that cuts one counts it whole or not);
- ``failure_rate``: ``failures / operations``, None when no operation was counted (a value
  only failures name, or the absent value for failures outside any GenAI operation).

Both counts come from one statement (``UNION ALL`` of the two grouped tables, grouped again by
value; ``GROUP BY`` puts every NULL in one group on both databases, so the absent value is one
row). Rows are sorted by failures, most first, then operations, then value (None last).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

import sqlalchemy as sa

from collector_receiver.store.tables import failure_matches, gen_ai_operations

#: The dimensions a rate can be taken by; each names the column ``gen_ai_<dimension>``.
RateDimension = Literal["tool", "model", "provider", "agent", "operation"]
RATE_DIMENSIONS: tuple[RateDimension, ...] = get_args(RateDimension)


@dataclass(frozen=True)
class RateRow:
    """Failures and operations of one value of the dimension in the window."""

    value: str | None
    failures: int
    operations: int
    #: ``failures / operations``; None when no operation was counted.
    failure_rate: float | None


def check_dimension(by: str) -> RateDimension:
    """``by`` as a :data:`RateDimension`; raises :class:`ValueError` with a one-line reason."""
    for dimension in RATE_DIMENSIONS:
        if by == dimension:
            return dimension
    raise ValueError(f"must be one of {', '.join(RATE_DIMENSIONS)}, not {by!r}")


def rates_statement(
    by: RateDimension,
    service: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> sa.Select[Any]:
    """The one SELECT behind :func:`rate_rows`: ``value, failures, operations`` per value."""
    column = f"gen_ai_{by}"
    f, o = failure_matches, gen_ai_operations
    failure_where: list[sa.ColumnElement[bool]] = []
    operation_where: list[sa.ColumnElement[bool]] = []
    if service is not None:
        failure_where.append(f.c.service_name == service)
        operation_where.append(o.c.service_name == service)
    if since is not None:
        failure_where.append(f.c.occurred_at >= since)
        operation_where.append(o.c.bucket_start >= since)
    if until is not None:
        failure_where.append(f.c.occurred_at < until)
        operation_where.append(o.c.bucket_start < until)
    # A literal 0 rather than a bound one: PostgreSQL must know the type of each UNION column.
    zero: sa.ColumnElement[int] = sa.literal_column("0", sa.BigInteger())
    failures = (
        sa.select(
            f.c[column].label("value"),
            sa.func.count().label("failures"),
            zero.label("operations"),
        )
        .where(*failure_where)
        .group_by(f.c[column])
    )
    operations = (
        sa.select(
            o.c[column].label("value"),
            zero.label("failures"),
            sa.func.sum(o.c.operations).label("operations"),
        )
        .where(*operation_where)
        .group_by(o.c[column])
    )
    both = sa.union_all(failures, operations).subquery("counted")
    return sa.select(
        both.c.value,
        sa.func.sum(both.c.failures).label("failures"),
        sa.func.sum(both.c.operations).label("operations"),
    ).group_by(both.c.value)


def rate_rows(rows: Any) -> list[RateRow]:
    """The rows of :func:`rates_statement` as :class:`RateRow`, sorted (module docstring)."""
    result = []
    for value, failures, operations in rows:
        # sum() of bigint is numeric on PostgreSQL (a Decimal): the counts are whole numbers.
        n_failures, n_operations = int(failures or 0), int(operations or 0)
        result.append(
            RateRow(
                value=value,
                failures=n_failures,
                operations=n_operations,
                failure_rate=n_failures / n_operations if n_operations else None,
            )
        )
    result.sort(key=lambda r: (-r.failures, -r.operations, r.value is None, r.value or ""))
    return result


__all__ = [
    "RATE_DIMENSIONS",
    "RateDimension",
    "RateRow",
    "check_dimension",
    "rate_rows",
    "rates_statement",
]
