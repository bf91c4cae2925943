"""OTLP/JSON bodies, written by hand after the specification's "JSON Protobuf Encoding".

The fixtures exercise what a real sender may do: hex ids in upper or lower case, 64-bit
integers as strings and as numbers, enums as integers and as names, fields the receiver does
not know, and the lowerCamelCase names the specification requires (plus the original names,
which protobuf's JSON mapping also accepts).
"""

from __future__ import annotations

import json

import pytest

from collector_receiver.otlp import (
    DecodeError,
    UnsupportedMediaType,
    decode_request,
    extract_failures,
)
from tests.collector_receiver.otlp._helpers import SPAN_ID, TRACE_ID

TRACES_JSON = """
{
  "resourceSpans": [{
    "resource": {
      "attributes": [
        {"key": "service.name", "value": {"stringValue": "json-agent"}},
        {"key": "service.version", "value": {"stringValue": "2.0.1"}}
      ],
      "droppedAttributesCount": 0,
      "entityRefs": [{"type": "service", "futureField": true}]
    },
    "scopeSpans": [{
      "scope": {"name": "my.library", "version": "1.0.0"},
      "spans": [
        {
          "traceId": "5B8EFFF798038103D269B633813FC60C",
          "spanId": "EEE19B7EC3C1B174",
          "parentSpanId": "",
          "name": "llm.call",
          "kind": 3,
          "startTimeUnixNano": "1700000000000000000",
          "endTimeUnixNano": 1700000000500000000,
          "attributes": [
            {"key": "http.response.status_code", "value": {"intValue": "429"}},
            {"key": "retry.count", "value": {"intValue": 2}},
            {"key": "ratio", "value": {"doubleValue": 0.25}},
            {"key": "payload", "value": {"bytesValue": "AP8="}}
          ],
          "events": [
            {
              "timeUnixNano": "1700000000400000000",
              "name": "exception",
              "attributes": [
                {"key": "exception.type", "value": {"stringValue": "openai.RateLimitError"}},
                {"key": "exception.message", "value": {"stringValue": "slow down"}}
              ],
              "someNewEventField": {"nested": [1, 2, 3]}
            }
          ],
          "status": {"code": 2, "message": "rate limited"},
          "flags": 257,
          "aFieldFromTheFuture": "ignored"
        },
        {
          "trace_id": "5b8efff798038103d269b633813fc60c",
          "span_id": "0000000000000001",
          "name": "tool.call",
          "kind": "SPAN_KIND_CLIENT",
          "end_time_unix_nano": "1700000000600000000",
          "attributes": [{"key": "error.type", "value": {"stringValue": "ToolMissing"}}],
          "status": {"code": "STATUS_CODE_ERROR", "message": "no such tool"}
        },
        {
          "traceId": "5b8efff798038103d269b633813fc60c",
          "spanId": "0000000000000002",
          "name": "quiet"
        }
      ]
    }]
  }]
}
"""

LOGS_JSON = """
{
  "resourceLogs": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "logger"}}]},
    "scopeLogs": [{
      "scope": {"name": "app"},
      "logRecords": [{
        "timeUnixNano": "1700000000000000001",
        "observedTimeUnixNano": 1700000000000000002,
        "severityNumber": 17,
        "severityText": "ERROR",
        "traceId": "5b8efff798038103D269B633813FC60C",
        "spanId": "eee19b7ec3c1b174",
        "body": {"stringValue": "request failed"},
        "attributes": [
          {"key": "exception.type", "value": {"stringValue": "httpx.ConnectError"}},
          {"key": "exception.message", "value": {"stringValue": "connection refused"}}
        ],
        "eventName": "",
        "unknownThing": null
      }]
    }]
  }]
}
"""


