"""Real serialized OTLP bodies sent by a plain HTTP client (and a raw gRPC channel) to a
``failcat serve`` process: protobuf, JSON and gzip are stored; duplicates once; malformed,
oversized and wrongly typed requests get the right status and reason, and the service stays up."""

from __future__ import annotations

import gzip
import json
import secrets
from collections.abc import Iterator

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.collector_receiver.otlp._helpers import (
    exception_event,
    otlp_json,
    resource,
    span,
    trace_request,
)
from tests.e2e._receiver import ReceiverProcess, http_get, http_post, running_receiver
from tests.e2e._support import metric_sum, scrape, stored_failures

pytestmark = pytest.mark.slow

LIMIT = 100_000
PROTOBUF = {"Content-Type": "application/x-protobuf"}
TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverProcess]:
    directory = tmp_path_factory.mktemp("receiver")
    with running_receiver(
        f"sqlite:///{directory / 'failcat.db'}",
        directory / "receiver.log",
        extra_args=["--max-request-bytes", str(LIMIT)],
    ) as process:
        yield process


def _failing_request(service: str, count: int = 1) -> tuple[ExportTraceServiceRequest, str]:
    trace_id = secrets.token_bytes(16)
    spans = [
        span(
            f"step-{i}",
            trace_id=trace_id,
            span_id=secrets.token_bytes(8),
            events=[exception_event("ValueError", f"bad value {i}")],
        )
        for i in range(count)
    ]
    spans.append(span("healthy", trace_id=trace_id, span_id=secrets.token_bytes(8)))
    return trace_request(spans, res=resource(service)), trace_id.hex()


def _rows_of(receiver: ReceiverProcess, service: str) -> list[dict[str, object]]:
    return [r for r in stored_failures(receiver.db_url) if r["service_name"] == service]


def test_protobuf_is_stored_and_answered_in_protobuf(receiver: ReceiverProcess) -> None:
    request, trace_id = _failing_request("svc-protobuf", count=2)
    status, headers, body = http_post(
        f"{receiver.http_endpoint}/v1/traces", request.SerializeToString(), PROTOBUF
    )
    assert status == 200
    assert headers["Content-Type"].startswith("application/x-protobuf")
    response = ExportTraceServiceResponse.FromString(body)
    assert response.partial_success.rejected_spans == 0
    rows = _rows_of(receiver, "svc-protobuf")
    assert [r["trace_id"] for r in rows] == [trace_id, trace_id]


