"""Configuration of the agent side, read from the environment when it is used.

Nothing here runs at import. Invalid values raise :class:`ValueError` with a one-line reason;
the instrumentor reports that and falls back to the safe default (redaction stays on), because
auto-instrumentation must not take the host down over a typo.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from otel_failcat.environment_variables import (
    FAILCAT_DISABLED_HOOKS,
    FAILCAT_FLUSH_TIMEOUT_MILLIS,
    OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN,
)

#: Where a failure is emitted: span event only, log record only, or both.
SignalMode = Literal["span", "logs", "dup"]

#: The hooks ``instrument()`` can install: the first four by the ``failcat.mechanism`` they
#: report; ``record_exception`` is the SDK's ``Span.record_exception`` (``track``/``explicit``);
#: ``set_status`` redacts the descriptions of the SDK's ERROR statuses.
HOOK_NAMES = ("excepthook", "threading", "asyncio", "logging", "record_exception", "set_status")

DEFAULT_FLUSH_TIMEOUT_MILLIS = 2000


def signal_mode(environ: Mapping[str, str] | None = None) -> SignalMode:
    """Parse ``OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`` (comma-separated, like OTel's opt-ins)."""
    env = os.environ if environ is None else environ
    raw = env.get(OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN, "")
    if not raw:
        return "span"
    tokens = {token.strip().lower() for token in raw.split(",")}
    if "logs/dup" in tokens:
        return "dup"
    if "logs" in tokens:
        return "logs"
    return "span"


def flush_timeout_millis(environ: Mapping[str, str] | None = None) -> int:
    """Parse ``FAILCAT_FLUSH_TIMEOUT_MILLIS``: a non-negative integer, default 2000."""
    env = os.environ if environ is None else environ
    raw = env.get(FAILCAT_FLUSH_TIMEOUT_MILLIS, "").strip()
    if not raw:
        return DEFAULT_FLUSH_TIMEOUT_MILLIS
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(
            f"{FAILCAT_FLUSH_TIMEOUT_MILLIS}={raw!r} is not an integer number of milliseconds"
        ) from None
    if value < 0:
        raise ValueError(f"{FAILCAT_FLUSH_TIMEOUT_MILLIS}={raw!r} must not be negative")
    return value


def disabled_hooks(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """Parse ``FAILCAT_DISABLED_HOOKS``: names from :data:`HOOK_NAMES`, comma-separated."""
    env = os.environ if environ is None else environ
    raw = env.get(FAILCAT_DISABLED_HOOKS, "")
    names = frozenset(token.strip().lower() for token in raw.split(",") if token.strip())
    unknown = sorted(names - set(HOOK_NAMES))
    if unknown:
        raise ValueError(
            f"{FAILCAT_DISABLED_HOOKS} names unknown hooks {', '.join(unknown)}; "
            f"known: {', '.join(HOOK_NAMES)}"
        )
    return names
