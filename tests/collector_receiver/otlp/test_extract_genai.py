"""The GenAI context of failures and the GenAI operations of a request (CONTRACT §5 r2).

Requests are the real SDK's spans through the OTLP exporter's own encoder, in protobuf and in
OTLP/JSON; only the shapes the SDK cannot produce (cycles, reused or broken ids, zero times) are
built from the OTLP protobuf classes directly.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from collector_receiver.events import GenAIContext, OperationCounts, OperationKey
from collector_receiver.otlp import ExtractResult, decode_request, extract_failures
from collector_receiver.otlp._genai import MAX_ANCESTOR_HOPS, is_operation_name
from tests.collector_receiver.otlp._helpers import (
    T0,
    exception_event,
    log_record,
    logs_request,
    otlp_json,
    resource,
    span,
    trace_request,
)

_TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
_HOUR = 3_600_000_000_000


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    yield InMemorySpanExporter()


def _tracer(exporter: InMemorySpanExporter, **resource_attributes: str) -> Tracer:
    attributes = {"service.name": "support-agent", **resource_attributes}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("tests.genai")


def _extract_request(request: ExportTraceServiceRequest, *, as_json: bool = False) -> ExtractResult:
    if as_json:
        body, content_type = otlp_json(request), "application/json"
    else:
        body, content_type = request.SerializeToString(), "application/x-protobuf"
    return extract_failures("traces", decode_request("traces", body, content_type))


def _extract(spans: Sequence[ReadableSpan], *, as_json: bool = False) -> ExtractResult:
    return _extract_request(encode_spans(spans), as_json=as_json)


def _hour_of(start_unix_nano: int) -> datetime:
    return datetime.fromtimestamp(start_unix_nano // _HOUR * 3600, tz=timezone.utc)


def _ops(result: ExtractResult) -> OperationCounts:
    assert result.operations is not None
    return result.operations


def _run_agent(tracer: Tracer) -> None:
    """invoke_agent > chat > execute_tool, the tool failing inside the real json parser."""
    with (
        tracer.start_as_current_span(
            "invoke_agent triage",
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "triage",
                "gen_ai.provider.name": "openai",
            },
        ),
        tracer.start_as_current_span(
            "chat gpt-4o",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
            },
        ),
        pytest.raises(json.JSONDecodeError),
        tracer.start_as_current_span(
            "execute_tool lookup_order",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "lookup_order",
            },
        ),
    ):
        json.loads("{'order': 42}")  # the SDK records the exception on the tool span


@pytest.mark.parametrize("as_json", [False, True], ids=["protobuf", "json"])
def test_a_tool_failure_takes_its_context_from_its_span_and_its_ancestors(
    exporter: InMemorySpanExporter, as_json: bool
) -> None:
    _run_agent(_tracer(exporter))
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == [
        "execute_tool lookup_order",
        "chat gpt-4o",
        "invoke_agent triage",
    ]

    result = _extract(spans, as_json=as_json)

    [failure] = result.events
    assert failure.exception_type == "json.decoder.JSONDecodeError"
    assert failure.gen_ai == GenAIContext(
        provider="openai",  # from chat, the nearest span that has one
        model="gpt-4o",  # request model before response model
        operation="execute_tool",  # its own span's
        tool="lookup_order",
        agent="triage",  # from invoke_agent, two levels up
    )


def test_every_operation_span_is_counted_with_its_context(exporter: InMemorySpanExporter) -> None:
    _run_agent(_tracer(exporter))
    tool, chat, agent = exporter.get_finished_spans()

    counts = _ops(_extract([tool, chat, agent])).counts

    def key(start: int | None, **context: str) -> OperationKey:
        assert start is not None
        return OperationKey(_hour_of(start), "support-agent", GenAIContext(**context))

    expected = {
        key(agent.start_time, provider="openai", operation="invoke_agent", agent="triage"): 1,
        key(
            chat.start_time, provider="openai", model="gpt-4o", operation="chat", agent="triage"
        ): 1,
        key(
            tool.start_time,
            provider="openai",
            model="gpt-4o",
            operation="execute_tool",
            tool="lookup_order",
            agent="triage",
        ): 1,
    }
    assert dict(counts) == expected
    for bucket in counts:
        assert bucket.bucket_start.tzinfo is timezone.utc
        assert (bucket.bucket_start.minute, bucket.bucket_start.second) == (0, 0)
        assert bucket.bucket_start.microsecond == 0


@pytest.mark.parametrize("as_json", [False, True], ids=["protobuf", "json"])
def test_ancestors_that_are_not_operations_are_levels_too(
    exporter: InMemorySpanExporter, as_json: bool
) -> None:
    # A plain span carrying gen_ai.agent.name is a level like any other; a plain span whose
    # only "gen_ai." is in a value, an event and its name (the walk's cheap test looks at its
    # bytes) gives nothing, and one without any gives nothing either.
    tracer = _tracer(exporter)
    with (
        tracer.start_as_current_span("POST /tickets", attributes={"gen_ai.agent.name": "router"}),
        tracer.start_as_current_span(
            "gen_ai.step", attributes={"note": "gen_ai.tool.name is set below"}
        ) as noted,
        tracer.start_as_current_span("SELECT tickets", attributes={"db.system.name": "sqlite"}),
        tracer.start_as_current_span(
            "chat gpt-4o", attributes={"gen_ai.operation.name": "chat", "gen_ai.system": "openai"}
        ),
    ):
        noted.add_event("gen_ai.marker", {"gen_ai.hint": 1})
    spans = exporter.get_finished_spans()

    counts = _ops(_extract(spans, as_json=as_json)).counts

    assert [k.context for k in counts] == [
        GenAIContext(provider="openai", operation="chat", agent="router")
    ]


def test_calls_of_one_context_in_one_hour_add_up(exporter: InMemorySpanExporter) -> None:
    tracer = _tracer(exporter)
    for _ in range(5):
        with tracer.start_as_current_span(
            "chat claude-sonnet-4-5",
            attributes={"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic"},
        ):
            pass
    spans = exporter.get_finished_spans()
    hours = {_hour_of(s.start_time or 0) for s in spans}

    counts = _ops(_extract(spans)).counts

    assert sum(counts.values()) == 5
    assert {k.bucket_start for k in counts} == hours
    assert {k.context for k in counts} == {GenAIContext(provider="anthropic", operation="chat")}


def test_the_resource_is_the_last_level(exporter: InMemorySpanExporter) -> None:
    tracer = _tracer(exporter, **{"gen_ai.agent.name": "billing", "gen_ai.provider.name": "azure"})
    with (
        pytest.raises(KeyError),
        tracer.start_as_current_span(
            "chat gpt-4o-mini",
            attributes={"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"},
        ),
    ):
        os.environ["FAILCAT_TEST_UNSET_VARIABLE"]  # os.environ raises it

    result = _extract(exporter.get_finished_spans())

    expected = GenAIContext(provider="openai", operation="chat", agent="billing")
    assert result.events[0].gen_ai == expected
    assert [k.context for k in _ops(result).counts] == [expected]


def test_gen_ai_system_is_the_provider_of_its_level_when_provider_name_is_absent(
    exporter: InMemorySpanExporter,
) -> None:
    tracer = _tracer(exporter)
    with (
        tracer.start_as_current_span(
            "invoke_agent planner",
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.provider.name": "gcp.vertex_ai",
                "gen_ai.system": "vertex_ai",
            },
        ),
        tracer.start_as_current_span(
            "chat gemini-2.5-pro",
            attributes={"gen_ai.operation.name": "chat", "gen_ai.system": "gemini"},
        ),
    ):
        pass
    chat, agent = exporter.get_finished_spans()

    contexts = {k.context.operation: k.context for k in _ops(_extract([chat, agent])).counts}

    # Each level puts provider.name before system; the nearest level wins over a better key.
    assert contexts["invoke_agent"].provider == "gcp.vertex_ai"
    assert contexts["chat"].provider == "gemini"


def test_the_exception_event_is_the_nearest_level_of_its_failure() -> None:
    request = trace_request(
        [
            span(
                "execute_tool search",
                attributes={
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "search",
                    "gen_ai.provider.name": "openai",
                },
                events=[exception_event(gen_ai__system="cohere", gen_ai__tool__name="")],
                status_code=2,
            )
        ]
    )

    [failure] = _extract_request(request).events

    # Its own gen_ai.system beats the span's provider.name; its empty tool name is absent.
    assert failure.gen_ai == GenAIContext(
        provider="cohere", operation="execute_tool", tool="search"
    )


def test_a_status_only_failure_and_a_logged_failure_get_contexts_too() -> None:
    request = trace_request(
        [
            span(
                "chat gpt-4o",
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": "gpt-4o",
                    "error.type": "429",
                },
                status_code=2,
            )
        ],
        res=resource("router", gen_ai__provider__name="openai"),
    )
    [status] = _extract_request(request).events
    assert status.source == "span_status"
    assert status.gen_ai == GenAIContext(provider="openai", model="gpt-4o", operation="chat")

    logs = logs_request(
        [
            log_record(
                {"exception.type": "RateLimitError", "gen_ai.response.model": "gpt-4o-mini"},
                trace_id=_TRACE,
                span_id=bytes(range(1, 9)),
            )
        ],
        res=resource("router", gen_ai__system="openai", gen_ai__agent__name="router"),
    )
    body = logs.SerializeToString()
    [logged] = extract_failures(
        "logs", decode_request("logs", body, "application/x-protobuf")
    ).events
    assert logged.gen_ai == GenAIContext(provider="openai", model="gpt-4o-mini", agent="router")


@pytest.mark.parametrize(
    ("name", "operation"),
    [
        ("chat", True),
        ("chat gpt-4o", True),
        ("execute_tool get_weather", True),
        ("invoke_workflow nightly", True),
        ("embeddings text-embedding-3-small", True),
        ("chatbot.reply", False),
        ("chat.completions", False),
        ("Chat gpt-4o", False),
        (" chat", False),
        ("execute_tool_wrapper", False),
        ("", False),
    ],
)
def test_which_names_are_operation_names(name: str, operation: bool) -> None:
    assert is_operation_name(name) is operation


def test_spans_not_following_the_conventions_are_not_counted(
    exporter: InMemorySpanExporter,
) -> None:
    tracer = _tracer(exporter)
    with tracer.start_as_current_span(
        "chatbot.reply", attributes={"gen_ai.operation.name": "chat"}
    ):
        pass
    with tracer.start_as_current_span("execute_tool search"):  # no gen_ai.operation.name
        pass
    with tracer.start_as_current_span("chat gpt-4o", attributes={"gen_ai.operation.name": ""}):
        pass
    with tracer.start_as_current_span("POST", attributes={"gen_ai.operation.name": "chat"}):
        pass

    result = _extract(exporter.get_finished_spans())

    assert result.items == 4
    assert result.operations is None


def test_json_and_protobuf_give_the_same_counts_and_delivery_key(
    exporter: InMemorySpanExporter,
) -> None:
    _run_agent(_tracer(exporter))
    spans = exporter.get_finished_spans()

    as_proto = _ops(_extract(spans))
    as_json = _ops(_extract(spans, as_json=True))

    assert as_json == as_proto
    assert len(as_proto.delivery_key) == 32
    assert as_proto.delivery_key == as_proto.delivery_key.lower()
    int(as_proto.delivery_key, 16)


def _scattered(spans: Sequence[ReadableSpan], seed: int) -> ExportTraceServiceRequest:
    """The same spans shuffled over several ResourceSpans/ScopeSpans of one resource each."""
    encoded = encode_spans(spans)
    [resource_spans] = encoded.resource_spans
    [scope_spans] = resource_spans.scope_spans
    pieces = list(scope_spans.spans)
    random.Random(seed).shuffle(pieces)
    request = ExportTraceServiceRequest()
    for start in range(0, len(pieces), 2):
        request.resource_spans.append(
            ResourceSpans(
                resource=resource_spans.resource,
                scope_spans=[ScopeSpans(scope=scope_spans.scope, spans=pieces[start : start + 2])],
            )
        )
    return request


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_order_of_the_spans_changes_nothing(exporter: InMemorySpanExporter, seed: int) -> None:
    tracer = _tracer(exporter)
    for _ in range(3):
        _run_agent(tracer)
    spans = exporter.get_finished_spans()
    plain = _extract(spans)

    scattered = _extract_request(_scattered(spans, seed), as_json=seed == 2)

    assert _ops(scattered) == _ops(plain)
    assert sorted(e.gen_ai for e in scattered.events) == sorted(e.gen_ai for e in plain.events)
    assert {e.gen_ai.agent for e in plain.events} == {"triage"}


def test_other_spans_make_another_delivery_key(exporter: InMemorySpanExporter) -> None:
    tracer = _tracer(exporter)
    _run_agent(tracer)
    _run_agent(tracer)
    spans = exporter.get_finished_spans()

    first, second, both = _extract(spans[:3]), _extract(spans[3:]), _extract(spans)

    keys = {_ops(first).delivery_key, _ops(second).delivery_key, _ops(both).delivery_key}
    assert len(keys) == 3


def _id(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _op(
    name: str, span_id: int, parent: int | None, attributes: Mapping[str, Any] | None = None
) -> Span:
    """An operation span of the conventions: its name's first word is its operation."""
    built = span(
        name,
        trace_id=_TRACE,
        span_id=_id(span_id),
        attributes={"gen_ai.operation.name": name.split(" ")[0], **(attributes or {})},
    )
    if parent is not None:
        built.parent_span_id = _id(parent)
    return built


