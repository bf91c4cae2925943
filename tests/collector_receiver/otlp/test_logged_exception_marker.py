"""The ``failcat.logged_exception`` event (``logs`` mode): the span of a failure sent as a log.

Its ERROR status and ``error.type`` are not a failure of their own (the log record carrying its
ids is the row), and for the lineage rule it counts as a span with an exception, whatever its
own status, so a library's status-only span below it is not one either. The end-to-end run is
tests/e2e/test_logs_dup_one_row.py.
"""

from __future__ import annotations

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from collector_receiver.events import FailureEvent
from collector_receiver.otlp import decode_request, extract_failures
from tests.collector_receiver.otlp._helpers import SPAN_ID, exception_event, span, trace_request

_ERROR = 2
CHILD_ID = bytes.fromhex("0102030405060708")


def _extract(spans: list[Span]) -> list[FailureEvent]:
    body = trace_request(spans).SerializeToString()
    return extract_failures(
        "traces", decode_request("traces", body, "application/x-protobuf")
    ).events


def _marker(name: str = "failcat.logged_exception") -> Span.Event:
    return exception_event("anthropic.PermissionDeniedError", None, None, name=name)


def _library_span(marked: bool = False, *, span_id: bytes = SPAN_ID) -> Span:
    return span(
        "anthropic.messages.create",
        attributes={"error.type": "permission_error"},
        events=[_marker()] if marked else [],
        status_code=_ERROR,
        span_id=span_id,
    )


def test_a_marked_span_is_not_a_failure_of_its_own() -> None:
    assert _extract([_library_span(marked=True)]) == []


def test_an_unmarked_span_or_a_lookalike_name_keeps_the_status_row() -> None:
    lookalike = _library_span()
    lookalike.events.append(_marker("myapp.logged_exception"))
    for one in (_library_span(), lookalike):
        [event] = _extract([one])
        assert (event.source, event.exception_type) == ("span_status", "permission_error")


def test_a_status_only_span_below_a_marked_span_is_not_a_failure_either() -> None:
    # The agent's span stayed OK (record_failure handled it): its marker still counts.
    agent_step = span("agent.step", events=[_marker()])
    child = _library_span(span_id=CHILD_ID)
    child.parent_span_id = SPAN_ID
    assert _extract([child, agent_step]) == []


def test_a_status_only_span_beside_a_marked_span_stays_a_row() -> None:
    # A sibling (another call that failed) is not the failure the log record is.
    parent_id = bytes.fromhex("1111111111111111")
    marked = span("agent.step", events=[_marker()])
    marked.parent_span_id = parent_id
    sibling = _library_span(span_id=CHILD_ID)
    sibling.parent_span_id = parent_id
    [event] = _extract([marked, sibling])
    assert event.span_id == CHILD_ID.hex()
