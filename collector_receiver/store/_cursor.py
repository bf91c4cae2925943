"""The opaque cursors of the store's keyset pages.

A cursor names the last row of a page by its position in the list's order: the JSON
``[time, key]`` (the time in RFC 3339 UTC, the key an id or a fingerprint), base64url-encoded
without padding. Callers only hand back what a page gave them; anything else, including a
cursor of another list (a fingerprint where an id is expected), is refused with
``ValueError("not a cursor returned by this list")``, before it reaches the database.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from typing import Any

from collector_receiver.timeparse import format_time

#: Largest id a cursor may carry: one beyond BIGINT would reach the database as an error.
_MAX_ID = 2**63


def encode_cursor(moment: datetime, key: int | str) -> str:
    """Opaque cursor for the keyset position just after ``(moment, key)``."""
    payload = json.dumps([format_time(moment), key], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, key_type: type[int] | type[str] = int) -> tuple[datetime, Any]:
    """Inverse of :func:`encode_cursor`; ValueError("not a cursor of this list") otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
        moment_text, key = raw
        moment = datetime.fromisoformat(str(moment_text).replace("Z", "+00:00"))
        if moment.tzinfo is None or type(key) is not key_type:
            raise ValueError("wrong types")
        if isinstance(key, int) and not 0 <= key < _MAX_ID:
            raise ValueError("id out of range")
        return moment.astimezone(timezone.utc), key
    except (ValueError, TypeError, OverflowError, UnicodeError, binascii.Error):
        raise ValueError("not a cursor returned by this list") from None


__all__ = ["decode_cursor", "encode_cursor"]