def test_an_ancestor_in_another_resource_of_the_request_counts_but_not_one_of_another_trace() -> (
    None
):
    child = _op("chat gpt-4o", 2, 1)
    parent = _op("invoke_agent a", 1, None, {"gen_ai.agent.name": "a"})
    elsewhere = _op("invoke_agent b", 1, None, {"gen_ai.agent.name": "b"})
    elsewhere.trace_id = bytes(range(16))  # another trace reusing the parent's span id
    request = trace_request([child])
    request.resource_spans.append(trace_request([elsewhere]).resource_spans[0])
    request.resource_spans.append(trace_request([parent], res=resource("other")).resource_spans[0])

    counts = _ops(_extract_request(request)).counts

    by_op = {(k.service_name, k.context.operation): k.context.agent for k in counts}
    assert by_op == {
        ("checkout-agent", "chat"): "a",  # its parent, found in the third resource
        ("checkout-agent", "invoke_agent"): "b",
        ("other", "invoke_agent"): "a",
    }


def test_cycles_of_parent_links_end_the_walk() -> None:
    # 1 -> 2 -> 3 -> 1, and 4 its own parent: every span is counted, nothing loops.
    spans = [
        _op("chat m", 1, 3, {"gen_ai.request.model": "m"}),
        _op("execute_tool t", 2, 1),
        _op("invoke_agent a", 3, 2),
        _op("chat self", 4, 4),
    ]

    result = _extract_request(trace_request(spans))

    assert sum(_ops(result).counts.values()) == 4
    contexts = {k.context.operation: k.context for k in _ops(result).counts}
    assert contexts["execute_tool"].model == "m"  # from its parent, before the cycle closes


