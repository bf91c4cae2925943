"""The shared test OTLP server (``tests/support/otlp_sink.py``) decodes what the real exporters
send, over gRPC and HTTP, and refuses what a collector would refuse."""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

from tests.support.otlp_sink import OtlpSink


@pytest.fixture(scope="module")
def sink() -> Iterator[OtlpSink]:
    with OtlpSink() as running:
        yield running


def _send_one_span(exporter: SpanExporter, run: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "sink-test", "run": run}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("work") as span:
        span.add_event("exception", {"exception.type": "ValueError", "n": [1, 2]})
    provider.shutdown()


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_real_exporters_arrive_flattened(sink: OtlpSink, transport: str) -> None:
    exporter: SpanExporter = (
        GrpcSpanExporter(endpoint=sink.grpc_endpoint, insecure=True)
        if transport == "grpc"
        else HttpSpanExporter(endpoint=f"{sink.http_endpoint}/v1/traces")
    )
    _send_one_span(exporter, transport)
    assert sink.wait_for(lambda s: any(sp.resource.get("run") == transport for sp in s.spans()))
    (span,) = [sp for sp in sink.spans() if sp.resource.get("run") == transport]
    assert span.name == "work" and len(span.trace_id) == 32 and len(span.span_id) == 16
    (event,) = span.events
    assert event.attributes == {"exception.type": "ValueError", "n": [1, 2]}
    assert (event.trace_id, event.span_id, event.span_name) == (span.trace_id, span.span_id, "work")
    assert event in sink.span_events("exception")
    assert sink.request_counts()[transport] >= 1


def _post(sink: OtlpSink, path: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        f"{sink.http_endpoint}{path}", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_http_accepts_gzip_and_refuses_the_wrong_things(sink: OtlpSink) -> None:
    body = ExportTraceServiceRequest().SerializeToString()
    protobuf = {"Content-Type": "application/x-protobuf"}
    gzipped = {**protobuf, "Content-Encoding": "gzip"}
    assert _post(sink, "/v1/traces", gzip.compress(body), gzipped) == 200
    assert _post(sink, "/v1/traces", body, protobuf) == 200
    assert _post(sink, "/v1/nothing", body, protobuf) == 404
    assert _post(sink, "/v1/traces", b"{}", {"Content-Type": "application/json"}) == 415
    assert _post(sink, "/v1/traces", b"\xff\xff\xff", protobuf) == 400
    assert _post(sink, "/v1/logs", b"not gzip", {**protobuf, "Content-Encoding": "gzip"}) == 400


def test_wait_for_gives_up_after_the_timeout(sink: OtlpSink) -> None:
    assert sink.wait_for(lambda s: False, timeout=0.05) is False
