"""The prune lock on PostgreSQL: a transaction-scoped advisory lock in a transaction held open
for the prune, which holds back no vacuum (no snapshot), makes a second prune wait, and is gone
once the prune ends, also when the prune fails."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from collector_receiver.store import FailureStore, upgrade
from collector_receiver.store.retention import _PRUNE_LOCK_KEY, WAITING, one_at_a_time
from tests.support.databases import admin_dsn

_HOLDERS = """
SELECT a.state, a.backend_xmin IS NULL AS no_snapshot, l.granted
FROM pg_locks AS l JOIN pg_stat_activity AS a USING (pid)
WHERE l.locktype = 'advisory' AND l.database = (
    SELECT oid FROM pg_database WHERE datname = %s
)
"""


class _GaveUp(Exception):
    pass


@pytest.fixture
def store(postgres_url: str) -> Iterator[FailureStore]:
    upgrade(postgres_url)
    store = FailureStore.from_url(postgres_url)
    yield store
    store.close()


def _holders(store: FailureStore) -> list[tuple[str, bool, bool]]:
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        return [tuple(row) for row in conn.execute(_HOLDERS, (store.engine.url.database,))]


def test_the_held_lock_is_an_idle_transaction_without_a_snapshot(store: FailureStore) -> None:
    with one_at_a_time(store.engine):
        during = _holders(store)
    assert during == [("idle in transaction", True, True)]
    assert _holders(store) == []


def test_granted_after_waiting_it_holds_no_snapshot_either(store: FailureStore) -> None:
    # Another client's session lock; each wait is a transaction of its own on the one
    # connection, the one granted last is kept.
    with psycopg.connect(admin_dsn().rsplit("/", 1)[0] + f"/{store.engine.url.database}") as other:
        other.execute("SELECT pg_advisory_lock(%s)", (_PRUNE_LOCK_KEY,))
        waits: list[str] = []

        def wait_seven_times(stage: str, _done: int) -> None:
            waits.append(stage)
            if len(waits) == 7:
                other.execute("SELECT pg_advisory_unlock(%s)", (_PRUNE_LOCK_KEY,))

        with one_at_a_time(store.engine, wait_seven_times):
            during = _holders(store)
    assert waits == [WAITING] * 7
    assert during == [("idle in transaction", True, True)]


def test_a_second_prune_waits_while_one_holds_the_lock(store: FailureStore) -> None:
    holding, release = threading.Event(), threading.Event()

    def first() -> None:
        with one_at_a_time(store.engine):
            holding.set()
            release.wait(60)

    thread = threading.Thread(target=first)
    thread.start()
    stages: list[str] = []

    def give_up(stage: str, _done: int) -> None:
        stages.append(stage)
        raise _GaveUp

    try:
        assert holding.wait(30)
        with pytest.raises(_GaveUp), one_at_a_time(store.engine, give_up):
            pass
    finally:
        release.set()
        thread.join(30)
    assert stages == [WAITING]
    with one_at_a_time(store.engine, give_up):
        pass
    assert stages == [WAITING]


def test_a_failed_prune_leaves_no_lock(store: FailureStore) -> None:
    with pytest.raises(RuntimeError), one_at_a_time(store.engine):
        raise RuntimeError("the prune failed")
    assert _holders(store) == []
