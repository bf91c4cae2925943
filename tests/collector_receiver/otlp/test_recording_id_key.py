"""``failcat.recording_id`` (``logs/dup``): a span event and a log record of one recording share
one event key, so the store keeps one row; anything else keeps the key of CONTRACT §4.

The end-to-end run (a real agent under ``opentelemetry-instrument``, both signals, SQLite and
PostgreSQL) is tests/e2e/test_logs_dup_one_row.py.
"""

from __future__ import annotations

import pytest

from collector_receiver.events import FailureEvent
from collector_receiver.otlp import decode_request, extract_failures
from tests.collector_receiver.otlp._helpers import (
    SPAN_ID,
    TRACE_ID,
    exception_event,
    log_record,
    logs_request,
    span,
    trace_request,
)

RECORDING = "5f0c8e3a9b7d41c2a6e8f0b1c3d5e7f9"


def _from_span(**extra: object) -> FailureEvent:
    request = trace_request([span(events=[exception_event("KeyError", "'x'", **extra)])])
    body = request.SerializeToString()
    [event] = extract_failures(
        "traces", decode_request("traces", body, "application/x-protobuf")
    ).events
    return event


def _from_log(**extra: object) -> FailureEvent:
    attributes = {"exception.type": "KeyError", "exception.message": "'x'"}
    attributes.update({key.replace("__", "."): value for key, value in extra.items()})
    request = logs_request([log_record(attributes, trace_id=TRACE_ID, span_id=SPAN_ID)])
    body = request.SerializeToString()
    [event] = extract_failures(
        "logs", decode_request("logs", body, "application/x-protobuf")
    ).events
    return event


def test_the_span_event_and_the_log_record_of_one_recording_share_a_key() -> None:
    from_span = _from_span(failcat__recording_id=RECORDING)
    from_log = _from_log(failcat__recording_id=RECORDING)
    assert (from_span.source, from_log.source) == ("span_event", "log_record")
    assert from_span.recording_id == from_log.recording_id == RECORDING
    assert from_span.event_key() == from_log.event_key()


def test_two_recordings_keep_two_keys() -> None:
    other = "0" * 31 + "1"
    assert (
        _from_span(failcat__recording_id=RECORDING).event_key()
        != _from_span(failcat__recording_id=other).event_key()
    )


def test_without_a_recording_id_the_two_signals_keep_their_own_keys() -> None:
    assert _from_span().recording_id is None
    assert _from_span().event_key() != _from_log().event_key()


@pytest.mark.parametrize(
    "value",
    ["", "5F0C8E3A9B7D41C2A6E8F0B1C3D5E7F9", RECORDING[:-1], RECORDING + "0", "g" * 32, 42],
    ids=["empty", "upper", "short", "long", "not-hex", "int"],
)
def test_a_value_not_as_the_agent_sends_it_is_ignored(value: object) -> None:
    event = _from_span(failcat__recording_id=value)
    assert event.recording_id is None
    assert event.event_key() == _from_span().event_key()