def test_traces_json_decodes_with_hex_ids_int64_strings_and_numbers_and_enums() -> None:
    request = decode_request("traces", TRACES_JSON.encode(), "application/json")

    spans = request.resource_spans[0].scope_spans[0].spans
    assert spans[0].trace_id == TRACE_ID and spans[0].span_id == SPAN_ID
    assert spans[0].parent_span_id == b""
    assert spans[0].start_time_unix_nano == 1_700_000_000_000_000_000
    assert spans[0].end_time_unix_nano == 1_700_000_000_500_000_000
    assert spans[0].kind == 3 and spans[1].kind == 3
    assert spans[1].status.code == 2

    result = extract_failures("traces", request)

    assert result.items == 3 and result.rejected == 0
    event, status = result.events
    assert event.source == "span_event"
    assert event.service_name == "json-agent"
    assert event.trace_id == TRACE_ID.hex() and event.span_id == SPAN_ID.hex()
    assert event.time_unix_nano == 1_700_000_000_400_000_000
    assert event.exception_type == "openai.RateLimitError"
    assert event.attributes["http.response.status_code"] == 429
    assert event.attributes["retry.count"] == 2
    assert event.attributes["payload"] == "00ff"  # bytesValue stays base64 per the spec
    assert status.source == "span_status"
    assert status.exception_type == "ToolMissing"
    assert status.exception_message == "no such tool"
    assert status.span_id == "0000000000000001"


def test_logs_json_decodes_with_mixed_case_hex_ids() -> None:
    request = decode_request("logs", LOGS_JSON.encode(), "application/json; charset=utf-8")

    [failure] = extract_failures("logs", request).events

    assert failure.trace_id == TRACE_ID.hex() and failure.span_id == SPAN_ID.hex()
    assert failure.time_unix_nano == 1_700_000_000_000_000_001
    assert failure.exception_type == "httpx.ConnectError"


def test_metrics_json_is_accepted() -> None:
    body = json.dumps(
        {
            "resourceMetrics": [
                {
                    "scopeMetrics": [
                        {
                            "metrics": [
                                {
                                    "name": "failcat.agent.failures",
                                    "sum": {
                                        "aggregationTemporality": 2,
                                        "isMonotonic": True,
                                        "dataPoints": [
                                            {"asInt": "3", "timeUnixNano": "1700000000000000000"},
                                            {
                                                "asInt": 4,
                                                "exemplars": [{"spanId": "EEE19B7EC3C1B174"}],
                                            },
                                        ],
                                    },
                                }
                            ]
                        }
                    ]
                }
            ]
        }
    ).encode()

    result = extract_failures("metrics", decode_request("metrics", body, "application/json"))

    assert result.items == 2 and result.events == []


def test_empty_object_is_an_empty_request() -> None:
    request = decode_request("traces", b"{}", "application/json")

    assert extract_failures("traces", request).items == 0


def _one_span(fields: str) -> bytes:
    return b'{"resourceSpans": [{"scopeSpans": [{"spans": [{' + fields.encode() + b"}]}]}]}"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "malformed JSON"),
        (b"{", "malformed JSON"),
        (b"[]", "JSON body must be an object, not list"),
        (b'"text"', "JSON body must be an object, not str"),
        (b"\xff\xfe{}", "malformed JSON|not valid UTF-8"),
        (b'{"resourceSpans": {"not": "a list"}}', "invalid OTLP/JSON ExportTraceServiceRequest"),
        (_one_span('"name": 5'), "invalid OTLP/JSON"),
        (_one_span('"startTimeUnixNano": "soon"'), "invalid OTLP/JSON"),
        (_one_span('"name": "\\ud800"'), "invalid OTLP/JSON"),
        (_one_span('"traceId": "xyz"'), r"spans\[0\]\.traceId: not a hex string"),
        (_one_span('"spanId": "abc"'), "spanId: not a hex string"),
        (_one_span('"spanId": "ab cd"'), "spanId: not a hex string"),
        (_one_span('"traceId": 12'), "traceId: must be a hex string, not number"),
        (b"[" * 100_000, "nested too deeply|malformed JSON"),
    ],
)
def test_malformed_json_is_a_one_line_decode_error(body: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason) as caught:
        decode_request("traces", body, "application/json")

    message = str(caught.value)
    assert "\n" not in message and len(message) <= 200


