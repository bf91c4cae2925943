"""``failcat serve --workers 2 --retention 30d`` on PostgreSQL: the parent prunes, the workers
never do; the old failures go, everything real SDK exporters delivered through the workers stays.

Every receiver that runs retention logs one line for its first run (``retention_pruned``,
``retention_failed`` or ``retention_interrupted``) before it exits, since stopping waits for
that run; the processes share one log. So with the default interval (an hour: one run each
during the test) the finished log holds exactly one such line per pruning process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from collector_receiver.store import upgrade
from tests.collector_receiver.store._helpers import write_days_ago
from tests.e2e._receiver import running_receiver
from tests.e2e._support import run_agent, stored_failures

pytestmark = pytest.mark.slow

JOBS = ["grpc:traces:svc-grpc:30", "http:traces:svc-http:30", "http:logs:svc-logs:10"]


def test_only_the_parent_of_the_workers_prunes(postgres_url: str, tmp_path: Path) -> None:
    upgrade(postgres_url)
    write_days_ago(postgres_url, 0, 45, 600)  # a month that ends before the cutoff: dropped whole
    write_days_ago(postgres_url, 10_000, 31, 200)  # the month the cutoff falls in: row by row
    args = ["--workers", "2", "--retention", "30d"]
    with running_receiver(postgres_url, tmp_path / "receiver.log", extra_args=args) as receiver:
        pruned = receiver.wait_for_event("retention_pruned", timeout=60)
        report = run_agent(
            JOBS, grpc_endpoint=receiver.grpc_endpoint, http_endpoint=receiver.http_endpoint
        )
    events = receiver.log_events()  # complete: the parent and both workers have exited

    assert report["ok"], report["stderr"]
    assert sorted(str(e["worker"]) for e in events if e["event"] == "worker_started") == ["1", "2"]
    runs = [e for e in events if str(e["event"]).startswith("retention_")]
    assert runs == [pruned]  # the parent's; a worker's run would be a line of its own
    assert pruned["failures"] == 800
    # Nothing the workers stored was pruned, nothing old is left.
    rows = stored_failures(postgres_url)
    delivered = sorted((f["trace_id"], f["span_id"]) for f in report["failures"])
    assert sorted((row["trace_id"], row["span_id"]) for row in rows) == delivered
    assert len(delivered) == 70
