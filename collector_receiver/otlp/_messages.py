"""Which OTLP request and response message belongs to which signal."""

from __future__ import annotations

from typing import Literal, TypeAlias

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

#: The three OTLP signals the receiver accepts.
Signal: TypeAlias = Literal["traces", "logs", "metrics"]

SIGNALS: tuple[Signal, ...] = ("traces", "logs", "metrics")

REQUEST_TYPES: dict[str, type[Message]] = {
    "traces": trace_service_pb2.ExportTraceServiceRequest,
    "logs": logs_service_pb2.ExportLogsServiceRequest,
    "metrics": metrics_service_pb2.ExportMetricsServiceRequest,
}

RESPONSE_TYPES: dict[str, type[Message]] = {
    "traces": trace_service_pb2.ExportTraceServiceResponse,
    "logs": logs_service_pb2.ExportLogsServiceResponse,
    "metrics": metrics_service_pb2.ExportMetricsServiceResponse,
}

#: The partial-success field that counts rejected items, per signal.
REJECTED_FIELDS: dict[str, str] = {
    "traces": "rejected_spans",
    "logs": "rejected_log_records",
    "metrics": "rejected_data_points",
}


def request_type(signal: str) -> type[Message]:
    """The Export*ServiceRequest class of ``signal``; ValueError for an unknown signal."""
    try:
        return REQUEST_TYPES[signal]
    except KeyError:
        raise ValueError(f"unknown OTLP signal {signal!r}") from None
