"""Export*ServiceResponse with partial success, in the request's content type."""

from __future__ import annotations

import json

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from collector_receiver.otlp import UnsupportedMediaType, encode_response


def test_full_success_is_an_empty_message() -> None:
    assert encode_response("traces", 0, "", "application/x-protobuf") == b""
    assert json.loads(encode_response("traces", 0, "", "application/json")) == {}


@pytest.mark.parametrize(
    ("signal", "response_type", "field"),
    [
        ("traces", ExportTraceServiceResponse, "rejected_spans"),
        ("logs", ExportLogsServiceResponse, "rejected_log_records"),
        ("metrics", ExportMetricsServiceResponse, "rejected_data_points"),
    ],
)
def test_partial_success_in_protobuf(signal: str, response_type: type, field: str) -> None:
    body = encode_response(signal, 3, "3 rejected: bad ids", "application/x-protobuf")  # type: ignore[arg-type]

    response = response_type.FromString(body)

    assert response.HasField("partial_success")
    assert getattr(response.partial_success, field) == 3
    assert response.partial_success.error_message == "3 rejected: bad ids"


@pytest.mark.parametrize(
    ("signal", "key"),
    [
        ("traces", "rejectedSpans"),
        ("logs", "rejectedLogRecords"),
        ("metrics", "rejectedDataPoints"),
    ],
)
def test_partial_success_in_json_uses_camel_case_and_int64_strings(signal: str, key: str) -> None:
    body = encode_response(signal, 2, "why", "application/json; charset=utf-8")  # type: ignore[arg-type]

    assert json.loads(body) == {"partialSuccess": {key: "2", "errorMessage": "why"}}


def test_a_warning_without_rejections_is_still_sent() -> None:
    body = encode_response("logs", 0, "catalog reloading", "application/json")

    assert json.loads(body) == {"partialSuccess": {"errorMessage": "catalog reloading"}}


def test_unsupported_content_type_is_refused() -> None:
    with pytest.raises(UnsupportedMediaType):
        encode_response("traces", 0, "", "text/plain")
