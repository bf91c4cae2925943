"""One failure, one row (CONTRACT §4 r2): an exception recorded as events at two levels of one
lineage is stored once, the deepest recording; an exception group whose leaves are recorded
below it is stored as its leaves only.

The requests are the real SDK's spans (the SDK's own ``record_exception`` as a span's context
manager calls it, the agent's ``record_failure`` for a group) through the OTLP exporter's own
encoder, except for the hostile shapes (cycles, deep chains, huge requests), which the SDK
cannot produce."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, Tracer, set_span_in_context

from collector_receiver.events import FailureEvent
from collector_receiver.otlp import decode_request, extract_failures
from collector_receiver.otlp._lineage import MAX_LINEAGE_HOPS, MAX_LINEAGE_SPANS
from otel_failcat import FailcatInstrumentor, record_failure
from tests.collector_receiver.otlp._helpers import (
    exception_event,
    extract_spans,
    span,
    trace_request,
)
from tests.otel_failcat._helpers import Telemetry

HERE = __name__


class APICallError(Exception):
    pass


class ToolError(Exception):
    pass


class RetryError(Exception):
    pass


@pytest.fixture
def tracer() -> tuple[Tracer, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "agent"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("tests.repeated"), exporter


def _sent(spans: Sequence[ReadableSpan]) -> int:
    """How many exception events the SDK wrote: what the rule starts from."""
    return sum(1 for one in spans for event in one.events if event.name == "exception")


def _call_model(tracer: Tracer, message: str = "Internal Server Error") -> None:
    """A generateText with telemetry on, as the Vercel AI SDK traces it: the outer call and the
    attempt each record the error that propagates through them."""
    with tracer.start_as_current_span("ai.generateText"):
        with tracer.start_as_current_span("ai.generateText.doGenerate") as attempt:
            attempt.set_attribute("gen_ai.system", "openai.chat")
            attempt.set_attribute("gen_ai.request.model", "gpt-4o")
            raise APICallError(message)


@pytest.mark.parametrize("as_json", [False, True], ids=["protobuf", "json"])
def test_an_error_recorded_by_the_call_and_its_attempt_is_one_row_the_attempts(
    tracer: tuple[Tracer, InMemorySpanExporter], as_json: bool
) -> None:
    tracer_, exporter = tracer
    with pytest.raises(APICallError), tracer_.start_as_current_span("agent.step"):
        _call_model(tracer_)  # the agent's span records it a third time
    spans = exporter.get_finished_spans()
    assert _sent(spans) == 3

    [event] = extract_spans(spans, as_json=as_json)

    assert event.span_name == "ai.generateText.doGenerate"
    assert event.exception_type == f"{HERE}.APICallError"
    assert event.gen_ai.model == "gpt-4o"  # the attempt's context, which the outer spans lack


def test_the_same_error_on_sibling_calls_is_two_rows(
    tracer: tuple[Tracer, InMemorySpanExporter],
) -> None:
    tracer_, exporter = tracer
    with tracer_.start_as_current_span("agent.run"):
        for _ in range(2):  # two calls failing the same way are two failures
            with pytest.raises(APICallError):
                _call_model(tracer_)

    events = extract_spans(exporter.get_finished_spans())

    assert [e.span_name for e in events] == ["ai.generateText.doGenerate"] * 2
    assert events[0].span_id != events[1].span_id


def test_each_failed_attempt_of_a_retry_is_a_row_and_the_retry_error_its_own(
    tracer: tuple[Tracer, InMemorySpanExporter],
) -> None:
    tracer_, exporter = tracer
    with pytest.raises(RetryError), tracer_.start_as_current_span("ai.generateText"):
        for _ in range(3):
            with (
                pytest.raises(APICallError),
                tracer_.start_as_current_span("ai.generateText.doGenerate"),
            ):
                raise APICallError("Rate limit reached for gpt-4o")
        raise RetryError("Failed after 3 attempts. Last error: Rate limit reached for gpt-4o")

    events = extract_spans(exporter.get_finished_spans())

    assert sorted(e.exception_type.rpartition(".")[2] for e in events) == [
        "APICallError",
        "APICallError",
        "APICallError",
        "RetryError",
    ]


def test_a_parent_re_raising_the_last_attempts_error_is_not_a_row_of_its_own(
    tracer: tuple[Tracer, InMemorySpanExporter],
) -> None:
    # maxRetries without wrapping: the call fails with the last attempt's error, which both
    # attempts raised: the attempts stay two failures, the call's recording is the second's.
    tracer_, exporter = tracer
    with pytest.raises(APICallError), tracer_.start_as_current_span("ai.generateText"):
        for attempt in range(2):
            try:
                with tracer_.start_as_current_span("ai.generateText.doGenerate"):
                    raise APICallError("overloaded")
            except APICallError:
                if attempt == 1:
                    raise

    events = extract_spans(exporter.get_finished_spans())

    assert [e.span_name for e in events] == ["ai.generateText.doGenerate"] * 2


def test_a_wrapper_without_a_cause_chain_is_a_row_of_its_own(
    tracer: tuple[Tracer, InMemorySpanExporter],
) -> None:
    # The plain SDK writes no failcat.cause_types: nothing says the ToolError wraps the
    # TimeoutError below it (with them, see test_extract_wrapped_errors.py).
    tracer_, exporter = tracer
    with pytest.raises(ToolError), tracer_.start_as_current_span("execute_tool search"):
        try:
            with tracer_.start_as_current_span("http GET"):
                raise TimeoutError("read timed out")
        except TimeoutError as error:
            raise ToolError("search failed") from error

    events = extract_spans(exporter.get_finished_spans())

    assert [(e.span_name, e.exception_message) for e in events] == [
        ("http GET", "read timed out"),
        ("execute_tool search", "search failed"),
    ]


def test_the_same_type_with_another_message_is_a_row_of_its_own(
    tracer: tuple[Tracer, InMemorySpanExporter],
) -> None:
    tracer_, exporter = tracer
    with pytest.raises(APICallError), tracer_.start_as_current_span("ai.generateText"):
        try:
            _call_model(tracer_, "Internal Server Error")
        except APICallError as error:
            # A message that does not carry the one below (that would be a wrapper of it).
            raise APICallError("the provider failed") from error

    assert len(extract_spans(exporter.get_finished_spans())) == 2


def test_a_span_that_records_its_exception_twice_is_one_row(
    tracer: tuple[Tracer, InMemorySpanExporter],
) -> None:
    # The agent records the exception and re-raises it; the span's context manager records it
    # again on its way out.
    tracer_, exporter = tracer
    with pytest.raises(APICallError), tracer_.start_as_current_span("chat gpt-4o") as own:
        try:
            raise APICallError("Bad gateway")
        except APICallError as error:
            own.record_exception(error)
            raise
    assert _sent(exporter.get_finished_spans()) == 2

    [event] = extract_spans(exporter.get_finished_spans())

    assert event.event_index == 0  # the first recording


def test_the_same_error_in_two_traces_is_two_rows(
    tracer: tuple[Tracer, InMemorySpanExporter],
) -> None:
    tracer_, exporter = tracer
    for _ in range(2):
        with pytest.raises(APICallError):
            _call_model(tracer_)  # each a root span: a trace of its own

    events = extract_spans(exporter.get_finished_spans())

    assert len(events) == 2
    assert events[0].trace_id != events[1].trace_id


def test_recordings_in_two_requests_are_both_stored(
    tracer: tuple[Tracer, InMemorySpanExporter],
) -> None:
    # The documented limit, as for status-only spans: lineage is looked for within one request.
    tracer_, exporter = tracer
    with pytest.raises(APICallError):
        _call_model(tracer_)
    attempt, call = exporter.get_finished_spans()

    assert [e.span_name for e in extract_spans([attempt])] == ["ai.generateText.doGenerate"]
    assert [e.span_name for e in extract_spans([call])] == ["ai.generateText"]


def test_the_rule_crosses_resources_of_one_request() -> None:
    # The library's provider records on its span, the agent's on the enclosing one; a collector
    # delivers both in one request, as two resources.
    exporter = InMemorySpanExporter()
    tracers = []
    for service in ("agent", "mcp-client"):
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracers.append(provider.get_tracer("tests.repeated"))
    agent, library = tracers
    with pytest.raises(ToolError), agent.start_as_current_span("agent.step"):
        with library.start_as_current_span("MCP send tools/call get_forecast"):
            raise ToolError("Unknown tool: get_forecast")
    assert len(encode_spans(exporter.get_finished_spans()).resource_spans) == 2

    [event] = extract_spans(exporter.get_finished_spans())

    assert event.service_name == "mcp-client"


# -- exception groups -------------------------------------------------------------------------


# The agent (otel_failcat) records a group only when it has not recorded every leaf itself; the
# leaves here fail in a tool server, another service traced by the plain SDK under the agent's
# span (its context propagated), and a collector delivers both services' spans in one request.


async def _fail(exc: BaseException) -> None:
    await asyncio.sleep(0)
    raise exc


def _task_group(*leaves: BaseException) -> BaseException:
    async def step() -> None:
        async with asyncio.TaskGroup() as group:
            for leaf in leaves:
                group.create_task(_fail(leaf))

    try:
        asyncio.run(step())
    except BaseException as group:  # the ExceptionGroup the TaskGroup raised
        return group
    raise AssertionError("the task group did not fail")


def _group_across_services(group_of: Sequence[Exception], served: Sequence[Exception]) -> Any:
    """The failures of one request: the agent's step recording the group of ``group_of``, and
    a tool server's span under that step for each of ``served``, recording it (the SDK's span
    context manager)."""
    agent = Telemetry.create()
    instrumentor = FailcatInstrumentor()
    instrumentor.instrument(**agent.providers())
    try:
        tracer = agent.tracer_provider.get_tracer("tests.repeated")
        with tracer.start_as_current_span("agent.step") as step:
            record_failure(_task_group(*group_of))
    finally:
        instrumentor.uninstrument()
    assert len(_group_events(agent)) == 1  # the agent did send the group
    parent = set_span_in_context(NonRecordingSpan(step.get_span_context()))
    server = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "tool-server"}))
    provider.add_span_processor(SimpleSpanProcessor(server))
    tool = provider.get_tracer("tests.repeated")
    for exc in served:
        with (
            pytest.raises(type(exc)),
            tool.start_as_current_span(f"tools/call {type(exc).__name__}", context=parent),
        ):
            raise exc
    return extract_spans([*server.get_finished_spans(), *agent.finished_spans()])


def _group_events(telemetry: Telemetry) -> list[dict[str, Any]]:
    return [
        attributes
        for _, attributes in telemetry.exception_events()
        if "failcat.group.exception_types" in attributes
    ]


_TASK_GROUP = pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.TaskGroup: 3.11")


@_TASK_GROUP
def test_a_group_whose_leaves_are_recorded_on_child_spans_is_stored_as_its_leaves() -> None:
    leaves = [ToolError("Unknown tool: search"), ConnectionRefusedError("MCP refused")]

    events = _group_across_services(leaves, leaves)

    assert sorted((e.span_name, e.exception_message) for e in events) == [
        ("tools/call ConnectionRefusedError", "MCP refused"),
        ("tools/call ToolError", "Unknown tool: search"),
    ]


@_TASK_GROUP
def test_a_group_with_a_leaf_recorded_nowhere_else_is_stored() -> None:
    leaves = [ToolError("Unknown tool: search"), ValueError("no span recorded this")]

    events = _group_across_services(leaves, leaves[:1])

    assert sorted(e.exception_type.rpartition(".")[2] for e in events) == [
        "ExceptionGroup",
        "ToolError",
    ]


@_TASK_GROUP
def test_a_group_of_two_equal_leaves_needs_both_recorded_below() -> None:
    leaves = [ToolError("Unknown tool: search"), ToolError("Unknown tool: search")]

    assert len(_group_across_services(leaves, leaves[:1])) == 2  # one leaf has no row else
    assert len(_group_across_services(leaves, leaves)) == 2  # both do: the leaves only


def _group_event() -> Any:
    """A group event as a sender writes it (the agent's attributes, one leaf)."""
    return exception_event(
        "ExceptionGroup",
        "unhandled errors in a TaskGroup (1 sub-exception)",
        failcat__group__exception_types=["x.ToolError"],
        failcat__group__messages=["Unknown tool: search"],
    )


def test_a_group_beside_or_above_its_leaf_is_stored() -> None:
    root = _plain(1, None)
    leaf = _failing(2, 1, "x.ToolError", "Unknown tool: search")
    sibling = span("sibling", trace_id=TRACE, span_id=_id(3), events=[_group_event()])
    sibling.parent_span_id = _id(1)
    under = span("under", trace_id=TRACE, span_id=_id(4), events=[_group_event()])
    under.parent_span_id = _id(2)  # below the leaf: the leaf is not below it

    events = _extract_built([root, leaf, sibling, under])

    assert sorted(e.span_name or "" for e in events) == ["s2", "sibling", "under"]


def test_a_group_above_its_leaf_in_a_built_request_is_dropped() -> None:
    # The same shape from a sender without the agent's SDK helpers: only the leaf stays.
    group = span("step", trace_id=TRACE, span_id=_id(1), events=[_group_event()])
    leaf = _failing(2, 1, "x.ToolError", "Unknown tool: search")

    assert [e.span_name for e in _extract_built([leaf, group])] == ["s2"]


# -- hostile shapes ---------------------------------------------------------------------------

TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")


def _id(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _failing(
    n: int, parent: int | None, exc_type: str = "x.Failed", message: str = "same failure"
) -> Any:
    one = span(f"s{n}", trace_id=TRACE, span_id=_id(n), events=[exception_event(exc_type, message)])
    if parent is not None:
        one.parent_span_id = _id(parent)
    return one


def _plain(n: int, parent: int | None) -> Any:
    one = span(f"p{n}", trace_id=TRACE, span_id=_id(n))
    if parent is not None:
        one.parent_span_id = _id(parent)
    return one


def _extract_built(spans: list[Any]) -> list[FailureEvent]:
    body = trace_request(spans).SerializeToString()
    return extract_failures(
        "traces", decode_request("traces", body, "application/x-protobuf")
    ).events


def _kept(spans: list[Any]) -> list[str]:
    return [e.span_id or "" for e in _extract_built(spans)]


def test_a_cycle_of_parent_links_between_two_recordings_loses_neither() -> None:
    # 1 -> 2 -> 1: neither is below the other, so both stay (an extra row, never a lost one).
    assert _kept([_failing(1, 2), _failing(2, 1)]) == [_id(1).hex(), _id(2).hex()]


def test_a_span_that_is_its_own_parent_keeps_its_recording() -> None:
    assert _kept([_failing(1, 1), _failing(2, None)]) == [_id(1).hex(), _id(2).hex()]


def test_a_cycle_of_plain_spans_above_a_recording_ends_its_walk() -> None:
    spans = [_plain(10, 11), _plain(11, 12), _plain(12, 10), _failing(1, 10), _failing(2, None)]

    assert _kept(spans) == [_id(1).hex(), _id(2).hex()]


def test_a_recording_under_a_cycle_of_recordings_is_related_to_nothing() -> None:
    spans = [_failing(1, 2), _failing(2, 1), _failing(3, 1)]

    assert _kept(spans) == [_id(1).hex(), _id(2).hex(), _id(3).hex()]


def test_a_chain_of_plain_spans_deeper_than_the_walk_goes_is_followed_that_far() -> None:
    deep = MAX_LINEAGE_HOPS + 10
    spans = [_failing(1, None)]
    spans += [_plain(n, n - 1) for n in range(2, deep + 2)]
    near, far = _failing(10_001, 5), _failing(10_002, deep + 1)

    kept = _kept([*spans, near, far])

    # The root is above the near one (dropped); the far one is too deep below to be related.
    assert kept == [_id(10_001).hex(), _id(10_002).hex()]


def test_a_long_chain_of_recordings_keeps_the_deepest_only() -> None:
    # Every span records the same failure: the spans carrying it link to one another directly,
    # so the chain is followed whatever its length, in one pass.
    count = 5_000
    spans = [_failing(n, n - 1 if n > 1 else None) for n in range(1, count + 1)]
    spans.reverse()  # children exported first, as SDKs do

    assert _kept(spans) == [_id(count).hex()]


def test_a_request_too_large_to_index_is_seen_through_its_recordings() -> None:
    plain = [_plain(n, 1) for n in range(100, 100 + MAX_LINEAGE_SPANS)]
    spans = [
        _failing(1, None, message="through a plain span"),
        _failing(3, 100, message="through a plain span"),  # under 1 through plain span 100
        _failing(4, None, message="direct"),
        _failing(5, 4, message="direct"),  # right under 4: found without the index
    ]

    assert _kept([*spans, *plain]) == [_id(n).hex() for n in (1, 3, 5)]
    assert _kept([*spans, plain[0]]) == [_id(n).hex() for n in (3, 5)]  # small: indexed


def test_events_that_name_nothing_are_not_taken_for_one_failure() -> None:
    bare = exception_event(None, None)
    parent = span("parent", trace_id=TRACE, span_id=_id(1), events=[bare])
    child = span("child", trace_id=TRACE, span_id=_id(2), events=[exception_event(None, None)])
    child.parent_span_id = _id(1)

    assert len(_extract_built([parent, child])) == 2
