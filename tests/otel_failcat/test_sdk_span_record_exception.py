"""Spans started with OpenTelemetry's defaults: the SDK's ``Span.record_exception`` goes through
failcat, so one exception is one redacted event on the innermost span, however many spans it
escapes, and the hooks that see it later add nothing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import TracebackType

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.trace import StatusCode

from otel_failcat import FailcatInstrumentor, record_failure, track
from otel_failcat._internal_errors import internal_error_count
from otel_failcat.redaction import Redactor
from tests.otel_failcat._helpers import Telemetry, raise_and_catch

FAKE_KEY = "sk-proj-" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8L9z0"
FAILCAT_KEYS = {
    "exception.type",
    "exception.message",
    "exception.stacktrace",
    "failcat.fingerprint",
    "failcat.mechanism",
    "failcat.handled",
    "failcat.cause_types",
}

Call = tuple[type[BaseException], BaseException, TracebackType | None]


class ModelCallError(Exception):
    """A user-defined exception, to see the fully qualified type."""


@pytest.fixture
def previous_excepthook(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """A stand-in for the interpreter's ``sys.excepthook``, in place before instrumenting."""
    calls: list[Call] = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: calls.append(args))
    return calls


@pytest.fixture
def hooked(
    telemetry: Telemetry,
    previous_excepthook: list[Call],
    agent_environment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Telemetry]:
    for name, value in agent_environment.items():
        monkeypatch.setenv(name, value)
    FailcatInstrumentor().instrument(**telemetry.providers())
    try:
        yield telemetry
    finally:
        FailcatInstrumentor().uninstrument()


def _raise_through_three_spans(telemetry: Telemetry) -> BaseException:
    tracer = telemetry.tracer_provider.get_tracer("agent")
    try:
        with tracer.start_as_current_span("outer"):
            with tracer.start_as_current_span("middle"):
                with tracer.start_as_current_span("inner"):
                    try:
                        raise KeyError("tool 'search' missing")
                    except KeyError as cause:
                        raise ModelCallError(f"model call failed with key {FAKE_KEY}") from cause
    except ModelCallError as exc:
        return exc
    raise AssertionError("the exception did not escape")


def test_an_exception_escaping_three_spans_is_one_event_on_the_innermost(
    hooked: Telemetry,
) -> None:
    _raise_through_three_spans(hooked)

    ((span, attrs),) = hooked.exception_events()
    assert span.name == "inner"
    assert set(attrs) >= FAILCAT_KEYS
    assert attrs["exception.type"] == f"{__name__}.ModelCallError"
    assert attrs["failcat.mechanism"] == "track"  # it escaped the span, as from a track block
    assert attrs["failcat.handled"] is False
    assert attrs["failcat.cause_types"] == ("KeyError",)
    assert FAKE_KEY not in str(attrs)
    assert "[REDACTED:" in str(attrs["exception.message"])
    assert "exception.escaped" not in attrs  # the SDK's own event is not added besides ours

    by_name = {s.name: s for s in hooked.finished_spans()}
    for name in ("inner", "middle", "outer"):
        # The SDK still sets every span's status itself; only the event is deduplicated.
        assert by_name[name].status.status_code is StatusCode.ERROR
    assert not by_name["middle"].events and not by_name["outer"].events
    key = (
        ("exception.type", f"{__name__}.ModelCallError"),
        ("failcat.handled", False),
        ("failcat.mechanism", "track"),
    )
    assert hooked.failure_counts() == {key: 1}


