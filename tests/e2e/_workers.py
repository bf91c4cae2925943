"""What the ``--workers`` tests share: OTLP requests with unique failures, a worker's own
``/metrics`` read over its unix socket, and the accepted-span counter of an exposition."""

from __future__ import annotations

import http.client
import secrets
import socket

from prometheus_client.parser import text_string_to_metric_families

from tests.collector_receiver.otlp._helpers import exception_event, resource, span, trace_request
from tests.e2e._receiver import ReceiverProcess, http_post

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def failing_request(spans: int) -> tuple[bytes, set[str]]:
    """A trace request of ``spans`` spans, each with its own exception event; and its trace ids."""
    trace_ids = [secrets.token_bytes(16) for _ in range(spans)]
    body = trace_request(
        [
            span(
                "tool",
                trace_id=trace_id,
                span_id=secrets.token_bytes(8),
                events=[exception_event("acme.ToolError", f"broke {secrets.token_hex(4)}")],
            )
            for trace_id in trace_ids
        ],
        res=resource("workers-e2e"),
    ).SerializeToString()
    return body, {trace_id.hex() for trace_id in trace_ids}


def post_traces(receiver: ReceiverProcess, body: bytes) -> int:
    """POST one request on a new connection (so the kernel may pick either worker)."""
    status, _, _ = http_post(f"{receiver.http_endpoint}/v1/traces", body, PROTOBUF)
    return status


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=10)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self._path)


def worker_exposition(socket_path: str) -> str:
    connection = _UnixConnection(socket_path)
    try:
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        assert response.status == 200
        return response.read().decode("utf-8")
    finally:
        connection.close()


def accepted_spans(exposition: str) -> float:
    """``failcat_otlp_items_total{signal="traces",outcome="accepted"}`` of an exposition."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "failcat_otlp_items_total" and sample.labels == {
                "signal": "traces",
                "outcome": "accepted",
            }:
                return sample.value
    raise AssertionError("no failcat_otlp_items_total for accepted spans")
