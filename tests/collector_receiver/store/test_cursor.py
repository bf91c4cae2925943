"""Cursors round-trip the keyset position they name, and nothing else decodes."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pytest

from collector_receiver.store._cursor import decode_cursor, encode_cursor

NOW = datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=timezone.utc)


def test_cursor_round_trip() -> None:
    assert decode_cursor(encode_cursor(NOW, 42)) == (NOW, 42)
    assert decode_cursor(encode_cursor(NOW, "abc"), str) == (NOW, "abc")


def test_a_cursor_is_unpadded_base64url_of_time_and_key() -> None:
    cursor = encode_cursor(NOW, 42)

    assert "=" not in cursor
    payload = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert json.loads(payload) == ["2026-11-28T10:00:00.123456Z", 42]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "W10",  # "[]"
        encode_cursor(NOW, "fingerprint"),  # a patterns cursor where an id is expected
        encode_cursor(NOW, 2**63),  # past BIGINT
        encode_cursor(NOW, -1),
    ],
)
def test_anything_else_is_a_value_error(cursor: str) -> None:
    with pytest.raises(ValueError, match="not a cursor returned by this list"):
        decode_cursor(cursor)
