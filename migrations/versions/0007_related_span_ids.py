"""failure_matches.related_span_ids: a status-only failure's lineage, for the other signal

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

A ``span_status`` failure (a span marked ERROR with ``error.type``, no exception event) keeps the
span ids of its lineage in its request, space-separated, so that an exception log record on one
of those spans, which always arrives in a logs request of its own, is known for the same failure
whichever of the two is stored first (``collector_receiver.store._other_signal``). NULL on every
other row ("" for a status-only failure with no lineage). Adding a nullable column without a
default rewrites no row on either database; on PostgreSQL the partitioned table passes it to
every partition. A partial index on ``trace_id`` holds only those rows: a log record's lookup
reads it, small and so taken by the planner even for a partition without statistics yet, where
the full ``trace_id`` index is passed over for a scan of the partition. Building it reads the
table once (every row's ``related_span_ids`` is NULL, so it is empty); the receiver runs this
migration before it accepts traffic.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


_INDEX = "ix_failure_matches_trace_id_status_only"


def upgrade() -> None:
    op.add_column("failure_matches", sa.Column("related_span_ids", sa.Text(), nullable=True))
    where = sa.text("related_span_ids IS NOT NULL")
    op.create_index(
        _INDEX, "failure_matches", ["trace_id"], postgresql_where=where, sqlite_where=where
    )


def downgrade() -> None:
    op.drop_index(_INDEX, "failure_matches")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column only by rebuilding the table; batch mode keeps AUTOINCREMENT
        # (migration 0005) and the indexes.
        with op.batch_alter_table(
            "failure_matches", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch:
            batch.drop_column("related_span_ids")
        return
    op.drop_column("failure_matches", "related_span_ids")
