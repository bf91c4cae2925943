"""``failcat serve --retention 30d``: prunes at start and again every interval, while real SDK
exporters keep delivering; every failure they delivered is stored, nothing older than the cutoff
stays, on SQLite and on PostgreSQL (partitioned: the old month is dropped whole)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from collector_receiver.store import upgrade
from tests.collector_receiver.store._helpers import write_days_ago
from tests.e2e._receiver import ReceiverProcess, running_receiver
from tests.e2e._support import agent_report, database, start_agent, stored_failures

pytestmark = pytest.mark.slow

JOBS = ["grpc:traces:svc-grpc:40", "http:traces:svc-http:40", "http:logs:svc-logs:20"]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as url:
        upgrade(url)
        # Beyond the cutoff by 10 days (PostgreSQL: most likely a month that ends before it)
        # and by one day (the month the cutoff falls in, deleted row by row).
        write_days_ago(url, 0, 40, 1_500)
        write_days_ago(url, 10_000, 31, 700)
        yield url


def _pruned(receiver: ReceiverProcess) -> list[dict[str, object]]:
    return [e for e in receiver.log_events() if e["event"] == "retention_pruned"]


def test_a_running_receiver_prunes_while_it_keeps_ingesting(url: str, tmp_path: Path) -> None:
    args = ["--retention", "30d", "--retention-interval", "1s"]
    with running_receiver(url, tmp_path / "receiver.log", extra_args=args) as receiver:
        agent = start_agent(
            JOBS, grpc_endpoint=receiver.grpc_endpoint, http_endpoint=receiver.http_endpoint
        )
        first = receiver.wait_for_event("retention_pruned", timeout=60)
        # Old failures arriving while it runs (a sender days behind) go at a later run.
        write_days_ago(url, 20_000, 45, 300)
        report = agent_report(agent)
        runs = len(_pruned(receiver))
        receiver.wait_for_event("retention_pruned", count=runs + 2, timeout=60)

    assert report["ok"], report["stderr"]
    assert first["failures"] == 2_200
    # The late ones, each deleted by exactly one of the later runs.
    assert sum(int(str(event["failures"])) for event in _pruned(receiver)[1:]) == 300
    # Exactly what the exporters delivered: nothing of theirs pruned, nothing old left.
    rows = stored_failures(url)
    delivered = {(f["trace_id"], f["span_id"]) for f in report["failures"]}
    assert {(row["trace_id"], row["span_id"]) for row in rows} == delivered
    assert len(rows) == len(report["failures"]) == 100
