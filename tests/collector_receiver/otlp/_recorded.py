"""Failures recorded by the real agent and read back by the real edge.

``recorded(run)`` instruments a fresh in-memory SDK with ``FailcatInstrumentor``, calls ``run``
(which raises and records failures as an application would), encodes the finished spans with
the OTLP exporter's own encoder, and returns what ``extract_failures`` finds in those bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from collector_receiver.events import FailureEvent
from collector_receiver.otlp import decode_request, extract_failures
from otel_failcat import FailcatInstrumentor
from tests.otel_failcat._helpers import Telemetry


def recorded(run: Callable[[Telemetry], object]) -> list[FailureEvent]:
    """The failures the edge extracts from the spans ``run`` produced under the agent."""
    telemetry = Telemetry.create()
    instrumentor = FailcatInstrumentor()
    instrumentor.instrument(**telemetry.providers())
    try:
        run(telemetry)
    finally:
        instrumentor.uninstrument()
    body = encode_spans(telemetry.finished_spans()).SerializeToString()
    request = decode_request("traces", body, "application/x-protobuf")
    return extract_failures("traces", request).events
