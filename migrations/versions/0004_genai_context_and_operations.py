"""GenAI context on failure_matches; gen_ai_operations and gen_ai_counted_deliveries

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

CONTRACT §5 r2. ``failure_matches`` gains five nullable columns (provider, model, operation,
tool, agent): adding a nullable column without a default is a catalog change on both databases,
no row is rewritten. The four columns ``/api/v1/failures`` filters on get an index each in the
shape of the list, ``(service_name, column, occurred_at, id)``, partial on ``column IS NOT NULL``
so failures without that context add no index entry; building them on an existing table holds
back writes while it runs, and the receiver runs this migration before it accepts traffic.

``gen_ai_operations`` counts GenAI operations per hour and context. Its unique key treats an
absent value as a value: an expression index over ``COALESCE(column, '')`` (``NULLS NOT
DISTINCT`` would need PostgreSQL 15 and does not exist on SQLite). ``gen_ai_counted_deliveries``
keeps the delivery key of every request whose operations were counted, so a redelivery counts
nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Spelled out rather than imported from the models: a migration keeps creating its own day's schema.
_TIME = sa.DateTime(timezone=True)
_CONTEXT = ("gen_ai_provider", "gen_ai_model", "gen_ai_operation", "gen_ai_tool", "gen_ai_agent")
_FILTERED = ("gen_ai_provider", "gen_ai_model", "gen_ai_tool", "gen_ai_agent")


def _filter_index(column: str) -> str:
    return f"ix_failure_matches_service_name_{column}_occurred_at_id"


def upgrade() -> None:
    for column in _CONTEXT:
        op.add_column("failure_matches", sa.Column(column, sa.String(), nullable=True))
    for column in _FILTERED:
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            _filter_index(column),
            "failure_matches",
            ["service_name", column, "occurred_at", "id"],
            postgresql_where=where,
            sqlite_where=where,
        )

    op.create_table(
        "gen_ai_operations",
        sa.Column("bucket_start", _TIME, nullable=False),
        sa.Column("service_name", sa.String(), nullable=False),
        sa.Column("gen_ai_operation", sa.String(), nullable=True),
        sa.Column("gen_ai_provider", sa.String(), nullable=True),
        sa.Column("gen_ai_model", sa.String(), nullable=True),
        sa.Column("gen_ai_tool", sa.String(), nullable=True),
        sa.Column("gen_ai_agent", sa.String(), nullable=True),
        sa.Column("operations", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "uq_gen_ai_operations_bucket_start_context",
        "gen_ai_operations",
        [
            "bucket_start",
            "service_name",
            *(sa.text(f"coalesce({column}, '')") for column in _CONTEXT),
        ],
        unique=True,
    )

    op.create_table(
        "gen_ai_counted_deliveries",
        sa.Column("delivery_key", sa.String(32), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("delivery_key", name="pk_gen_ai_counted_deliveries"),
    )
    op.create_index(
        "ix_gen_ai_counted_deliveries_received_at", "gen_ai_counted_deliveries", ["received_at"]
    )


def downgrade() -> None:
    op.drop_index(
        "ix_gen_ai_counted_deliveries_received_at", table_name="gen_ai_counted_deliveries"
    )
    op.drop_table("gen_ai_counted_deliveries")
    op.drop_index("uq_gen_ai_operations_bucket_start_context", table_name="gen_ai_operations")
    op.drop_table("gen_ai_operations")
    for column in reversed(_FILTERED):
        op.drop_index(_filter_index(column), table_name="failure_matches")
    # SQLite drops a column in place (3.35+) once no index names it; PostgreSQL always does.
    for column in reversed(_CONTEXT):
        op.drop_column("failure_matches", column)
