"""An agent that delivers every OTLP request TWICE, to two receivers, with the REAL OTel SDK.

Run as a script (a fresh interpreter, like a real agent)::

    python _scale_out_agent.py --service shared-svc --agent 0 --traces 20 \\
        --target grpc:127.0.0.1:4317 --target http:http://127.0.0.1:5318

Each trace is one ``invoke_agent planner`` span (status ERROR with an ``error.type`` and no
exception event: a status-only sighting that its descendants' exceptions must absorb) over three
``chat gpt-4o`` calls and two ``execute_tool search`` calls. Its failures, each recorded by the
SDK's own ``record_exception`` from a real raise:

* the 2nd chat call: ``ConnectionResetError`` — one fingerprint per service, shared by every
  process that runs the same service;
* the 1st tool call of every even trace: ``TimeoutError('search timed out after N s')`` — the
  number is a variable part, so this is one fingerprint per service too;
* every 5th trace: an exception class of its own (its type names the agent and the trace), so a
  fingerprint of its own.

The finished spans are exported in requests of ``--traces-per-request`` whole traces (as the
Collector's ``loadbalancing`` exporter routing by trace id would send them), each request to
every ``--target`` through the SDK's own OTLP exporters: one after the other, in an order that
alternates per request and agent, and every other request to both targets at once from two
threads, so the receivers race on the same failures. Prints one JSON object: ``ok`` (every
export returned SUCCESS), ``failures`` (``trace_id``, ``span_id``, ``type``, ``kind``) and
``operations`` (spans per GenAI operation name).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from operator import methodcaller
from typing import Any

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status, StatusCode, format_span_id, format_trace_id


class Collect(SpanExporter):
    """Keeps every finished span, to export the requests by hand (twice)."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def _call_model() -> None:
    raise ConnectionResetError("Connection reset by peer")


def _call_search(seconds: int) -> None:
    raise TimeoutError(f"search timed out after {seconds} s")


def _unique(agent: int, trace: int) -> None:
    error = type(f"Agent{agent}Trace{trace}Error", (RuntimeError,), {})
    raise error("the planner gave up")


def _exporter(target: str) -> SpanExporter:
    protocol, endpoint = target.split(":", 1)
    if protocol == "grpc":
        return GrpcExporter(endpoint=endpoint, insecure=True, timeout=30)
    return HttpExporter(endpoint=f"{endpoint}/v1/traces", timeout=30)


def _record(span: Any, failures: list[dict[str, str]], kind: str, fail: Any) -> None:
    try:
        fail()
    except Exception as error:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, str(error)))
        context = span.get_span_context()
        failures.append(
            {
                "trace_id": format_trace_id(context.trace_id),
                "span_id": format_span_id(context.span_id),
                "type": type(error).__qualname__,
                "kind": kind,
            }
        )


def _run_traces(tracer: Any, agent: int, traces: int) -> list[dict[str, str]]:
    failures: list[dict[str, str]] = []
    planner = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"}
    chat = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
    }
    tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"}
    for trace in range(traces):
        with tracer.start_as_current_span("invoke_agent planner", attributes=planner) as root:
            for n in range(3):
                with tracer.start_as_current_span("chat gpt-4o", attributes=chat) as span:
                    if n == 1:
                        _record(span, failures, "chat", _call_model)
            for n in range(2):
                with tracer.start_as_current_span("execute_tool search", attributes=tool) as span:
                    if n == 0 and trace % 2 == 0:
                        _record(span, failures, "tool", partial(_call_search, 10 + trace))
                    if n == 1 and trace % 5 == 0:
                        _record(span, failures, "unique", partial(_unique, agent, trace))
            root.set_attribute("error.type", "PlannerFailed")
            root.set_status(Status(StatusCode.ERROR, "the plan failed"))
    return failures


def _requests(spans: list[ReadableSpan], per_request: int) -> list[list[ReadableSpan]]:
    """The spans grouped into requests of ``per_request`` whole traces, in trace order."""
    by_trace: dict[int, list[ReadableSpan]] = {}
    for span in spans:
        assert span.context is not None
        by_trace.setdefault(span.context.trace_id, []).append(span)
    traces = list(by_trace.values())
    return [
        [span for trace in traces[i : i + per_request] for span in trace]
        for i in range(0, len(traces), per_request)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--service", required=True)
    parser.add_argument("--agent", type=int, required=True)
    parser.add_argument("--traces", type=int, default=30)
    parser.add_argument("--traces-per-request", type=int, default=5)
    parser.add_argument("--target", action="append", required=True, help="grpc:ADDR|http:URL")
    args = parser.parse_args()

    collect = Collect()
    provider = TracerProvider(resource=Resource.create({"service.name": args.service}))
    provider.add_span_processor(SimpleSpanProcessor(collect))
    failures = _run_traces(provider.get_tracer("scale-out-e2e"), args.agent, args.traces)
    provider.shutdown()

    exporters = [_exporter(target) for target in args.target]
    results: list[str] = []
    with ThreadPoolExecutor(len(exporters)) as pool:
        for number, request in enumerate(_requests(collect.spans, args.traces_per_request)):
            turn = (number + args.agent) % 2
            ordered = exporters if turn == 0 else exporters[::-1]
            if number % 2 == 0:
                results += [exporter.export(request).name for exporter in ordered]
            else:
                results += [r.name for r in pool.map(methodcaller("export", request), ordered)]
    for exporter in exporters:
        exporter.shutdown()
    operations = Counter(
        str((span.attributes or {})["gen_ai.operation.name"]) for span in collect.spans
    )
    report = {
        "ok": bool(results) and all(result == "SUCCESS" for result in results),
        "results": results,
        "failures": failures,
        "operations": dict(operations),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
