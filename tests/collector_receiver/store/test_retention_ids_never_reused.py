"""Failure ids are never reused, on either database, even after the newest rows are deleted.

SQLite without ``AUTOINCREMENT`` would give the next failure the id of the newest deleted one
(migration 0005 adds it); a database migrated from 0004 with rows in it keeps its ids and
continues after the largest of them.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from collector_receiver.store import FailureStore, upgrade
from collector_receiver.store._rows import STORE_ONLY_COLUMNS, match_row
from collector_receiver.store.tables import failure_matches
from tests.collector_receiver.store._helpers import failure, stored_rows


def _delete_ids_from(store: FailureStore, first_id: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.delete(failure_matches).where(failure_matches.c.id >= first_id))


def test_ids_keep_growing_after_the_newest_rows_are_deleted(db_url: str) -> None:
    upgrade(db_url)
    store = FailureStore.from_url(db_url)
    try:
        store.write_batch([failure(n) for n in range(1, 6)])
        ids = [row["id"] for row in stored_rows(store)]
        _delete_ids_from(store, ids[2])  # the three newest

        store.write_batch([failure(n) for n in range(6, 8)])

        new_ids = [row["id"] for row in stored_rows(store)][2:]
        assert len(new_ids) == 2
        assert min(new_ids) > max(ids)
    finally:
        store.close()


def test_a_database_migrated_from_0004_keeps_its_ids_and_never_reuses_them(
    sqlite_url: str,
) -> None:
    upgrade(sqlite_url, "0004")
    store = FailureStore.from_url(sqlite_url)
    try:
        # The rows as this tree's store writes them, less the columns 0004 does not have yet.
        received_at = datetime.now(timezone.utc)
        rows = [match_row(failure(n), received_at) for n in range(1, 6)]
        for row in rows:
            for column in STORE_ONLY_COLUMNS:
                del row[column]
        with store.engine.begin() as conn:
            conn.execute(sa.insert(failure_matches), rows)
        before = {row["event_key"]: row["id"] for row in stored_rows(store)}

        upgrade(sqlite_url)

        after = {row["event_key"]: row["id"] for row in stored_rows(store)}
        assert after == before
        _delete_ids_from(store, max(before.values()))
        store.write_batch([failure(9)])
        assert stored_rows(store)[-1]["id"] == max(before.values()) + 1
    finally:
        store.close()
