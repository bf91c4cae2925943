"""ERROR spans with ``error.type`` and no exception event become ``span_status`` failures."""

from __future__ import annotations

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from collector_receiver.otlp import SPAN_STATUS_EVENT_INDEX, decode_request, extract_failures
from tests.collector_receiver.otlp._helpers import T0, exception_event, span, trace_request

_ERROR = 2


def _failures(*spans):  # type: ignore[no-untyped-def]
    body = trace_request(spans).SerializeToString()
    return extract_failures("traces", decode_request("traces", body, "application/x-protobuf"))


def test_error_span_with_error_type_is_a_failure() -> None:
    result = _failures(
        span(
            "tool.call",
            status_code=_ERROR,
            status_message="upstream said 503",
            attributes={"error.type": "503", "http.response.status_code": 503},
            end=T0 + 5,
        )
    )

    [failure] = result.events
    assert failure.source == "span_status"
    assert failure.exception_type == "503"
    assert failure.error_type == "503"
    assert failure.exception_message == "upstream said 503"
    assert failure.stacktrace == ""
    assert failure.time_unix_nano == T0 + 5
    assert failure.event_index == SPAN_STATUS_EVENT_INDEX
    assert failure.span_name == "tool.call"
    assert failure.attributes["http.response.status_code"] == 503


def test_error_span_without_error_type_is_not_a_failure() -> None:
    result = _failures(span(status_code=_ERROR, status_message="no type"))

    assert result.events == [] and result.items == 1


def test_error_span_with_exception_event_yields_only_the_event() -> None:
    result = _failures(
        span(status_code=_ERROR, attributes={"error.type": "x.Y"}, events=[exception_event("x.Y")])
    )

    assert [f.source for f in result.events] == ["span_event"]


def test_non_string_error_type_is_rendered_as_text() -> None:
    [failure] = _failures(span(status_code=_ERROR, attributes={"error.type": 429})).events

    assert failure.exception_type == "429" and failure.error_type == "429"


def test_events_that_only_look_like_exceptions_do_not_hide_the_status() -> None:
    look_alike = Span.Event(name="myexception", time_unix_nano=T0)
    result = _failures(
        span(status_code=_ERROR, attributes={"error.type": "E"}, events=[look_alike]),
        span("quiet", events=[look_alike]),
    )

    assert [f.source for f in result.events] == ["span_status"]
