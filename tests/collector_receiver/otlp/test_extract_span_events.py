"""Span events named ``exception`` (or ``*.exception``) become ``span_event`` failures."""

from __future__ import annotations

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from collector_receiver.otlp import (
    UNKNOWN_EXCEPTION_TYPE,
    decode_request,
    extract_failures,
)
from tests.collector_receiver.otlp._helpers import (
    SPAN_ID,
    T0,
    TRACE_ID,
    exception_event,
    resource,
    span,
    trace_request,
)


def _roundtrip(request):  # type: ignore[no-untyped-def]
    return decode_request("traces", request.SerializeToString(), "application/x-protobuf")


def test_exception_event_carries_everything_the_row_needs() -> None:
    event = exception_event(
        "openai.RateLimitError",
        "Rate limit reached for gpt-4o",
        "Traceback ...",
        failcat__fingerprint="0123456789abcdef0123456789abcdef",
        failcat__cause_types=["httpx.HTTPStatusError", "OSError"],
        failcat__mechanism="explicit",
    )
    request = trace_request(
        [span("llm.call", events=[event], attributes={"http.response.status_code": 429})],
        res=resource("planner", service__version="1.4.2", deployment__environment__name="prod"),
        scope="openai.instrumentation",
    )

    result = extract_failures("traces", _roundtrip(request))

    assert result.items == 1 and result.rejected == 0
    [failure] = result.events
    assert failure.source == "span_event"
    assert failure.service_name == "planner"
    assert failure.exception_type == "openai.RateLimitError"
    assert failure.exception_message == "Rate limit reached for gpt-4o"
    assert failure.stacktrace == "Traceback ..."
    assert failure.trace_id == TRACE_ID.hex() and failure.span_id == SPAN_ID.hex()
    assert failure.time_unix_nano == T0
    assert failure.event_index == 0
    assert failure.scope_name == "openai.instrumentation"
    assert failure.span_name == "llm.call"
    assert failure.fingerprint == "0123456789abcdef0123456789abcdef"
    assert failure.cause_types == ("httpx.HTTPStatusError", "OSError")
    assert failure.resource["service.version"] == "1.4.2"
    assert failure.resource["deployment.environment.name"] == "prod"
    # span attributes merged with the event's
    assert failure.attributes["http.response.status_code"] == 429
    assert failure.attributes["failcat.mechanism"] == "explicit"


def test_event_attributes_win_over_span_attributes() -> None:
    event = exception_event(error__type="event-level")
    request = trace_request([span(events=[event], attributes={"error.type": "span-level", "k": 1})])

    [failure] = extract_failures("traces", _roundtrip(request)).events

    assert failure.attributes["error.type"] == "event-level"
    assert failure.error_type == "event-level"
    assert failure.attributes["k"] == 1


def test_names_ending_in_dot_exception_count_and_other_events_do_not() -> None:
    events = [
        Span.Event(name="gen_ai.content.prompt", time_unix_nano=T0),
        exception_event("a.A", name="langchain.exception", time=T0 + 1),
        Span.Event(name="exceptional", time_unix_nano=T0 + 2),
        Span.Event(name="my_exception", time_unix_nano=T0 + 3),
        exception_event("b.B", time=T0 + 4),
    ]
    request = trace_request([span(events=events)])

    failures = extract_failures("traces", _roundtrip(request)).events

    assert [(f.exception_type, f.event_index, f.time_unix_nano) for f in failures] == [
        ("a.A", 1, T0 + 1),
        ("b.B", 4, T0 + 4),
    ]


def test_spans_without_failures_yield_nothing_but_are_counted() -> None:
    quiet = [span(f"s{i}", events=[Span.Event(name="log", time_unix_nano=T0)]) for i in range(5)]
    ok_status = span("ok", status_code=1, attributes={"error.type": "ignored-on-ok"})
    request = trace_request([*quiet, ok_status])

    result = extract_failures("traces", _roundtrip(request))

    assert result.events == [] and result.items == 6 and result.rejected == 0


def test_missing_type_is_unknown_and_missing_message_is_empty() -> None:
    request = trace_request([span(events=[exception_event(None, "boom", None)])])
    [with_message] = extract_failures("traces", _roundtrip(request)).events
    assert with_message.exception_type == UNKNOWN_EXCEPTION_TYPE
    assert with_message.exception_message == "boom"
    assert with_message.stacktrace == ""

    request = trace_request([span(events=[exception_event(None, None, None)])])
    [bare] = extract_failures("traces", _roundtrip(request)).events
    assert bare.exception_type == UNKNOWN_EXCEPTION_TYPE and bare.exception_message == ""


def test_event_without_time_takes_the_span_end() -> None:
    request = trace_request([span(events=[exception_event(time=0)], end=T0 + 99)])

    [failure] = extract_failures("traces", _roundtrip(request)).events

    assert failure.time_unix_nano == T0 + 99


def test_resource_without_service_name_is_unknown_service() -> None:
    request = trace_request([span(events=[exception_event()])], res=resource(None, host__name="h"))

    [failure] = extract_failures("traces", _roundtrip(request)).events

    assert failure.service_name == "unknown_service"
    assert failure.resource == {"host.name": "h"}


def test_several_resources_keep_their_own_service() -> None:
    first = trace_request([span(events=[exception_event("a.A")])], res=resource("alpha"))
    second = trace_request([span(events=[exception_event("b.B")])], res=resource("beta"))
    first.resource_spans.extend(second.resource_spans)

    failures = extract_failures("traces", _roundtrip(first)).events

    assert [(f.service_name, f.exception_type) for f in failures] == [
        ("alpha", "a.A"),
        ("beta", "b.B"),
    ]


def test_all_zero_ids_are_absent() -> None:
    request = trace_request(
        [span(events=[exception_event()], trace_id=bytes(16), span_id=bytes(8))]
    )

    [failure] = extract_failures("traces", _roundtrip(request)).events

    assert failure.trace_id is None and failure.span_id is None
