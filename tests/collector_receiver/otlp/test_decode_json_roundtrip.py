"""OTLP/JSON decoding agrees with protobuf's own JSON mapping on everything but the ids.

Random requests are printed with ``google.protobuf.json_format`` (camelCase or proto names,
64-bit integers as strings, enums as names or numbers), their ids rewritten to hex as OTLP
requires, and decoded back: the result must equal the original message.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Exemplar,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from collector_receiver.otlp import decode_request
from tests.collector_receiver.otlp._helpers import otlp_json

texts = st.text(max_size=12)
uint64 = st.integers(min_value=0, max_value=2**64 - 1)
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
ids16 = st.sampled_from([b"", bytes(16), bytes(range(16))]) | st.binary(min_size=16, max_size=16)
ids8 = st.sampled_from([b"", bytes(range(8))]) | st.binary(min_size=8, max_size=8)
doubles = st.floats(allow_nan=False) | st.sampled_from([float("inf"), float("-inf")])

any_values = st.recursive(
    st.one_of(
        st.builds(AnyValue),
        texts.map(lambda v: AnyValue(string_value=v)),
        st.booleans().map(lambda v: AnyValue(bool_value=v)),
        int64.map(lambda v: AnyValue(int_value=v)),
        doubles.map(lambda v: AnyValue(double_value=v)),
        st.binary(max_size=8).map(lambda v: AnyValue(bytes_value=v)),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda vs: AnyValue(array_value=ArrayValue(values=vs))),
        st.lists(st.tuples(texts, inner), max_size=3).map(
            lambda kvs: AnyValue(
                kvlist_value=KeyValueList(values=[KeyValue(key=k, value=v) for k, v in kvs])
            )
        ),
    ),
    max_leaves=8,
)
attributes = st.lists(st.builds(KeyValue, key=texts, value=any_values), max_size=4)
events = st.builds(Span.Event, time_unix_nano=uint64, name=texts, attributes=attributes)
links = st.builds(Span.Link, trace_id=ids16, span_id=ids8, attributes=attributes)
spans = st.builds(
    Span,
    trace_id=ids16,
    span_id=ids8,
    parent_span_id=ids8,
    name=texts,
    kind=st.integers(min_value=0, max_value=5),
    start_time_unix_nano=uint64,
    end_time_unix_nano=uint64,
    attributes=attributes,
    events=st.lists(events, max_size=3),
    links=st.lists(links, max_size=2),
    status=st.builds(Status, code=st.integers(0, 2), message=texts),
    dropped_events_count=st.integers(min_value=0, max_value=2**32 - 1),
    flags=st.integers(min_value=0, max_value=2**32 - 1),
)
trace_requests = st.builds(
    ExportTraceServiceRequest,
    resource_spans=st.lists(
        st.builds(
            ResourceSpans,
            scope_spans=st.lists(
                st.builds(ScopeSpans, spans=st.lists(spans, max_size=3)), max_size=2
            ),
        ),
        max_size=2,
    ),
)
log_records = st.builds(
    LogRecord,
    time_unix_nano=uint64,
    observed_time_unix_nano=uint64,
    severity_number=st.integers(min_value=0, max_value=24),
    severity_text=texts,
    body=any_values,
    attributes=attributes,
    trace_id=ids16,
    span_id=ids8,
    event_name=texts,
)
log_requests = st.builds(
    ExportLogsServiceRequest,
    resource_logs=st.lists(
        st.builds(
            ResourceLogs,
            scope_logs=st.lists(
                st.builds(ScopeLogs, log_records=st.lists(log_records, max_size=3)), max_size=2
            ),
        ),
        max_size=2,
    ),
)
number_points = st.builds(
    NumberDataPoint,
    time_unix_nano=uint64,
    as_double=doubles,
    exemplars=st.lists(st.builds(Exemplar, span_id=ids8, trace_id=ids16, as_int=int64), max_size=2),
)
number_point_lists = st.lists(number_points, max_size=2)
metric_requests = st.builds(
    ExportMetricsServiceRequest,
    resource_metrics=st.lists(
        st.builds(
            ResourceMetrics,
            scope_metrics=st.lists(
                st.builds(
                    ScopeMetrics,
                    metrics=st.lists(
                        st.one_of(
                            st.builds(
                                Metric,
                                name=texts,
                                gauge=st.builds(
                                    Gauge, data_points=st.lists(number_points, max_size=2)
                                ),
                            ),
                            st.builds(
                                Metric,
                                name=texts,
                                histogram=st.builds(
                                    Histogram,
                                    aggregation_temporality=st.integers(0, 2),
                                    data_points=st.lists(
                                        st.builds(
                                            HistogramDataPoint,
                                            count=uint64,
                                            bucket_counts=st.lists(uint64, max_size=3),
                                            explicit_bounds=st.lists(doubles, max_size=3),
                                        ),
                                        max_size=2,
                                    ),
                                ),
                            ),
                        ),
                        max_size=3,
                    ),
                ),
                max_size=2,
            ),
        ),
        max_size=2,
    ),
)


@settings(max_examples=60, deadline=None)
@given(request=trace_requests, proto_names=st.booleans(), enums_as_ints=st.booleans())
def test_traces(request: ExportTraceServiceRequest, proto_names: bool, enums_as_ints: bool) -> None:
    body = otlp_json(request, proto_names=proto_names, enums_as_ints=enums_as_ints)

    assert decode_request("traces", body, "application/json") == request


@settings(max_examples=40, deadline=None)
@given(request=log_requests, proto_names=st.booleans())
def test_logs(request: ExportLogsServiceRequest, proto_names: bool) -> None:
    body = otlp_json(request, proto_names=proto_names, enums_as_ints=True)

    assert decode_request("logs", body, "application/json") == request


@settings(max_examples=40, deadline=None)
@given(request=metric_requests)
def test_metrics(request: ExportMetricsServiceRequest) -> None:
    body = otlp_json(request, proto_names=False, enums_as_ints=False)

    assert decode_request("metrics", body, "application/json") == request
