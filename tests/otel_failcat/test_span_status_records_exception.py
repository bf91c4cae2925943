"""A span set to ERROR while an exception is being handled gets that exception's event.

Libraries that instrument themselves (the Anthropic SDK, mcp 2.x's server middleware) start
their spans with ``record_exception=False, set_status_on_exception=False`` and mark a failure by
hand inside their ``except`` block: ``set_status(ERROR)`` and ``error.type``. The code here does
exactly that, through the real SDK. The exception is recorded on that span, once, so a later
sighting with no span of the application's own open (the excepthook, ``logger.exception``,
``record_failure``) adds no ``failcat.unhandled_exception`` span in another trace.
"""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import Status, StatusCode

from otel_failcat import record_failure, track
from tests.otel_failcat._helpers import Telemetry

FAKE_KEY = "sk-ant-api03-" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8L9z0X1c2V3b4N5m6"


class OverloadedError(Exception):
    """Stands for a provider SDK's error class; raised and caught for real below."""


class FlakyUpstream(Exception):
    pass


def _library_call(
    tracer: trace.Tracer, exc: BaseException, how: str = "status_object"
) -> BaseException:
    """What a self-instrumenting library does: its own span, the status set by hand in
    ``except``, the exception re-raised. Returns the exception once it has left the library."""
    try:
        with tracer.start_as_current_span(
            "anthropic.messages.create", record_exception=False, set_status_on_exception=False
        ) as span:
            try:
                raise exc
            except OverloadedError:
                span.set_attribute("error.type", "overloaded_error")
                if how == "status_object":
                    span.set_status(Status(StatusCode.ERROR))
                else:
                    span.set_status(StatusCode.ERROR, "Overloaded")
                raise
    except BaseException as escaped:
        return escaped
    raise AssertionError("the library call did not fail")


def _events_by_span(telemetry: Telemetry) -> list[tuple[str, dict[str, object]]]:
    return [(span.name, attrs) for span, attrs in telemetry.exception_events()]


def _span(telemetry: Telemetry, name: str) -> ReadableSpan:
    (found,) = [span for span in telemetry.finished_spans() if span.name == name]
    return found


@pytest.mark.parametrize("how", ["status_object", "code_and_description"])
def test_the_exception_in_flight_is_recorded_on_the_library_span(
    instrumented: Telemetry, how: str
) -> None:
    tracer = instrumented.tracer_provider.get_tracer("anthropic")
    exc = _library_call(tracer, OverloadedError(f"Overloaded (key {FAKE_KEY})"), how)
    assert trace.get_current_span() is trace.INVALID_SPAN  # no span of the application's own

    # The application records it later, with no span open, as the excepthook would.
    record_failure(exc)
    logging.getLogger("tests.agent").error("call failed", exc_info=exc)

    events = _events_by_span(instrumented)
    assert [name for name, _ in events] == ["anthropic.messages.create"]
    (_, attrs) = events[0]
    assert attrs["exception.type"] == f"{__name__}.OverloadedError"
    assert attrs["failcat.mechanism"] == "track"
    assert attrs["failcat.handled"] is False
    assert len(str(attrs["failcat.fingerprint"])) == 32
    assert FAKE_KEY not in str(attrs["exception.message"])
    assert "[REDACTED:" in str(attrs["exception.message"])
    library = _span(instrumented, "anthropic.messages.create")
    assert library.status.status_code is StatusCode.ERROR
    assert library.attributes is not None and library.attributes["error.type"] == (
        "overloaded_error"
    )
    assert "failcat.unhandled_exception" not in {s.name for s in instrumented.finished_spans()}
    assert instrumented.failure_counts() == {
        (
            ("exception.type", f"{__name__}.OverloadedError"),
            ("failcat.handled", False),
            ("failcat.mechanism", "track"),
        ): 1
    }


