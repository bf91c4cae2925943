"""The schema of the failure store as SQLAlchemy Core tables (CONTRACT §5).

``metadata`` is the single source of truth: the Alembic migrations in ``migrations/versions``
create exactly these tables (a test compares the migrated schema against it on SQLite and
PostgreSQL), and every query in ``collector_receiver.store`` is built from these objects.

Times are stored as ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL and as UTC text on SQLite; both
read back as timezone-aware UTC datetimes (see :class:`UTCDateTime`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, TypeVar

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
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import JSONB

from collector_receiver.events import GenAIContext

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

#: The GenAI context columns, ``gen_ai_`` and each field of ``GenAIContext`` in its order
#: (provider, model, operation, tool, agent), on ``failure_matches`` and ``gen_ai_operations``.
GENAI_COLUMNS = tuple(f"gen_ai_{name}" for name in GenAIContext._fields)
#: The columns ``/api/v1/failures`` filters on exactly (CONTRACT §7 r2).
GENAI_FILTER_COLUMNS = ("gen_ai_provider", "gen_ai_model", "gen_ai_tool", "gen_ai_agent")
#: What stands for NULL in the unique key of ``gen_ai_operations``. The store never writes an
#: empty GenAI value (``_rows.genai_value`` makes it NULL: an empty name says nothing), so the
#: empty string cannot stand for a real value there.
ABSENT_IN_KEY = ""

#: ``Constraint.info`` key naming the one dialect a constraint or index exists on.
ONLY_ON = "failcat_only_on"

_DialectBound = TypeVar("_DialectBound", UniqueConstraint, Index)


def only_on(dialect: str, item: _DialectBound) -> _DialectBound:
    """``item`` exists on ``dialect`` only: created there alone (``ddl_if``), and compared with
    that database's schema alone (``migrate.include_object_for``), since Alembic's comparison
    does not read ``ddl_if``.
    """
    item.info[ONLY_ON] = dialect
    item.ddl_if(dialect=dialect)
    return item


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
    # The GenAI context (CONTRACT §5 r2, migration 0004); NULL when absent at every level.
    *(Column(name, String(), nullable=True) for name in GENAI_COLUMNS),
    # A status-only failure's lineage in its request, span ids space-separated ("" for none;
    # migration 0007, ``_other_signal``); NULL on every other row. The store's own: the API
    # does not show it.
    Column("related_span_ids", Text(), nullable=True),
    # The idempotency key. On PostgreSQL the table is partitioned by month of ``occurred_at``
    # (migration 0006, ``_partitions``), and a partitioned table's unique keys must hold the
    # partition key, so there it is ``(event_key, occurred_at)`` (and the primary key ``(id,
    # occurred_at)``, which Alembic does not compare): ``occurred_at`` comes from the same event
    # fields as ``event_key``, so a redelivered failure conflicts all the same.
    only_on("sqlite", UniqueConstraint("event_key")),
    only_on("postgresql", UniqueConstraint("event_key", "occurred_at")),
    postgresql_partition_by="RANGE (occurred_at)",
    # Ids are never reused (CONTRACT §5 r2): without AUTOINCREMENT SQLite would hand the id of a
    # pruned newest row to the next failure (migration 0005). PostgreSQL's sequence never does.
    sqlite_autoincrement=True,
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
# The GenAI filters, in the same shape behind the service: a service's failures of one tool
# (model, provider, agent) newest first are the next entries of one index. Partial (only rows
# with the column set): a failure without that context costs no index entry on write, and a
# filter ``column = :value`` implies ``column IS NOT NULL``, which both planners prove.
for _name in GENAI_FILTER_COLUMNS:
    _column = failure_matches.c[_name]
    Index(
        f"ix_failure_matches_service_name_{_name}_occurred_at_id",
        failure_matches.c.service_name,
        _column,
        failure_matches.c.occurred_at,
        failure_matches.c.id,
        postgresql_where=_column.isnot(None),
        sqlite_where=_column.isnot(None),
    )

# The status-only failures of a trace, for the store's tie between the two signals of one
# failure (``_other_signal``): partial, so only those rare rows cost an index entry, and small
# enough that the planner takes it even for a partition it has no statistics of yet (a
# lookup by the full ``trace_id`` index then seq-scans a fresh month's partition).
Index(
    "ix_failure_matches_trace_id_status_only",
    failure_matches.c.trace_id,
    postgresql_where=failure_matches.c.related_span_ids.isnot(None),
    sqlite_where=failure_matches.c.related_span_ids.isnot(None),
)

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

gen_ai_operations = Table(
    "gen_ai_operations",
    metadata,
    Column("bucket_start", UTCDateTime(), nullable=False),
    Column("service_name", String(), nullable=False),
    Column("gen_ai_operation", String(), nullable=True),
    Column("gen_ai_provider", String(), nullable=True),
    Column("gen_ai_model", String(), nullable=True),
    Column("gen_ai_tool", String(), nullable=True),
    Column("gen_ai_agent", String(), nullable=True),
    Column("operations", BigInteger(), nullable=False),
)

#: The unique key of an operation count: hour, service and context, an absent value being one
#: value of its own. A plain UNIQUE constraint treats NULLs as distinct (every upsert of a
#: context with an absent tool would add a row); ``NULLS NOT DISTINCT`` needs PostgreSQL 15 and
#: SQLite has no such clause, so the key is an expression index over ``COALESCE(column, '')``,
#: which both databases (PostgreSQL from long before 13) accept as an ``ON CONFLICT`` target.
#: The table has no other key: rows are only ever found by this one.
#: Starting with ``bucket_start`` it also serves the window of the rates query and pruning.
OPERATION_KEY = (
    gen_ai_operations.c.bucket_start,
    gen_ai_operations.c.service_name,
    *(
        func.coalesce(gen_ai_operations.c[name], literal_column(f"'{ABSENT_IN_KEY}'"))
        for name in GENAI_COLUMNS
    ),
)
Index("uq_gen_ai_operations_bucket_start_context", *OPERATION_KEY, unique=True)

#: The requests whose operations were counted (``OperationCounts.delivery_key``): a delivery
#: whose key is here already is not counted again. ``received_at`` is when it was first counted,
#: so that old keys can be pruned with the buckets they counted into.
gen_ai_counted_deliveries = Table(
    "gen_ai_counted_deliveries",
    metadata,
    Column("delivery_key", String(32), primary_key=True),
    Column("received_at", UTCDateTime(), nullable=False),
)
Index(None, gen_ai_counted_deliveries.c.received_at)

__all__ = [
    "ABSENT_IN_KEY",
    "GENAI_COLUMNS",
    "GENAI_FILTER_COLUMNS",
    "NAMING_CONVENTION",
    "ONLY_ON",
    "OPERATION_KEY",
    "UTCDateTime",
    "failure_matches",
    "failure_patterns",
    "gen_ai_counted_deliveries",
    "gen_ai_operations",
    "metadata",
    "only_on",
]
