"""A database stopped under a running receiver (a private PostgreSQL cluster — never the shared
server): requests get retryable answers, /readyz says why, and once the database is back the
SDK exporters' own retries deliver — nothing acknowledged is missing."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import grpc
import pytest

from tests.collector_receiver.otlp._helpers import exception_event, resource, span, trace_request
from tests.e2e._receiver import ReceiverProcess, http_get, http_post, running_receiver
from tests.e2e._support import (
    agent_report,
    metric_sum,
    scrape,
    start_agent,
    stored_failures,
)
from tests.support.pg_cluster import PrivateCluster, private_postgres

pytestmark = pytest.mark.slow

PROTOBUF = {"Content-Type": "application/x-protobuf"}
TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    with private_postgres() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def receiver(
    cluster: PrivateCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReceiverProcess]:
    directory = tmp_path_factory.mktemp("receiver")
    with running_receiver(cluster.url, directory / "receiver.log") as process:
        yield process


def _failure(service: str) -> bytes:
    spans = [
        span(
            "call",
            trace_id=secrets.token_bytes(16),
            span_id=secrets.token_bytes(8),
            events=[exception_event("ConnectionError", "db down")],
        )
    ]
    return trace_request(spans, res=resource(service)).SerializeToString()


def test_outage_answers_retryably_and_sdk_retries_deliver_everything(
    receiver: ReceiverProcess, cluster: PrivateCluster
) -> None:
    url = f"{receiver.http_endpoint}/v1/traces"
    assert http_post(url, _failure("svc-before"), PROTOBUF)[0] == 200

    cluster.stop("fast")
    try:
        status, headers, body = http_post(url, _failure("svc-during"), PROTOBUF)
        assert status == 503, body
        assert int(headers["Retry-After"]) > 0
        with grpc.insecure_channel(receiver.grpc_endpoint) as channel:
            with pytest.raises(grpc.RpcError) as unavailable:
                channel.unary_unary(TRACE_EXPORT)(_failure("svc-during"), timeout=20)
        assert unavailable.value.code() == grpc.StatusCode.UNAVAILABLE
        ready_status, ready_body = http_get(f"{receiver.api_url}/readyz")
        assert ready_status == 503
        assert b"database" in ready_body
        assert metric_sum(scrape(receiver.api_url), "failcat_ready") == 0
        assert http_get(f"{receiver.api_url}/healthz")[0] == 200
        receiver.wait_for_event("database_unavailable")

        agents = [
            start_agent(
                [job],
                grpc_endpoint=receiver.grpc_endpoint,
                http_endpoint=receiver.http_endpoint,
                extra=["--timeout", "60"],
            )
            for job in ("http:traces:svc-sdk-http:4", "grpc:traces:svc-sdk-grpc:4")
        ]
        # Both exporters meet 503 / UNAVAILABLE (two more persist errors) before it comes back.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            samples = scrape(receiver.api_url)
            if metric_sum(samples, "failcat_persist_errors_total", reason="unavailable") >= 4:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the SDK exporters never met the outage")
    finally:
        cluster.start()
    reports = [agent_report(agent) for agent in agents]
    for report in reports:
        assert report["ok"], report["stderr"]

    rows = stored_failures(receiver.db_url)
    exported = {(f["service"], f["trace_id"], f["span_id"]) for r in reports for f in r["failures"]}
    stored = {(r["service_name"], r["trace_id"], r["span_id"]) for r in rows}
    assert exported <= stored
    assert {r["service_name"] for r in rows} == {"svc-before", "svc-sdk-http", "svc-sdk-grpc"}
    assert len(rows) == len(exported) + 1

    receiver.wait_for_event("database_recovered")
    assert http_get(f"{receiver.api_url}/readyz")[0] == 200
    samples = scrape(receiver.api_url)
    assert metric_sum(samples, "failcat_ready") == 1
    assert metric_sum(samples, "failcat_persist_errors_total", reason="unavailable") >= 4
    assert metric_sum(samples, "failcat_failures_total") == len(rows)
