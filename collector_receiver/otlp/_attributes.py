"""OTLP ``AnyValue``/``KeyValue`` to plain Python values (:data:`AttributeValue`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector_receiver.events import AttributeValue

#: Arrays and maps nested deeper than this are cut: no real attribute is, and the stages after
#: this one (redaction, JSON for the database) walk values recursively.
MAX_DEPTH = 16
#: What stands in for a value nested deeper than :data:`MAX_DEPTH`.
TOO_DEEP = "[nested too deep]"


def flatten_attributes(key_values: Iterable[Any], depth: int = 0) -> dict[str, AttributeValue]:
    """Repeated ``KeyValue`` as a dict; a key given twice keeps its last value."""
    flat: dict[str, AttributeValue] = {}
    for kv in key_values:
        value = kv.value
        kind = value.WhichOneof("value")
        # Most attribute values are strings: read them without the general dispatch.
        flat[kv.key] = (
            value.string_value if kind == "string_value" else _flatten(value, kind, depth)
        )
    return flat


def _flatten(value: Any, kind: str | None, depth: int) -> AttributeValue:
    if kind is None:
        return None
    if kind == "array_value":
        if depth >= MAX_DEPTH:
            return TOO_DEEP
        return [
            _flatten(item, item.WhichOneof("value"), depth + 1) for item in value.array_value.values
        ]
    if kind == "kvlist_value":
        if depth >= MAX_DEPTH:
            return TOO_DEEP
        return flatten_attributes(value.kvlist_value.values, depth + 1)
    if kind == "bytes_value":
        return bytes(value.bytes_value).hex()
    result: AttributeValue = getattr(value, kind)
    return result


def find_attribute(key_values: Iterable[Any], key: str) -> Any | None:
    """The ``AnyValue`` of ``key`` without flattening the rest, or None."""
    for kv in key_values:
        if kv.key == key:
            return kv.value
    return None
