"""A real OTLP receiver for tests: gRPC and HTTP/protobuf on free ports, everything kept in memory.

Run the real OTel exporters (in-process or in a subprocess) against it and assert on what went
over the wire::

    with OtlpSink() as sink:
        env = {**os.environ, **sink.exporter_env("grpc")}
        subprocess.run([...], env=env)
        assert sink.wait_for(lambda s: any(e.name == "exception" for e in s.span_events()))
        assert b"sk-" not in sink.raw_bodies()

Requests are decoded with the ``opentelemetry-proto`` classes and flattened at once into plain
frozen dataclasses (:class:`SinkSpan`, :class:`SinkSpanEvent`, :class:`SinkLogRecord`,
:class:`SinkMetricPoint`) with hex ids and attributes as plain Python values. Accessors are
thread-safe and return copies. The HTTP side accepts ``application/x-protobuf`` bodies, gzip or
not, on ``/v1/traces``, ``/v1/logs`` and ``/v1/metrics`` and answers like a collector; anything
else gets 404 or 415.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import grpc
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

Signal = Literal["traces", "logs", "metrics"]
Protocol = Literal["grpc", "http/protobuf"]

_REQUEST_TYPES: dict[str, tuple[type[Message], type[Message]]] = {
    "traces": (
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
    ),
    "logs": (
        logs_service_pb2.ExportLogsServiceRequest,
        logs_service_pb2.ExportLogsServiceResponse,
    ),
    "metrics": (
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
    ),
}


# -- flattened data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SinkSpanEvent:
    name: str
    time_unix_nano: int
    attributes: dict[str, Any]
    span_name: str
    trace_id: str
    span_id: str


@dataclass(frozen=True)
class SinkSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    status_code: int  # 0 unset, 1 ok, 2 error
    status_message: str
    attributes: dict[str, Any]
    events: tuple[SinkSpanEvent, ...]
    resource: dict[str, Any]
    scope_name: str


@dataclass(frozen=True)
class SinkLogRecord:
    time_unix_nano: int
    severity_number: int
    severity_text: str
    body: Any
    attributes: dict[str, Any]
    event_name: str
    trace_id: str
    span_id: str
    resource: dict[str, Any]
    scope_name: str


@dataclass(frozen=True)
class SinkMetricPoint:
    name: str
    unit: str
    kind: str  # "sum", "gauge", "histogram", "exponential_histogram", "summary"
    value: float | int  # sum/gauge value; the count for histograms and summaries
    attributes: dict[str, Any]
    resource: dict[str, Any]
    scope_name: str


def any_value(value: AnyValue) -> Any:
    """An OTLP ``AnyValue`` as a plain Python value (bytes as lowercase hex)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_dict(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def attributes_dict(pairs: Any) -> dict[str, Any]:
    return {pair.key: any_value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


def _flatten_traces(request: Any) -> list[SinkSpan]:
    spans = []
    for resource_spans in request.resource_spans:
        resource = attributes_dict(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                trace_id, span_id = span.trace_id.hex(), span.span_id.hex()
                events = tuple(
                    SinkSpanEvent(
                        name=event.name,
                        time_unix_nano=event.time_unix_nano,
                        attributes=attributes_dict(event.attributes),
                        span_name=span.name,
                        trace_id=trace_id,
                        span_id=span_id,
                    )
                    for event in span.events
                )
                spans.append(
                    SinkSpan(
                        name=span.name,
                        trace_id=trace_id,
                        span_id=span_id,
                        parent_span_id=span.parent_span_id.hex(),
                        status_code=span.status.code,
                        status_message=span.status.message,
                        attributes=attributes_dict(span.attributes),
                        events=events,
                        resource=resource,
                        scope_name=scope_spans.scope.name,
                    )
                )
    return spans


def _flatten_logs(request: Any) -> list[SinkLogRecord]:
    records = []
    for resource_logs in request.resource_logs:
        resource = attributes_dict(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                records.append(
                    SinkLogRecord(
                        time_unix_nano=record.time_unix_nano,
                        severity_number=record.severity_number,
                        severity_text=record.severity_text,
                        body=any_value(record.body),
                        attributes=attributes_dict(record.attributes),
                        event_name=getattr(record, "event_name", ""),
                        trace_id=record.trace_id.hex(),
                        span_id=record.span_id.hex(),
                        resource=resource,
                        scope_name=scope_logs.scope.name,
                    )
                )
    return records


def _flatten_metrics(request: Any) -> list[SinkMetricPoint]:
    points = []
    for resource_metrics in request.resource_metrics:
        resource = attributes_dict(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                for point in getattr(metric, kind).data_points:
                    if kind in ("sum", "gauge"):
                        number = point.WhichOneof("value")
                        value = getattr(point, number) if number else 0
                    else:
                        value = point.count
                    points.append(
                        SinkMetricPoint(
                            name=metric.name,
                            unit=metric.unit,
                            kind=kind,
                            value=value,
                            attributes=attributes_dict(point.attributes),
                            resource=resource,
                            scope_name=scope_metrics.scope.name,
                        )
                    )
    return points


# -- the sink ----------------------------------------------------------------------------------


@dataclass
class _Store:
    lock: threading.Lock = field(default_factory=threading.Lock)
    bodies: list[bytes] = field(default_factory=list)
    spans: list[SinkSpan] = field(default_factory=list)
    logs: list[SinkLogRecord] = field(default_factory=list)
    metrics: list[SinkMetricPoint] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=lambda: {"grpc": 0, "http": 0})

    def add(self, signal: str, body: bytes, transport: str) -> Message:
        """Decode one request body (raises DecodeError) and keep it."""
        request = _REQUEST_TYPES[signal][0]()
        request.ParseFromString(body)
        with self.lock:
            self.bodies.append(body)
            self.requests[transport] += 1
            if signal == "traces":
                self.spans.extend(_flatten_traces(request))
            elif signal == "logs":
                self.logs.extend(_flatten_logs(request))
            else:
                self.metrics.extend(_flatten_metrics(request))
        return _REQUEST_TYPES[signal][1]()


class _TraceServicer(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, store: _Store) -> None:
        self._store = store

    def Export(self, request: Any, context: Any) -> Any:
        return self._store.add("traces", request.SerializeToString(), "grpc")


class _LogsServicer(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, store: _Store) -> None:
        self._store = store

    def Export(self, request: Any, context: Any) -> Any:
        return self._store.add("logs", request.SerializeToString(), "grpc")


class _MetricsServicer(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, store: _Store) -> None:
        self._store = store

    def Export(self, request: Any, context: Any) -> Any:
        return self._store.add("metrics", request.SerializeToString(), "grpc")


def _http_handler(store: _Store) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            signal = {"/v1/traces": "traces", "/v1/logs": "logs", "/v1/metrics": "metrics"}.get(
                self.path.split("?")[0]
            )
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if signal is None:
                self._answer(404, b"unknown path", "text/plain")
                return
            if self.headers.get("Content-Type", "").split(";")[0] != "application/x-protobuf":
                self._answer(415, b"only application/x-protobuf", "text/plain")
                return
            try:
                if self.headers.get("Content-Encoding", "").lower() == "gzip":
                    body = gzip.decompress(body)
                response = store.add(signal, body, "http")
            except (DecodeError, OSError, EOFError) as exc:
                self._answer(400, f"bad request: {exc}".encode(), "text/plain")
                return
            self._answer(200, response.SerializeToString(), "application/x-protobuf")

        def _answer(self, status: int, payload: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output quiet

    return Handler


class OtlpSink:
    """An OTLP/gRPC and OTLP/HTTP receiver on 127.0.0.1, on free ports, keeping what it gets."""

    def __init__(self) -> None:
        self._store = _Store()
        self._grpc_server: grpc.Server | None = None
        self._http_server: ThreadingHTTPServer | None = None
        self._http_thread: threading.Thread | None = None
        self.grpc_port = 0
        self.http_port = 0

    # lifecycle

    def start(self) -> OtlpSink:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(
            _TraceServicer(self._store), server
        )
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_LogsServicer(self._store), server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(
            _MetricsServicer(self._store), server
        )
        self.grpc_port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._grpc_server = server
        http_server = ThreadingHTTPServer(("127.0.0.1", 0), _http_handler(self._store))
        http_server.daemon_threads = True
        self.http_port = http_server.server_address[1]
        self._http_thread = threading.Thread(
            target=http_server.serve_forever, name="otlp-sink-http", daemon=True
        )
        self._http_thread.start()
        self._http_server = http_server
        return self

    def stop(self) -> None:
        if self._grpc_server is not None:
            self._grpc_server.stop(grace=None)
            self._grpc_server = None
        if self._http_server is not None:
            self._http_server.shutdown()
            self._http_server.server_close()
            self._http_server = None

    def __enter__(self) -> OtlpSink:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # where to send

    @property
    def grpc_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        """Base URL; the exporters append ``/v1/traces`` etc."""
        return f"http://127.0.0.1:{self.http_port}"

    def exporter_env(self, protocol: Protocol) -> dict[str, str]:
        """Environment for the OTel SDK's OTLP exporters (all three signals) to send here."""
        endpoint = self.grpc_endpoint if protocol == "grpc" else self.http_endpoint
        return {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
        }

    # what arrived (copies; safe from any thread)

    def spans(self) -> list[SinkSpan]:
        with self._store.lock:
            return list(self._store.spans)

    def span_events(self, name: str | None = None) -> list[SinkSpanEvent]:
        return [
            event
            for span in self.spans()
            for event in span.events
            if name is None or event.name == name
        ]

    def log_records(self) -> list[SinkLogRecord]:
        with self._store.lock:
            return list(self._store.logs)

    def metric_points(self, name: str | None = None) -> list[SinkMetricPoint]:
        with self._store.lock:
            return [p for p in self._store.metrics if name is None or p.name == name]

    def raw_bodies(self) -> bytes:
        """Every request body received (decompressed), concatenated: for "never sent" checks."""
        with self._store.lock:
            return b"".join(self._store.bodies)

    def request_counts(self) -> dict[str, int]:
        """Requests received per transport: ``{"grpc": n, "http": m}``."""
        with self._store.lock:
            return dict(self._store.requests)

    def clear(self) -> None:
        with self._store.lock:
            self._store.bodies.clear()
            self._store.spans.clear()
            self._store.logs.clear()
            self._store.metrics.clear()

    def wait_for(self, predicate: Callable[[OtlpSink], bool], timeout: float = 10.0) -> bool:
        """Poll ``predicate(self)`` until it is true (True) or ``timeout`` seconds pass (False)."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate(self):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def running_sink() -> Iterator[OtlpSink]:
    """Generator for a pytest fixture: ``yield from running_sink()``."""
    with OtlpSink() as sink:
        yield sink
