"""OTLP AnyValues become plain Python values in a failure's attributes."""

from __future__ import annotations

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from collector_receiver.otlp import decode_request, extract_failures
from collector_receiver.otlp._attributes import MAX_DEPTH, TOO_DEEP
from tests.collector_receiver.otlp._helpers import exception_event, span, trace_request


def test_every_value_kind_is_flattened() -> None:
    attributes = {
        "s": "text",
        "b": True,
        "i": -(2**63),
        "d": 0.5,
        "raw": b"\x00\xff",
        "arr": ["a", 1, False],
        "map": {"inner": {"deep": [1.5]}, "n": 3},
    }
    request = trace_request([span(events=[exception_event()], attributes=attributes)])
    request.resource_spans[0].scope_spans[0].spans[0].attributes.append(
        KeyValue(key="unset", value=AnyValue())
    )
    decoded = decode_request("traces", request.SerializeToString(), "application/x-protobuf")

    [failure] = extract_failures("traces", decoded).events

    flat = failure.attributes
    assert flat["s"] == "text"
    assert flat["b"] is True
    assert flat["i"] == -(2**63)
    assert flat["d"] == 0.5
    assert flat["raw"] == "00ff"
    assert flat["arr"] == ["a", 1, False]
    assert flat["map"] == {"inner": {"deep": [1.5]}, "n": 3}
    assert flat["unset"] is None


def test_values_nested_too_deep_are_cut() -> None:
    deep: object = "leaf"
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    request = trace_request([span(events=[exception_event(nested=deep)])])
    decoded = decode_request("traces", request.SerializeToString(), "application/x-protobuf")

    [failure] = extract_failures("traces", decoded).events

    value = failure.attributes["nested"]
    for _ in range(MAX_DEPTH):
        assert isinstance(value, list)
        [value] = value
    assert value == TOO_DEEP
