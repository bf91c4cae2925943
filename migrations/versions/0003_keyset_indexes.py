"""failure_matches: the per-service, per-code and per-category indexes end with id

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

The lists of ``/api/v1/failures`` are ordered by ``(occurred_at DESC, id DESC)``. With an index
on ``(service_name, occurred_at)`` alone PostgreSQL has to finish the order with a sort, and its
planner then often prefers walking ``(occurred_at, id)`` newest first and filtering by service:
cheap for a busy service, but for one that was quiet lately it reads every newer row of every
other service before it has a page (``benchmarks/bench_query_latency.py``). Ending each of the
three indexes with ``id`` gives the exact order of the list, so a first page, and every page
after a cursor, is the next ``limit + 1`` entries of one index. Each replaces the two-column
index it extends (which serves no query the new one does not), so a write still maintains the
same number of indexes.

Building an index takes a lock that holds back writes while it runs (seconds per index at a
million rows); the receiver runs this migration when it starts, before it accepts traffic.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COLUMNS = ("service_name", "code", "category")


def upgrade() -> None:
    for column in _COLUMNS:
        op.create_index(
            f"ix_failure_matches_{column}_occurred_at_id",
            "failure_matches",
            [column, "occurred_at", "id"],
        )
        op.drop_index(f"ix_failure_matches_{column}_occurred_at", table_name="failure_matches")


def downgrade() -> None:
    for column in _COLUMNS:
        op.create_index(
            f"ix_failure_matches_{column}_occurred_at", "failure_matches", [column, "occurred_at"]
        )
        op.drop_index(f"ix_failure_matches_{column}_occurred_at_id", table_name="failure_matches")
