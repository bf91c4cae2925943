"""A read after the server dropped the pool's connections succeeds: the pool's pre-ping.

The query API and the writer share one engine (``_engine.create_store_engine``), and
``pool_pre_ping`` is a setting of the whole pool, so it stays on for reads too: without it, the
first read after a database restart (or an idle-session timeout, or a failover) would meet the
dead connection and answer 503 once per pooled connection. What it costs a read — one round
trip of the two — is measured in ``_engine``'s comment.

The sessions are ended with ``pg_terminate_backend`` on this test's own database only, so the
shared server and other tests are not touched.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from collector_receiver.store.queries import FailureQueries
from tests.collector_receiver.store._inspection_data import failure, minutes_ago, seed

TRACE = "d" * 32


@pytest.fixture
def queries(postgres_url: str) -> Iterator[FailureQueries]:
    seed(postgres_url, [failure(minutes_ago(m), "TIMEOUT", "planner", TRACE, None) for m in (1, 2)])
    reader = FailureQueries.from_url(postgres_url)
    yield reader
    reader.close()


def _terminate_sessions_of(url: str) -> int:
    """End every other session on ``url``'s database; how many there were."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database()"
        ).fetchall()
    return len(rows)


def test_a_read_after_the_server_ended_the_pooled_sessions_succeeds(
    queries: FailureQueries, postgres_url: str
) -> None:
    assert len(queries.failures_for_trace(TRACE)) == 2  # leaves a connection in the pool
    pooled = queries.engine.pool.checkedin()  # type: ignore[attr-defined]
    assert pooled >= 1

    assert _terminate_sessions_of(postgres_url) >= pooled

    assert len(queries.failures_for_trace(TRACE)) == 2
    page = queries.list_failures(service="planner")
    assert [item.trace_id for item in page.items] == [TRACE, TRACE]
