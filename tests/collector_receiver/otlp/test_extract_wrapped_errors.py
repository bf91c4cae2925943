"""One failure, one row (CONTRACT §4 r2): a framework's wrapper recorded above the provider SDK's
error it wraps, in one trace and request, is stored once, as the SDK's error; siblings, retries
and unrelated failures stay rows of their own.

The requests are the real SDK's spans recording what escapes them, with the failcat instrumentor
installed (so each event carries the ``failcat.cause_types`` the rule reads), through the OTLP
exporter's own encoder; shapes the SDK cannot produce (short type names from another sender,
cycles, long chains) are built as OTLP messages."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.trace import Tracer

from collector_receiver.events import FailureEvent
from collector_receiver.otlp import decode_request, extract_failures
from collector_receiver.otlp._duplicate_events import MAX_MESSAGE_WRAPPER_EVENTS
from otel_failcat import record_failure
from tests.collector_receiver.otlp._helpers import (
    exception_event,
    extract_spans,
    span,
    trace_request,
)
from tests.otel_failcat._helpers import Telemetry

HERE = __name__


class OverloadedError(Exception):
    """The provider SDK's error (as ``anthropic.OverloadedError``)."""


class RateLimitError(Exception):
    pass


class ModelOverloadedError(Exception):
    """The framework's class over it (as pydantic-ai's)."""


class AgentStepFailed(Exception):
    pass


class RetryError(Exception):
    pass


_SDK_MESSAGE = "Error code: 529 - {'type': 'error', 'error': {'type': 'overloaded_error'}}"
_WRAPPER_MESSAGE = "status_code: 529, model_name: claude-sonnet-4-5, body: {'type': 'error'}"


def _tracer(agent: Telemetry) -> Tracer:
    return agent.tracer_provider.get_tracer("tests.wrapped")


def _sdk_call(tracer: Tracer, error: Exception) -> None:
    """The SDK's call under an instrumentation's client span, which records what escapes."""
    with tracer.start_as_current_span(
        "chat claude-sonnet-4-5",
        attributes={
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4-5",
        },
    ):
        raise error


def _framework_call(tracer: Tracer, error: Exception | None = None) -> None:
    """The framework's model request: it raises its own class over the SDK's error."""
    try:
        _sdk_call(tracer, error or OverloadedError(_SDK_MESSAGE))
    except OverloadedError as sdk_error:
        raise ModelOverloadedError(_WRAPPER_MESSAGE) from sdk_error


def _names(events: list[FailureEvent]) -> list[str]:
    return sorted(event.exception_type.rpartition(".")[2] for event in events)


@pytest.mark.parametrize("as_json", [False, True], ids=["protobuf", "json"])
def test_a_wrapper_recorded_above_the_sdk_error_it_wraps_is_one_row_the_sdks(
    agent: Telemetry, as_json: bool
) -> None:
    tracer = _tracer(agent)
    with pytest.raises(ModelOverloadedError), tracer.start_as_current_span("invoke_agent support"):
        _framework_call(tracer)  # the agent's span records the wrapper on its way out
    spans = agent.finished_spans()
    recorded = [attributes for _, attributes in agent.exception_events()]
    assert [a["exception.type"] for a in recorded] == [
        f"{HERE}.OverloadedError",
        f"{HERE}.ModelOverloadedError",
    ]
    assert recorded[1]["failcat.cause_types"] == (f"{HERE}.OverloadedError",)

    [event] = extract_spans(spans, as_json=as_json)

    assert event.exception_type == f"{HERE}.OverloadedError"
    assert event.span_name == "chat claude-sonnet-4-5"
    assert (event.gen_ai.provider, event.gen_ai.model) == ("anthropic", "claude-sonnet-4-5")


def test_a_wrapper_recorded_after_the_error_on_its_own_span_is_one_row(agent: Telemetry) -> None:
    # The agent records the SDK's error by hand, then raises its own class over it; the span
    # records that on its way out.
    tracer = _tracer(agent)
    with pytest.raises(AgentStepFailed), tracer.start_as_current_span("agent.step"):
        try:
            raise OverloadedError(_SDK_MESSAGE)
        except OverloadedError as error:
            record_failure(error)
            raise AgentStepFailed("the summary step failed") from error

    [event] = extract_spans(agent.finished_spans())

    assert (event.exception_type, event.event_index) == (f"{HERE}.OverloadedError", 0)


