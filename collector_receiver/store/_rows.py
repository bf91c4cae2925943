"""Turning :class:`MatchedFailure` objects into rows both databases accept.

PostgreSQL refuses NUL characters in text and in JSON, and JSON has no NaN or infinity; one such
value from one agent must not fail the whole batch it arrived in, so they are replaced here
(NUL by U+FFFD, non-finite floats by their string spelling).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from collector_receiver.events import MatchedFailure

#: Columns of ``failure_matches`` written by the store, in a fixed order (``id`` is generated).
MATCH_COLUMNS = (
    "event_key",
    "trace_id",
    "span_id",
    "service_name",
    "code",
    "category",
    "severity",
    "catalog_version",
    "exception_type",
    "exception_message",
    "stacktrace",
    "fingerprint",
    "source",
    "occurred_at",
    "received_at",
    "attributes",
)


def clean_text(value: str) -> str:
    """``value`` without NUL characters (a non-string is left for the database to judge)."""
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def clean_json(value: Any) -> Any:
    """A copy of ``value`` that PostgreSQL's JSONB and strict JSON encoders accept."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return clean_text(str(value))


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (a naive value is taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def match_row(failure: MatchedFailure, received_at: datetime) -> dict[str, Any]:
    """The ``failure_matches`` row of ``failure``."""
    return {
        "event_key": failure.event_key,
        "trace_id": failure.trace_id,
        "span_id": failure.span_id,
        "service_name": clean_text(failure.service_name),
        "code": clean_text(failure.code),
        "category": clean_text(failure.category),
        "severity": clean_text(failure.severity),
        "catalog_version": clean_text(failure.catalog_version),
        "exception_type": clean_text(failure.exception_type),
        "exception_message": clean_text(failure.exception_message),
        "stacktrace": clean_text(failure.stacktrace),
        "fingerprint": clean_text(failure.fingerprint),
        "source": failure.source,
        "occurred_at": utc(failure.occurred_at),
        "received_at": received_at,
        "attributes": clean_json(dict(failure.attributes)),
    }


def unique_by_event_key(
    failures: Sequence[MatchedFailure],
) -> list[MatchedFailure]:
    """The first failure of each event key, in input order (later repeats are duplicates)."""
    seen: set[str] = set()
    unique: list[MatchedFailure] = []
    for failure in failures:
        if failure.event_key not in seen:
            seen.add(failure.event_key)
            unique.append(failure)
    return unique


def pattern_rows(inserted: Iterable[MatchedFailure]) -> list[dict[str, Any]]:
    """One ``failure_patterns`` delta per fingerprint, sorted by fingerprint.

    The sort order is the lock order: two writers that touch the same patterns lock them in the
    same sequence and cannot deadlock.
    """
    by_fingerprint: dict[str, dict[str, Any]] = {}
    for failure in inserted:
        at = utc(failure.occurred_at)
        fingerprint = clean_text(failure.fingerprint)
        row = by_fingerprint.get(fingerprint)
        if row is None:
            by_fingerprint[fingerprint] = {
                "fingerprint": fingerprint,
                "code": clean_text(failure.code),
                "service_name": clean_text(failure.service_name),
                "exception_type": clean_text(failure.exception_type),
                "message_template": clean_text(failure.message_template),
                "first_seen": at,
                "last_seen": at,
                "occurrences": 1,
            }
        else:
            row["first_seen"] = min(row["first_seen"], at)
            row["last_seen"] = max(row["last_seen"], at)
            row["occurrences"] += 1
    return [by_fingerprint[key] for key in sorted(by_fingerprint)]
