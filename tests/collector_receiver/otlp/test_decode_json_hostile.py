"""Hostile OTLP/JSON is a DecodeError with a reason (HTTP 400), never another exception: over-long
numbers (literal or in a string), numbers out of range, the non-JSON literals NaN and Infinity,
and nesting deeper than the parser goes. Elements of the envelope levels are located in the
reason like every other field."""

from __future__ import annotations

import pytest

from collector_receiver.otlp import DecodeError, decode_request

TRACE_ID = "5b8efff798038103d269b633813fc60c"
SPAN_ID = "eee19b7ec3c1b174"


def _span_json(fields: str) -> bytes:
    span = f'{{"traceId":"{TRACE_ID}","spanId":"{SPAN_ID}",{fields}}}'
    return f'{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{span}]}}]}}]}}'.encode()


def _decode(body: bytes) -> None:
    decode_request("traces", body, "application/json")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ('"startTimeUnixNano":' + "1" * 5000, "5000 characters is too long"),
        ('"droppedAttributesCount":' + "9" * 65, "65 characters is too long"),
        ('"startTimeUnixNano":"' + "1" * 5000 + '"', "expected an integer"),
        ('"startTimeUnixNano":1e999999', "out of range"),
        ('"startTimeUnixNano":-1e999999', "out of range"),
        ('"startTimeUnixNano":0.' + "0" * 5000 + "1", "too long"),
        ('"startTimeUnixNano":NaN', "NaN is not JSON"),
        ('"startTimeUnixNano":Infinity', "Infinity is not JSON"),
        ('"startTimeUnixNano":-Infinity', "-Infinity is not JSON"),
    ],
)
def test_a_hostile_number_is_a_decode_error_with_a_reason(fields: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        _decode(_span_json(fields))


def test_an_unknown_field_with_a_hostile_number_is_refused_too() -> None:
    # The parser sees every number before the schema does: an ignored field is no way around.
    with pytest.raises(DecodeError, match="too long"):
        _decode(_span_json('"name":"x","futureField":' + "7" * 5000))


def test_a_double_out_of_range_in_a_string_is_refused_as_an_integer() -> None:
    with pytest.raises(DecodeError, match=r"spans\[0\]\.startTimeUnixNano: expected an integer"):
        _decode(_span_json('"startTimeUnixNano":"1e999999"'))


@pytest.mark.parametrize("depth", [2_000, 200_000])
def test_nesting_deeper_than_the_parser_goes_is_a_decode_error(depth: int) -> None:
    value = '{"arrayValue":{"values":[' * depth + "{}" + "]}}" * depth
    body = _span_json(f'"attributes":[{{"key":"deep","value":{value}}}]')
    with pytest.raises(DecodeError, match="nested too deeply"):
        _decode(body)


def test_deep_unknown_arrays_are_a_decode_error_too() -> None:
    with pytest.raises(DecodeError, match="nested too deeply"):
        _decode(b'{"unknown":' + b"[" * 100_000 + b"]" * 100_000 + b"}")


def test_an_element_of_an_envelope_level_is_located_in_the_reason() -> None:
    spans = f'[{{"traceId":"{TRACE_ID}"}},{{"spanId":"xyz"}}]'
    body = f'{{"resourceSpans":[{{}},{{"scopeSpans":[{{"spans":{spans}}}]}}]}}'.encode()
    where = r"resourceSpans\[1\]\.scopeSpans\[0\]\.spans\[1\]\.spanId"
    with pytest.raises(DecodeError, match=where):
        _decode(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"resourceSpans":{}}', r"resourceSpans: expected an array, not object"),
        (b'{"resourceSpans":[7]}', r"resourceSpans\[0\]: expected an object, not number"),
        (b'{"resourceSpans":[{"scopeSpans":"x"}]}', r"resourceSpans\[0\]\.scopeSpans: expected"),
    ],
)
def test_envelope_levels_of_the_wrong_shape_are_located(body: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        _decode(body)
