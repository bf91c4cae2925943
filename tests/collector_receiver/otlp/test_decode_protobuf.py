"""Protobuf bodies decode to the signal's Export*ServiceRequest; garbage is a DecodeError."""

from __future__ import annotations

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from collector_receiver.otlp import DecodeError, UnsupportedMediaType, decode_request
from tests.collector_receiver.otlp._helpers import exception_event, span, trace_request


@pytest.mark.parametrize(
    "content_type",
    ["application/x-protobuf", "application/protobuf", "Application/X-Protobuf; charset=binary"],
)
def test_protobuf_content_types_decode(content_type: str) -> None:
    request = trace_request([span(events=[exception_event()])])

    decoded = decode_request("traces", request.SerializeToString(), content_type)

    assert isinstance(decoded, ExportTraceServiceRequest)
    assert decoded == request


@pytest.mark.parametrize(
    ("signal", "message_type"),
    [
        ("traces", ExportTraceServiceRequest),
        ("logs", ExportLogsServiceRequest),
        ("metrics", ExportMetricsServiceRequest),
    ],
)
def test_each_signal_gets_its_request_type_and_empty_bodies_are_empty_requests(
    signal: str, message_type: type
) -> None:
    decoded = decode_request(signal, b"", "application/x-protobuf")  # type: ignore[arg-type]

    assert isinstance(decoded, message_type)


def test_malformed_protobuf_is_a_one_line_decode_error() -> None:
    body = trace_request([span()]).SerializeToString()[:-7]

    with pytest.raises(DecodeError) as caught:
        decode_request("traces", body, "application/x-protobuf")

    assert str(caught.value) == "body is not a valid protobuf ExportTraceServiceRequest"
    assert not isinstance(caught.value, UnsupportedMediaType)


def test_invalid_utf8_in_a_string_field_is_a_decode_error() -> None:
    # field 1 (resource_spans) > field 2 (scope_spans) > field 2 (spans) > field 5 (name)
    span_bytes = b"\x2a\x02\xff\xfe"
    scope_spans = b"\x12" + bytes([len(span_bytes)]) + span_bytes
    resource_spans = b"\x12" + bytes([len(scope_spans)]) + scope_spans
    body = b"\x0a" + bytes([len(resource_spans)]) + resource_spans

    with pytest.raises(DecodeError):
        decode_request("traces", body, "application/x-protobuf")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "", "application/grpc", "application/jsonx", "multipart/form"]
)
def test_other_content_types_are_unsupported(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType, match=r"content type .* is not supported"):
        decode_request("traces", b"", content_type)


def test_unknown_signal_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown OTLP signal"):
        decode_request("profiles", b"", "application/x-protobuf")  # type: ignore[arg-type]
