"""An agent process exporting failures with the REAL OpenTelemetry SDK and OTLP exporters.

Run as a script (a fresh interpreter, like a real agent)::

    python _agent.py --job grpc:traces:svc-a:5 --job http:logs:svc-b:3 [--token T] ...

Each job ``protocol:signal:service:count`` raises ``count`` real exceptions inside spans and
records them (traces: span events via ``record_exception``; logs: ``logger.exception`` through
the SDK's ``LoggingHandler``), plus one span without a failure, then flushes. Prints one JSON
object: ``{"ok": bool, "failures": [{"service", "trace_id", "span_id", "signal"}...],
"delivered": {"traces": spans, "logs": records}}`` where ``ok`` says every export the SDK
attempted returned SUCCESS and ``delivered`` counts the items of the acknowledged exports.

For TLS give ``https://`` endpoints (both protocols) and the SDK's own variables in the
environment: ``OTEL_EXPORTER_OTLP_CERTIFICATE`` (the CA to trust) and, for mutual TLS,
``OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`` / ``OTEL_EXPORTER_OTLP_CLIENT_KEY``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status, StatusCode, format_span_id, format_trace_id


class RecordingSpanExporter(SpanExporter):
    """Delegates to the real exporter and remembers each export's result."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.results: list[SpanExportResult] = []
        self.delivered = 0  # spans in exports the receiver acknowledged

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        result = self.inner.export(spans)
        self.results.append(result)
        if result == SpanExportResult.SUCCESS:
            self.delivered += len(spans)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class RecordingLogExporter(LogRecordExporter):
    def __init__(self, inner: LogRecordExporter) -> None:
        self.inner = inner
        self.results: list[LogRecordExportResult] = []
        self.delivered = 0

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        result = self.inner.export(batch)
        self.results.append(result)
        if result == LogRecordExportResult.SUCCESS:
            self.delivered += len(batch)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _exporter(
    protocol: str, signal: str, endpoint: str, token: str | None, timeout: float, gzip: bool
) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else None
    # gRPC: a secure channel (credentials from the OTEL_ variables) for https:// endpoints only.
    insecure = not endpoint.startswith("https://")
    if protocol == "grpc":
        from grpc import Compression

        compression = Compression.Gzip if gzip else None
        if signal == "traces":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            return OTLPSpanExporter(
                endpoint=endpoint,
                insecure=insecure,
                headers=headers,
                timeout=timeout,
                compression=compression,
            )
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

        return OTLPLogExporter(
            endpoint=endpoint,
            insecure=insecure,
            headers=headers,
            timeout=timeout,
            compression=compression,
        )
    from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression

    compression_h = HttpCompression.Gzip if gzip else HttpCompression.NoCompression
    if signal == "traces":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as H

        return H(
            endpoint=f"{endpoint}/v1/traces",
            headers=headers,
            timeout=timeout,
            compression=compression_h,
        )
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HL

    return HL(
        endpoint=f"{endpoint}/v1/logs", headers=headers, timeout=timeout, compression=compression_h
    )


def _run_job(job: str, args: argparse.Namespace) -> tuple[bool, list[dict[str, str]], int]:
    protocol, signal, service, count_text = job.split(":")
    count = int(count_text)
    endpoint = args.grpc_endpoint if protocol == "grpc" else args.http_endpoint
    resource = Resource.create({"service.name": service, "service.version": "1.2.3"})
    tracer_provider = TracerProvider(resource=resource)
    failures: list[dict[str, str]] = []
    span_exporter = None
    log_exporter = None
    logger_provider = None
    handler = None
    exporter = _exporter(protocol, signal, endpoint, args.token, args.timeout, args.gzip)
    if signal == "traces":
        span_exporter = RecordingSpanExporter(exporter)
        tracer_provider.add_span_processor(
            BatchSpanProcessor(
                span_exporter, schedule_delay_millis=60_000, max_export_batch_size=args.batch
            )
        )
    else:
        log_exporter = RecordingLogExporter(exporter)
        logger_provider = LoggerProvider(resource=resource)
        logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(
                log_exporter, schedule_delay_millis=60_000, max_export_batch_size=args.batch
            )
        )
        handler = LoggingHandler(level=logging.ERROR, logger_provider=logger_provider)
    log = logging.getLogger(f"agent.{service}")
    log.propagate = False
    if handler is not None:
        log.addHandler(handler)
    tracer = tracer_provider.get_tracer("e2e.agent")
    with tracer.start_as_current_span("agent.run"):
        with tracer.start_as_current_span("healthy.step"):
            pass
        for index in range(count):
            with tracer.start_as_current_span(f"tool.call.{index}") as span:
                try:
                    _fail(index)
                except Exception as exc:
                    if signal == "traces":
                        span.record_exception(exc)
                        span.set_status(Status(StatusCode.ERROR, str(exc)))
                    else:
                        log.exception("tool call %d failed", index)
                context = span.get_span_context()
                failures.append(
                    {
                        "service": service,
                        "signal": signal,
                        "trace_id": format_trace_id(context.trace_id),
                        "span_id": format_span_id(context.span_id),
                    }
                )
    ok = True
    if signal == "traces":
        ok = tracer_provider.force_flush(int(args.timeout * 1000) + 5000)
        tracer_provider.shutdown()
        assert span_exporter is not None
        ok = (
            ok
            and bool(span_exporter.results)
            and all(r == SpanExportResult.SUCCESS for r in span_exporter.results)
        )
        delivered = span_exporter.delivered
    else:
        assert logger_provider is not None and log_exporter is not None
        ok = logger_provider.force_flush(int(args.timeout * 1000) + 5000)
        logger_provider.shutdown()
        tracer_provider.shutdown()
        ok = (
            ok
            and bool(log_exporter.results)
            and all(r == LogRecordExportResult.SUCCESS for r in log_exporter.results)
        )
        delivered = log_exporter.delivered
    return ok, failures, delivered


def _fail(index: int) -> None:
    kinds = (
        lambda: {}["missing-key"],
        lambda: int("not a number"),
        lambda: (_ for _ in ()).throw(TimeoutError(f"upstream timed out after {index}s")),
    )
    kinds[index % len(kinds)]()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--job", action="append", required=True)
    parser.add_argument("--grpc-endpoint", default="127.0.0.1:4317")
    parser.add_argument("--http-endpoint", default="http://127.0.0.1:4318")
    parser.add_argument("--token")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args(argv)
    all_ok = True
    everything: list[dict[str, str]] = []
    delivered = {"traces": 0, "logs": 0}
    for job in args.job:
        ok, failures, items = _run_job(job, args)
        all_ok = all_ok and ok
        everything.extend(failures)
        delivered[job.split(":")[1]] += items
    json.dump({"ok": all_ok, "failures": everything, "delivered": delivered}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
