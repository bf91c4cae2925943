"""failcat through a real PgBouncer in transaction pooling mode, the database URL ending in
``?prepare_threshold=none``: ``failcat db upgrade`` migrates an empty database, ``failcat serve``
stores each failure real SDK exporters deliver exactly once, the query API, ``failcat
failures``, ``failcat aggregate --store`` and ``failcat db prune`` work beside it. Without the
setting, two clients sharing one server connection collide on psycopg's prepared statement
names; with it they do not. The prune lock still lets one prune at a time through the pooler,
where a session lock is taken and released on whichever server connection is free."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from collector_receiver.store import FailureStore, StoreError, upgrade
from collector_receiver.store.retention import WAITING, one_at_a_time
from collector_receiver.timeparse import utc_now
from tests.collector_receiver.store._helpers import failure
from tests.e2e._pgbouncer import running_pgbouncer
from tests.e2e._receiver import FAILCAT, http_get, running_receiver
from tests.e2e._support import agent_report, database, start_agent, stored_failures

pytestmark = pytest.mark.slow

JOBS = ["grpc:traces:svc-grpc:30", "http:traces:svc-http:30", "http:logs:svc-logs:15"]
OLD = 300


@pytest.fixture
def direct_url(tmp_path: Path) -> Iterator[str]:
    """A fresh database on the test server, reached directly (for reading back)."""
    with database("postgresql", tmp_path) as url:
        yield url


def failcat(*args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("FAILCAT_", "OTEL_"))}
    return subprocess.run(
        [FAILCAT, *args], capture_output=True, text=True, env=environ, timeout=120, check=False
    )


def _write_old(url: str) -> None:
    store = FailureStore.from_url(url)
    at = utc_now() - timedelta(days=40)
    try:
        for first in range(0, OLD, 20):  # many transactions: enough runs to prepare
            batch = range(first, first + 20)
            store.write_batch([failure(n, occurred_at=at - timedelta(seconds=n)) for n in batch])
    finally:
        store.close()


def _all_api_failures(api_url: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = ""
    while True:
        status, body = http_get(f"{api_url}/api/v1/failures?limit=50{cursor}")
        assert status == 200, body
        page = json.loads(body)
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        cursor = f"&cursor={page['next_cursor']}"


def test_serve_db_and_queries_through_pgbouncer_store_each_failure_once(
    direct_url: str, tmp_path: Path
) -> None:
    with running_pgbouncer(tmp_path, pool_size=2) as bouncer:
        url = bouncer.url(direct_url, prepare_threshold="none")
        upgraded = failcat("db", "upgrade", "--db", url)
        assert upgraded.returncode == 0, upgraded.stderr
        _write_old(url)
        args = ["--write-batch-size", "10"]  # many write transactions, few server connections
        with running_receiver(url, tmp_path / "receiver.log", extra_args=args) as receiver:
            agents = [
                start_agent(
                    JOBS,
                    grpc_endpoint=receiver.grpc_endpoint,
                    http_endpoint=receiver.http_endpoint,
                    extra=["--batch", "5"],
                )
                for _ in range(2)
            ]
            reports = [agent_report(agent) for agent in agents]
            api_items = _all_api_failures(receiver.api_url)
            first_trace = str(reports[0]["failures"][0]["trace_id"])
            status, body = http_get(f"{receiver.api_url}/api/v1/traces/{first_trace}/failures")
            assert status == 200, body
            trace_items = json.loads(body)["items"]
            pruned = failcat("db", "prune", "--older-than", "30d", "--db", url)
            again = failcat("db", "upgrade", "--db", url)
            listed = failcat("failures", "--db", url, "--json", "--limit", "500")
            aggregated = failcat("aggregate", "--db", url, "--json", "--store")
        events = [event["event"] for event in receiver.log_events()]

    for report in reports:
        assert report["ok"], report["stderr"]
    assert "write_failed" not in events and "database_unavailable" not in events, events
    delivered = [(f["trace_id"], f["span_id"]) for r in reports for f in r["failures"]]
    assert len(delivered) == len(set(delivered)) == 2 * 75
    # Every delivered failure stored exactly once, the old ones pruned.
    rows = stored_failures(direct_url)
    assert sorted((row["trace_id"], row["span_id"]) for row in rows) == sorted(delivered)
    # The query API answered every page through the pooler (before the prune: old ones too).
    assert len(api_items) == len(delivered) + OLD
    assert {item["trace_id"] for item in trace_items} == {first_trace}
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.startswith(f"deleted {OLD} failures, 1 pattern"), pruned.stdout
    assert again.returncode == 0 and "revision" in again.stdout, again.stderr
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["items"]) == len(delivered)
    assert aggregated.returncode == 0, aggregated.stderr
    assert json.loads(aggregated.stdout)["totals"]["failures"] == len(delivered)


def _two_stores_take_turns(url: str) -> None:
    """Two stores (two receivers, or a receiver and a ``failcat db prune``) write in turns."""
    first, second = FailureStore.from_url(url), FailureStore.from_url(url)
    try:
        for n in range(10):
            for offset, store in ((0, first), (1, second)):
                store.write_batch([failure(2 * n + offset)])
    finally:
        first.close()
        second.close()


def test_prepared_statements_are_what_collides_behind_transaction_pooling(
    direct_url: str, tmp_path: Path
) -> None:
    upgrade(direct_url)
    # One server connection: both clients' statements land on it, so the collision is certain.
    with running_pgbouncer(tmp_path, pool_size=1) as bouncer:
        with pytest.raises(StoreError, match=r'prepared statement "_pg3_0" already exists') as err:
            _two_stores_take_turns(bouncer.url(direct_url))
        # The one-line reason says what to do about it.
        assert str(err.value).endswith("end the database URL with ?prepare_threshold=none")
        _two_stores_take_turns(bouncer.url(direct_url, prepare_threshold="none"))
    assert len(stored_failures(direct_url)) == 20


def test_one_prune_at_a_time_through_pgbouncer(direct_url: str, tmp_path: Path) -> None:
    upgrade(direct_url)
    with running_pgbouncer(tmp_path, pool_size=2) as bouncer:
        store = FailureStore.from_url(bouncer.url(direct_url, prepare_threshold="none"))
        holding, release = threading.Event(), threading.Event()

        def first_prune() -> None:
            with one_at_a_time(store.engine):
                holding.set()
                release.wait(60)

        holder = threading.Thread(target=first_prune)
        holder.start()
        try:
            assert holding.wait(30)
            stages: list[str] = []

            class GaveUp(Exception):
                pass

            def give_up(stage: str, _done: int) -> None:
                stages.append(stage)
                raise GaveUp

            # A session lock would be free here: taken and released on one server connection,
            # it is asked for again on whichever one PgBouncer hands over (often the same,
            # where a session's own lock is granted again).
            with pytest.raises(GaveUp), one_at_a_time(store.engine, give_up):
                pass
            assert stages == [WAITING]
        finally:
            release.set()
            holder.join(30)
        with one_at_a_time(store.engine, give_up):  # released: granted without waiting
            pass
        assert stages == [WAITING]
        store.close()
