"""The schema of the failure store as SQLAlchemy Core tables (CONTRACT §5).

``metadata`` is the single source of truth: the Alembic migrations in ``migrations/versions``
create exactly these tables (a test compares the migrated schema against it on SQLite and
PostgreSQL), and every query in ``collector_receiver.store`` is built from these objects.

Times are stored as ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL and as UTC text on SQLite; both
read back as timezone-aware UTC datetimes (see :class:`UTCDateTime`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

#: Constraint names are fixed so that migrations and reflection agree on every dialect.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime that is always UTC, on every dialect.

    SQLite has no time zone type: SQLAlchemy stores the wall-clock text and returns naive
    datetimes. Normalising to UTC on the way in (a naive value is taken to be UTC already) keeps
    the stored text comparable as a string, and re-attaching UTC on the way out gives callers the
    same aware values PostgreSQL returns.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


#: BIGINT on PostgreSQL (BIGSERIAL); plain INTEGER on SQLite, where only an ``INTEGER PRIMARY
#: KEY`` is an alias of the rowid and autoincrements.
_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")

#: JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
_JSON_TYPE = JSON().with_variant(JSONB(), "postgresql")

failure_matches = Table(
    "failure_matches",
    metadata,
    Column("id", _ID_TYPE, primary_key=True, autoincrement=True),
    Column("event_key", String(64), nullable=False),
    Column("trace_id", String(32), nullable=True),
    Column("span_id", String(16), nullable=True),
    Column("service_name", String(), nullable=False),
    Column("code", String(), nullable=False),
    Column("category", String(), nullable=False),
    Column("severity", String(), nullable=False),
    Column("catalog_version", String(), nullable=False),
    Column("exception_type", String(), nullable=False),
    Column("exception_message", Text(), nullable=False),
    Column("stacktrace", Text(), nullable=False),
    Column("fingerprint", String(), nullable=False),
    Column("source", String(), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("attributes", _JSON_TYPE, nullable=False),
    UniqueConstraint("event_key"),
)

# The query API filters by trace, by time window, and by code / service / category within a
# window, newest first with keyset pagination on (occurred_at, id). The filtered indexes end
# with id too, so each one holds the list's exact order: a page is the next entries of one
# index, with no sort, and the planner has no reason to walk the time index and filter instead
# (migration 0003 says why that matters).
Index(None, failure_matches.c.trace_id)
Index(None, failure_matches.c.occurred_at, failure_matches.c.id)
Index(None, failure_matches.c.code, failure_matches.c.occurred_at, failure_matches.c.id)
Index(None, failure_matches.c.service_name, failure_matches.c.occurred_at, failure_matches.c.id)
Index(None, failure_matches.c.category, failure_matches.c.occurred_at, failure_matches.c.id)

failure_patterns = Table(
    "failure_patterns",
    metadata,
    Column("id", _ID_TYPE, primary_key=True, autoincrement=True),
    Column("fingerprint", String(), nullable=False),
    Column("code", String(), nullable=False),
    Column("service_name", String(), nullable=False),
    Column("exception_type", String(), nullable=False),
    Column("message_template", Text(), nullable=False),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
    Column("occurrences", BigInteger(), nullable=False),
    UniqueConstraint("fingerprint"),
)

Index(None, failure_patterns.c.last_seen)
Index(None, failure_patterns.c.service_name, failure_patterns.c.code)

__all__ = ["NAMING_CONVENTION", "UTCDateTime", "failure_matches", "failure_patterns", "metadata"]
