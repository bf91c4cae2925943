"""In-memory OpenTelemetry SDK pipelines for the agent-side tests, and readers for what they got."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry._logs import LogRecord
from opentelemetry._logs import _internal as logs_internal
from opentelemetry.metrics import _internal as metrics_internal
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

try:
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
except ImportError:  # older SDKs (the 1.27 floor) have the same exporter under its first name
    from opentelemetry.sdk._logs.export import InMemoryLogExporter as InMemoryLogRecordExporter

SERVICE_NAME = "test-agent"

#: For tests of log records' event names, which ``LogRecord`` has from OpenTelemetry 1.35 on:
#: before (``make test-agent-floor``), a failure's log record carries none (docs/agent.md,
#: Notes), and ``opentelemetry-instrument`` sets up no logger provider at all unless
#: ``OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED`` turns the logging bridge on too.
needs_log_event_names = pytest.mark.skipif(
    "event_name" not in inspect.signature(LogRecord.__init__).parameters,
    reason="LogRecord has no event_name before OpenTelemetry 1.35",
)


@dataclass
class Telemetry:
    """Fresh SDK providers exporting to memory, plus what they collected."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    spans: InMemorySpanExporter
    metric_reader: InMemoryMetricReader
    logs: InMemoryLogRecordExporter

    @classmethod
    def create(cls) -> Telemetry:
        resource = Resource.create({"service.name": SERVICE_NAME})
        spans = InMemorySpanExporter()
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
        reader = InMemoryMetricReader()
        meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
        logs = InMemoryLogRecordExporter()
        logger_provider = LoggerProvider(resource=resource)
        logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
        return cls(tracer_provider, meter_provider, logger_provider, spans, reader, logs)

    def providers(self) -> dict[str, Any]:
        return {
            "tracer_provider": self.tracer_provider,
            "meter_provider": self.meter_provider,
            "logger_provider": self.logger_provider,
        }

    def finished_spans(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def exception_events(self) -> list[tuple[ReadableSpan, dict[str, Any]]]:
        """Every ``exception`` event as (its span, its attributes)."""
        return [
            (span, dict(event.attributes or {}))
            for span in self.finished_spans()
            for event in span.events
            if event.name == "exception"
        ]

    def failure_counts(self) -> dict[tuple[tuple[str, Any], ...], int]:
        """Points of ``failcat.agent.failures`` keyed by their sorted attributes."""
        data = self.metric_reader.get_metrics_data()
        counts: dict[tuple[tuple[str, Any], ...], int] = {}
        if data is None:
            return counts
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name != "failcat.agent.failures":
                        continue
                    assert metric.unit == "{failure}"
                    for point in metric.data.data_points:
                        key = tuple(sorted(dict(point.attributes or {}).items()))
                        counts[key] = int(point.value)
        return counts

    def log_records(self) -> list[Any]:
        return [data.log_record for data in self.logs.get_finished_logs()]


@contextmanager
def global_providers(telemetry: Telemetry) -> Iterator[None]:
    """Make ``telemetry``'s providers the process-wide ones, and put the old ones back after.

    OpenTelemetry lets a global provider be set once per process; tests reset that guard the
    same way OpenTelemetry's own test utilities do.
    """
    saved = (
        trace._TRACER_PROVIDER,
        trace._TRACER_PROVIDER_SET_ONCE,
        metrics_internal._METER_PROVIDER,
        metrics_internal._METER_PROVIDER_SET_ONCE,
        logs_internal._LOGGER_PROVIDER,
        logs_internal._LOGGER_PROVIDER_SET_ONCE,
    )
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    metrics_internal._METER_PROVIDER_SET_ONCE = Once()
    metrics_internal._METER_PROVIDER = None
    logs_internal._LOGGER_PROVIDER_SET_ONCE = Once()
    logs_internal._LOGGER_PROVIDER = None
    trace.set_tracer_provider(telemetry.tracer_provider)
    metrics.set_meter_provider(telemetry.meter_provider)
    logs_internal.set_logger_provider(telemetry.logger_provider)
    try:
        yield
    finally:
        (
            trace._TRACER_PROVIDER,
            trace._TRACER_PROVIDER_SET_ONCE,
            metrics_internal._METER_PROVIDER,
            metrics_internal._METER_PROVIDER_SET_ONCE,
            logs_internal._LOGGER_PROVIDER,
            logs_internal._LOGGER_PROVIDER_SET_ONCE,
        ) = saved


def raise_and_catch(exc: BaseException) -> BaseException:
    """``exc`` with a real traceback (raised and caught here)."""
    try:
        raise exc
    except BaseException as caught:
        return caught
