"""An agent exporting GenAI spans with the REAL OpenTelemetry SDK, and delivering them twice.

Run as a script (a fresh interpreter, like a real agent)::

    python _genai_agent.py --http http://127.0.0.1:4318 --grpc 127.0.0.1:4317

One ``invoke_agent research-agent`` span holds 10 ``chat gpt-4o`` calls (the 3rd fails) and 6
``execute_tool fetch_page`` calls (the 1st, 2nd and 5th fail, each with a recorded exception),
plus one span that is no GenAI operation (``chatbot.reply``, with a ``gen_ai.operation.name``
that must not make it count). The batch is exported over OTLP/HTTP protobuf and then the very
same spans again over OTLP/gRPC: one delivery in two encodings, as a sender retrying after a
lost acknowledgement over another path would. Prints ``{"ok": bool, "results": [...]}``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status, StatusCode


class Collect(SpanExporter):
    """Keeps every finished span, to export the whole batch by hand (twice)."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def _fail(span: Any, error: Exception) -> None:
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, str(error)))
    span.set_attribute("error.type", type(error).__qualname__)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", required=True)
    parser.add_argument("--grpc", required=True)
    args = parser.parse_args()

    collect = Collect()
    provider = TracerProvider(resource=Resource.create({"service.name": "research-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(collect))
    tracer = provider.get_tracer("genai-e2e")
    agent_attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "research"}
    with tracer.start_as_current_span("invoke_agent research", attributes=agent_attributes):
        for n in range(10):
            chat = {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
            }
            with tracer.start_as_current_span("chat gpt-4o", attributes=chat) as span:
                if n == 2:
                    _fail(span, ConnectionResetError("Connection reset by peer"))
        for n in range(6):
            tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "fetch_page"}
            with tracer.start_as_current_span("execute_tool fetch_page", attributes=tool) as span:
                if n in (0, 1, 4):
                    _fail(span, TimeoutError(f"fetch_page timed out after {n + 10} s"))
        not_an_operation = {"gen_ai.operation.name": "chat"}
        with tracer.start_as_current_span("chatbot.reply", attributes=not_an_operation):
            pass
    provider.shutdown()

    results = []
    for exporter in (
        HttpExporter(endpoint=f"{args.http}/v1/traces"),
        GrpcExporter(endpoint=args.grpc, insecure=True),
    ):
        results.append(exporter.export(collect.spans).name)
        exporter.shutdown()
    print(json.dumps({"ok": results == ["SUCCESS", "SUCCESS"], "results": results}))


if __name__ == "__main__":
    main()
