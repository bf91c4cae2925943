"""How much of a failure's attributes the receiver stores (CONTRACT §4 r2), and the walk that
cuts them to size and redacts them.

A stored failure keeps at most

=================================  ==========  ============================================
limit                              default     flag (lower only)
=================================  ==========  ============================================
attributes, nested map entries     128         ``--max-attributes``
included
characters of a key, at any depth  256         ``--max-attribute-key-length``
values of a list, at any depth     128         ``--max-attribute-list-length``
bytes of attributes JSON           64 KiB      ``--max-attributes-bytes``
levels of nesting below an         8           (fixed)
attribute (lists and maps alike)
=================================  ==========  ============================================

What does not fit is dropped, deterministically:

- Attributes are taken in the order given (the prepare stage puts the failure's own
  ``exception.*``, ``failcat.*`` and ``error.*`` attributes first, then the context it adds,
  then the rest in the event's order). Each attribute, and each entry of a map nested in one,
  takes one from the attribute budget; once it is spent, further attributes are dropped and a
  map being walked keeps only the entries it had room for.
- A list keeps its first values; a key keeps its first characters (cut after redaction, so a
  cut never leaves part of a secret behind); a value nested deeper than 8 levels is replaced by
  ``"[nested too deep]"``. Two keys that are the same once redacted and cut keep the first.
- If the JSON of what is left (measured as the store writes it: ``json.dumps`` with its
  default separators and ASCII escapes) is still over the byte budget, the largest attributes
  are dropped first (of equal sizes, the later one), until it fits with room for the count.
- String values are not cut here: they already are, by the redactor's message cap, with a
  visible ``…[truncated N chars]`` marker.

The row then carries ``failcat.dropped_attributes``: how many attributes were dropped whole or
stored cut (a shortened key or list, map entries left out, nesting replaced). A value sent
under that key is replaced by the receiver's count when it cut anything. Attributes that fit
are stored exactly as redacted, and the attribute budget is spent before any redaction, so the
redaction work per failure is bounded too, whatever a request holds.

Redaction is :func:`otel_failcat.redaction.redact_attribute`, the walk the agent uses: every
string redacted, keys too, and a value under a key that names a credential replaced whole by
``[REDACTED]``. Keys are cleared of NUL characters before the credential test, and a key that
only names a credential once redacted or cut (``x…x.token_count`` cut to ``x…x.token``) has
its value replaced as well.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from collector_receiver.events import AttributeValue
from collector_receiver.storable import finite_or_text, without_nul
from otel_failcat.redaction import REDACTED, credential_key, redact_attribute

#: Contract defaults (CONTRACT §4 r2); a deployment may lower them, never raise them.
DEFAULT_MAX_ATTRIBUTES = 128
DEFAULT_MAX_ATTRIBUTE_KEY_LENGTH = 256
DEFAULT_MAX_ATTRIBUTE_LIST_LENGTH = 128
DEFAULT_MAX_ATTRIBUTES_BYTES = 64 * 1024
#: The smallest byte budget accepted: room for a few attributes and the dropped count.
MIN_ATTRIBUTES_BYTES = 1024
#: Levels of lists and maps kept below an attribute's own value. The richest attributes in
#: use (GenAI messages: a list of maps of lists of maps) need four.
MAX_DEPTH = 8
#: What stands in for a value nested deeper than :data:`MAX_DEPTH`.
TOO_DEEP = "[nested too deep]"
#: The attribute that says how many attributes were dropped or cut.
DROPPED_ATTRIBUTES = "failcat.dropped_attributes"

# json.dumps of {"failcat.dropped_attributes": N} adds at most this much to the object.
_DROPPED_ROOM = len(json.dumps({DROPPED_ATTRIBUTES: 10**12})) + 2


@dataclass(frozen=True, slots=True)
class AttributeLimits:
    """The caps of the module docstring; each at least 1 and at most its default.

    Construction raises ``ValueError`` with a one-line reason for a value out of range.
    """

    max_attributes: int = DEFAULT_MAX_ATTRIBUTES
    max_key_length: int = DEFAULT_MAX_ATTRIBUTE_KEY_LENGTH
    max_list_length: int = DEFAULT_MAX_ATTRIBUTE_LIST_LENGTH
    max_bytes: int = DEFAULT_MAX_ATTRIBUTES_BYTES

    def __post_init__(self) -> None:
        for name, value, lowest, highest in (
            ("max_attributes", self.max_attributes, 1, DEFAULT_MAX_ATTRIBUTES),
            ("max_key_length", self.max_key_length, 1, DEFAULT_MAX_ATTRIBUTE_KEY_LENGTH),
            ("max_list_length", self.max_list_length, 1, DEFAULT_MAX_ATTRIBUTE_LIST_LENGTH),
            ("max_bytes", self.max_bytes, MIN_ATTRIBUTES_BYTES, DEFAULT_MAX_ATTRIBUTES_BYTES),
        ):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            if not lowest <= value <= highest:
                raise ValueError(f"{name} must be between {lowest} and {highest}, got {value}")


def store_attributes(
    attributes: Iterable[tuple[str, AttributeValue]],
    limits: AttributeLimits,
    redact_text: Callable[[str], str],
) -> dict[str, AttributeValue]:
    """``attributes`` cut to ``limits`` and redacted, as they may be stored (module docstring).

    ``redact_text`` redacts and caps one string (the prepare stage passes its memoised
    ``Redactor.message``); it must also remove NUL characters if the store refuses them.
    Non-finite floats become ``"nan"``, ``"inf"``, ``"-inf"`` (JSON has no such numbers).
    """
    walk = _Walk(limits)
    stored: dict[str, AttributeValue] = {}
    dropped = 0
    for raw_key, value in attributes:
        if walk.budget <= 0:
            dropped += 1
            continue
        walk.budget -= 1
        walk.cut = walk.has_maps = False
        key = without_nul(raw_key)
        shaped = walk.shape(value, 0)
        redacted = redact_attribute(key, shaped, redact_text)
        stored_key = redact_text(key)
        if len(stored_key) > limits.max_key_length:
            stored_key = stored_key[: limits.max_key_length]
            walk.cut = True
        if stored_key in stored:
            dropped += 1
            continue
        if stored_key != key and credential_key(stored_key):
            redacted = REDACTED
        elif walk.has_maps:
            redacted = walk.cut_keys(redacted, 0)
        stored[stored_key] = redacted
        if walk.cut:
            dropped += 1
    dropped += _fit_json(stored, limits.max_bytes, reserve=dropped > 0)
    if dropped:
        stored.pop(DROPPED_ATTRIBUTES, None)
        stored[DROPPED_ATTRIBUTES] = dropped
    return stored


class _Walk:
    """The state of one :func:`store_attributes` call: the budget left and what was cut."""

    __slots__ = ("budget", "cut", "has_maps", "limits", "values")

    def __init__(self, limits: AttributeLimits) -> None:
        self.limits = limits
        self.budget = limits.max_attributes
        # List values walked, at most as many as could ever fit in the JSON budget (each takes
        # a character and a ", "), so the walk and the redaction after it stay bounded even for
        # lists of lists a few levels deep.
        self.values = limits.max_bytes // 3
        #: Whether the attribute being walked lost anything.
        self.cut = False
        #: Whether any map was seen (only then are nested keys walked again to be cut).
        self.has_maps = False

    def shape(self, value: AttributeValue, depth: int) -> AttributeValue:
        """``value`` with lists, maps and nesting cut to the limits, before redaction."""
        if isinstance(value, str) or value is None or isinstance(value, int):
            return value  # bool is an int
        if isinstance(value, float):
            return finite_or_text(value)
        if depth >= MAX_DEPTH and isinstance(value, (list, tuple, dict)):
            self.cut = True
            return TOO_DEEP
        if isinstance(value, (list, tuple)):
            limit = min(self.limits.max_list_length, max(self.values, 0))
            if len(value) > limit:
                self.cut = True
                value = value[:limit]
            self.values -= len(value)
            return [self.shape(item, depth + 1) for item in value]
        if isinstance(value, dict):
            self.has_maps = True
            shaped: dict[str, AttributeValue] = {}
            for inner, item in value.items():
                if self.budget <= 0:
                    self.cut = True
                    break
                key = without_nul(str(inner))
                if key in shaped:
                    self.cut = True
                    continue
                self.budget -= 1
                shaped[key] = self.shape(item, depth + 1)
            return shaped
        return str(value)  # not an AttributeValue; stored as text rather than refused

    def cut_keys(self, value: AttributeValue, depth: int) -> AttributeValue:
        """``value`` (redacted) with the keys of nested maps cut to the key length limit."""
        if isinstance(value, list):
            return [self.cut_keys(item, depth + 1) for item in value]
        if not isinstance(value, dict):
            return value
        limit = self.limits.max_key_length
        cut: dict[str, AttributeValue] = {}
        for key, item in value.items():
            if len(key) > limit:
                self.cut = True
                key = key[:limit]
                if credential_key(key):
                    item = REDACTED
            if key in cut:
                self.cut = True
                continue
            cut[key] = self.cut_keys(item, depth + 1)
        return cut


def _fit_json(stored: dict[str, AttributeValue], max_bytes: int, *, reserve: bool) -> int:
    """Drop the largest attributes of ``stored`` until its JSON fits; how many went.

    With ``reserve`` (something was dropped already), or once something must be, the JSON must
    leave room for the dropped count.
    """
    if len(json.dumps(stored, allow_nan=False)) <= max_bytes - (_DROPPED_ROOM if reserve else 0):
        return 0  # the usual case: one encoding, nothing to weigh
    budget = max_bytes - _DROPPED_ROOM
    # Each entry costs its key, its value and ": " and ", " around them; the braces cost 2.
    sizes = {
        key: len(json.dumps(key)) + len(json.dumps(value, allow_nan=False)) + 4
        for key, value in stored.items()
    }
    total = 2 + sum(sizes.values()) - 2
    order = list(stored)
    position = {key: index for index, key in enumerate(order)}
    dropped = 0
    for key in sorted(order, key=lambda k: (-sizes[k], -position[k])):
        if total <= budget:
            break
        total -= sizes[key]
        del stored[key]
        dropped += 1
    return dropped


__all__ = [
    "DEFAULT_MAX_ATTRIBUTES",
    "DEFAULT_MAX_ATTRIBUTES_BYTES",
    "DEFAULT_MAX_ATTRIBUTE_KEY_LENGTH",
    "DEFAULT_MAX_ATTRIBUTE_LIST_LENGTH",
    "DROPPED_ATTRIBUTES",
    "MAX_DEPTH",
    "MIN_ATTRIBUTES_BYTES",
    "TOO_DEEP",
    "AttributeLimits",
    "store_attributes",
]
