"""A failure recorded with no span open goes in the trace of a cause that was recorded on a span.

A library that instruments itself records its error on its own root span; a framework over it
raises its own wrapper, which reaches the agent with no span open. The agent's
``failcat.unhandled_exception`` span is then a child of the span the cause went on, so the
receiver sees both in one trace (and stores the failure once, see
tests/collector_receiver/otlp/test_unhandled_wrapper_one_row.py).
"""

from __future__ import annotations

import gc
import sys
import threading

import pytest

from otel_failcat import record_failure
from otel_failcat._recorded_on import RecordedOn
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
    table = RecordedOn()
    tracer = instrumented.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("step") as span:
        context = span.get_span_context()
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
    table = RecordedOn()
    tracer = instrumented.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("step") as span:
        context = span.get_span_context()
    error = TimeoutError("timed out")  # built-in: cannot be weakly referenced
    table.remember(error, context)
    assert table.of(error) == context
    assert table.of(TimeoutError("timed out")) is None
    copy = TimeoutError("timed out")
    copy.__dict__.update(error.__dict__)  # a copy carries the mark of another object
    assert table.of(copy) is None
