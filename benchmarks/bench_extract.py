"""How much the failure walk costs on top of a bare protobuf parse.

Builds a realistic ExportTraceServiceRequest (by default 10 resources x 500 spans, each span
with a handful of attributes and a status, as the OpenTelemetry SDKs export every span, a
quarter of them with a non-exception event, 1% carrying an ``exception`` event and 0.5% an ERROR
status with ``error.type``), serialises it, and measures spans per second of

  (a) the baseline: ``ParseFromString`` plus a loop touching every span (its name and the
      number of its events) and, for a span whose name begins with a GenAI operation name,
      reading the attributes CONTRACT §5 (r2) counts it by (its own: the receiver also reads
      its ancestors' and its resource's) — the least any receiver must do; (a1), the same
      without the count, is printed beside it for comparison with figures from before;
  (b) the receiver: ``decode_request`` + ``extract_failures``.

It prints both and the ratio (b)/(a); the bar is a ratio of at least 0.5. Both are measured in
the same run, interleaved, best of several repeats, so the ratio holds on any machine.

Every event of a span costs the walk a protobuf access (its name); ``--event-share 1`` (an event
on every span) is the hard case, a ratio of about 0.55-0.6.

``--genai`` shapes the spans as agents following the GenAI span conventions send them (CONTRACT
§5 r2): traces of 10 spans, an ``invoke_agent`` root over ``chat``, ``execute_tool`` and HTTP
spans, each GenAI span with ``gen_ai.operation.name`` and its context attributes, the children
exported before their parents as the SDKs do. There 7 spans in 10 are operations the walk counts
(their attributes read, their ancestors looked up): the cost of the operation counts.

    python benchmarks/bench_extract.py [--resources 10] [--spans 500] [--event-share 0.25]
        [--genai]
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import time
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from collector_receiver.otlp import decode_request, extract_failures

BAR = 0.5
_ID_KEYS = {"traceId", "spanId", "parentSpanId"}


def _kv(key: str, value: str | int) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


#: One agent run of ``--genai``: (name, position of the parent or None, attributes), in the
#: order the spans start; they are exported in reverse (children end first).
_AGENT_RUN: list[tuple[str, int | None, list[tuple[str, str | int]]]] = [
    (
        "invoke_agent support",
        None,
        [("gen_ai.operation.name", "invoke_agent"), ("gen_ai.agent.name", "support")],
    ),
    *[
        item
        for tool in ("search_docs", "read_ticket", "send_reply")
        for item in (
            (
                "chat gpt-4o",
                0,
                [
                    ("gen_ai.operation.name", "chat"),
                    ("gen_ai.provider.name", "openai"),
                    ("gen_ai.request.model", "gpt-4o"),
                    ("gen_ai.response.model", "gpt-4o-2024-08-06"),
                    ("gen_ai.usage.input_tokens", 1200),
                    ("gen_ai.usage.output_tokens", 200),
                    ("server.address", "api.openai.com"),
                ],
            ),
            (
                f"execute_tool {tool}",
                0,
                [
                    ("gen_ai.operation.name", "execute_tool"),
                    ("gen_ai.tool.name", tool),
                    ("gen_ai.tool.call.id", "call_abc123"),
                ],
            ),
            (
                "GET",
                -1,  # the tool just before
                [
                    ("http.request.method", "GET"),
                    ("url.full", "https://internal.example/api"),
                    ("http.response.status_code", 200),
                ],
            ),
        )
    ],
]


def build_request(
    resources: int,
    spans_per_resource: int,
    event_share: float = 0.25,
    seed: int = 7,
    genai: bool = False,
) -> bytes:
    """A serialised request shaped like an agent's traces after a collector's batching."""
    rng = random.Random(seed)
    request = ExportTraceServiceRequest()
    for r in range(resources):
        resource_spans = ResourceSpans(
            resource=Resource(
                attributes=[
                    _kv("service.name", f"agent-{r}"),
                    _kv("service.version", "1.2.3"),
                    _kv("deployment.environment.name", "prod"),
                    _kv("telemetry.sdk.language", "python"),
                    _kv("host.name", f"host-{r}"),
                ]
            )
        )
        scope = ScopeSpans(scope=InstrumentationScope(name="opentelemetry.instrumentation.openai"))
        trace_id = rng.randbytes(16)
        run_ids: list[bytes] = []
        for s in range(spans_per_resource):
            start = 1_700_000_000_000_000_000 + s * 1_000_000
            if genai:
                # Each run a trace of its own; the last span to start is exported first.
                position = len(_AGENT_RUN) - 1 - s % len(_AGENT_RUN)
                if s % len(_AGENT_RUN) == 0:
                    trace_id = rng.randbytes(16)
                    run_ids = [rng.randbytes(8) for _ in _AGENT_RUN]
                name, parent, pairs = _AGENT_RUN[position]
                if parent == -1:
                    parent = position - 1
                span = Span(
                    trace_id=trace_id,
                    span_id=run_ids[position],
                    parent_span_id=b"" if parent is None else run_ids[parent],
                    name=name,
                    kind=3,  # type: ignore[arg-type]
                    start_time_unix_nano=start,
                    end_time_unix_nano=start + 500_000,
                    attributes=[_kv(key, value) for key, value in pairs],
                    status=Status(),
                )
            else:
                span = Span(
                    trace_id=trace_id,
                    span_id=rng.randbytes(8),
                    parent_span_id=rng.randbytes(8),
                    name=rng.choice(["chat gpt-4o", "tool.call search", "http GET", "agent.step"]),
                    kind=3,  # type: ignore[arg-type]
                    start_time_unix_nano=start,
                    end_time_unix_nano=start + 500_000,
                    attributes=[
                        _kv("gen_ai.system", "openai"),
                        _kv("gen_ai.request.model", "gpt-4o"),
                        _kv("gen_ai.usage.input_tokens", rng.randrange(100, 5000)),
                        _kv("gen_ai.usage.output_tokens", rng.randrange(10, 800)),
                        _kv("server.address", "api.openai.com"),
                        _kv("http.response.status_code", 200),
                    ],
                    # The SDKs (Python, JavaScript) write a status on every span, UNSET when
                    # none was set: the walk reads it on every span.
                    status=Status(),
                )
            if rng.random() < event_share:
                span.events.append(
                    Span.Event(
                        name="gen_ai.content.prompt",
                        time_unix_nano=start + 10,
                        attributes=[_kv("gen_ai.prompt", "You are a helpful agent...")],
                    )
                )
            roll = rng.random()
            if roll < 0.01:
                span.events.append(
                    Span.Event(
                        name="exception",
                        time_unix_nano=start + 400_000,
                        attributes=[
                            _kv("exception.type", "openai.RateLimitError"),
                            _kv("exception.message", f"Rate limit reached, retry in {s}ms"),
                            _kv("exception.stacktrace", 'Traceback...\n  File "agent.py"\n' * 8),
                            _kv("failcat.mechanism", "track"),
                        ],
                    )
                )
                span.status.CopyFrom(Status(code=2, message="rate limited"))  # type: ignore[arg-type]
            elif roll < 0.015:
                span.attributes.append(_kv("error.type", "timeout"))
                span.status.CopyFrom(Status(code=2, message="deadline exceeded"))  # type: ignore[arg-type]
            scope.spans.append(span)
        resource_spans.scope_spans.append(scope)
        request.resource_spans.append(resource_spans)
    return request.SerializeToString()


#: What CONTRACT §5 (r2) counts a GenAI operation by; the first word of its span name.
_OPERATION_NAMES = frozenset(
    {
        "chat",
        "text_completion",
        "generate_content",
        "embeddings",
        "retrieval",
        "execute_tool",
        "invoke_agent",
        "create_agent",
        "invoke_workflow",
    }
)
_CONTEXT_KEYS = frozenset(
    {
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.system",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.tool.name",
        "gen_ai.agent.name",
    }
)


def baseline(body: bytes) -> int:
    """The least any receiver must do: parse, touch every span's name and events, and, as
    CONTRACT §5 (r2) counts GenAI operations, read the attributes a span named like one is
    counted by (its own only: no ancestors, no resource, no delivery key)."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    touched = 0
    counts: dict[tuple[str | None, ...], int] = {}
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                name = span.name
                if name and len(span.events) >= 0:
                    touched += 1
                if name.partition(" ")[0] in _OPERATION_NAMES:
                    found = {k: kv for kv in span.attributes if (k := kv.key) in _CONTEXT_KEYS}
                    if "gen_ai.operation.name" in found:  # values read only for an operation
                        key = tuple(kv.value.string_value for kv in found.values())
                        counts[key] = counts.get(key, 0) + 1
    return touched


