"""A failure recorded with no span open goes in the trace of a cause that was recorded on a span.

A library that instruments itself records its error on its own root span; a framework over it
raises its own wrapper, which reaches the agent with no span open. The agent's
``failcat.unhandled_exception`` span is then a child of the span the cause went on, so the
receiver sees both in one trace (and stores the failure once, see
tests/collector_receiver/otlp/test_unhandled_wrapper_one_row.py).
"""

from __future__ import annotations

import builtins
import gc
import sys
import threading
from typing import Any

import pytest
from opentelemetry.trace import SpanContext, StatusCode

from otel_failcat import record_failure
from otel_failcat._recorded_on import FAILED_ANSWER_SECONDS, RecordedOn
from otel_failcat.attributes import UNHANDLED_SPAN_NAME
from tests.otel_failcat._helpers import Telemetry


class ProviderOverloadedError(Exception):
    """Stands for the provider SDK's error (anthropic.OverloadedError)."""


class ModelOverloadedError(Exception):
    """Stands for the framework's wrapper of it (pydantic-ai's ModelOverloadedError)."""


def _sdk_call(tracer_name: str, telemetry: Telemetry) -> None:
    # The SDK's own span, a root (no span of the agent's is open), records its error on the way
    # out, as start_as_current_span does by default.
    tracer = telemetry.tracer_provider.get_tracer(tracer_name)
    with tracer.start_as_current_span("anthropic.messages.create"):
        raise ProviderOverloadedError("Overloaded")


def _framework_call(telemetry: Telemetry) -> None:
    try:
        _sdk_call("anthropic", telemetry)
    except ProviderOverloadedError as error:
        raise ModelOverloadedError("claude-sonnet-4-5: Overloaded") from error


def _a_span_context(telemetry: Telemetry) -> SpanContext:
    with telemetry.tracer_provider.get_tracer("agent").start_as_current_span("step") as span:
        return span.get_span_context()


def _spans_by_name(telemetry: Telemetry) -> dict[str, object]:
    return {span.name: span for span in telemetry.finished_spans()}


def test_the_wrapper_lands_in_the_trace_of_the_span_its_cause_was_recorded_on(
    instrumented: Telemetry,
) -> None:
    try:
        _framework_call(instrumented)
    except ModelOverloadedError as wrapper:
        record_failure(wrapper)
    spans = _spans_by_name(instrumented)
    sdk, unhandled = spans["anthropic.messages.create"], spans[UNHANDLED_SPAN_NAME]
    assert unhandled.context.trace_id == sdk.context.trace_id  # type: ignore[attr-defined]
    assert unhandled.parent.span_id == sdk.context.span_id  # type: ignore[attr-defined]
    events = {
        span.name: [event.attributes["exception.type"] for event in span.events]
        for span in instrumented.finished_spans()
    }
    assert events["anthropic.messages.create"] == [f"{__name__}.ProviderOverloadedError"]
    assert events[UNHANDLED_SPAN_NAME] == [f"{__name__}.ModelOverloadedError"]


def test_a_failure_whose_causes_were_never_recorded_starts_a_trace_of_its_own(
    instrumented: Telemetry,
) -> None:
    try:
        try:
            raise ProviderOverloadedError("Overloaded")  # nobody recorded this one
        except ProviderOverloadedError as error:
            raise ModelOverloadedError("wrapped") from error
    except ModelOverloadedError as wrapper:
        record_failure(wrapper)
    (unhandled,) = instrumented.finished_spans()
    assert unhandled.name == UNHANDLED_SPAN_NAME
    assert unhandled.parent is None


def test_a_failure_recorded_inside_a_span_stays_on_that_span(instrumented: Telemetry) -> None:
    tracer = instrumented.tracer_provider.get_tracer("agent")
    try:
        _framework_call(instrumented)
    except ModelOverloadedError as wrapper:
        with tracer.start_as_current_span("agent.step") as step:
            record_failure(wrapper)
    spans = _spans_by_name(instrumented)
    assert UNHANDLED_SPAN_NAME not in spans
    assert [event.attributes["exception.type"] for event in spans["agent.step"].events] == [  # type: ignore[attr-defined]
        f"{__name__}.ModelOverloadedError"
    ]
    assert step.get_span_context().trace_id != spans["anthropic.messages.create"].context.trace_id  # type: ignore[attr-defined]


# The thread's exception is also handed on to the hook before ours (pytest's, which warns).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_unhandled_exception_in_a_thread_follows_its_cause_too(
    instrumented: Telemetry,
) -> None:
    def worker() -> None:
        _framework_call(instrumented)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    spans = _spans_by_name(instrumented)
    sdk, unhandled = spans["anthropic.messages.create"], spans[UNHANDLED_SPAN_NAME]
    assert unhandled.parent.span_id == sdk.context.span_id  # type: ignore[attr-defined]
    assert unhandled.events[0].attributes["failcat.mechanism"] == "threading"  # type: ignore[attr-defined]


def test_the_table_keeps_no_exception_alive_and_forgets_it_when_it_dies(
    instrumented: Telemetry,
) -> None:
    table, context = RecordedOn(), _a_span_context(instrumented)
    error = ProviderOverloadedError("Overloaded")
    table.remember(error, context)
    assert table.of(error) == context
    assert len(table) == 1
    reference_count = sys.getrefcount(error)
    table.remember(error, context)  # the first span stays; no reference is added
    assert sys.getrefcount(error) == reference_count
    del error
    gc.collect()
    assert len(table) == 0


