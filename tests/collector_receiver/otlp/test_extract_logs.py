"""Log records carrying ``exception.type`` or ``exception.message`` become failures."""

from __future__ import annotations

from collector_receiver.otlp import UNKNOWN_EXCEPTION_TYPE, decode_request, extract_failures
from tests.collector_receiver.otlp._helpers import (
    SPAN_ID,
    T0,
    TRACE_ID,
    log_record,
    logs_request,
    resource,
)


def _result(request):  # type: ignore[no-untyped-def]
    body = request.SerializeToString()
    return extract_failures("logs", decode_request("logs", body, "application/x-protobuf"))


def test_log_record_with_exception_attributes_is_a_failure() -> None:
    record = log_record(
        {
            "exception.type": "TimeoutError",
            "exception.message": "timed out after 30s",
            "exception.stacktrace": "Traceback ...",
            "code.function": "fetch",
        },
        trace_id=TRACE_ID,
        span_id=SPAN_ID,
    )
    result = _result(logs_request([record], res=resource("fetcher"), scope="app.logging"))

    assert result.items == 1 and result.rejected == 0
    [failure] = result.events
    assert failure.source == "log_record"
    assert failure.service_name == "fetcher"
    assert failure.exception_type == "TimeoutError"
    assert failure.exception_message == "timed out after 30s"
    assert failure.stacktrace == "Traceback ..."
    assert failure.trace_id == TRACE_ID.hex() and failure.span_id == SPAN_ID.hex()
    assert failure.time_unix_nano == T0
    assert failure.scope_name == "app.logging"
    assert failure.span_name is None
    assert failure.attributes["code.function"] == "fetch"


def test_records_without_exception_attributes_are_ignored() -> None:
    quiet = [log_record({"http.method": "GET"}), log_record({"exception.escaped": True})]

    result = _result(logs_request(quiet))

    assert result.events == [] and result.items == 2


def test_message_alone_is_enough_and_type_becomes_unknown() -> None:
    [failure] = _result(logs_request([log_record({"exception.message": "oops"})])).events

    assert failure.exception_type == UNKNOWN_EXCEPTION_TYPE
    assert failure.exception_message == "oops"


def test_record_without_trace_context_has_no_ids() -> None:
    [failure] = _result(logs_request([log_record({"exception.type": "E"})])).events

    assert failure.trace_id is None and failure.span_id is None


def test_observed_time_stands_in_for_a_missing_time() -> None:
    record = log_record({"exception.type": "E"}, time=0, observed=T0 + 7)

    [failure] = _result(logs_request([record])).events

    assert failure.time_unix_nano == T0 + 7


def test_identical_records_get_distinct_event_keys() -> None:
    twins = [log_record({"exception.type": "E"}), log_record({"exception.type": "E"})]
    other = log_record({"exception.type": "E"}, time=T0 + 1)

    failures = _result(logs_request([*twins, other])).events

    assert [f.event_index for f in failures] == [0, 1, 0]
    assert len({f.event_key() for f in failures}) == 3


def test_event_key_survives_rebatching() -> None:
    """A collector may deliver a record again in another batch; its key must not change."""
    target = log_record({"exception.type": "E", "exception.message": "m"}, time=T0 + 5)
    alone = _result(logs_request([target])).events
    rebatched = _result(
        logs_request([log_record({"exception.type": "F"}), log_record({"x": 1}), target])
    ).events

    assert alone[0].event_key() == rebatched[-1].event_key()
