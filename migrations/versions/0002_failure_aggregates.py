"""failure_aggregates, and an index on failure_patterns.first_seen

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

``failure_aggregates`` keeps one row per ``failcat aggregate --store`` run so the mix of codes and
the drift score can be charted over time. ``failure_patterns.first_seen`` gets an index because
the aggregation job asks for the fingerprints first seen inside its window and the patterns API
lists the newest first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Spelled out rather than imported from the models: a migration keeps creating its own day's schema.
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "failure_aggregates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("computed_at", _TIME, nullable=False),
        sa.Column("window_start", _TIME, nullable=False),
        sa.Column("window_end", _TIME, nullable=False),
        sa.Column("baseline_start", _TIME, nullable=False),
        sa.Column("baseline_end", _TIME, nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("uncataloged", sa.Integer(), nullable=False),
        sa.Column("drift_score", sa.Float(), nullable=True),
        sa.Column("drifted", sa.Boolean(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_failure_aggregates"),
    )
    op.create_index("ix_failure_aggregates_window_end", "failure_aggregates", ["window_end"])
    op.create_index("ix_failure_patterns_first_seen", "failure_patterns", ["first_seen"])


def downgrade() -> None:
    op.drop_index("ix_failure_patterns_first_seen", table_name="failure_patterns")
    op.drop_index("ix_failure_aggregates_window_end", table_name="failure_aggregates")
    op.drop_table("failure_aggregates")