def test_a_builtin_exception_carries_its_span_only_for_this_object(
    instrumented: Telemetry,
) -> None:
    table, context = RecordedOn(), _a_span_context(instrumented)
    error = TimeoutError("timed out")  # built-in: cannot be weakly referenced
    table.remember(error, context)
    assert table.of(error) == context
    assert table.of(TimeoutError("timed out")) is None
    copy = TimeoutError("timed out")
    copy.__dict__.update(error.__dict__)  # a copy carries the mark of another object
    assert table.of(copy) is None


class AnswerError(Exception):
    """Stands for mcp's MCPError: raised from an error answer after the client span ended."""


def _answered_call(telemetry: Telemetry, message: str) -> None:
    # The library's span, a root: it reads an error answer, marks itself ERROR with the
    # answer's message (no exception in flight), ends, and then the library raises.
    tracer = telemetry.tracer_provider.get_tracer("mcp")
    with tracer.start_as_current_span(
        "tools/call weather", record_exception=False, set_status_on_exception=False
    ) as span:
        span.set_attribute("error.type", "-32602")
        span.set_status(StatusCode.ERROR, message)
    raise AnswerError(message)


def test_an_error_raised_after_its_span_marked_the_same_message_goes_under_that_span(
    instrumented: Telemetry,
) -> None:
    try:
        _answered_call(instrumented, "Unknown resource: travel://hotels")
    except AnswerError as error:
        record_failure(error)
    spans = _spans_by_name(instrumented)
    client, unhandled = spans["tools/call weather"], spans[UNHANDLED_SPAN_NAME]
    assert unhandled.parent.span_id == client.context.span_id  # type: ignore[attr-defined]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup is built in from 3.11")
def test_a_group_of_it_goes_under_that_span_too(instrumented: Telemetry) -> None:
    exception_group: Any = getattr(builtins, "ExceptionGroup")  # noqa: B009 (3.10 has none)
    try:
        try:
            _answered_call(instrumented, "Unknown prompt: itinerary")
        except AnswerError as error:
            raise exception_group("unhandled errors in a TaskGroup", [error]) from None
    except exception_group as group:
        record_failure(group)
    spans = _spans_by_name(instrumented)
    assert spans[UNHANDLED_SPAN_NAME].parent.span_id == spans["tools/call weather"].context.span_id  # type: ignore[attr-defined]


def test_another_message_and_a_second_failure_start_traces_of_their_own(
    instrumented: Telemetry,
) -> None:
    try:
        _answered_call(instrumented, "Unknown resource: travel://hotels")
    except AnswerError:
        pass
    record_failure(AnswerError("Unknown resource: travel://flights"))  # not the answered one
    tracer_spans = instrumented.finished_spans()
    assert [span.parent for span in tracer_spans if span.name == UNHANDLED_SPAN_NAME] == [None]
    try:
        _answered_call(instrumented, "Unknown tool: weather")
    except AnswerError as error:
        record_failure(error)
    record_failure(AnswerError("Unknown tool: weather"))  # the answer was used once already
    parents = [
        span.parent for span in instrumented.finished_spans() if span.name == UNHANDLED_SPAN_NAME
    ]
    assert parents[0] is None and parents[1] is not None and parents[2] is None


def test_an_answer_is_remembered_for_a_while_only(instrumented: Telemetry) -> None:
    table, context = RecordedOn(), _a_span_context(instrumented)
    table.failed_answer("Unknown tool: weather", context)
    table._answers[0] = (table._answers[0][0] - FAILED_ANSWER_SECONDS - 1, *table._answers[0][1:])
    assert table.answered(["Unknown tool: weather"]) is None
    table.failed_answer("", context)  # no message: nothing to match a failure by
    assert len(table._answers) == 0


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup is built in from 3.11")
def test_a_group_whose_leaf_was_recorded_on_a_span_goes_under_that_span(
    instrumented: Telemetry,
) -> None:
    # mcp's client records its MCPError on its own root span; a task group then raises a group
    # of a new error raised from it, which reaches the agent with no span open.
    exception_group: Any = getattr(builtins, "ExceptionGroup")  # noqa: B009 (3.10 has none)
    try:
        try:
            _framework_call(instrumented)
        except ModelOverloadedError as error:
            raise exception_group("unhandled errors in a TaskGroup", [error]) from None
    except exception_group as group:
        record_failure(group)
    spans = _spans_by_name(instrumented)
    sdk, unhandled = spans["anthropic.messages.create"], spans[UNHANDLED_SPAN_NAME]
    assert unhandled.parent.span_id == sdk.context.span_id  # type: ignore[attr-defined]


def test_a_retry_verdict_over_a_recorded_attempt_starts_a_trace_of_its_own(
    instrumented: Telemetry,
) -> None:
    # tenacity's RetryError (it carries last_attempt) over attempts the SDK recorded on root
    # spans of their own: retries exhausted is a failure of its own, not the last attempt again.
    tenacity = pytest.importorskip("tenacity")

    @tenacity.retry(stop=tenacity.stop_after_attempt(2), wait=tenacity.wait_none())
    def call() -> None:
        _sdk_call("anthropic", instrumented)

    try:
        call()
    except tenacity.RetryError as verdict:
        record_failure(verdict)
    unhandled = [s for s in instrumented.finished_spans() if s.name == UNHANDLED_SPAN_NAME]
    assert [span.parent for span in unhandled] == [None]