def test_hex_id_of_the_wrong_length_is_rejected_as_an_item_not_the_request() -> None:
    body = json.dumps(
        {
            "resourceSpans": [
                {
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": "ABCD",
                                    "spanId": "eee19b7ec3c1b174",
                                    "events": [{"name": "exception"}],
                                },
                                {
                                    "traceId": "5b8efff798038103d269b633813fc60c",
                                    "spanId": "eee19b7ec3c1b174",
                                    "events": [{"name": "exception"}],
                                },
                            ]
                        }
                    ]
                }
            ]
        }
    ).encode()

    result = extract_failures("traces", decode_request("traces", body, "application/json"))

    assert len(result.events) == 1 and result.rejected == 1


def test_json_with_a_protobuf_content_type_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        decode_request("traces", TRACES_JSON.encode(), "application/x-protobuf")


def test_unsupported_content_type_wins_over_the_body() -> None:
    with pytest.raises(UnsupportedMediaType):
        decode_request("traces", TRACES_JSON.encode(), "text/json")


def test_lenient_scalars_follow_protobufs_json_mapping() -> None:
    body = _one_span(
        '"kind": "SPAN_KIND_FROM_THE_FUTURE", "startTimeUnixNano": 1.7e18,'
        ' "droppedEventsCount": "3", "status": {"code": "STATUS_CODE_ERROR"},'
        ' "attributes": ['
        '{"key": "nan", "value": {"doubleValue": "NaN"}},'
        '{"key": "inf", "value": {"doubleValue": "-Infinity"}},'
        '{"key": "num", "value": {"doubleValue": "2.5"}},'
        '{"key": "raw", "value": {"bytesValue": "-_8"}},'
        '{"key": "empty", "value": {"kvlistValue": {}}}]'
    )

    [[[span]]] = [
        [list(scope.spans) for scope in resource.scope_spans]
        for resource in decode_request("traces", body, "application/json").resource_spans
    ]

    assert span.kind == 0  # an unknown enum name is ignored, like an unknown field
    assert span.start_time_unix_nano == 1_700_000_000_000_000_000
    assert span.dropped_events_count == 3
    assert span.status.code == 2
    values = {kv.key: kv.value for kv in span.attributes}
    assert values["nan"].double_value != values["nan"].double_value
    assert values["inf"].double_value == float("-inf")
    assert values["num"].double_value == 2.5
    assert values["raw"].bytes_value == b"\xfb\xff"  # URL-safe base64 without padding
    assert values["empty"].WhichOneof("value") == "kvlist_value"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ('"startTimeUnixNano": "1.5"', r"spans\[0\]\.startTimeUnixNano: expected an integer"),
        ('"startTimeUnixNano": -1', "out of range"),
        ('"droppedEventsCount": 4294967296', "out of range"),
        ('"startTimeUnixNano": true', "expected an integer, not boolean"),
        ('"name": ["a"]', r"spans\[0\]\.name: expected a string, not array"),
        ('"events": {}', r"spans\[0\]\.events: expected an array, not object"),
        ('"events": [{}, 7]', r"spans\[0\]\.events\[1\]: expected an object, not number"),
        ('"status": {"code": 2.5}', r"status\.code: expected an enum number or name"),
        ('"attributes": [{"value": {"bytesValue": "***"}}]', "not a base64 string"),
        ('"attributes": [{"value": {"doubleValue": "fast"}}]', "expected a number"),
        ('"attributes": [{"value": {"boolValue": "true"}}]', "expected true or false"),
    ],
)
def test_values_of_the_wrong_type_name_their_field(fields: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_request("traces", _one_span(fields), "application/json")
