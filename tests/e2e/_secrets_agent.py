"""A plain OpenTelemetry SDK agent (no ``otel_failcat``) that plants fake secrets in every route
a failure can take to the receiver, over the real OTLP exporters.

Run as a script (a fresh interpreter, like a real agent)::

    python _secrets_agent.py --grpc-endpoint HOST:PORT --http-endpoint URL --seed N

For each secret kind of ``_secrets.KINDS``, each protocol (gRPC, HTTP) and each signal, one
resource is exported with fresh secrets of that kind in: ``service.name``, resource attributes
(one the receiver keeps, one it does not), the scope name, the span name, span, event and log
attributes (plain, in lists, in nested maps, and in attribute keys), the exception type, message
and stacktrace, the status description (of a status-only failure and of a span with an
exception event) and the log body; plus values under credential-named keys that no text rule
would recognise. Each planted secret sits next to a marker word unique to it, so the test can
tell a route that stored its text (marker found) from one that never stores it.

Prints one JSON object: ``{"ok": bool, "plants": [...], "credentials": [...], "trace_ids":
[...]}`` where each plant is ``{"route", "kind", "protocol", "marker", "body", "stored"}``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from _agent import RecordingLogExporter, RecordingSpanExporter, _exporter
from _secrets import CREDENTIAL_KEYS, KINDS, SecretKind, plain_value
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.trace import Status, StatusCode, format_trace_id


@dataclass
class Plant:
    route: str
    kind: str
    protocol: str
    marker: str
    body: str
    #: Whether the receiver stores this route's text at all (then its marker must show up).
    stored: bool


class Planter:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.plants: list[Plant] = []
        self.credentials: list[dict[str, str]] = []

    def secret(self, route: str, kind: SecretKind, protocol: str, stored: bool = True) -> str:
        text, body = kind.make(self.rng)
        marker = f"mk{len(self.plants):05d}q"
        self.plants.append(Plant(route, kind.name, protocol, marker, body, stored))
        return f"{marker} {text}"

    def credential_values(self, protocol: str) -> dict[str, str]:
        values = {}
        for key in CREDENTIAL_KEYS:
            value = plain_value(self.rng)
            self.credentials.append({"key": key, "protocol": protocol, "body": value})
            values[key] = value
        return values


def _stacktrace(secret: str) -> str:
    return (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/orders.py", line 41, in checkout\n'
        f"    client.connect({secret!r})\n"
        '  File "/srv/app/client.py", line 12, in connect\n'
        "    raise ConnectionError(dsn)\n"
        "ConnectionError: refused\n"
    )


def _traces(planter: Planter, kind: SecretKind, protocol: str, endpoint: str) -> tuple[bool, str]:
    plant = planter.secret
    resource = Resource.create(
        {
            "service.name": plant("service.name", kind, protocol),
            "service.version": plant("resource attributes", kind, protocol),
            "host.name": plant("resource attributes (not kept)", kind, protocol, stored=False),
        }
    )
    exporter = RecordingSpanExporter(_exporter(protocol, "traces", endpoint, None, 10.0, False))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    tracer = provider.get_tracer(plant("scope name", kind, protocol))
    span_attributes: dict[str, Any] = {
        "app.note": plant("span attributes", kind, protocol),
        "app.list": ["plain", plant("list attributes", kind, protocol)],
        f"app.key {plant('attribute keys', kind, protocol)}": "value",
        **planter.credential_values(protocol),
    }
    with tracer.start_as_current_span(
        plant("span name", kind, protocol), attributes=span_attributes
    ) as span:
        trace_id = format_trace_id(span.get_span_context().trace_id)
        event_attributes = {
            "exception.type": f"app.Error {plant('exception type', kind, protocol)}",
            "exception.stacktrace": _stacktrace(plant("stacktrace", kind, protocol)),
            "event.note": plant("event attributes", kind, protocol),
        }
        error = ConnectionError(f"checkout failed: {plant('exception message', kind, protocol)}")
        span.record_exception(error, attributes=event_attributes)
        span.set_status(
            Status(
                StatusCode.ERROR,
                plant("status description (exception span)", kind, protocol, stored=False),
            )
        )
    # A failure seen only as a status: its description becomes the stored message. A root span
    # of its own, so no exception event in its trace stands for it.
    with tracer.start_as_current_span(
        "status.only",
        attributes={"error.type": f"app.Status {plant('error.type', kind, protocol)}"},
    ) as status_span:
        status_span.set_status(
            Status(StatusCode.ERROR, plant("status description", kind, protocol))
        )
    ok = provider.force_flush(20_000)
    provider.shutdown()
    ok = (
        ok
        and bool(exporter.results)
        and all(r == SpanExportResult.SUCCESS for r in exporter.results)
    )
    return ok, trace_id


def _logs(planter: Planter, kind: SecretKind, protocol: str, endpoint: str) -> bool:
    plant = planter.secret
    resource = Resource.create(
        {
            "service.name": plant("service.name", kind, protocol),
            "deployment.environment.name": plant("resource attributes", kind, protocol),
        }
    )
    exporter = RecordingLogExporter(_exporter(protocol, "logs", endpoint, None, 10.0, False))
    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(
        BatchLogRecordProcessor(exporter, schedule_delay_millis=60_000)
    )
    logger = provider.get_logger(plant("scope name", kind, protocol))
    credentials = planter.credential_values(protocol)
    logger.emit(
        timestamp=time.time_ns(),
        severity_number=SeverityNumber.ERROR,
        severity_text="ERROR",
        body=plant("log body", kind, protocol, stored=False),
        attributes={
            "exception.type": f"app.Error {plant('exception type', kind, protocol)}",
            "exception.message": plant("exception message", kind, protocol),
            "exception.stacktrace": _stacktrace(plant("stacktrace", kind, protocol)),
            "log.note": plant("log attributes", kind, protocol),
            "log.list": [plant("list attributes", kind, protocol), "plain"],
            f"log.key {plant('attribute keys', kind, protocol)}": "value",
            "request": {
                "route": "/checkout",
                "detail": plant("nested map attributes", kind, protocol),
                f"inner {plant('attribute keys', kind, protocol)}": 1,
                "db": {"password": credentials.pop("password"), "name": "orders"},
            },
            **credentials,
        },
    )
    ok = provider.force_flush(20_000)
    provider.shutdown()
    return (
        ok
        and bool(exporter.results)
        and all(r == LogRecordExportResult.SUCCESS for r in exporter.results)
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grpc-endpoint", required=True)
    parser.add_argument("--http-endpoint", required=True)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    planter = Planter(random.Random(args.seed))
    ok = True
    trace_ids = []
    for kind in KINDS:
        for protocol, endpoint in (("grpc", args.grpc_endpoint), ("http", args.http_endpoint)):
            traces_ok, trace_id = _traces(planter, kind, protocol, endpoint)
            trace_ids.append(trace_id)
            ok = ok and traces_ok and _logs(planter, kind, protocol, endpoint)
    json.dump(
        {
            "ok": ok,
            "plants": [asdict(plant) for plant in planter.plants],
            "credentials": planter.credentials,
            "trace_ids": trace_ids,
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
