"""Builders of real OTLP protobuf messages for the edge's tests.

Each builder returns the generated message classes of ``opentelemetry-proto``; tests serialise
them with ``SerializeToString`` and decode them back through the public API, so the wire format
is never mocked.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status
from opentelemetry.sdk.trace import ReadableSpan

from collector_receiver.events import FailureEvent
from collector_receiver.otlp import decode_request, extract_failures

TRACE_ID = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SPAN_ID = bytes.fromhex("eee19b7ec3c1b174")
T0 = 1_700_000_000_123_456_789
_HEX_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}


def any_value(value: Any) -> AnyValue:
    """A Python value as an AnyValue (bool before int: bool is an int in Python)."""
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[any_value(item) for item in value]))
    if isinstance(value, dict):
        return AnyValue(kvlist_value=KeyValueList(values=key_values(value)))
    raise TypeError(value)


def key_values(attributes: Mapping[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in attributes.items()]


def exception_event(
    exc_type: str | None = "ValueError",
    message: str | None = "bad value 42",
    stacktrace: str | None = 'Traceback (most recent call last):\n  File "app.py", line 3',
    *,
    name: str = "exception",
    time: int = T0,
    **extra: Any,
) -> Span.Event:
    attributes: dict[str, Any] = {}
    if exc_type is not None:
        attributes["exception.type"] = exc_type
    if message is not None:
        attributes["exception.message"] = message
    if stacktrace is not None:
        attributes["exception.stacktrace"] = stacktrace
    attributes.update({key.replace("__", "."): value for key, value in extra.items()})
    return Span.Event(name=name, time_unix_nano=time, attributes=key_values(attributes))


def span(
    name: str = "work",
    *,
    events: Sequence[Span.Event] = (),
    attributes: Mapping[str, Any] | None = None,
    status_code: int = 0,
    status_message: str = "",
    trace_id: bytes = TRACE_ID,
    span_id: bytes = SPAN_ID,
    start: int = T0 - 1_000,
    end: int = T0 + 1_000,
) -> Span:
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        name=name,
        start_time_unix_nano=start,
        end_time_unix_nano=end,
        attributes=key_values(attributes or {}),
        events=list(events),
        status=Status(code=status_code, message=status_message),  # type: ignore[arg-type]
    )


def resource(service: str | None = "checkout-agent", **extra: Any) -> Resource:
    attributes: dict[str, Any] = {}
    if service is not None:
        attributes["service.name"] = service
    attributes.update({key.replace("__", "."): value for key, value in extra.items()})
    return Resource(attributes=key_values(attributes))


def trace_request(
    spans: Iterable[Span], *, res: Resource | None = None, scope: str = "agent.scope"
) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=res if res is not None else resource(),
                scope_spans=[ScopeSpans(scope=InstrumentationScope(name=scope), spans=list(spans))],
            )
        ]
    )


def log_record(
    attributes: Mapping[str, Any],
    *,
    time: int = T0,
    observed: int = 0,
    trace_id: bytes = b"",
    span_id: bytes = b"",
    body: str = "something failed",
) -> LogRecord:
    return LogRecord(
        time_unix_nano=time,
        observed_time_unix_nano=observed,
        severity_number=17,  # type: ignore[arg-type]
        severity_text="ERROR",
        body=AnyValue(string_value=body),
        attributes=key_values(attributes),
        trace_id=trace_id,
        span_id=span_id,
    )


def logs_request(
    records: Iterable[LogRecord], *, res: Resource | None = None, scope: str = "agent.logs"
) -> ExportLogsServiceRequest:
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=res if res is not None else resource(),
                scope_logs=[
                    ScopeLogs(scope=InstrumentationScope(name=scope), log_records=list(records))
                ],
            )
        ]
    )


def otlp_json(message: Any, *, proto_names: bool = False, enums_as_ints: bool = False) -> bytes:
    """``message`` as an OTLP/JSON body: protobuf's JSON mapping with ids in (upper-case) hex,
    which the OTLP rules require instead of protobuf's base64."""
    printed = json_format.MessageToDict(
        message,
        preserving_proto_field_name=proto_names,
        use_integers_for_enums=enums_as_ints,
    )
    return json.dumps(_hex_ids(printed)).encode()


def _hex_ids(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: base64.b64decode(value).hex().upper() if key in _HEX_KEYS else _hex_ids(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids(item) for item in node]
    return node


def extract_spans(spans: Sequence[ReadableSpan], *, as_json: bool = False) -> list[FailureEvent]:
    """The failures the receiver extracts from SDK ``spans``, encoded as the SDK's OTLP exporter
    encodes them (protobuf, or ``as_json`` OTLP/JSON) and decoded as a request body."""
    request = encode_spans(spans)
    if as_json:
        body, content_type = otlp_json(request), "application/json"
    else:
        body, content_type = request.SerializeToString(), "application/x-protobuf"
    return extract_failures("traces", decode_request("traces", body, content_type)).events