def test_json_with_uppercase_hex_ids_is_stored_and_answered_in_json(
    receiver: ReceiverProcess,
) -> None:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "svc-json"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": trace_id.upper(),
                                "spanId": span_id.upper(),
                                "name": "call",
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000000100000000",
                                "events": [
                                    {
                                        "name": "exception",
                                        "timeUnixNano": "1700000000050000000",
                                        "attributes": [
                                            {
                                                "key": "exception.type",
                                                "value": {"stringValue": "KeyError"},
                                            }
                                        ],
                                    }
                                ],
                            }
                        ]
                    }
                ],
            }
        ]
    }
    status, headers, answer = http_post(
        f"{receiver.http_endpoint}/v1/traces",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 200, answer
    assert headers["Content-Type"].startswith("application/json")
    assert isinstance(json.loads(answer), dict)
    rows = _rows_of(receiver, "svc-json")
    assert [(r["trace_id"], r["span_id"]) for r in rows] == [(trace_id, span_id)]


def test_gzip_body_is_inflated_and_stored(receiver: ReceiverProcess) -> None:
    request, trace_id = _failing_request("svc-gzip")
    status, _, _ = http_post(
        f"{receiver.http_endpoint}/v1/traces",
        gzip.compress(request.SerializeToString()),
        {**PROTOBUF, "Content-Encoding": "gzip"},
    )
    assert status == 200
    assert [r["trace_id"] for r in _rows_of(receiver, "svc-gzip")] == [trace_id]


def test_the_same_request_delivered_twice_is_stored_once(receiver: ReceiverProcess) -> None:
    request, _ = _failing_request("svc-twice", count=3)
    for _ in range(2):
        status, _, _ = http_post(
            f"{receiver.http_endpoint}/v1/traces", request.SerializeToString(), PROTOBUF
        )
        assert status == 200
    assert len(_rows_of(receiver, "svc-twice")) == 3


def test_bad_items_are_rejected_by_partial_success_and_the_good_stored(
    receiver: ReceiverProcess,
) -> None:
    request, trace_id = _failing_request("svc-partial")
    bad = span("broken", trace_id=b"\x01\x02\x03", events=[exception_event("ValueError", "x")])
    request.resource_spans[0].scope_spans[0].spans.append(bad)
    status, _, body = http_post(
        f"{receiver.http_endpoint}/v1/traces", request.SerializeToString(), PROTOBUF
    )
    assert status == 200
    partial = ExportTraceServiceResponse.FromString(body).partial_success
    assert partial.rejected_spans == 1
    assert "trace_id" in partial.error_message
    assert [r["trace_id"] for r in _rows_of(receiver, "svc-partial")] == [trace_id]


def test_partial_success_over_grpc_and_json_is_counted_exactly(receiver: ReceiverProcess) -> None:
    def with_a_bad_span(service: str) -> tuple[ExportTraceServiceRequest, str]:
        request, trace_id = _failing_request(service)
        bad = span("broken", span_id=b"\x01", events=[exception_event("ValueError", "x")])
        request.resource_spans[0].scope_spans[0].spans.append(bad)
        return request, trace_id

    rejected_before = metric_sum(
        scrape(receiver.api_url), "failcat_otlp_items_total", outcome="rejected"
    )
    request, grpc_trace = with_a_bad_span("svc-partial-grpc")
    with grpc.insecure_channel(receiver.grpc_endpoint) as channel:
        answer = ExportTraceServiceResponse.FromString(
            channel.unary_unary(TRACE_EXPORT)(request.SerializeToString(), timeout=10)
        )
    assert answer.partial_success.rejected_spans == 1
    assert "span_id" in answer.partial_success.error_message

    request, json_trace = with_a_bad_span("svc-partial-json")
    status, headers, body = http_post(
        f"{receiver.http_endpoint}/v1/traces",
        otlp_json(request),
        {"Content-Type": "application/json"},
    )
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/json")
    partial = json.loads(body)["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 1
    assert "span_id" in partial["errorMessage"]

    assert [r["trace_id"] for r in _rows_of(receiver, "svc-partial-grpc")] == [grpc_trace]
    assert [r["trace_id"] for r in _rows_of(receiver, "svc-partial-json")] == [json_trace]
    samples = scrape(receiver.api_url)
    assert metric_sum(samples, "failcat_otlp_items_total", outcome="rejected") == (
        rejected_before + 2
    )


@pytest.mark.parametrize(
    ("body", "headers", "status", "reason"),
    [
        (b"\xff\xff\xff\xff", PROTOBUF, 400, "not a valid protobuf"),
        (b"{not json", {"Content-Type": "application/json"}, 400, ""),
        (b"x" * (LIMIT + 1), PROTOBUF, 413, "limit"),
        (gzip.compress(b"\x00" * (LIMIT * 20)), {**PROTOBUF, "Content-Encoding": "gzip"}, 413, ""),
        (b"{}", {"Content-Type": "text/plain"}, 415, "content type"),
        (b"{}", {**PROTOBUF, "Content-Encoding": "br"}, 415, "encoding"),
        (b"not gzip", {**PROTOBUF, "Content-Encoding": "gzip"}, 400, "gzip"),
    ],
    ids=["bad-protobuf", "bad-json", "too-large", "gzip-bomb", "text-plain", "brotli", "bad-gzip"],
)
def test_bad_requests_get_their_status_and_reason(
    receiver: ReceiverProcess, body: bytes, headers: dict[str, str], status: int, reason: str
) -> None:
    got, _, answer = http_post(f"{receiver.http_endpoint}/v1/traces", body, headers)
    assert got == status, answer
    assert reason in answer.decode("utf-8", "replace")
    assert len(answer.decode("utf-8", "replace").splitlines()) == 1
    assert receiver.alive()


def test_json_errors_are_answered_in_json(receiver: ReceiverProcess) -> None:
    got, headers, answer = http_post(
        f"{receiver.http_endpoint}/v1/logs", b"[1, 2", {"Content-Type": "application/json"}
    )
    assert got == 400
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(answer)["code"] == 3  # INVALID_ARGUMENT
    assert json.loads(answer)["message"]


def test_grpc_malformed_and_oversized_messages(receiver: ReceiverProcess) -> None:
    with grpc.insecure_channel(
        receiver.grpc_endpoint, options=[("grpc.max_send_message_length", 4 * LIMIT)]
    ) as channel:
        export = channel.unary_unary(TRACE_EXPORT)
        with pytest.raises(grpc.RpcError) as malformed:
            export(b"\xff\xff\xff\xff", timeout=10)
        assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "protobuf" in (malformed.value.details() or "")
        with pytest.raises(grpc.RpcError) as oversized:
            export(b"\x0a" + b"\x00" * (2 * LIMIT), timeout=10)
        assert oversized.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        request, trace_id = _failing_request("svc-grpc-raw")
        answer = ExportTraceServiceResponse.FromString(
            export(request.SerializeToString(), timeout=10)
        )
        assert answer.partial_success.rejected_spans == 0
    assert [r["trace_id"] for r in _rows_of(receiver, "svc-grpc-raw")] == [trace_id]


def test_metrics_endpoint_agrees_with_the_table_after_all_of_it(
    receiver: ReceiverProcess,
) -> None:
    rows = stored_failures(receiver.db_url)
    samples = scrape(receiver.api_url)
    assert metric_sum(samples, "failcat_failures_total") == len(rows)
    assert metric_sum(samples, "failcat_otlp_items_total", outcome="rejected") >= 1
    assert http_get(f"{receiver.api_url}/healthz")[0] == 200
