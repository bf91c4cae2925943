"""failure_matches and failure_patterns

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Spelled out rather than imported from collector_receiver.store.tables: a migration must keep
# creating the schema of its own day when the models move on.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "failure_matches",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
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
        sa.Column("attributes", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_failure_matches"),
        sa.UniqueConstraint("event_key", name="uq_failure_matches_event_key"),
    )
    op.create_index("ix_failure_matches_trace_id", "failure_matches", ["trace_id"])
    op.create_index("ix_failure_matches_occurred_at_id", "failure_matches", ["occurred_at", "id"])
    op.create_index(
        "ix_failure_matches_code_occurred_at", "failure_matches", ["code", "occurred_at"]
    )
    op.create_index(
        "ix_failure_matches_service_name_occurred_at",
        "failure_matches",
        ["service_name", "occurred_at"],
    )
    op.create_index(
        "ix_failure_matches_category_occurred_at", "failure_matches", ["category", "occurred_at"]
    )

    op.create_table(
        "failure_patterns",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("service_name", sa.String(), nullable=False),
        sa.Column("exception_type", sa.String(), nullable=False),
        sa.Column("message_template", sa.Text(), nullable=False),
        sa.Column("first_seen", _TIME, nullable=False),
        sa.Column("last_seen", _TIME, nullable=False),
        sa.Column("occurrences", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_failure_patterns"),
        sa.UniqueConstraint("fingerprint", name="uq_failure_patterns_fingerprint"),
    )
    op.create_index("ix_failure_patterns_last_seen", "failure_patterns", ["last_seen"])
    op.create_index(
        "ix_failure_patterns_service_name_code", "failure_patterns", ["service_name", "code"]
    )


def downgrade() -> None:
    op.drop_index("ix_failure_patterns_service_name_code", table_name="failure_patterns")
    op.drop_index("ix_failure_patterns_last_seen", table_name="failure_patterns")
    op.drop_table("failure_patterns")
    op.drop_index("ix_failure_matches_category_occurred_at", table_name="failure_matches")
    op.drop_index("ix_failure_matches_service_name_occurred_at", table_name="failure_matches")
    op.drop_index("ix_failure_matches_code_occurred_at", table_name="failure_matches")
    op.drop_index("ix_failure_matches_occurred_at_id", table_name="failure_matches")
    op.drop_index("ix_failure_matches_trace_id", table_name="failure_matches")
    op.drop_table("failure_matches")
