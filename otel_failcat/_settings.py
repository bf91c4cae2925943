"""Configuration of the agent side, read from the environment in one go.

:meth:`AgentSettings.from_env` parses every variable of :mod:`otel_failcat.environment_variables`
and builds the :class:`~otel_failcat.redaction.Redactor`; ``FailcatInstrumentor.instrument()``
calls it once and hands the result to the recorder and the hooks, so recording a failure never
consults the environment. Nothing here runs at import. The parsers raise :class:`ValueError`
with a one-line reason; :meth:`~AgentSettings.from_env` logs that on the ``otel_failcat`` logger
and falls back to the safe default (redaction stays on), because auto-instrumentation must not
take the host down over a typo.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from otel_failcat.environment_variables import (
    FAILCAT_DISABLED_HOOKS,
    FAILCAT_FLUSH_TIMEOUT_MILLIS,
    FAILCAT_MAX_MESSAGE_LENGTH,
    FAILCAT_MAX_STACKTRACE_LENGTH,
    FAILCAT_REDACTION_ENABLED,
    FAILCAT_REDACTION_EXTRA_PATTERNS,
    OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN,
)
from otel_failcat.redaction import RedactionSettings, Redactor

_logger = logging.getLogger("otel_failcat")

#: Where a failure is emitted: span event only, log record only, or both.
SignalMode = Literal["span", "logs", "dup"]

#: The hooks ``instrument()`` can install: the first four by the ``failcat.mechanism`` they
#: report; ``record_exception`` is the SDK's ``Span.record_exception`` (``track``/``explicit``);
#: ``set_status`` redacts the descriptions of the SDK's ERROR statuses.
HOOK_NAMES = ("excepthook", "threading", "asyncio", "logging", "record_exception", "set_status")

DEFAULT_FLUSH_TIMEOUT_MILLIS = 2000

#: The variables that shape a recorded failure (the others only matter to ``instrument()``).
RECORDING_VARIABLES = (
    FAILCAT_REDACTION_ENABLED,
    FAILCAT_REDACTION_EXTRA_PATTERNS,
    FAILCAT_MAX_MESSAGE_LENGTH,
    FAILCAT_MAX_STACKTRACE_LENGTH,
    OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN,
)


@dataclass(frozen=True)
class AgentSettings:
    """What the recorder and the hooks need from the environment, parsed and built once.

    The defaults are those of an empty environment. Immutable and safe to share between threads.
    """

    #: Redaction and the length caps of message and stacktrace (``FAILCAT_REDACTION_*``,
    #: ``FAILCAT_MAX_*``); building it compiles the rules, which is why it is built once.
    redactor: Redactor = field(default_factory=Redactor)
    signal_mode: SignalMode = "span"
    flush_timeout_millis: int = DEFAULT_FLUSH_TIMEOUT_MILLIS
    disabled_hooks: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AgentSettings:
        """Parse the agent's variables (``os.environ`` by default). Never raises.

        A bad value is logged on the ``otel_failcat`` logger with its one-line reason, and the
        default of that setting applies (for redaction: all of its defaults, so a typo never
        turns redaction off).
        """
        env = os.environ if environ is None else environ
        try:
            redaction = RedactionSettings.from_env(env)
        except ValueError as exc:
            _logger.error("otel_failcat: %s; redacting with the defaults", exc)
            redaction = RedactionSettings()
        try:
            timeout = flush_timeout_millis(env)
        except ValueError as exc:
            _logger.error("otel_failcat: %s; using %d", exc, DEFAULT_FLUSH_TIMEOUT_MILLIS)
            timeout = DEFAULT_FLUSH_TIMEOUT_MILLIS
        try:
            disabled = disabled_hooks(env)
        except ValueError as exc:
            _logger.error("otel_failcat: %s; installing every hook", exc)
            disabled = frozenset()
        return cls(
            redactor=Redactor(redaction),
            signal_mode=signal_mode(env),
            flush_timeout_millis=timeout,
            disabled_hooks=disabled,
        )


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
