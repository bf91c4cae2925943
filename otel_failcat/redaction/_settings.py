"""What to redact and how long messages and stacktraces may be, read from ``FAILCAT_*``."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from otel_failcat.environment_variables import (
    FAILCAT_MAX_MESSAGE_LENGTH,
    FAILCAT_MAX_STACKTRACE_LENGTH,
    FAILCAT_REDACTION_ENABLED,
    FAILCAT_REDACTION_EXTRA_PATTERNS,
)

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_MAX_LENGTH = 100_000_000


@dataclass(frozen=True)
class RedactionSettings:
    """What to redact and how long messages and stacktraces may be.

    Validated on construction: ``ValueError`` with a one-line reason for a non-positive length or
    an extra pattern that does not compile or matches the empty string.
    """

    enabled: bool = True
    max_message_length: int = 4096
    max_stacktrace_length: int = 16384
    extra_patterns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, value in (
            ("max_message_length", self.max_message_length),
            ("max_stacktrace_length", self.max_stacktrace_length),
        ):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            if not 1 <= value <= _MAX_LENGTH:
                raise ValueError(f"{name} must be between 1 and {_MAX_LENGTH}, got {value}")
        for index, pattern in enumerate(self.extra_patterns, start=1):
            compile_extra(pattern, index)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RedactionSettings:
        """Build settings from ``FAILCAT_*`` variables (``os.environ`` by default).

        Unset or empty variables take the defaults. Invalid values raise ``ValueError`` naming
        the variable; callers decide whether to fall back to the defaults.
        """
        env = os.environ if environ is None else environ
        enabled = _parse_bool(FAILCAT_REDACTION_ENABLED, env.get(FAILCAT_REDACTION_ENABLED), True)
        max_message = _parse_length(
            FAILCAT_MAX_MESSAGE_LENGTH, env.get(FAILCAT_MAX_MESSAGE_LENGTH), 4096
        )
        max_stack = _parse_length(
            FAILCAT_MAX_STACKTRACE_LENGTH, env.get(FAILCAT_MAX_STACKTRACE_LENGTH), 16384
        )
        raw_patterns = env.get(FAILCAT_REDACTION_EXTRA_PATTERNS) or ""
        patterns = tuple(line.strip() for line in raw_patterns.splitlines() if line.strip())
        for index, pattern in enumerate(patterns, start=1):
            try:
                compile_extra(pattern, index)
            except ValueError as error:
                raise ValueError(f"{FAILCAT_REDACTION_EXTRA_PATTERNS}: {error}") from None
        return cls(
            enabled=enabled,
            max_message_length=max_message,
            max_stacktrace_length=max_stack,
            extra_patterns=patterns,
        )


def _parse_bool(name: str, raw: str | None, default: bool) -> bool:
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}: expected true or false, got {raw!r}")


def _parse_length(name: str, raw: str | None, default: int) -> int:
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError(f"{name}: expected a positive integer, got {raw!r}") from None
    if not 1 <= value <= _MAX_LENGTH:
        raise ValueError(f"{name}: expected an integer between 1 and {_MAX_LENGTH}, got {value}")
    return value


def compile_extra(pattern: str, index: int) -> re.Pattern[str]:
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        reason = str(error).splitlines()[0]
        raise ValueError(f"extra pattern #{index} {pattern!r} is invalid: {reason}") from None
    if compiled.fullmatch("") is not None:
        raise ValueError(f"extra pattern #{index} {pattern!r} matches the empty string")
    return compiled
