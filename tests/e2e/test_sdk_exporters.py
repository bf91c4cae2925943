"""Agents using the real OTel SDK exporters (gRPC and HTTP, spans and logs, gzip) against a
``failcat serve`` process, on SQLite and on PostgreSQL: the stored rows carry exactly the trace
and span ids the SDK exported, and ``/metrics`` agrees with the table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e._receiver import ReceiverProcess, http_get, running_receiver
from tests.e2e._support import database, metric_sum, run_agent, scrape, stored_failures

pytestmark = pytest.mark.slow

JOBS = {
    "grpc:traces:svc-grpc-spans:4": "span_event",
    "http:traces:svc-http-spans:5": "span_event",
    "grpc:logs:svc-grpc-logs:3": "log_record",
    "http:logs:svc-http-logs:2": "log_record",
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def receiver(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReceiverProcess]:
    directory = tmp_path_factory.mktemp("receiver")
    with (
        database(request.param, directory) as url,
        running_receiver(url, directory / "receiver.log") as process,
    ):
        yield process


@pytest.fixture(scope="module")
def agent_report(receiver: ReceiverProcess) -> dict[str, Any]:
    plain = run_agent(
        list(JOBS), grpc_endpoint=receiver.grpc_endpoint, http_endpoint=receiver.http_endpoint
    )
    gzipped = run_agent(
        ["grpc:traces:svc-grpc-gzip:2", "http:traces:svc-http-gzip:2"],
        grpc_endpoint=receiver.grpc_endpoint,
        http_endpoint=receiver.http_endpoint,
        extra=["--gzip"],
    )
    assert plain["ok"], plain["stderr"]
    assert gzipped["ok"], gzipped["stderr"]
    return {
        "failures": plain["failures"] + gzipped["failures"],
        "delivered": {
            signal: plain["delivered"][signal] + gzipped["delivered"][signal]
            for signal in ("traces", "logs")
        },
    }


def test_rows_carry_exactly_the_ids_the_sdk_exported(
    receiver: ReceiverProcess, agent_report: dict[str, Any]
) -> None:
    rows = stored_failures(receiver.db_url)
    exported = {(f["service"], f["trace_id"], f["span_id"]) for f in agent_report["failures"]}
    stored = {(r["service_name"], r["trace_id"], r["span_id"]) for r in rows}
    assert stored == exported
    assert len(rows) == len(agent_report["failures"])  # one row per failure, none twice


def test_each_signal_is_stored_with_its_source_and_details(
    receiver: ReceiverProcess, agent_report: dict[str, Any]
) -> None:
    rows = stored_failures(receiver.db_url)
    sources = {r["service_name"]: r["source"] for r in rows}
    for job, source in JOBS.items():
        assert sources[job.split(":")[2]] == source
    for row in rows:
        assert row["exception_type"], row
        assert row["stacktrace"], row  # the SDK sends the real traceback
        assert len(row["fingerprint"]) == 32
        assert row["code"]


def test_metrics_agree_with_the_table(
    receiver: ReceiverProcess, agent_report: dict[str, Any]
) -> None:
    rows = stored_failures(receiver.db_url)
    samples = scrape(receiver.api_url)
    per_service = Counter(r["service_name"] for r in rows)
    for service, count in per_service.items():
        assert metric_sum(samples, "failcat_failures_total", service_name=service) == count
    assert metric_sum(samples, "failcat_failures_total") == len(rows)
    uncataloged = sum(1 for r in rows if r["code"] == "UNCATALOGED")
    assert metric_sum(samples, "failcat_uncataloged_total") == uncataloged
    # every span and log record the agents delivered (failing or not) was counted as accepted
    delivered = agent_report["delivered"]
    for signal in ("traces", "logs"):
        accepted = metric_sum(
            samples, "failcat_otlp_items_total", signal=signal, outcome="accepted"
        )
        assert accepted == delivered[signal]
    assert metric_sum(samples, "failcat_otlp_items_total", outcome="rejected") == 0
    assert metric_sum(samples, "failcat_persist_errors_total") == 0


def test_ready_and_healthy(receiver: ReceiverProcess) -> None:
    assert http_get(f"{receiver.api_url}/healthz")[0] == 200
    status, body = http_get(f"{receiver.api_url}/readyz")
    assert status == 200, body
    assert metric_sum(scrape(receiver.api_url), "failcat_ready") == 1