def test_a_wrapper_of_a_wrapper_of_the_sdk_error_is_one_row(agent: Telemetry) -> None:
    tracer = _tracer(agent)
    with pytest.raises(AgentStepFailed), tracer.start_as_current_span("agent.step"):
        try:
            with tracer.start_as_current_span("chat model"):
                _framework_call(tracer)
        except ModelOverloadedError as error:
            raise AgentStepFailed("the summary step failed") from error
    assert len(agent.exception_events()) == 3

    assert _names(extract_spans(agent.finished_spans())) == ["OverloadedError"]


def test_the_wrapper_recorded_twice_and_the_sdk_error_are_one_row(agent: Telemetry) -> None:
    # The framework's own span records its wrapper (the SDK's span hook, innermost), the agent
    # its own recording of the same wrapper by hand: the first rule, then the wrapper rule.
    tracer = _tracer(agent)
    with tracer.start_as_current_span("agent.step"):
        try:
            with tracer.start_as_current_span("chat model"):
                _framework_call(tracer)
        except ModelOverloadedError as error:
            agent_copy = ModelOverloadedError(str(error))
            agent_copy.__cause__ = error.__cause__
            record_failure(agent_copy)
    assert len(agent.exception_events()) == 3

    assert _names(extract_spans(agent.finished_spans())) == ["OverloadedError"]


def test_a_wrapper_beside_the_sdk_error_is_two_rows(agent: Telemetry) -> None:
    # The SDK's error was recorded on a sibling span: not on the wrapper's lineage.
    tracer = _tracer(agent)
    with tracer.start_as_current_span("agent.run"):
        with pytest.raises(OverloadedError):
            _sdk_call(tracer, OverloadedError(_SDK_MESSAGE))
        with pytest.raises(ModelOverloadedError), tracer.start_as_current_span("fallback"):
            try:
                raise OverloadedError(_SDK_MESSAGE)  # recorded nowhere below the wrapper
            except OverloadedError as error:
                raise ModelOverloadedError(_WRAPPER_MESSAGE) from error

    names = _names(extract_spans(agent.finished_spans()))
    assert names == ["ModelOverloadedError", "OverloadedError"]


def test_a_wrapper_below_the_error_it_names_is_two_rows(agent: Telemetry) -> None:
    tracer = _tracer(agent)
    with pytest.raises(OverloadedError), tracer.start_as_current_span("chat model"):
        with pytest.raises(ModelOverloadedError), tracer.start_as_current_span("inner"):
            try:
                raise OverloadedError("first")
            except OverloadedError as error:
                raise ModelOverloadedError(_WRAPPER_MESSAGE) from error
        raise OverloadedError(_SDK_MESSAGE)  # a later error, recorded above the wrapper

    names = _names(extract_spans(agent.finished_spans()))
    assert names == ["ModelOverloadedError", "OverloadedError"]


def test_each_attempt_of_a_retry_is_a_row_and_the_retry_error_its_own(agent: Telemetry) -> None:
    # tenacity raises RetryError from the last attempt's error: its cause chain names the
    # attempts' type, but three failures are stored below it.
    tracer = _tracer(agent)
    with pytest.raises(RetryError), tracer.start_as_current_span("agent.step"):
        last: Exception | None = None
        for attempt in range(3):
            try:
                _sdk_call(tracer, RateLimitError(f"rate limited, attempt {attempt}"))
            except RateLimitError as error:
                last = error
        raise RetryError("RetryError[<Future state=finished raised RateLimitError>]") from last

    events = extract_spans(agent.finished_spans())

    assert _names(events) == ["RateLimitError"] * 3 + ["RetryError"]
    [retry] = [event for event in events if event.exception_type.endswith("RetryError")]
    assert retry.cause_types == (f"{HERE}.RateLimitError",)  # what the rule saw, and kept


def test_a_wrapper_above_its_error_and_another_failure_is_a_row(agent: Telemetry) -> None:
    # Below the wrapper the SDK's error and an unrelated, handled failure: it may sum up more
    # than the error it names, so it stays.
    tracer = _tracer(agent)
    with pytest.raises(ModelOverloadedError), tracer.start_as_current_span("agent.step"):
        with tracer.start_as_current_span("load history"):
            record_failure(KeyError("session-42"))
        _framework_call(tracer)

    assert _names(extract_spans(agent.finished_spans())) == [
        "KeyError",
        "ModelOverloadedError",
        "OverloadedError",
    ]


