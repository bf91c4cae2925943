"""Comparing catalog scalars with OTLP attribute values.

Senders disagree on types: one SDK sends ``http.response.status_code`` as the int ``429``,
another as the string ``"429"``, a third as the double ``429.0``. Both sides are therefore
compared through one canonical text:

- ``bool`` -> ``"true"`` / ``"false"`` (so ``true`` never equals ``1``);
- ``int`` -> its decimal digits; a ``float`` with an integral value -> the same digits
  (``429.0`` -> ``"429"``); other floats -> ``repr``;
- ``str`` -> itself, unchanged (case matters).

A list-valued attribute matches when any of its elements does; maps and missing values never
match.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from collector_receiver.events import AttributeValue


def canonical_text(value: object) -> str | None:
    """The canonical text of a scalar, or None for values that are not scalars."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value
    return None


def attribute_texts(value: AttributeValue) -> Iterator[str]:
    """The canonical texts an attribute value offers for comparison (a list offers each
    scalar element; maps and None offer nothing)."""
    if isinstance(value, (list, tuple)):
        for item in value:
            text = canonical_text(item)
            if text is not None:
                yield text
        return
    text = canonical_text(value)
    if text is not None:
        yield text
