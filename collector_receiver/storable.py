"""What the databases refuse in a value, and how a value is made storable instead.

PostgreSQL refuses the NUL character in text and in JSON, and strict JSON (JSONB, and
``json.dumps(..., allow_nan=False)``) has no NaN or infinity. One such value from one agent must
not fail the whole batch it arrived in: the batch would be refused, and a retrying sender would
send it again forever. Two stages apply this rule, each for its own reason:

- **The prepare stage** (:mod:`collector_receiver.prepare` and the attribute walk of
  :mod:`collector_receiver.attribute_limits`) removes NUL characters from every text *before*
  redaction (:func:`without_nul`: removed after it, a NUL could join the halves of a secret
  into one the rules had not seen), and spells a non-finite double ``"nan"``, ``"inf"`` or
  ``"-inf"`` (:func:`finite_or_text`). What it produces is storable as it is.
- **The store** (:mod:`collector_receiver.store`) takes any :class:`MatchedFailure` a caller
  hands to ``FailureStore.write_batch``, prepared or not, so it makes each row it writes
  storable again (:func:`storable_text`, :func:`storable_json`): a NUL there becomes U+FFFD,
  the replacement character (a visible mark that something was there; there is no redaction
  left to protect), non-finite floats the same spelling as above, bytes their hex, any other
  value its ``str``. A prepared failure passes through unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

_NUL = "\x00"


def without_nul(text: str) -> str:
    """``text`` with its NUL characters removed (the prepare stage, before redaction)."""
    return text.replace(_NUL, "") if _NUL in text else text


def finite_or_text(value: float) -> float | str:
    """``value`` if finite, else its spelling ``"nan"``, ``"inf"`` or ``"-inf"``."""
    return value if math.isfinite(value) else repr(value)


def storable_text(value: str) -> str:
    """``value`` with NUL characters replaced by U+FFFD (a non-string is left to the database)."""
    if isinstance(value, str) and _NUL in value:
        return value.replace(_NUL, "\ufffd")
    return value


def storable_json(value: Any) -> Any:
    """A copy of ``value`` that PostgreSQL's JSONB and strict JSON encoders accept."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return finite_or_text(value)
    if isinstance(value, Mapping):
        return {storable_text(str(k)): storable_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable_json(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return storable_text(str(value))


__all__ = ["finite_or_text", "storable_json", "storable_text", "without_nul"]