def test_a_library_span_under_an_application_span_is_left_to_the_lineage_rule(
    instrumented: Telemetry,
) -> None:
    # The application's span is open: the later sighting lands on it, an ancestor of the
    # status-only library span, which the receiver folds into that one row (CONTRACT §4).
    tracer = instrumented.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("agent.step", record_exception=False) as step:
        exc = _library_call(tracer, OverloadedError("Overloaded"))
        record_failure(exc)
    ((recorded_on, attrs),) = instrumented.exception_events()
    assert recorded_on.name == "agent.step"
    assert attrs["failcat.mechanism"] == "explicit"
    library = _span(instrumented, "anthropic.messages.create")
    assert library.parent is not None
    assert library.parent.span_id == step.get_span_context().span_id
    assert library.status.status_code is StatusCode.ERROR and not library.events


class ModelHTTPError(Exception):
    """Stands for a framework's wrapper around the provider SDK's error (pydantic-ai's)."""


def test_a_wrapper_of_a_child_library_span_exception_stays_one_event(
    instrumented: Telemetry,
) -> None:
    # Recording the library's exception on its (child) span would make two exception events,
    # the wrapper's and its cause's, which the receiver never folds: two rows.
    tracer = instrumented.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("agent.run", record_exception=False):
        inner = _library_call(tracer, OverloadedError("Overloaded"))
        try:
            raise ModelHTTPError("status_code: 529, model_name: claude-sonnet-4-5") from inner
        except ModelHTTPError as wrapper:
            record_failure(wrapper)
    ((recorded_on, attrs),) = instrumented.exception_events()
    assert recorded_on.name == "agent.run"
    assert attrs["exception.type"] == f"{__name__}.ModelHTTPError"
    assert attrs["failcat.cause_types"] == (f"{__name__}.OverloadedError",)


def test_a_status_set_after_the_library_left_its_span_is_recorded_there_too(
    instrumented: Telemetry,
) -> None:
    # The Anthropic SDK's shape: use_span(end_on_exit=False), and the ERROR status set in the
    # except block around it, once the span is no longer current but still recording.
    tracer = instrumented.tracer_provider.get_tracer("anthropic")
    span = tracer.start_span("anthropic.messages.create")
    try:
        try:
            with trace.use_span(
                span, end_on_exit=False, record_exception=False, set_status_on_exception=False
            ):
                raise OverloadedError("Overloaded")
        except BaseException:
            span.set_status(Status(StatusCode.ERROR))
            span.set_attribute("error.type", "overloaded_error")
            span.end()
            raise
    except OverloadedError as exc:
        record_failure(exc)
    assert [name for name, _ in _events_by_span(instrumented)] == ["anthropic.messages.create"]


def test_the_sdk_default_path_still_gives_one_event(instrumented: Telemetry) -> None:
    # start_as_current_span's defaults: record_exception, then set_status, on the way out.
    tracer = instrumented.tracer_provider.get_tracer("agent")
    with pytest.raises(OverloadedError) as caught:
        with tracer.start_as_current_span("outer"):
            with tracer.start_as_current_span("inner"):
                raise OverloadedError("Overloaded")
    record_failure(caught.value)
    events = _events_by_span(instrumented)
    assert [name for name, _ in events] == ["inner"]
    assert events[0][1]["failcat.mechanism"] == "track"
    assert all(s.status.status_code is StatusCode.ERROR for s in instrumented.finished_spans())


def test_status_set_on_exception_alone_records_on_the_span_it_leaves(
    instrumented: Telemetry,
) -> None:
    # record_exception=False but the SDK still sets the status (inside its except, in
    # use_span; in __exit__ for `with span:`): the event goes on that span, as the defaults do.
    tracer = instrumented.tracer_provider.get_tracer("agent")
    with pytest.raises(OverloadedError):
        with tracer.start_as_current_span("via use_span", record_exception=False):
            raise OverloadedError("one")
    with pytest.raises(OverloadedError):
        with tracer.start_span("via __exit__", record_exception=False):
            raise OverloadedError("two")
    events = _events_by_span(instrumented)
    assert sorted(name for name, _ in events) == ["via __exit__", "via use_span"]
    assert {attrs["failcat.mechanism"] for _, attrs in events} == {"track"}


def test_a_track_block_still_owns_its_event(instrumented: Telemetry) -> None:
    with pytest.raises(OverloadedError):
        with track("step"):
            raise OverloadedError("Overloaded")
    ((span, attrs),) = instrumented.exception_events()
    assert span.name == "step"
    assert attrs["failcat.mechanism"] == "track"
    assert span.attributes is not None and "error.type" in span.attributes


