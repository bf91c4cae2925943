"""SQLite: failure ids are never reused (AUTOINCREMENT on failure_matches.id)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

CONTRACT §5 r2: failure ids are never reused, on either database. On SQLite an ``INTEGER
PRIMARY KEY`` without ``AUTOINCREMENT`` takes the largest id in the table plus one, so once
retention deletes the newest rows (a prune with a cutoff in the future, or every failure being
old) the next failure would get an id a reader has already seen, and a cursor or a link holding
that id would point at a different failure. ``AUTOINCREMENT`` keeps the largest id ever used in
``sqlite_sequence`` instead. SQLite cannot add it to an existing table, so the table is rebuilt
with Alembic's batch mode (copy, drop, rename; the indexes, partial ones included, are created
again); the copy carries the ids, and ``sqlite_sequence`` starts at the largest of them.

PostgreSQL needs nothing: its ids come from a sequence, which never hands out a value twice.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "failure_matches",
        recreate="always",
        table_kwargs={"sqlite_autoincrement": autoincrement},
    ):
        pass


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
