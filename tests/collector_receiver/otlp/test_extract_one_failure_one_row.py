"""One failure, one row (CONTRACT §4 r2): a status-only span is not a failure of its own when an
ancestor or descendant span of it in the same request carries an exception event, nor when a
status-only span of its own lineage lies below it (the deepest is the row).

The requests are the real SDK's spans through the OTLP exporter's own encoder, except for the
hostile shapes (cycles, deep chains, reused ids), which the SDK cannot produce."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode, Tracer

from collector_receiver.events import FailureEvent
from collector_receiver.otlp import decode_request, extract_failures
from collector_receiver.otlp._lineage import MAX_LINEAGE_HOPS, MAX_LINEAGE_SPANS
from tests.collector_receiver.otlp._helpers import (
    exception_event,
    extract_spans,
    span,
    trace_request,
)

_ERROR = 2


class ToolCallFailed(RuntimeError):
    pass


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    yield InMemorySpanExporter()


def _tracer(exporter: InMemorySpanExporter, service: str = "agent") -> Tracer:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("tests.lineage")


def _status_only(tracer: Tracer, name: str, code: str = "-32602") -> None:
    """A span as mcp 2.x leaves its own: ``error.type`` and status ERROR, no exception event."""
    with tracer.start_as_current_span(name) as own:
        own.set_attribute("error.type", code)
        own.set_status(Status(StatusCode.ERROR, "Invalid params"))


def _sources(events: list[FailureEvent]) -> list[str]:
    return [event.source for event in events]


@pytest.mark.parametrize("as_json", [False, True], ids=["protobuf", "json"])
def test_a_status_only_child_of_the_span_with_the_exception_is_not_a_second_failure(
    exporter: InMemorySpanExporter, as_json: bool
) -> None:
    tracer = _tracer(exporter)
    with pytest.raises(ToolCallFailed), tracer.start_as_current_span("agent.step"):
        _status_only(tracer, "MCP send tools/call get_forecast")
        raise ToolCallFailed("Unknown tool: get_forecast")  # recorded by the SDK on agent.step

    events = extract_spans(exporter.get_finished_spans(), as_json=as_json)

    assert _sources(events) == ["span_event"]
    assert events[0].exception_type.endswith("ToolCallFailed")


def test_a_status_only_ancestor_of_the_span_with_the_exception_is_not_a_second_failure(
    exporter: InMemorySpanExporter,
) -> None:
    tracer = _tracer(exporter)
    with tracer.start_as_current_span("MCP send tools/call search") as client:
        with tracer.start_as_current_span("tool handler") as handler:
            handler.record_exception(ToolCallFailed("search backend down"))
        client.set_attribute("error.type", "-32603")
        client.set_status(Status(StatusCode.ERROR, "Internal error"))

    assert _sources(extract_spans(exporter.get_finished_spans())) == ["span_event"]


def test_lineage_runs_through_spans_that_carry_no_failure(exporter: InMemorySpanExporter) -> None:
    tracer = _tracer(exporter)
    with pytest.raises(ToolCallFailed), tracer.start_as_current_span("agent.run"):
        with tracer.start_as_current_span("session"), tracer.start_as_current_span("request"):
            _status_only(tracer, "MCP send prompts/get")  # great-grandchild of the exception
        raise ToolCallFailed("Unknown prompt")

    spans = exporter.get_finished_spans()
    assert len(spans) == 4
    assert _sources(extract_spans(spans)) == ["span_event"]


def test_lineage_runs_through_genai_operation_spans(exporter: InMemorySpanExporter) -> None:
    # The operation spans are the ones the GenAI walk hands to the request's span lookups; here
    # they record nothing, so the status-only span's lineage reaches agent.run through them.
    tracer = _tracer(exporter)
    quiet = {"record_exception": False, "set_status_on_exception": False}
    with (
        pytest.raises(ToolCallFailed),
        tracer.start_as_current_span("agent.run"),
        tracer.start_as_current_span(
            "invoke_agent triage",
            attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "triage"},
            **quiet,
        ),
        tracer.start_as_current_span(
            "execute_tool search",
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"},
            **quiet,
        ),
    ):
        _status_only(tracer, "MCP send tools/call search")
        raise ToolCallFailed("search backend down")

    events = extract_spans(exporter.get_finished_spans())

    assert _sources(events) == ["span_event"]
    assert events[0].span_name == "agent.run"
    assert events[0].gen_ai.operation is None  # agent.run is above the operations


def test_a_status_only_sibling_without_an_exception_in_its_lineage_is_still_stored(
    exporter: InMemorySpanExporter,
) -> None:
    tracer = _tracer(exporter)
    with tracer.start_as_current_span("agent.run"):
        with pytest.raises(ToolCallFailed), tracer.start_as_current_span("tool.a"):
            raise ToolCallFailed("tool a failed")
        _status_only(tracer, "http GET", code="503")  # a sibling of tool.a: another failure

    events = extract_spans(exporter.get_finished_spans())

    assert sorted(_sources(events)) == ["span_event", "span_status"]
    assert next(e for e in events if e.source == "span_status").exception_type == "503"


def test_a_status_only_span_of_another_trace_is_still_stored(
    exporter: InMemorySpanExporter,
) -> None:
    tracer = _tracer(exporter)
    with pytest.raises(ToolCallFailed), tracer.start_as_current_span("trace one"):
        raise ToolCallFailed("first")
    _status_only(tracer, "trace two")  # a root span: a trace of its own

    assert sorted(_sources(extract_spans(exporter.get_finished_spans()))) == [
        "span_event",
        "span_status",
    ]


def test_a_status_only_span_over_another_is_one_row_the_deepest(
    exporter: InMemorySpanExporter,
) -> None:
    # A Node.js agent marks its step span failed by status alone over the SDK's own span, which
    # its SDK marked the same way: one failure, the SDK's row (its error.type says most).
    tracer = _tracer(exporter)
    with tracer.start_as_current_span("agent.step") as step:
        with tracer.start_as_current_span("plain hop"):
            _status_only(tracer, "anthropic.messages.create", code="timeout")
        step.set_attribute("error.type", "Error")
        step.set_status(Status(StatusCode.ERROR, "Request timed out."))

    events = extract_spans(exporter.get_finished_spans())

    assert [(e.source, e.span_name, e.exception_type) for e in events] == [
        ("span_status", "anthropic.messages.create", "timeout")
    ]


def test_two_status_only_siblings_under_a_status_only_span_stay_two_rows(
    exporter: InMemorySpanExporter,
) -> None:
    # Two tool calls failed; the run that holds them failed because of them: two failures.
    tracer = _tracer(exporter)
    with tracer.start_as_current_span("agent.run") as run:
        _status_only(tracer, "tools/call search", code="-32602")
        _status_only(tracer, "tools/call fetch", code="503")
        run.set_attribute("error.type", "tool_error")
        run.set_status(Status(StatusCode.ERROR))

    events = extract_spans(exporter.get_finished_spans())

    assert sorted(e.exception_type for e in events) == ["-32602", "503"]


def test_parent_and_child_in_two_requests_are_both_stored(exporter: InMemorySpanExporter) -> None:
    # The documented limit: lineage is looked for within one request.
    tracer = _tracer(exporter)
    with pytest.raises(ToolCallFailed), tracer.start_as_current_span("agent.step"):
        _status_only(tracer, "MCP send tools/call")
        raise ToolCallFailed("Unknown tool")
    child, parent = exporter.get_finished_spans()

    assert _sources(extract_spans([child])) == ["span_status"]
    assert _sources(extract_spans([parent])) == ["span_event"]


def test_lineage_crosses_resources_and_scopes_of_one_request(
    exporter: InMemorySpanExporter,
) -> None:
    # The exception on the agent's span (one service), the status on a span another service's
    # provider made under it: a collector delivers both in one request, as two resources.
    agent, framework = _tracer(exporter, "agent"), _tracer(exporter, "mcp-server")
    with pytest.raises(ToolCallFailed), agent.start_as_current_span("agent.step"):
        _status_only(framework, "tools/call get_forecast")
        raise ToolCallFailed("Unknown tool")
    request = encode_spans(exporter.get_finished_spans())
    assert len(request.resource_spans) == 2

    assert _sources(extract_spans(exporter.get_finished_spans())) == ["span_event"]


# -- hostile shapes ---------------------------------------------------------------------------

TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")


def _id(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _span(n: int, parent: int | None, *, exception: bool = False, trace: bytes = TRACE) -> Any:
    one = span(
        f"s{n}",
        trace_id=trace,
        span_id=_id(n),
        events=[exception_event("x.Failed")] if exception else [],
        status_code=0 if exception else _ERROR,
        attributes={} if exception else {"error.type": "E"},
    )
    if parent is not None:
        one.parent_span_id = _id(parent)
    return one


def _extract_built(spans: list[Any]) -> list[FailureEvent]:
    body = trace_request(spans).SerializeToString()
    return extract_failures(
        "traces", decode_request("traces", body, "application/x-protobuf")
    ).events


def test_a_cycle_of_parent_links_ends_the_walk() -> None:
    # 1 -> 2 -> 3 -> 1, all status-only, and an unrelated exception span in the same trace.
    spans = [_span(1, 3), _span(2, 1), _span(3, 2), _span(9, None, exception=True)]

    assert sorted(_sources(_extract_built(spans))) == ["span_event", *["span_status"] * 3]


def test_a_status_only_span_under_a_cycle_keeps_every_row() -> None:
    # 4 under the cycle 1 -> 2 -> 3 -> 1: related to nothing, so nothing is folded.
    spans = [_span(1, 3), _span(2, 1), _span(3, 2), _span(4, 1)]

    assert _sources(_extract_built(spans)) == ["span_status"] * 4


def test_status_only_spans_in_a_chain_are_one_row_the_deepest() -> None:
    spans = [_span(1, None), _span(2, 1), _span(3, 2)]

    assert [e.span_id for e in _extract_built(spans)] == [_id(3).hex()]


def test_a_cycle_through_the_exception_span_still_finds_it() -> None:
    spans = [_span(1, 2), _span(2, 3), _span(3, 1, exception=True)]

    assert _sources(_extract_built(spans)) == ["span_event"]


def test_a_chain_deeper_than_the_walk_goes_is_followed_that_far() -> None:
    deep = MAX_LINEAGE_HOPS + 10
    # exception at the root (1), plain spans in between, status-only leaves near and far
    spans = [_span(1, None, exception=True)]
    spans += [span(f"p{n}", trace_id=TRACE, span_id=_id(n)) for n in range(2, deep + 2)]
    for n, plain in enumerate(spans[1:], start=2):
        plain.parent_span_id = _id(n - 1)
    near, far = _span(10_001, 5), _span(10_002, deep + 1)

    events = _extract_built([*spans, near, far])

    assert [e.span_id for e in events if e.source == "span_status"] == [_id(10_002).hex()]


def test_a_span_id_reused_in_another_trace_is_not_its_parent() -> None:
    other = bytes.fromhex("00000000000000000000000000000abc")
    spans = [
        _span(1, None, exception=True, trace=other),  # id 1 in another trace
        _span(2, 1),  # its parent is id 1 of *this* trace, which the request lacks
        _span(3, None, exception=True),  # an exception in this trace, unrelated
    ]

    assert sorted(_sources(_extract_built(spans))) == ["span_event", "span_event", "span_status"]


def test_a_request_too_large_to_index_follows_lineage_through_failure_spans_only() -> None:
    plain = [span("p", trace_id=TRACE, span_id=_id(n)) for n in range(100, 100 + MAX_LINEAGE_SPANS)]
    for one in plain:
        one.parent_span_id = _id(1)
    grandchild = _span(2, 100)  # under the exception span through a plain span
    child = _span(3, 1)  # right under the exception span
    spans = [_span(1, None, exception=True), grandchild, child, *plain]

    events = _extract_built(spans)

    assert [e.span_id for e in events if e.source == "span_status"] == [_id(2).hex()]
    assert _sources(_extract_built(spans[:4])) == ["span_event"]  # small enough: both dropped
