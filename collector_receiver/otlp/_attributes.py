"""OTLP ``AnyValue``/``KeyValue`` to plain Python values (:data:`AttributeValue`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector_receiver.events import AttributeValue


def flatten_value(value: Any) -> AttributeValue:
    """One ``AnyValue`` as a Python value: str, bool, int, float, list, dict, or None when unset.

    Bytes become lowercase hex (JSON has no bytes). ``string_value_strindex`` (a reference into
    a profiles dictionary the receiver never gets) is kept as its integer.
    """
    return _flatten(value, value.WhichOneof("value"))


def flatten_attributes(key_values: Iterable[Any]) -> dict[str, AttributeValue]:
    """Repeated ``KeyValue`` as a dict; a key given twice keeps its last value."""
    flat: dict[str, AttributeValue] = {}
    for kv in key_values:
        value = kv.value
        kind = value.WhichOneof("value")
        # Most attribute values are strings: read them without the general dispatch.
        flat[kv.key] = value.string_value if kind == "string_value" else _flatten(value, kind)
    return flat


def _flatten(value: Any, kind: str | None) -> AttributeValue:
    if kind is None:
        return None
    if kind == "array_value":
        return [flatten_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return flatten_attributes(value.kvlist_value.values)
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