def test_retry_then_success_records_the_failed_attempt_on_its_span(
    instrumented: Telemetry,
) -> None:
    # The receiver already stores the first attempt's span (ERROR + error.type, no event) as a
    # span_status failure; the event makes that one row say which exception it was, not two.
    tracer = instrumented.tracer_provider.get_tracer("client")
    for attempt in range(2):
        with tracer.start_as_current_span(
            f"attempt {attempt}", record_exception=False, set_status_on_exception=False
        ) as span:
            try:
                if attempt == 0:
                    raise FlakyUpstream("503 Service Unavailable")
            except FlakyUpstream:
                span.set_attribute("error.type", "503")
                span.set_status(Status(StatusCode.ERROR))
                continue
            span.set_status(Status(StatusCode.OK))
            break
    ((span, attrs),) = instrumented.exception_events()
    assert span.name == "attempt 0"
    assert attrs["exception.type"] == f"{__name__}.FlakyUpstream"
    assert _span(instrumented, "attempt 1").status.status_code is StatusCode.OK


def test_a_consequence_of_a_recorded_failure_is_not_recorded_again(
    instrumented: Telemetry,
) -> None:
    # A framework turns a step's failure (recorded where it happened) into its own abort and
    # marks its run's root span: that span notes the failure, it is not a second one.
    class RunAborted(Exception):
        pass

    tracer = instrumented.tracer_provider.get_tracer("framework")
    with tracer.start_as_current_span(
        "invoke_agent", record_exception=False, set_status_on_exception=False
    ) as run:
        try:
            try:
                with track("execute_tool search"):
                    raise FlakyUpstream("503 Service Unavailable")
            except FlakyUpstream as step_failure:
                raise RunAborted() from step_failure
        except RunAborted:
            run.set_status(Status(StatusCode.ERROR, "agent run failed"))
    ((recorded_on, attrs),) = instrumented.exception_events()
    assert recorded_on.name == "execute_tool search"
    assert attrs["exception.type"] == f"{__name__}.FlakyUpstream"


def test_no_exception_in_flight_records_nothing(instrumented: Telemetry) -> None:
    # mcp 2.x's JSON-RPC client span: an error answer marks it, the raise comes after it ended.
    tracer = instrumented.tracer_provider.get_tracer("mcp")
    with tracer.start_as_current_span("MCP send tools/call") as span:
        span.set_attribute("error.type", "-32601")
        span.set_status(StatusCode.ERROR, "Unknown tool: get_forecast")
    assert instrumented.exception_events() == []


def test_statuses_other_than_error_record_nothing(instrumented: Telemetry) -> None:
    tracer = instrumented.tracer_provider.get_tracer("lib")
    with tracer.start_as_current_span("call") as span:
        try:
            raise FlakyUpstream("handled, the call went on")
        except FlakyUpstream:
            span.set_status(Status(StatusCode.OK))
            span.set_status(StatusCode.UNSET)
    assert instrumented.exception_events() == []


def test_an_exception_recorded_already_is_not_recorded_again(instrumented: Telemetry) -> None:
    tracer = instrumented.tracer_provider.get_tracer("lib")
    with tracer.start_as_current_span(
        "call", record_exception=False, set_status_on_exception=False
    ) as span:
        try:
            raise OverloadedError("Overloaded")
        except OverloadedError as exc:
            record_failure(exc)  # the application caught and recorded it first
            span.set_status(Status(StatusCode.ERROR))
    ((recorded_on, attrs),) = instrumented.exception_events()
    assert recorded_on.name == "call"
    assert attrs["failcat.mechanism"] == "explicit"


def test_an_ended_span_is_left_alone(instrumented: Telemetry) -> None:
    tracer = instrumented.tracer_provider.get_tracer("lib")
    span = tracer.start_span("ended early")
    span.end()
    try:
        raise OverloadedError("Overloaded")
    except OverloadedError as exc:
        span.set_status(Status(StatusCode.ERROR))  # the SDK warns and ignores it
        record_failure(exc)
    # Not lost and not put on another span by the status: the later sighting records it.
    ((recorded_on, attrs),) = instrumented.exception_events()
    assert recorded_on.name == "failcat.unhandled_exception"
    assert attrs["failcat.mechanism"] == "explicit"


