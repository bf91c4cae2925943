"""Bad items inside a good request are rejected with a reason; the good ones are kept."""

from __future__ import annotations

from collector_receiver.otlp import decode_request, extract_failures
from collector_receiver.otlp._extract import MAX_REASONS
from tests.collector_receiver.otlp._helpers import (
    exception_event,
    log_record,
    logs_request,
    span,
    trace_request,
)


def test_span_with_short_trace_id_is_rejected_and_others_kept() -> None:
    request = trace_request(
        [
            span(
                "bad", events=[exception_event("a.A"), exception_event("a.B")], trace_id=b"\x01" * 5
            ),
            span("good", events=[exception_event("b.B")]),
            span("bad-span-id", events=[exception_event("c.C")], span_id=b"\x01" * 4),
        ]
    )
    decoded = decode_request("traces", request.SerializeToString(), "application/x-protobuf")

    result = extract_failures("traces", decoded)

    assert [f.exception_type for f in result.events] == ["b.B"]
    assert result.items == 3
    assert result.rejected == 2  # counted per span, as OTLP's rejected_spans
    assert result.reasons == [
        "span 'bad': trace_id has 5 bytes, expected 16",
        "span 'bad-span-id': span_id has 4 bytes, expected 8",
    ]
    assert result.error_message.startswith("2 rejected: span 'bad'")


def test_spans_with_bad_ids_but_no_failure_are_not_rejected() -> None:
    request = trace_request([span("quiet", trace_id=b"\x01" * 3)])
    decoded = decode_request("traces", request.SerializeToString(), "application/x-protobuf")

    result = extract_failures("traces", decoded)

    assert result.rejected == 0 and result.error_message == ""


def test_log_record_with_bad_span_id_is_rejected() -> None:
    request = logs_request(
        [
            log_record({"exception.type": "E"}, trace_id=b"\x02" * 16, span_id=b"\x03" * 9),
            log_record({"exception.type": "F"}),
        ]
    )
    decoded = decode_request("logs", request.SerializeToString(), "application/x-protobuf")

    result = extract_failures("logs", decoded)

    assert [f.exception_type for f in result.events] == ["F"]
    assert result.rejected == 1
    assert result.reasons == ["log record: span_id has 9 bytes, expected 8"]


def test_reasons_are_bounded_but_the_count_is_exact() -> None:
    spans = [span(f"bad{i}", events=[exception_event()], trace_id=b"\x01" * 3) for i in range(50)]
    decoded = decode_request(
        "traces", trace_request(spans).SerializeToString(), "application/x-protobuf"
    )

    result = extract_failures("traces", decoded)

    assert result.rejected == 50
    assert len(result.reasons) == MAX_REASONS
    assert result.error_message.endswith("; ...")
