"""A hostile request ends in a bounded row (CONTRACT §4 r2).

One request once stored a 55 MB row, and the query API answered 53 MB for that one failure. Here
a span event with 100 000 attributes, keys of 1 MB, a list of a million values and maps nested 30
levels deep goes through the real decoder, extraction, prepare stage and store (SQLite and
PostgreSQL), and what the store holds and the API would answer stays within the caps.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

from collector_receiver.attribute_limits import DROPPED_ATTRIBUTES, AttributeLimits
from collector_receiver.catalog import load_catalog
from collector_receiver.events import FailureEvent
from collector_receiver.otlp import decode_request, extract_failures
from collector_receiver.prepare import FailurePreparer
from collector_receiver.presentation import failure_json
from collector_receiver.store import FailureStore
from collector_receiver.store.queries import FailureQueries
from otel_failcat.redaction import Redactor
from tests.collector_receiver.otlp._helpers import exception_event, span, trace_request

ATTRIBUTES_BYTES = 64 * 1024
MEGABYTE = 1024 * 1024
#: Maps nested in maps: each level is three protobuf messages deep, and the decoder refuses
#: messages nested more than 100 deep, so this is about the deepest a request can carry.
_NESTING = 30


def _hostile_request() -> bytes:
    event = exception_event("app.Hostile", "x" * MEGABYTE, "y" * MEGABYTE)
    attributes = event.attributes
    # The hostile values first, so that they are inside the attribute budget and get cut.
    for index in range(3):  # keys of a megabyte
        attributes.append(
            KeyValue(key=f"{index}" + "k" * MEGABYTE, value=AnyValue(string_value="long key"))
        )
    attributes.append(
        KeyValue(
            key="huge.list",
            value=AnyValue(
                array_value=ArrayValue(values=[AnyValue(int_value=i) for i in range(1_000_000)])
            ),
        )
    )
    deep = AnyValue(string_value="bottom")
    for _ in range(_NESTING):
        deep = AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key="d", value=deep)]))
    attributes.append(KeyValue(key="deep.map", value=deep))
    # Values of 100 kB (cut to the redactor's 4 Ki): together far over the 64 KiB budget.
    attributes.extend(
        KeyValue(key=f"big.{index}", value=AnyValue(string_value="b" * 100_000))
        for index in range(50)
    )
    attributes.extend(
        KeyValue(key=f"attr.{index}", value=AnyValue(string_value="v" * 16))
        for index in range(100_000)
    )
    return trace_request([span("hostile", events=[event])]).SerializeToString()


@pytest.fixture(scope="module")
def hostile_events() -> list[FailureEvent]:
    """The request through the real decoder and extraction (once: it takes a few seconds)."""
    request = _hostile_request()
    assert len(request) > 8 * MEGABYTE
    decoded = decode_request("traces", request, "application/x-protobuf")
    return extract_failures("traces", decoded).events


def test_a_hostile_request_ends_in_a_bounded_row(
    hostile_events: list[FailureEvent], store: FailureStore, db_url: str
) -> None:
    preparer = FailurePreparer(load_catalog(), Redactor())

    [(failure, _)] = preparer.prepare(hostile_events)
    store.write_batch([failure])

    with store.engine.connect() as connection:
        [(attributes_text,)] = connection.execute(
            sa.text("SELECT CAST(attributes AS TEXT) FROM failure_matches")
        )
    stored = json.loads(attributes_text)
    assert ATTRIBUTES_BYTES // 2 < len(json.dumps(stored)) <= ATTRIBUTES_BYTES
    assert len(stored) <= 128 + 1
    assert all(len(key) <= 256 for key in stored)
    assert stored["0" + "k" * 255] == "long key"
    assert stored["huge.list"] == list(range(128))
    assert _deepest(stored["deep.map"]) == 8
    assert stored[DROPPED_ATTRIBUTES] >= 100_000 - 128
    assert stored["exception.type"] == "app.Hostile"  # the failure's own attributes come first

    queries = FailureQueries.from_url(db_url)
    try:
        [answer] = queries.list_failures().items
        one = queries.get_failure(answer.id)
    finally:
        queries.close()
    assert one is not None
    body = json.dumps(failure_json(one, None))
    # Attributes, message (4 Ki), stacktrace (16 Ki), names and the rest of the row.
    assert len(body) < ATTRIBUTES_BYTES + 4096 + 16384 + 4096, len(body)


def _deepest(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_deepest(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_deepest(item) for item in value), default=0)
    return 0


def test_lowered_caps_bound_it_further(hostile_events: list[FailureEvent]) -> None:
    limits = AttributeLimits(max_attributes=8, max_key_length=32, max_list_length=4, max_bytes=2048)

    [(failure, _)] = FailurePreparer(load_catalog(), Redactor(), limits).prepare(hostile_events)

    attributes = dict(failure.attributes)
    assert len(json.dumps(attributes)) <= 2048
    assert len(attributes) <= 8 + 1
    assert all(len(key) <= 32 for key in attributes)
    for value in attributes.values():
        assert _deepest(value) <= 8
        if isinstance(value, list):
            assert len(value) <= 4
