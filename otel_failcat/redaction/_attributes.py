"""The CONTRACT §4 rule for attribute keys that name a credential, and the walk that applies it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

_V = TypeVar("_V")

#: What replaces, whole, a value stored under a key that names a credential (CONTRACT §4).
REDACTED = "[REDACTED]"

#: The last key segments that name a credential, alone or as a ``_``-separated suffix.
_CREDENTIAL_KEY_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "private_key",
    "credential",
    "credentials",
    "secret_access_key",
)
_CREDENTIAL_KEY_SUFFIXES = tuple("_" + word for word in _CREDENTIAL_KEY_WORDS)


# Keys are few and recur in every failure (``http.request.method``, ``gen_ai.request.model``),
# while the test lowers, replaces and compares a dozen suffixes: the receiver asks it ~16 times
# per failure. Bounded, so keys an attacker invents only cycle through the cache.
@functools.lru_cache(maxsize=4096)
def credential_key(key: str) -> bool:
    """Whether an attribute key names a credential, so its value is replaced whole.

    The rule of CONTRACT §4: the key's last segment (after the last ``.``), lowercased and with
    ``-`` read as ``_``, is one of the credential words or ends with ``_`` and one of them.
    ``db.password``, ``auth_token``, ``client_secret``, ``http.request.header.x-api-key`` and
    ``aws.secret_access_key`` name credentials; ``gen_ai.usage.input_tokens`` and
    ``max_tokens`` do not.
    """
    segment = key.rpartition(".")[2].lower().replace("-", "_")
    return segment in _CREDENTIAL_KEY_WORDS or segment.endswith(_CREDENTIAL_KEY_SUFFIXES)


def redact_attribute(key: str, value: _V, redact_text: Callable[[str], str]) -> _V | str:
    """``value`` as it may be stored or exported under ``key``, secrets removed at any depth.

    A value under a key that names a credential (:func:`credential_key`) becomes
    :data:`REDACTED` whole, whatever its type; otherwise strings go through ``redact_text``
    (a :meth:`Redactor.message` or a memoised one), list items are treated as values under
    the same key, and the keys and values of nested maps likewise, each nested key judged on
    its own. ``None`` stays ``None``. The one walk both the agent and the receiver use.
    """
    if value is None:
        return value
    if credential_key(key):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, (list, tuple)):
        return [redact_attribute(key, item, redact_text) for item in value]  # type: ignore[return-value]
    if isinstance(value, dict):
        return {  # type: ignore[return-value]
            redact_text(inner): redact_attribute(inner, item, redact_text)
            for inner, item in value.items()
        }
    return value