def test_a_chain_deeper_than_the_walk_is_read_as_far_as_the_walk_goes() -> None:
    depth = MAX_ANCESTOR_HOPS + 50
    top = _op("invoke_agent deep", 0, None, {"gen_ai.agent.name": "deep"})
    chain = [top] + [span("step", trace_id=_TRACE, span_id=_id(n)) for n in range(1, depth)]
    for n in range(1, depth):
        chain[n].parent_span_id = _id(n - 1)
    near = _op("chat near", depth, 5)
    far = _op("chat far", depth + 1, depth - 1)

    result = _extract_request(trace_request([near, far, *reversed(chain)]))

    agents = {k.context.agent for k in _ops(result).counts if k.context.operation == "chat"}
    # "chat near" is five hops from the top; "chat far" more than the walk goes, so its agent
    # is not found (and nothing hangs)
    assert agents == {"deep", None}


def test_spans_without_a_sound_identity_or_time_are_not_counted() -> None:
    good = _op("chat ok", 1, None)
    zero_time = _op("chat zero", 2, None)
    zero_time.start_time_unix_nano = 0
    zero_span = _op("chat nil", 3, None)
    zero_span.span_id = bytes(8)
    no_trace = _op("chat untraced", 4, None)
    no_trace.trace_id = b""
    short_id = _op("chat short", 5, None)
    short_id.span_id = b"\x01\x02"
    duplicate = _op("chat ok", 1, None)

    result = _extract_request(
        trace_request([good, zero_time, zero_span, no_trace, short_id, duplicate])
    )

    assert result.items == 6 and result.rejected == 0
    assert sum(_ops(result).counts.values()) == 1


def test_a_request_with_operations_only_out_of_range_of_the_clock_still_counts_sanely() -> None:
    late = _op("chat late", 1, None)
    late.start_time_unix_nano = 2**64 - 1  # the largest fixed64: year 2554
    early = _op("chat early", 2, None)
    early.start_time_unix_nano = 1  # one nanosecond after the epoch

    counts = _ops(_extract_request(trace_request([late, early]))).counts

    assert sorted(k.bucket_start.year for k in counts) == [1970, 2554]


def test_context_values_that_are_not_text() -> None:
    built = _op("chat x", 1, None, {"gen_ai.request.model": 4, "gen_ai.tool.name": True})
    built.attributes.add(key="gen_ai.agent.name").value.array_value.values.add(string_value="a")

    [bucket] = _ops(_extract_request(trace_request([built]))).counts

    assert bucket.context == GenAIContext(model="4", operation="chat", tool="true")


def test_a_request_without_genai_spans_has_no_operations() -> None:
    result = _extract_request(trace_request([span("GET /health", start=T0)]))
    assert result.operations is None
