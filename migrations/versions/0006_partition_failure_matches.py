"""PostgreSQL: failure_matches range-partitioned by occurred_at, one partition a month

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

CONTRACT §5 r2 (Retention): on PostgreSQL ``failure_matches`` becomes ``PARTITION BY RANGE
(occurred_at)`` with monthly partitions (``collector_receiver.store._partitions`` says why a
month and why no DEFAULT partition), so that pruning drops whole expired months instead of
deleting rows. Migrated in place, every row kept:

1. the old table is renamed and its indexes dropped (index names are global in a schema, and
   the old table only has to be read in ``id`` order, which its primary key serves);
2. its id sequence is detached from it, so dropping the old table later keeps it;
3. the partitioned table is created with the same columns, ``nextval`` of that same sequence as
   the id's default (ids go on from where they were and are never reused), and the same indexes
   (migration 0003's keyset ones and 0004's partial GenAI ones) declared on the parent, which
   PostgreSQL creates in every partition;
4. a partition is created for every month the old rows occupy and for the months around now;
5. the rows move in batches of ``_BATCH`` ids (``INSERT ... SELECT ... WHERE id > :after ...
   ORDER BY id``), so no statement holds every row in memory at once;
6. the old table is dropped and the new one analysed (the planner needs statistics of the
   parent to plan a query over many partitions well).

A unique key or a primary key of a partitioned table must include the partition key: the
idempotency key becomes ``(event_key, occurred_at)`` and the primary key ``(id, occurred_at)``.
A redelivered failure still conflicts, because ``occurred_at`` is derived from the same event
fields as ``event_key`` (the event's own time), so the same failure always has both the same.

The whole migration is one transaction, run by the receiver before it accepts traffic: a
failure is either in the old table or in the new one, never lost between them. Downgrade does
the same backwards into a plain table with the 0005 schema (a key of ``event_key`` alone).

SQLite keeps its plain table; this revision changes nothing there.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Spelled out rather than imported from the models: a migration keeps creating its own day's
# schema. The columns are those of 0001 and 0004, in their order.
_TABLE = "failure_matches"
_OLD = "failure_matches_before_0006"
_SEQUENCE = "failure_matches_id_seq"
_BATCH = 50_000
# Partitions created ahead of time: this month, the one before (late failures) and the next
# three (early ones, and the receiver's own first writes of a new month).
_MONTHS_BEHIND = 1
_MONTHS_AHEAD = 3
_TIME = sa.DateTime(timezone=True)
_CONTEXT = ("gen_ai_provider", "gen_ai_model", "gen_ai_operation", "gen_ai_tool", "gen_ai_agent")
_FILTERED = ("gen_ai_provider", "gen_ai_model", "gen_ai_tool", "gen_ai_agent")
_KEYSET = ("service_name", "code", "category")
_COLUMNS = (
    "id",
    "event_key",
    "trace_id",
    "span_id",
    "service_name",
    "code",
    "category",
    "severity",
    "catalog_version",
    "exception_type",
    "exception_message",
    "stacktrace",
    "fingerprint",
    "source",
    "occurred_at",
    "received_at",
    "attributes",
    *_CONTEXT,
)


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text(f"nextval('{_SEQUENCE}'::regclass)"),
            nullable=False,
        ),
        sa.Column("event_key", sa.String(64), nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=True),
        sa.Column("span_id", sa.String(16), nullable=True),
        sa.Column("service_name", sa.String(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("catalog_version", sa.String(), nullable=False),
        sa.Column("exception_type", sa.String(), nullable=False),
        sa.Column("exception_message", sa.Text(), nullable=False),
        sa.Column("stacktrace", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("occurred_at", _TIME, nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("attributes", postgresql.JSONB(), nullable=False),
        *(sa.Column(column, sa.String(), nullable=True) for column in _CONTEXT),
    ]


def _index_names() -> list[str]:
    return [
        "ix_failure_matches_trace_id",
        "ix_failure_matches_occurred_at_id",
        *(f"ix_failure_matches_{column}_occurred_at_id" for column in _KEYSET),
        *(f"ix_failure_matches_service_name_{column}_occurred_at_id" for column in _FILTERED),
    ]


def _create_indexes() -> None:
    op.create_index("ix_failure_matches_trace_id", _TABLE, ["trace_id"])
    op.create_index("ix_failure_matches_occurred_at_id", _TABLE, ["occurred_at", "id"])
    for column in _KEYSET:
        op.create_index(
            f"ix_failure_matches_{column}_occurred_at_id", _TABLE, [column, "occurred_at", "id"]
        )
    for column in _FILTERED:
        op.create_index(
            f"ix_failure_matches_service_name_{column}_occurred_at_id",
            _TABLE,
            ["service_name", column, "occurred_at", "id"],
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )


def _set_aside_old_table(constraints: tuple[str, ...]) -> None:
    """Rename the current table out of the way, keeping only what the copy needs."""
    for name in _index_names():
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute(f"ALTER TABLE {_TABLE} RENAME TO {_OLD}")
    for constraint in constraints:
        op.execute(f"ALTER TABLE {_OLD} RENAME CONSTRAINT {constraint} TO {constraint}_old")
    # The sequence outlives the old table and serves the new one: ids go on, never reused.
    op.execute(f"ALTER SEQUENCE {_SEQUENCE} OWNED BY NONE")
    op.execute(f"ALTER TABLE {_OLD} ALTER COLUMN id DROP DEFAULT")


def _move_rows(conflict: str) -> None:
    """Copy every row of the old table into the new one in id batches, then drop the old."""
    bind = op.get_bind()
    columns = ", ".join(_COLUMNS)
    copy = sa.text(
        f"INSERT INTO {_TABLE} ({columns}) SELECT {columns} FROM {_OLD} "
        f"WHERE id > :after AND id <= :after + {_BATCH} ORDER BY id {conflict}"
    )
    last = bind.execute(sa.text(f"SELECT max(id) FROM {_OLD}")).scalar()
    after = bind.execute(sa.text(f"SELECT min(id) - 1 FROM {_OLD}")).scalar()
    while last is not None and after is not None and after < last:
        bind.execute(copy, {"after": after})
        after += _BATCH
    op.execute(f"DROP TABLE {_OLD}")
    op.execute(f"ALTER SEQUENCE {_SEQUENCE} OWNED BY {_TABLE}.id")


def _month_add(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _create_partitions() -> None:
    """A partition for every month holding an old row, and for the months around now."""
    bind = op.get_bind()
    held = bind.execute(
        sa.text(
            f"SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date FROM {_OLD}"
        )
    ).scalars()
    now = datetime.now(timezone.utc)
    this_month = date(now.year, now.month, 1)
    months = set(held) | {
        _month_add(this_month, offset) for offset in range(-_MONTHS_BEHIND, _MONTHS_AHEAD + 1)
    }
    for month in sorted(months):
        upper = _month_add(month, 1)
        op.execute(
            f"CREATE TABLE {_TABLE}_p{month.year:04d}{month.month:02d} PARTITION OF {_TABLE} "
            f"FOR VALUES FROM ('{month.isoformat()} 00:00:00+00') "
            f"TO ('{upper.isoformat()} 00:00:00+00')"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _set_aside_old_table(("pk_failure_matches", "uq_failure_matches_event_key"))
    op.create_table(
        _TABLE,
        *_columns(),
        sa.PrimaryKeyConstraint("id", "occurred_at", name="pk_failure_matches"),
        sa.UniqueConstraint(
            "event_key", "occurred_at", name="uq_failure_matches_event_key_occurred_at"
        ),
        postgresql_partition_by="RANGE (occurred_at)",
    )
    _create_indexes()
    _create_partitions()
    _move_rows(conflict="")
    op.execute(f"ANALYZE {_TABLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The partitions go with their parent; its indexes and constraints are its partitions'.
    _set_aside_old_table(("pk_failure_matches", "uq_failure_matches_event_key_occurred_at"))
    op.create_table(
        _TABLE,
        *_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_failure_matches"),
        sa.UniqueConstraint("event_key", name="uq_failure_matches_event_key"),
    )
    _create_indexes()
    # Two rows can share an event key only with different times, which one failure never has;
    # should it happen anyway, the first (lowest id) is kept rather than failing the downgrade.
    _move_rows(conflict="ON CONFLICT (event_key) DO NOTHING")
    op.execute(f"ANALYZE {_TABLE}")
