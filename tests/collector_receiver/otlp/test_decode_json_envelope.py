"""The envelope levels of OTLP/JSON (request, Resource*, Scope*) are read from the text one
element at a time: any key order and whitespace, a BOM, empty and null arrays decode as before;
malformed JSON around them is located like the parser's own errors; and the whole JSON tree is
never held (Python allocations stay near the size of the body's text)."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from collector_receiver.otlp import DecodeError, decode_request
from tests.collector_receiver.otlp._helpers import (
    exception_event,
    otlp_json,
    resource,
    span,
    trace_request,
)

TRACE_ID = "5b8efff798038103d269b633813fc60c"


def _decode(body: bytes) -> ExportTraceServiceRequest:
    message = decode_request("traces", body, "application/json")
    assert isinstance(message, ExportTraceServiceRequest)
    return message


def _request() -> ExportTraceServiceRequest:
    spans = [span("a", events=[exception_event()]), span("b")]
    return trace_request(spans, res=resource("svc-envelope"))


def test_keys_in_any_order_and_whitespace_anywhere_decode_the_same() -> None:
    expected = _request()
    document = json.loads(otlp_json(expected))
    resource_spans = document["resourceSpans"][0]
    reordered = {"resourceSpans": [dict(reversed(list(resource_spans.items())))]}
    for body in (
        json.dumps(reordered).encode(),
        json.dumps(document, indent="\t").encode(),
        json.dumps(document, indent=2, separators=(" , ", " : ")).encode(),
        b"\xef\xbb\xbf \r\n" + json.dumps(document).encode() + b" \n",
    ):
        assert _decode(body) == expected


def test_empty_and_null_envelopes_are_empty() -> None:
    assert _decode(b"{}") == ExportTraceServiceRequest()
    assert _decode(b'{"resourceSpans":null}') == ExportTraceServiceRequest()
    assert _decode(b'{"resourceSpans":[]}') == ExportTraceServiceRequest()
    empty = _decode(b'{"resourceSpans":[{"scopeSpans":[{"spans":[]}, {}]}]}')
    assert len(empty.resource_spans[0].scope_spans) == 2


def test_unknown_keys_at_every_envelope_level_are_ignored() -> None:
    body = (
        '{"x":[1,{"y":2}],"resourceSpans":[{"z":{},"scopeSpans":[{"w":"v","spans":'
        f'[{{"traceId":"{TRACE_ID}","name":"s","q":[]}}]}}]}}]}}'
    ).encode()
    assert _decode(body).resource_spans[0].scope_spans[0].spans[0].name == "s"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "Expecting value at line 1 column 1"),
        (b"[]", "must be an object, not list"),
        (b'{"resourceSpans":[]} x', "Extra data at line 1 column 22"),
        (b'{"resourceSpans":[{}{}]}', "Expecting ',' delimiter at line 1 column 21"),
        (b'{"resourceSpans":[{"scopeSpans" []}]}', "Expecting ':' delimiter"),
        (b'{"resourceSpans":[{scopeSpans:[]}]}', "Expecting property name enclosed in double"),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{]}]}]}', "malformed JSON"),
        (b'{"resourceSpans":[', "Expecting value"),
        (b"\xff{}", "not valid UTF-8"),
    ],
)
def test_malformed_json_around_the_envelope_is_located(body: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        _decode(body)


def test_the_whole_json_tree_is_never_held() -> None:
    spans = [
        span(f"s{i}", attributes={f"attr.{k}": (k if k % 2 else f"v{k}") for k in range(30)})
        for i in range(2000)
    ]
    body = otlp_json(trace_request(spans, res=resource("svc-big")))
    assert len(body) > 2_000_000
    tracemalloc.start()
    try:
        message = _decode(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    decoded = message.resource_spans[0].scope_spans[0].spans
    assert [s.name for s in decoded] == [f"s{i}" for i in range(2000)]
    assert len(decoded[1999].attributes) == 30
    # The text (1x) and one span's objects; json.loads of the whole body peaks at about 10x.
    assert peak < 2 * len(body), peak / len(body)
