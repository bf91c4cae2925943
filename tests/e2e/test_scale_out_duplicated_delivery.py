"""Two ``failcat serve --workers 2`` on one PostgreSQL database, every request delivered to both.

Four agent processes (the real OTel SDK and its OTLP exporters, :mod:`tests.e2e._scale_out_agent`)
send whole traces, each request to both receivers — over gRPC, over HTTP, or one of each; one
after the other in alternating order, or to both at once — while the four worker processes
write concurrently. Two of the agents run the same service, so their failures share
fingerprints across processes and receivers; some failures have a fingerprint of their own.
Afterwards the database holds exactly one row per failure, each pattern's ``occurrences`` counts
each failure once, and ``gen_ai_operations`` counts each span once: the idempotency of CONTRACT
§4 and §5 holds across a fleet, not only within one receiver.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.e2e._receiver import ReceiverProcess, http_get, start_receiver
from tests.e2e._workers import accepted_spans

pytestmark = pytest.mark.slow

AGENT = Path(__file__).with_name("_scale_out_agent.py")
TRACES = 20
SPANS_PER_TRACE = 6  # invoke_agent, 3 chat, 2 execute_tool
#: (service, protocol to the first receiver, protocol to the second) per agent process.
AGENTS = [
    ("shared-svc", "grpc", "grpc"),
    ("shared-svc", "http", "http"),
    ("billing-svc", "grpc", "http"),
    ("search-svc", "http", "grpc"),
]
#: The GenAI context of each operation name the agent sends, as gen_ai_operations keys it:
#: (provider, model, tool, agent); the agent comes from the invoke_agent ancestor.
CONTEXT = {
    "invoke_agent": (None, None, None, "planner"),
    "chat": ("openai", "gpt-4o", None, "planner"),
    "execute_tool": (None, None, "search", "planner"),
}


def _target(protocol: str, receiver: ReceiverProcess) -> str:
    endpoint = receiver.grpc_endpoint if protocol == "grpc" else receiver.http_endpoint
    return f"{protocol}:{endpoint}"


def _run_agent(number: int, receivers: list[ReceiverProcess]) -> dict[str, Any]:
    service, first, second = AGENTS[number]
    argv = [sys.executable, str(AGENT), "--service", service, "--agent", str(number)]
    argv += ["--traces", str(TRACES)]
    argv += ["--target", _target(first, receivers[0]), "--target", _target(second, receivers[1])]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["ok"], report["results"]
    report["service"] = service
    return report


def _rows(db_url: str, sql: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _short(exception_type: str) -> str:
    return exception_type.rsplit(".", 1)[-1]


def test_two_receivers_of_two_workers_store_each_failure_and_operation_once(
    postgres_url: str, tmp_path: Path
) -> None:
    with ThreadPoolExecutor(2) as pool:  # both migrate the empty database at once
        receivers = list(
            pool.map(
                lambda n: start_receiver(
                    postgres_url, tmp_path / f"receiver-{n}.log", extra_args=["--workers", "2"]
                ),
                range(2),
            )
        )
    try:
        with ThreadPoolExecutor(len(AGENTS)) as pool:
            reports = list(pool.map(lambda n: _run_agent(n, receivers), range(len(AGENTS))))
        for receiver in receivers:  # each receiver was sent every span once
            status, body = http_get(f"{receiver.api_url}/metrics")
            assert status == 200
            assert accepted_spans(body.decode()) == len(AGENTS) * TRACES * SPANS_PER_TRACE
    finally:
        statuses = [receiver.terminate() for receiver in receivers]
    assert statuses == [0, 0], [r.log_text() for r in receivers]

    sent = [(r["service"], f) for r in reports for f in r["failures"]]
    rows = _rows(
        postgres_url,
        "SELECT service_name, trace_id, span_id, exception_type, fingerprint, source, "
        "gen_ai_agent FROM failure_matches",
    )
    assert len(rows) == len(sent) == len(AGENTS) * (TRACES + TRACES // 2 + TRACES // 5)
    assert {
        (r["service_name"], r["trace_id"], r["span_id"], _short(r["exception_type"])) for r in rows
    } == {(service, f["trace_id"], f["span_id"], f["type"]) for service, f in sent}
    # The root's status-only sighting is absorbed by its descendants' exceptions: whole traces
    # reached each receiver, so the lineage rule saw them.
    assert {r["source"] for r in rows} == {"span_event"}
    assert {r["gen_ai_agent"] for r in rows} == {"planner"}

    patterns = _rows(
        postgres_url,
        "SELECT fingerprint, service_name, exception_type, occurrences FROM failure_patterns",
    )
    per_fingerprint = Counter(r["fingerprint"] for r in rows)
    assert {p["fingerprint"]: p["occurrences"] for p in patterns} == per_fingerprint
    expected = Counter((service, f["type"]) for service, f in sent)
    found = Counter((p["service_name"], _short(p["exception_type"])) for p in patterns)
    assert set(found.values()) == {1}  # one pattern per service and kind of failure
    assert {
        (p["service_name"], _short(p["exception_type"])): p["occurrences"] for p in patterns
    } == dict(expected)
    assert expected[("shared-svc", "ConnectionResetError")] == 2 * TRACES  # two processes

    operations = _rows(
        postgres_url,
        "SELECT service_name, gen_ai_operation, gen_ai_provider, gen_ai_model, gen_ai_tool, "
        "gen_ai_agent, sum(operations) AS n FROM gen_ai_operations GROUP BY 1, 2, 3, 4, 5, 6",
    )
    expected_operations: Counter[tuple[Any, ...]] = Counter()
    for report in reports:
        for name, count in report["operations"].items():
            expected_operations[(report["service"], name, *CONTEXT[name])] += count
    assert {
        (
            o["service_name"],
            o["gen_ai_operation"],
            o["gen_ai_provider"],
            o["gen_ai_model"],
            o["gen_ai_tool"],
            o["gen_ai_agent"],
        ): o["n"]
        for o in operations
    } == dict(expected_operations)
    assert expected_operations[("shared-svc", "chat", *CONTEXT["chat"])] == 2 * TRACES * 3
