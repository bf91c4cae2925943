"""Requests as the real OpenTelemetry SDK exports them, through the SDK's own OTLP encoders.

The OTLP exporters serialise with ``encode_spans``/``encode_logs``; using them here proves the
edge reads what agents really send, and that the stored ids are the ids the SDK generated.
"""

from __future__ import annotations

import gzip
import logging

from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from collector_receiver.otlp import decode_request, extract_failures, inflate

RESOURCE = Resource.create({"service.name": "sdk-agent", "deployment.environment.name": "test"})


class ToolMissingError(LookupError):
    pass


def test_sdk_spans_with_recorded_exceptions_and_error_status() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("agent.tools", "1.0")

    with tracer.start_as_current_span("tool.call") as failing:
        try:
            raise ToolMissingError("no tool named 'search_web'")
        except ToolMissingError as error:
            failing.record_exception(error)
            failing.set_status(Status(StatusCode.ERROR, str(error)))
    with tracer.start_as_current_span("http.get") as erroring:
        erroring.set_attribute("error.type", "504")
        erroring.set_status(Status(StatusCode.ERROR, "gateway timeout"))
    with tracer.start_as_current_span("fine"):
        pass
    provider.shutdown()
    spans = exporter.get_finished_spans()

    wire = gzip.compress(encode_spans(spans).SerializeToString())
    body = inflate(wire, "gzip", 1 << 20)
    result = extract_failures("traces", decode_request("traces", body, "application/x-protobuf"))

    assert result.items == 3 and result.rejected == 0
    event, status = result.events
    context = failing.get_span_context()
    assert event.trace_id == format(context.trace_id, "032x")
    assert event.span_id == format(context.span_id, "016x")
    assert event.source == "span_event"
    assert event.service_name == "sdk-agent"
    assert event.exception_type.endswith("ToolMissingError")
    assert event.exception_message == "no tool named 'search_web'"
    assert "Traceback (most recent call last)" in event.stacktrace
    assert event.scope_name == "agent.tools"
    assert event.resource["deployment.environment.name"] == "test"
    assert status.source == "span_status"
    assert status.exception_type == "504"
    assert status.span_id == format(erroring.get_span_context().span_id, "016x")


def test_sdk_log_records_of_logged_exceptions() -> None:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = logging.getLogger("tests.sdk_encoded")
    logger.propagate = False
    handler = LoggingHandler(level=logging.ERROR, logger_provider=provider)
    logger.addHandler(handler)
    try:
        try:
            int("seven")
        except ValueError:
            logger.exception("lookup failed")
        logger.error("no exception here")
    finally:
        logger.removeHandler(handler)
        provider.shutdown()
    records = exporter.get_finished_logs()

    body = encode_logs(records).SerializeToString()
    result = extract_failures("logs", decode_request("logs", body, "application/x-protobuf"))

    assert result.items == 2 and result.rejected == 0
    [failure] = result.events
    assert failure.source == "log_record"
    assert failure.service_name == "sdk-agent"
    assert failure.exception_type == "ValueError"
    assert failure.exception_message == "invalid literal for int() with base 10: 'seven'"
    assert "Traceback" in failure.stacktrace
    assert failure.trace_id is None and failure.span_id is None
    assert failure.time_unix_nano > 0
