"""Turning :class:`MatchedFailure` objects into rows both databases accept.

A failure from the prepare stage is storable already; one a caller built itself may hold a
value PostgreSQL refuses (a NUL character, a non-finite float), which must not fail the whole
batch, so every text and the attributes are made storable here as
:mod:`collector_receiver.storable` says (NUL by U+FFFD, non-finite floats by their spelling).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from collector_receiver.events import NO_GENAI_CONTEXT, GenAIContext, MatchedFailure
from collector_receiver.storable import storable_json, storable_text
from collector_receiver.store.tables import GENAI_COLUMNS

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
    *GENAI_COLUMNS,
)

#: Columns written beside :data:`MATCH_COLUMNS`, which the reads do not return: the store's own.
STORE_ONLY_COLUMNS = ("related_span_ids",)
#: Every column a write sets, in the order of :func:`match_values`.
WRITE_COLUMNS = (*MATCH_COLUMNS, *STORE_ONLY_COLUMNS)

_NO_CONTEXT_VALUES: tuple[None, ...] = (None,) * len(GENAI_COLUMNS)


def genai_value(value: str | None) -> str | None:
    """A GenAI value as stored: storable text, and NULL for an absent or empty one.

    An empty ``gen_ai.tool.name`` names no tool, so it is stored as absent; that also keeps the
    empty string free to stand for NULL in the unique key of ``gen_ai_operations``
    (``tables.ABSENT_IN_KEY``), and the failures and the operations of one context group
    together in the rates whichever way a sender spelled "none".
    """
    if not value:
        return None
    return storable_text(value)


def genai_values(context: GenAIContext) -> tuple[str | None, ...]:
    """The five GenAI columns of ``context`` as stored, in ``GENAI_COLUMNS`` order."""
    if context == NO_GENAI_CONTEXT:  # most failures: no walk, no new tuple
        return _NO_CONTEXT_VALUES
    return tuple(genai_value(value) for value in context)


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (a naive value is taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


#: The strict encoder (no NaN or infinity), built once: ``json.dumps`` with any option builds a
#: new encoder per call, which cost as much as encoding a failure's few attributes.
_STRICT_JSON = json.JSONEncoder(allow_nan=False)


def attributes_json(attributes: Mapping[str, Any]) -> str:
    """``attributes`` made storable, as strict JSON text (the COPY path stages them as text).

    Attributes from the prepare stage are storable already, so they are encoded as they are
    and the text checked for an escaped NUL; only when the encoder refuses a value (NaN, bytes,
    another type) or the text holds ``\\u0000`` is the walk of :func:`storable_json` run first.
    A key that is not text (the type says it never is) is spelled by the encoder: ``1``,
    ``true``, ``null``.
    """
    plain = attributes if isinstance(attributes, dict) else dict(attributes)
    try:
        text = _STRICT_JSON.encode(plain)
    except (TypeError, ValueError):
        return _STRICT_JSON.encode(storable_json(plain))
    if "\\u0000" in text:
        return _STRICT_JSON.encode(storable_json(plain))
    return text


def _storable_attributes(attributes: Mapping[str, Any]) -> Any:
    return storable_json(dict(attributes))


def match_values(
    failure: MatchedFailure,
    received_at: datetime,
    *,
    attributes: Callable[[Mapping[str, Any]], Any] = _storable_attributes,
) -> tuple[Any, ...]:
    """The ``failure_matches`` row of ``failure`` as values in :data:`WRITE_COLUMNS` order.

    ``attributes`` makes the attributes storable: as a value by default (SQLAlchemy's JSON type
    encodes it), or as JSON text with :func:`attributes_json` (the COPY path).
    """
    return (
        failure.event_key,
        failure.trace_id,
        failure.span_id,
        storable_text(failure.service_name),
        storable_text(failure.code),
        storable_text(failure.category),
        storable_text(failure.severity),
        storable_text(failure.catalog_version),
        storable_text(failure.exception_type),
        storable_text(failure.exception_message),
        storable_text(failure.stacktrace),
        storable_text(failure.fingerprint),
        failure.source,
        utc(failure.occurred_at),
        received_at,
        attributes(failure.attributes),
        *genai_values(failure.gen_ai),
        related_span_ids(failure),
    )


def related_span_ids(failure: MatchedFailure) -> str | None:
    """The column ``related_span_ids``: for a status-only failure with a trace and a span id,
    its lineage, space-separated (``""`` when it has none, so the partial index still holds the
    row: a log record on the span itself ties to it); NULL for every other failure."""
    if failure.source != "span_status" or not failure.trace_id or not failure.span_id:
        return None
    return " ".join(failure.related_span_ids)


def match_row(failure: MatchedFailure, received_at: datetime) -> dict[str, Any]:
    """The ``failure_matches`` row of ``failure``, keyed by column name."""
    return dict(zip(WRITE_COLUMNS, match_values(failure, received_at), strict=True))


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
        fingerprint = storable_text(failure.fingerprint)
        row = by_fingerprint.get(fingerprint)
        if row is None:
            by_fingerprint[fingerprint] = {
                "fingerprint": fingerprint,
                "code": storable_text(failure.code),
                "service_name": storable_text(failure.service_name),
                "exception_type": storable_text(failure.exception_type),
                "message_template": storable_text(failure.message_template),
                "first_seen": at,
                "last_seen": at,
                "occurrences": 1,
            }
        else:
            row["first_seen"] = min(row["first_seen"], at)
            row["last_seen"] = max(row["last_seen"], at)
            row["occurrences"] += 1
    return [by_fingerprint[key] for key in sorted(by_fingerprint)]
