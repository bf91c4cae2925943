"""One failure, one row with no span of the agent's own open (CONTRACT §4 r2).

The provider SDK instruments itself and records its error on its own root span; the framework
over it raises its own class, which reaches the agent with no span open. ``otel_failcat`` puts
its ``failcat.unhandled_exception`` span under the span the cause was recorded on
(tests/otel_failcat/test_unhandled_span_in_the_cause_trace.py), and the receiver counts that
span's event as one of its parent's, after the parent's own: the wrapper rule then sees the
wrapped error earlier on the same span and stores the failure once, as the SDK's error.

The requests are the real SDK's spans with the failcat instrumentor installed, through the OTLP
exporter's own encoder.
"""

from __future__ import annotations

import pytest
from opentelemetry.trace import Tracer

from otel_failcat import record_failure
from otel_failcat.attributes import UNHANDLED_SPAN_NAME
from tests.collector_receiver.otlp._helpers import extract_spans
from tests.otel_failcat._helpers import Telemetry

HERE = __name__


class OverloadedError(Exception):
    """The provider SDK's error (as ``anthropic.OverloadedError``)."""


class ModelOverloadedError(Exception):
    """The framework's class over it (as pydantic-ai's)."""


class ToolFailed(Exception):
    pass


def _tracer(agent: Telemetry) -> Tracer:
    return agent.tracer_provider.get_tracer("anthropic")


def _framework_call(tracer: Tracer) -> None:
    try:
        # The SDK's own span: a root, since the agent has none open; it records on the way out.
        with tracer.start_as_current_span(
            "anthropic.messages.create",
            attributes={"gen_ai.provider.name": "anthropic", "gen_ai.request.model": "claude"},
        ):
            raise OverloadedError("Error code: 529 - {'type': 'overloaded_error'}")
    except OverloadedError as error:
        raise ModelOverloadedError("status_code: 529, model_name: claude") from error


def _wrapper_recorded_with_no_span(agent: Telemetry) -> None:
    try:
        _framework_call(_tracer(agent))
    except ModelOverloadedError as wrapper:
        record_failure(wrapper)


@pytest.mark.parametrize("as_json", [False, True], ids=["protobuf", "json"])
def test_the_wrapper_recorded_with_no_span_open_is_one_row_the_sdks(
    agent: Telemetry, as_json: bool
) -> None:
    _wrapper_recorded_with_no_span(agent)
    spans = agent.finished_spans()
    assert [span.name for span in spans] == ["anthropic.messages.create", UNHANDLED_SPAN_NAME]

    [event] = extract_spans(spans, as_json=as_json)

    assert event.exception_type == f"{HERE}.OverloadedError"
    assert event.span_name == "anthropic.messages.create"
    assert (event.gen_ai.provider, event.gen_ai.model) == ("anthropic", "claude")


def test_without_the_parent_in_the_request_the_wrapper_is_its_own_row(agent: Telemetry) -> None:
    # The SDK's span left in an earlier request: nothing here to fold into, nothing lost.
    _wrapper_recorded_with_no_span(agent)
    unhandled = [span for span in agent.finished_spans() if span.name == UNHANDLED_SPAN_NAME]

    [event] = extract_spans(unhandled)

    assert event.exception_type == f"{HERE}.ModelOverloadedError"


def test_the_wrapper_before_its_parent_in_the_request_is_still_one_row(agent: Telemetry) -> None:
    # The exporter groups spans by scope: the agent's span (scope otel_failcat, met first in an
    # earlier case) can come before the library's span it follows. It still counts as after.
    _wrapper_recorded_with_no_span(agent)

    [event] = extract_spans(list(reversed(agent.finished_spans())))

    assert event.exception_type == f"{HERE}.OverloadedError"


def test_an_unhandled_failure_over_another_recorded_failure_is_two_rows(agent: Telemetry) -> None:
    # The parent span recorded two failures: the rule folds a wrapper over exactly one.
    tracer = _tracer(agent)
    try:
        with tracer.start_as_current_span("agent.tools") as tools:
            tools.record_exception(ToolFailed("search returned 502"))
            raise OverloadedError("Error code: 529")
    except OverloadedError as error:
        try:
            raise ModelOverloadedError("status_code: 529") from error
        except ModelOverloadedError as wrapper:
            record_failure(wrapper)

    events = extract_spans(agent.finished_spans())

    assert sorted(event.exception_type.rpartition(".")[2] for event in events) == [
        "ModelOverloadedError",
        "OverloadedError",
        "ToolFailed",
    ]


@pytest.mark.parametrize(
    ("again", "stored"),
    [
        # Another sender re-records the very failure (same type and message) on a span of that
        # name under the span that recorded it: one row, the parent's.
        (ToolFailed("search returned 502"), [("agent.step", "ToolFailed")]),
        # A failure its cause does not name, on such a span: its own row.
        (
            ValueError("bad plan"),
            [("agent.step", "ToolFailed"), (UNHANDLED_SPAN_NAME, "ValueError")],
        ),
    ],
    ids=["same-failure", "another-failure"],
)
def test_a_span_of_that_name_from_another_sender(
    agent: Telemetry, again: Exception, stored: list[tuple[str, str]]
) -> None:
    tracer = _tracer(agent)
    with tracer.start_as_current_span("agent.step") as step:
        step.record_exception(ToolFailed("search returned 502"))
        with tracer.start_as_current_span(UNHANDLED_SPAN_NAME) as unhandled:
            unhandled.record_exception(again)

    events = extract_spans(list(reversed(agent.finished_spans())))

    assert sorted((e.span_name, e.exception_type.rpartition(".")[2]) for e in events) == stored
