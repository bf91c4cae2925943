"""A database that goes away yields retryable errors, and nothing acknowledged is lost.

Runs on a private PostgreSQL cluster (tests/support/pg_cluster.py) so the shared server is never
stopped. One cluster serves the whole module; each test leaves it running.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from collector_receiver.store import FailureStore, StoreUnavailable, downgrade, upgrade
from tests.collector_receiver.store._helpers import failure, stored_patterns, stored_rows
from tests.support.pg_cluster import PrivateCluster, private_postgres


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    with private_postgres() as cluster:
        yield cluster


@pytest.fixture
def store(cluster: PrivateCluster) -> Iterator[FailureStore]:
    if not cluster.running:
        cluster.start()
    upgrade(cluster.url)
    store = FailureStore.from_url(cluster.url)
    yield store
    store.close()
    if not cluster.running:
        cluster.start()
    downgrade(cluster.url, "base")


def _terminate_other_sessions(cluster: PrivateCluster) -> int:
    dsn = cluster.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database()"
        ).fetchall()
    return len(rows)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_writes_fail_retryably_while_down_and_resume_after(
    cluster: PrivateCluster, store: FailureStore, mode: str
) -> None:
    acknowledged = store.write_batch([failure(1), failure(2)])
    assert len(acknowledged.inserted) == 2

    cluster.stop(mode)
    with pytest.raises(StoreUnavailable) as on_ping:
        store.ping()
    with pytest.raises(StoreUnavailable) as on_write:
        store.write_batch([failure(3)])
    cluster.start()
    retried = store.write_batch([failure(2), failure(3)])  # a sender retries the whole batch

    assert "\n" not in str(on_ping.value) and "\n" not in str(on_write.value)
    assert [f.event_key for f in retried.inserted] == [failure(3).event_key]
    assert retried.duplicates == 1
    keys = [row["event_key"] for row in stored_rows(store)]
    assert keys == [failure(n).event_key for n in (1, 2, 3)]
    assert stored_patterns(store)["f" * 32]["occurrences"] == 3


def test_pooled_connections_killed_by_the_server_are_replaced(
    cluster: PrivateCluster, store: FailureStore
) -> None:
    store.write_batch([failure(1)])  # leaves a connection in the pool

    assert _terminate_other_sessions(cluster) >= 1
    result = store.write_batch([failure(2)])  # pre-ping notices the dead connection

    assert len(result.inserted) == 1
    store.ping()


def test_a_connection_lost_inside_a_batch_commits_nothing(
    cluster: PrivateCluster, store: FailureStore
) -> None:
    store.write_batch([failure(1)])
    killer_dsn = cluster.url.replace("postgresql+psycopg://", "postgresql://")
    # Hold the pattern row locked so the writer blocks mid-transaction, then kill the writer.
    with psycopg.connect(killer_dsn) as blocker:
        blocker.execute("SELECT 1 FROM failure_patterns FOR UPDATE")
        raised: list[BaseException] = []

        def write() -> None:
            try:
                store.write_batch([failure(2), failure(3)])
            except BaseException as exc:
                raised.append(exc)

        writer = threading.Thread(target=write)
        writer.start()
        with psycopg.connect(killer_dsn, autocommit=True) as admin:
            for _ in range(200):
                waiting = admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                ).fetchall()
                if waiting:
                    break
                writer.join(0.05)
            assert waiting, "the writer never blocked on the locked pattern row"
            admin.execute("SELECT pg_terminate_backend(%s)", (waiting[0][0],))
        writer.join(30)
        blocker.rollback()

    assert len(raised) == 1 and isinstance(raised[0], StoreUnavailable)
    assert [row["event_key"] for row in stored_rows(store)] == [failure(1).event_key]
    retried = store.write_batch([failure(2), failure(3)])
    assert len(retried.inserted) == 2
    assert stored_patterns(store)["f" * 32]["occurrences"] == 3
