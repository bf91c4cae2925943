"""Whatever a sender puts in a body, the edge answers with a DecodeError or a result.

Any other exception would become a 500 for the sender and a crash report for us; these
properties hold for random protobuf bytes (including mutations of a real request) and for
random JSON built from the real OTLP field names.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector_receiver.otlp import DecodeError, decode_request, extract_failures
from tests.collector_receiver.otlp._helpers import (
    exception_event,
    log_record,
    logs_request,
    span,
    trace_request,
)

SIGNALS = st.sampled_from(["traces", "logs", "metrics"])
REAL_TRACES = trace_request(
    [span(events=[exception_event()]), span(status_code=2, attributes={"error.type": "E"})]
).SerializeToString()
REAL_LOGS = logs_request([log_record({"exception.type": "E"})]).SerializeToString()

FIELD_NAMES = [
    "resourceSpans", "resourceLogs", "resourceMetrics", "resource", "scopeSpans", "scopeLogs",
    "scopeMetrics", "scope", "spans", "logRecords", "metrics", "events", "name", "attributes",
    "key", "value", "stringValue", "intValue", "doubleValue", "boolValue", "bytesValue",
    "arrayValue", "kvlistValue", "values", "traceId", "spanId", "parentSpanId", "status",
    "code", "message", "timeUnixNano", "observedTimeUnixNano", "endTimeUnixNano", "kind",
    "severityNumber", "body", "sum", "gauge", "dataPoints", "asInt", "exemplars", "unknown",
]  # fmt: skip
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["exception", "5b8efff798038103d269b633813fc60c", "EEE19B7EC3C1B174", "2"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=5),
    ),
    max_leaves=30,
)


def _decode_and_extract(signal: str, body: bytes, content_type: str) -> None:
    try:
        request = decode_request(signal, body, content_type)  # type: ignore[arg-type]
    except DecodeError as error:
        assert "\n" not in str(error) and len(str(error)) <= 200
        return
    result = extract_failures(signal, request)  # type: ignore[arg-type]
    assert result.rejected <= result.items


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(signal=SIGNALS, body=st.binary(max_size=300))
def test_random_protobuf_bytes(signal: str, body: bytes) -> None:
    _decode_and_extract(signal, body, "application/x-protobuf")


@settings(max_examples=150, deadline=None)
@given(data=st.data(), real=st.sampled_from([("traces", REAL_TRACES), ("logs", REAL_LOGS)]))
def test_mutated_real_requests(data: st.DataObject, real: tuple[str, bytes]) -> None:
    signal, body = real
    mutated = bytearray(body)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        position = data.draw(st.integers(min_value=0, max_value=len(mutated) - 1))
        mutated[position] = data.draw(st.integers(min_value=0, max_value=255))
    _decode_and_extract(signal, bytes(mutated), "application/x-protobuf")


@settings(max_examples=200, deadline=None)
@given(signal=SIGNALS, document=JSON_VALUES)
def test_random_otlp_shaped_json(signal: str, document: object) -> None:
    _decode_and_extract(signal, json.dumps(document).encode(), "application/json")