def baseline_r1(body: bytes) -> int:
    """The baseline before operations were counted: parse and touch every span's name and
    events (printed for comparison with earlier figures)."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    touched = 0
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if span.name and len(span.events) >= 0:
                    touched += 1
    return touched


def receiver(body: bytes) -> int:
    result = extract_failures("traces", decode_request("traces", body, "application/x-protobuf"))
    return result.items


def to_otlp_json(body: bytes) -> bytes:
    """The same request in OTLP/JSON (hex ids), for the informational JSON figure."""
    document = json_format.MessageToDict(ExportTraceServiceRequest.FromString(body))

    def hex_ids(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: base64.b64decode(value).hex() if key in _ID_KEYS else hex_ids(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [hex_ids(item) for item in node]
        return node

    return json.dumps(hex_ids(document)).encode()


def receiver_json(body: bytes) -> int:
    result = extract_failures("traces", decode_request("traces", body, "application/json"))
    return result.items


def best_rates(
    works: list[Callable[[bytes], int]], body: bytes, spans: int, repeat: int
) -> list[float]:
    """Spans/s of each work, best of ``repeat`` runs, interleaved so that load from other
    processes on the machine falls on both alike."""
    best = [float("inf")] * len(works)
    for _ in range(repeat):
        for i, work in enumerate(works):
            started = time.perf_counter()
            seen = work(body)
            elapsed = time.perf_counter() - started
            assert seen == spans, (seen, spans)
            best[i] = min(best[i], elapsed)
    return [spans / elapsed for elapsed in best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10)
    parser.add_argument("--spans", type=int, default=500, help="spans per resource")
    parser.add_argument(
        "--event-share",
        type=float,
        default=0.25,
        help="share of spans with a non-failure event (1.0 is the hard case)",
    )
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--genai",
        action="store_true",
        help="agent runs following the GenAI span conventions (operations counted)",
    )
    args = parser.parse_args()

    spans = args.resources * args.spans
    body = build_request(args.resources, args.spans, args.event_share, genai=args.genai)
    extracted = extract_failures("traces", decode_request("traces", body, "application/x-protobuf"))
    operations = sum(extracted.operations.counts.values()) if extracted.operations else 0
    print(
        f"request: {spans} spans, {len(body) / 1e6:.2f} MB, {len(extracted.events)} failures,"
        f" {operations} GenAI operations counted"
    )

    base, ours, base_r1 = best_rates([baseline, receiver, baseline_r1], body, spans, args.repeat)
    ratio = ours / base
    print(f"(a) baseline parse + walk + count:    {base:>12,.0f} spans/s")
    print(f"(b) decode_request + extract_failures: {ours:>12,.0f} spans/s")
    print(f"ratio (b)/(a): {ratio:.2f}  (bar >= {BAR}: {'ok' if ratio >= BAR else 'BELOW'})")
    print(
        f"(a1) parse + walk without the count: {base_r1:>12,.0f} spans/s,"
        f" ratio (b)/(a1) {ours / base_r1:.2f} (for comparison with figures before §5 r2)"
    )

    json_body = to_otlp_json(body)
    [json_rate] = best_rates([receiver_json], json_body, spans, max(3, args.repeat // 5))
    print(
        f"(c) the same as OTLP/JSON ({len(json_body) / 1e6:.2f} MB): {json_rate:>12,.0f} spans/s"
        " (for information; no bar)"
    )


if __name__ == "__main__":
    main()
