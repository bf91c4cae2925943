"""``OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN``: failures as OTel log records, instead of or besides
span events, with the same attributes and the trace context."""

from __future__ import annotations

import pytest
from opentelemetry._logs import SeverityNumber

from otel_failcat import record_failure
from tests.otel_failcat._helpers import Telemetry, needs_log_event_names, raise_and_catch


@needs_log_event_names
@pytest.mark.parametrize("agent_environment", [{"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs"}])
def test_logs_emits_a_log_record_instead_of_the_event(instrumented: Telemetry) -> None:
    tracer = instrumented.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("agent.step") as span:
        record_failure(raise_and_catch(ValueError("as a log")), {"agent.step": 2})

    assert instrumented.exception_events() == []
    (record,) = instrumented.log_records()
    assert record.event_name == "exception"
    assert record.severity_number is SeverityNumber.ERROR
    assert record.severity_text == "ERROR"
    assert record.trace_id == span.get_span_context().trace_id
    assert record.span_id == span.get_span_context().span_id
    attrs = dict(record.attributes)
    assert attrs["exception.type"] == "ValueError"
    assert attrs["exception.message"] == "as a log"
    assert attrs["failcat.mechanism"] == "explicit"
    assert attrs["agent.step"] == 2
    assert set(attrs) >= {"exception.stacktrace", "failcat.fingerprint", "failcat.cause_types"}


@pytest.mark.parametrize("agent_environment", [{"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs"}])
def test_logs_without_a_span_has_no_trace_context(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(ValueError("no span")))
    (record,) = instrumented.log_records()
    assert record.trace_id == 0
    assert instrumented.finished_spans() == []


@pytest.mark.parametrize(
    "agent_environment", [{"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs/dup"}]
)
def test_logs_dup_emits_both_linked(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(KeyError("both")))
    ((span, event_attrs),) = instrumented.exception_events()
    (record,) = instrumented.log_records()
    assert span.name == "failcat.unhandled_exception"
    assert (record.trace_id, record.span_id) == (span.context.trace_id, span.context.span_id)
    assert dict(record.attributes) == event_attrs


@pytest.mark.parametrize(
    "agent_environment", [{"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs/dup"}]
)
def test_logs_dup_gives_both_one_recording_id_and_one_time(instrumented: Telemetry) -> None:
    # So a receiver that gets both signals stores the failure once (CONTRACT §4, one row).
    tracer = instrumented.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("agent.step"):
        record_failure(raise_and_catch(KeyError("first")))
        record_failure(raise_and_catch(KeyError("second")))
    events = instrumented.finished_spans()[0].events
    records = instrumented.log_records()
    ids = [event.attributes["failcat.recording_id"] for event in events]
    assert [record.attributes["failcat.recording_id"] for record in records] == ids
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ids)
    assert ids[0] != ids[1]  # one per recording, not per span or per type
    assert [record.timestamp for record in records] == [event.timestamp for event in events]


@pytest.mark.parametrize("agent_environment", [{"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs"}])
def test_one_signal_carries_no_recording_id(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(KeyError("logs only")))
    (record,) = instrumented.log_records()
    assert "failcat.recording_id" not in dict(record.attributes)


def test_span_events_carry_no_recording_id(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(KeyError("span only")))
    ((_, attrs),) = instrumented.exception_events()
    assert "failcat.recording_id" not in attrs


@pytest.mark.parametrize("agent_environment", [{"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "http"}])
def test_other_values_keep_span_events(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(KeyError("span")))
    assert len(instrumented.exception_events()) == 1
    assert instrumented.log_records() == []


@pytest.mark.parametrize(
    ("agent_environment", "marked"),
    [
        ({"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs"}, True),
        ({"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs/dup"}, False),
        ({}, False),
    ],
    ids=["logs", "logs-dup", "span-events"],
)
def test_only_logs_mode_marks_the_span_its_failure_left_as_a_log(
    instrumented: Telemetry, marked: bool
) -> None:
    # In logs mode the span has no event; the mark tells a receiver its ERROR status is the
    # failure the log record is (a library's span marked failed by hand, with error.type).
    tracer = instrumented.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("agent.step"):
        record_failure(raise_and_catch(ValueError("as a log")))
    (span,) = instrumented.finished_spans()
    markers = [event for event in span.events if event.name == "failcat.logged_exception"]
    assert len(markers) == int(marked)
    if marked:
        assert dict(markers[0].attributes or {}) == {"exception.type": "ValueError"}