def test_the_excepthook_then_adds_nothing_but_still_flushes_and_chains(
    hooked: Telemetry, previous_excepthook: list[Call], monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[int] = []
    flush = hooked.tracer_provider.force_flush
    monkeypatch.setattr(
        hooked.tracer_provider,
        "force_flush",
        lambda timeout_millis=30000: flushed.append(timeout_millis) or flush(timeout_millis),
    )
    exc = _raise_through_three_spans(hooked)
    sys.excepthook(type(exc), exc, exc.__traceback__)

    assert len(hooked.exception_events()) == 1
    assert [s.name for s in hooked.finished_spans()] == ["inner", "middle", "outer"]
    assert sum(hooked.failure_counts().values()) == 1
    assert len(flushed) == 1
    assert previous_excepthook == [(type(exc), exc, exc.__traceback__)]


def test_code_that_handles_an_exception_and_records_it_on_its_span_gets_a_failcat_event(
    hooked: Telemetry,
) -> None:
    tracer = hooked.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("tool-call") as span:
        try:
            raise ConnectionError(f"upstream refused Authorization: Bearer {FAKE_KEY}")
        except ConnectionError as exc:
            span.record_exception(
                exc,
                {"gen_ai.tool.name": "web_search", "failcat.mechanism": "spoofed"},
                timestamp=1_700_000_000_000_000_000,
            )

    ((event_span, attrs),) = hooked.exception_events()
    assert event_span.name == "tool-call"
    assert set(attrs) >= FAILCAT_KEYS
    assert attrs["failcat.mechanism"] == "explicit"
    assert attrs["failcat.handled"] is True
    assert attrs["gen_ai.tool.name"] == "web_search"  # the SDK call's attributes are merged...
    assert FAKE_KEY not in str(attrs)
    (event,) = event_span.events
    assert event.timestamp == 1_700_000_000_000_000_000  # ...and its timestamp kept
    # Handled and recorded: the span itself did not fail.
    assert event_span.status.status_code is StatusCode.UNSET


def test_every_way_the_sdk_lets_an_exception_escape_a_span_is_track(hooked: Telemetry) -> None:
    tracer = hooked.tracer_provider.get_tracer("agent")
    with pytest.raises(ValueError):
        with tracer.start_span("with-span"):  # the SDK span's own __exit__ (escaped=True)
            raise ValueError("one")
    with pytest.raises(ValueError):
        with trace.use_span(tracer.start_span("use-span"), end_on_exit=True):
            raise ValueError("two")

    @tracer.start_as_current_span("decorated")
    def step() -> None:
        raise ValueError("three")

    with pytest.raises(ValueError):
        step()
    events = {span.name: attrs for span, attrs in hooked.exception_events()}
    assert set(events) == {"with-span", "use-span", "decorated"}
    for attrs in events.values():
        assert (attrs["failcat.mechanism"], attrs["failcat.handled"]) == ("track", False)


def test_positional_escaped_true_counts_as_escaping(hooked: Telemetry) -> None:
    tracer = hooked.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("manual") as span:
        span.record_exception(raise_and_catch(ValueError("x")), None, None, True)
    ((_, attrs),) = hooked.exception_events()
    assert (attrs["failcat.mechanism"], attrs["failcat.handled"]) == ("track", False)


def test_track_inside_sdk_spans_is_one_event_on_the_track_span(hooked: Telemetry) -> None:
    tracer = hooked.tracer_provider.get_tracer("agent")
    with pytest.raises(TimeoutError):
        with tracer.start_as_current_span("sdk-outer"):
            with track("tracked", {"agent.step": 3}):
                with tracer.start_as_current_span("sdk-inner"):
                    raise TimeoutError("model timed out")

    ((span, attrs),) = hooked.exception_events()
    assert span.name == "sdk-inner"  # the innermost span sees it first, whoever made it
    assert attrs["failcat.mechanism"] == "track"
    by_name = {s.name: s for s in hooked.finished_spans()}
    assert all(by_name[n].status.status_code is StatusCode.ERROR for n in by_name)


def test_sdk_spans_inside_track_leave_the_event_to_track(hooked: Telemetry) -> None:
    tracer = hooked.tracer_provider.get_tracer("agent")
    with pytest.raises(TimeoutError):
        with tracer.start_as_current_span("sdk-outer"):
            with track("tracked", {"agent.step": 3}):
                raise TimeoutError("model timed out")

    ((span, attrs),) = hooked.exception_events()
    assert span.name == "tracked"
    assert attrs["agent.step"] == 3
    assert sum(hooked.failure_counts().values()) == 1


def test_an_exception_already_recorded_by_failcat_is_not_recorded_by_the_span(
    hooked: Telemetry,
) -> None:
    tracer = hooked.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("step") as span:
        exc = raise_and_catch(ValueError("once"))
        record_failure(exc)
        span.record_exception(exc)
        span.record_exception(exc, escaped=True)
    assert len(hooked.exception_events()) == 1


@pytest.mark.parametrize(
    ("agent_environment", "events", "records"),
    [
        ({"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs"}, 0, 1),
        ({"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs/dup"}, 1, 1),
    ],
    ids=["logs", "logs/dup"],
)
def test_logs_mode_emits_one_log_record_for_the_whole_nest(
    hooked: Telemetry, events: int, records: int
) -> None:
    _raise_through_three_spans(hooked)

    assert len(hooked.exception_events()) == events
    (record,) = hooked.log_records()
    inner = next(s for s in hooked.finished_spans() if s.name == "inner")
    assert record.span_id == inner.context.span_id
    assert dict(record.attributes)["failcat.mechanism"] == "track"
    assert FAKE_KEY not in str(record.body) and FAKE_KEY not in str(dict(record.attributes))
    assert sum(hooked.failure_counts().values()) == 1


def test_a_span_that_has_ended_behaves_as_the_sdk_says_and_does_not_swallow_the_exception(
    hooked: Telemetry,
) -> None:
    span = hooked.tracer_provider.get_tracer("agent").start_span("done")
    span.end()
    exc = raise_and_catch(ValueError("late"))
    span.record_exception(exc)  # the SDK ignores events on an ended span (with a warning)
    assert hooked.exception_events() == []
    record_failure(exc)  # not marked as seen: it is still recorded once
    assert len(hooked.exception_events()) == 1


def test_an_internal_error_adds_no_unredacted_event_and_is_counted(
    hooked: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Redactor, text: str) -> str:
        raise RuntimeError("redactor broke")

    # The stacktrace: the recorder redacts it, the ERROR status (a message) is left to work.
    monkeypatch.setattr(Redactor, "stacktrace", broken)
    before = internal_error_count()
    tracer = hooked.tracer_provider.get_tracer("agent")
    with pytest.raises(ValueError):
        with tracer.start_as_current_span("step"):
            raise ValueError(f"key {FAKE_KEY}")
    assert internal_error_count() == before + 1
    assert hooked.exception_events() == []
    (span,) = hooked.finished_spans()
    assert span.status.status_code is StatusCode.ERROR


def test_uninstrument_restores_record_exception_by_identity(telemetry: Telemetry) -> None:
    original = SdkSpan.__dict__["record_exception"]
    FailcatInstrumentor().instrument(**telemetry.providers())
    try:
        assert SdkSpan.__dict__["record_exception"] is not original
    finally:
        FailcatInstrumentor().uninstrument()
    assert SdkSpan.__dict__["record_exception"] is original

    # Uninstrumented, the SDK records its own event again.
    tracer = telemetry.tracer_provider.get_tracer("agent")
    with pytest.raises(ValueError):
        with tracer.start_as_current_span("plain"):
            raise ValueError("sdk's own")
    ((_, attrs),) = telemetry.exception_events()
    assert "failcat.mechanism" not in attrs
    assert "exception.escaped" in attrs


def test_a_wrapper_installed_over_ours_stays_as_a_pass_through(telemetry: Telemetry) -> None:
    original = SdkSpan.__dict__["record_exception"]
    calls: list[str] = []
    FailcatInstrumentor().instrument(**telemetry.providers())
    ours = SdkSpan.__dict__["record_exception"]

    def other_tool(self: SdkSpan, *args: object, **kwargs: object) -> None:
        calls.append("other")
        ours(self, *args, **kwargs)

    try:
        SdkSpan.record_exception = other_tool  # type: ignore[method-assign]
        FailcatInstrumentor().uninstrument()
        assert SdkSpan.__dict__["record_exception"] is other_tool
        with telemetry.tracer_provider.get_tracer("agent").start_as_current_span("s") as span:
            span.record_exception(raise_and_catch(ValueError("passed through")))
        assert calls == ["other"]
        ((_, attrs),) = telemetry.exception_events()
        assert "failcat.mechanism" not in attrs  # inactive: straight to the SDK's method
    finally:
        SdkSpan.record_exception = original  # type: ignore[method-assign]


def test_disabled_by_name_leaves_the_sdk_method_alone(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAILCAT_DISABLED_HOOKS", "record_exception")
    original = SdkSpan.__dict__["record_exception"]
    FailcatInstrumentor().instrument(**telemetry.providers())
    try:
        assert SdkSpan.__dict__["record_exception"] is original
    finally:
        FailcatInstrumentor().uninstrument()


def test_a_call_with_something_that_is_not_an_exception_behaves_as_the_sdk_does(
    telemetry: Telemetry,
) -> None:
    def outcome() -> str:
        with telemetry.tracer_provider.get_tracer("agent").start_as_current_span("s") as span:
            try:
                span.record_exception("not an exception")  # type: ignore[arg-type]
            except Exception as exc:
                return type(exc).__name__
        return "no error"

    plain = outcome()
    FailcatInstrumentor().instrument(**telemetry.providers())
    try:
        assert outcome() == plain
    finally:
        FailcatInstrumentor().uninstrument()