def test_a_wrapper_whose_causes_name_another_type_than_the_one_below_is_a_row(
    agent: Telemetry,
) -> None:
    tracer = _tracer(agent)
    with pytest.raises(AgentStepFailed), tracer.start_as_current_span("agent.step"):
        with pytest.raises(ValueError), tracer.start_as_current_span("parse"):
            raise ValueError("handled: not JSON")
        try:
            raise TimeoutError("read timed out")  # the cause, recorded nowhere
        except TimeoutError as error:
            raise AgentStepFailed("the step failed") from error

    assert _names(extract_spans(agent.finished_spans())) == ["AgentStepFailed", "ValueError"]


def test_the_pair_in_two_requests_is_two_rows(agent: Telemetry) -> None:
    # The documented limit of every one-row rule: lineage is looked for within one request.
    tracer = _tracer(agent)
    with pytest.raises(ModelOverloadedError), tracer.start_as_current_span("invoke_agent"):
        _framework_call(tracer)
    sdk_span, agent_span = agent.finished_spans()

    assert _names(extract_spans([sdk_span])) == ["OverloadedError"]
    assert _names(extract_spans([agent_span])) == ["ModelOverloadedError"]


# -- built requests: other senders and hostile shapes ----------------------------------------

TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")


def _id(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _recording(n: int, parent: int | None, event: Any) -> Any:
    one = span(f"s{n}", trace_id=TRACE, span_id=_id(n), events=[event])
    if parent is not None:
        one.parent_span_id = _id(parent)
    return one


def _wrapper(*causes: str, exc_type: str = "pydantic_ai.ModelOverloadedError") -> Any:
    return exception_event(exc_type, _WRAPPER_MESSAGE, failcat__cause_types=list(causes))


def _kept(spans: list[Any]) -> list[str]:
    body = trace_request(spans).SerializeToString()
    events = extract_failures("traces", decode_request("traces", body, "application/x-protobuf"))
    return [event.span_name or "" for event in events.events]


def test_an_sdk_error_named_without_its_module_is_the_wrapped_one() -> None:
    # A sender that writes the class name only (another SDK, an older instrumentation).
    wrapper = _recording(1, None, _wrapper("anthropic.OverloadedError"))
    short = _recording(2, 1, exception_event("OverloadedError", _SDK_MESSAGE))

    assert _kept([short, wrapper]) == ["s2"]


def test_an_error_of_another_module_with_the_same_class_name_is_not_the_wrapped_one() -> None:
    wrapper = _recording(1, None, _wrapper("anthropic.OverloadedError"))
    other = _recording(2, 1, exception_event("google.genai.OverloadedError", _SDK_MESSAGE))

    assert _kept([other, wrapper]) == ["s2", "s1"]


def test_a_group_is_neither_a_wrapper_nor_the_wrapped_error() -> None:
    group = exception_event(
        "ExceptionGroup",
        "unhandled errors in a TaskGroup (1 sub-exception)",
        failcat__group__exception_types=["x.ToolError"],
        failcat__group__messages=["Unknown tool: search"],
        failcat__cause_types=["x.Inner"],
    )
    over_group = [_recording(1, None, _wrapper("ExceptionGroup")), _recording(2, 1, group)]
    group_over = [_recording(3, None, group), _recording(4, 3, exception_event("x.Inner", "m"))]

    assert _kept(over_group) == ["s1", "s2"]
    assert _kept(group_over) == ["s3", "s4"]


def test_a_wrapper_and_its_error_in_a_cycle_of_parent_links_are_both_kept() -> None:
    wrapper = _recording(1, 2, _wrapper("anthropic.OverloadedError"))
    inner = _recording(2, 1, exception_event("anthropic.OverloadedError", _SDK_MESSAGE))

    assert _kept([wrapper, inner]) == ["s1", "s2"]


def test_a_long_chain_of_wrappers_over_one_root_keeps_the_root_only() -> None:
    # Each level wraps the one below; every cause chain ends in the root's type. Decided
    # innermost first, each wrapper sees only the root left below it.
    count = 3_000
    spans = [
        _recording(n, n - 1 if n > 1 else None, _wrapper(f"x.Level{n + 1}", "x.Root"))
        for n in range(1, count)
    ]
    spans.append(_recording(count, count - 1, exception_event("x.Root", "the root cause")))
    spans.reverse()  # children exported first, as SDKs do

    assert _kept(spans) == [f"s{count}"]


def test_events_below_a_wrapper_that_name_no_type_are_not_its_error() -> None:
    wrapper = _recording(1, None, _wrapper("unknown"))
    bare = _recording(2, 1, exception_event(None, None))

    assert _kept([wrapper, bare]) == ["s1", "s2"]


# -- wrappers read by their message: senders with no cause chain (the OpenTelemetry JS SDK) -----

_FETCH_FAILED = "fetch failed"


def _js_event(exc_type: str, message: str) -> Any:
    """An exception event as the JS SDK's ``recordException`` writes it: the error's code or
    name, its message and stack, and nothing of its ``cause``."""
    return exception_event(exc_type, message, f"{exc_type}: {message}\n    at step (agent.mjs:3:9)")


def test_a_wrapper_that_carries_the_message_below_it_is_one_row_the_inner() -> None:
    # new Error(`step failed: ${err.message}`, { cause: err }) on the agent's span, over the
    # TypeError an inner span recorded.
    wrapper = _recording(1, None, _js_event("Error", f"step failed: {_FETCH_FAILED}"))
    inner = _recording(2, 1, _js_event("TypeError", _FETCH_FAILED))

    assert _kept([inner, wrapper]) == ["s2"]


def test_a_wrapper_recorded_after_the_error_on_its_own_span_is_one_row_by_message() -> None:
    both = span(
        "s1",
        trace_id=TRACE,
        span_id=_id(1),
        events=[
            _js_event("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:9"),
            _js_event("Error", "planner: connect ECONNREFUSED 127.0.0.1:9"),
        ],
    )
    body = trace_request([both]).SerializeToString()
    events = extract_failures("traces", decode_request("traces", body, "application/x-protobuf"))

    assert [event.exception_type for event in events.events] == ["ECONNREFUSED"]


def test_a_wrapper_of_a_wrapper_by_message_keeps_the_innermost() -> None:
    spans = [
        _recording(3, 2, _js_event("TypeError", _FETCH_FAILED)),
        _recording(2, 1, _js_event("Error", f"tool weather: {_FETCH_FAILED}")),
        _recording(1, None, _js_event("Error", f"step failed: tool weather: {_FETCH_FAILED}")),
    ]

    assert _kept(spans) == ["s3"]


@pytest.mark.parametrize(
    ("outer", "inner"),
    [
        ("step failed", _FETCH_FAILED),  # carries nothing of it
        ("step failed: aborted", "aborted"),  # too short to tell
        (_FETCH_FAILED, _FETCH_FAILED),  # one wording, two types: as often two failures
    ],
    ids=["no-message-carried", "short-message", "same-message"],
)
def test_a_message_that_does_not_carry_the_one_below_is_a_row(outer: str, inner: str) -> None:
    wrapper = _recording(1, None, _js_event("Error", outer))
    below = _recording(2, 1, _js_event("TypeError", inner))

    assert _kept([below, wrapper]) == ["s2", "s1"]


def test_a_wrapper_by_message_over_two_failures_is_a_row() -> None:
    wrapper = _recording(1, None, _js_event("Error", f"step failed: {_FETCH_FAILED}"))
    inner = _recording(2, 1, _js_event("TypeError", _FETCH_FAILED))
    other = _recording(3, 1, _js_event("SyntaxError", "Unexpected end of JSON input"))

    assert _kept([inner, other, wrapper]) == ["s2", "s3", "s1"]


def test_a_sibling_that_carries_the_message_is_a_row() -> None:
    root = _recording(1, None, _js_event("TypeError", _FETCH_FAILED))
    left = _recording(2, 1, _js_event("TypeError", "terminated"))
    right = _recording(3, 1, _js_event("Error", f"step failed: {_FETCH_FAILED}"))

    # right carries the root's message, but the root is its parent, not below it.
    assert _kept([left, right, root]) == ["s2", "s3", "s1"]


def test_a_wrapper_with_a_cause_chain_is_read_by_its_types_not_its_message() -> None:
    # otel_failcat's cause chain says what it wraps: another type than the one below.
    wrapper = _recording(
        1,
        None,
        exception_event(
            "app.StepFailed", f"step failed: {_FETCH_FAILED}", failcat__cause_types=["x.Other"]
        ),
    )
    inner = _recording(2, 1, _js_event("TypeError", _FETCH_FAILED))

    assert _kept([inner, wrapper]) == ["s2", "s1"]


def test_a_trace_past_the_message_search_bound_keeps_its_wrappers() -> None:
    pairs = MAX_MESSAGE_WRAPPER_EVENTS // 2 + 1
    spans = []
    for n in range(pairs):
        message = f"{_FETCH_FAILED} #{n}"
        spans.append(_recording(2 * n + 2, 2 * n + 1, _js_event("TypeError", message)))
        spans.append(_recording(2 * n + 1, None, _js_event("Error", f"step failed: {message}")))

    assert len(_kept(spans)) == 2 * pairs  # an extra row each, never a lost one
    assert len(_kept(spans[:2])) == 1  # the same pair alone is folded