@pytest.mark.parametrize("agent_environment", [{"FAILCAT_DISABLED_HOOKS": "set_status"}])
def test_disabled_set_status_hook_records_nothing_on_the_span(instrumented: Telemetry) -> None:
    tracer = instrumented.tracer_provider.get_tracer("anthropic")
    exc = _library_call(tracer, OverloadedError("Overloaded"))
    record_failure(exc)
    assert [name for name, _ in _events_by_span(instrumented)] == ["failcat.unhandled_exception"]


def test_without_instrumentation_the_library_span_has_no_event(telemetry: Telemetry) -> None:
    # The control: the SDK alone leaves the span status-only, which is what made two rows.
    _library_call(telemetry.tracer_provider.get_tracer("anthropic"), OverloadedError("x"))
    assert telemetry.exception_events() == []
    assert _span(telemetry, "anthropic.messages.create").status.status_code is StatusCode.ERROR


# -- exception groups --------------------------------------------------------------------------

needs_groups = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="TaskGroup and ExceptionGroup are built in from 3.11"
)


def _task_group_of_library_calls(telemetry: Telemetry, *failures: BaseException) -> BaseException:
    """Tasks whose library spans mark their failures by hand; the group asyncio raises."""
    tracer = telemetry.tracer_provider.get_tracer("mcp")

    async def call(index: int, failure: BaseException) -> None:
        await asyncio.sleep(0)
        with tracer.start_as_current_span(
            f"tools/call {index}", record_exception=False, set_status_on_exception=False
        ) as span:
            try:
                raise failure
            except Exception:
                span.set_attribute("error.type", type(failure).__qualname__)
                span.set_status(Status(StatusCode.ERROR))
                raise

    async def main() -> None:
        async with asyncio.TaskGroup() as group:
            for index, failure in enumerate(failures):
                group.create_task(call(index, failure))

    try:
        asyncio.run(main())
    except BaseException as caught:
        return caught
    raise AssertionError("the task group did not fail")


@needs_groups
def test_a_group_whose_leaves_were_recorded_on_their_spans_adds_no_event(
    instrumented: Telemetry,
) -> None:
    group = _task_group_of_library_calls(
        instrumented, OverloadedError("Overloaded"), FlakyUpstream("503")
    )
    assert type(group).__name__ == "ExceptionGroup"
    record_failure(group)
    events = _events_by_span(instrumented)
    assert sorted(name for name, _ in events) == ["tools/call 0", "tools/call 1"]
    assert all("failcat.group.exception_types" not in attrs for _, attrs in events)
    # Once more (the excepthook, a log line): still nothing; the group counts as recorded.
    record_failure(group)
    assert len(instrumented.exception_events()) == 2


@needs_groups
def test_a_group_with_a_new_leaf_is_recorded_whole(instrumented: Telemetry) -> None:
    recorded = OverloadedError("Overloaded")
    record_failure(recorded)
    fresh = FlakyUpstream("503 Service Unavailable")
    group = ExceptionGroup("two calls failed", [recorded, fresh])  # noqa: F821 (3.11 builtin)
    record_failure(group)
    events = instrumented.exception_events()
    assert len(events) == 2
    (_, attrs) = events[1]
    assert attrs["exception.type"] == "ExceptionGroup"
    assert attrs["failcat.group.exception_types"] == (
        f"{__name__}.OverloadedError",
        f"{__name__}.FlakyUpstream",
    )


@needs_groups
def test_an_empty_reading_of_a_group_is_not_taken_for_recorded_leaves(
    instrumented: Telemetry,
) -> None:
    class Unreadable(ExceptionGroup):  # noqa: F821 (a 3.11 builtin)
        @property
        def exceptions(self) -> tuple[BaseException, ...]:
            raise RuntimeError("no members for you")

    record_failure(Unreadable("odd", [ValueError("x")]))
    ((_, attrs),) = instrumented.exception_events()
    assert attrs["exception.type"].endswith("Unreadable")
