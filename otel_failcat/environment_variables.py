"""Environment variables read by ``otel_failcat`` (and, for redaction, by the receiver too).

``instrument()`` reads them all once (``otel_failcat._settings.AgentSettings``) and hands them
to the recorder and the hooks; a change afterwards applies from the next ``instrument()``.
:func:`~otel_failcat.record_failure` and :func:`~otel_failcat.track` without ``instrument()``
read the redaction variables and the signal opt-in when they record. Never at import time.
"""

FAILCAT_REDACTION_ENABLED = "FAILCAT_REDACTION_ENABLED"
"""``true`` (default) or ``false``: scrub secrets from messages and stacktraces."""

FAILCAT_REDACTION_EXTRA_PATTERNS = "FAILCAT_REDACTION_EXTRA_PATTERNS"
"""Extra regular expressions whose matches are redacted too, separated by newlines."""

FAILCAT_MAX_MESSAGE_LENGTH = "FAILCAT_MAX_MESSAGE_LENGTH"
"""Cap on ``exception.message`` in characters (default 4096)."""

FAILCAT_MAX_STACKTRACE_LENGTH = "FAILCAT_MAX_STACKTRACE_LENGTH"
"""Cap on ``exception.stacktrace`` in characters (default 16384)."""

FAILCAT_FLUSH_TIMEOUT_MILLIS = "FAILCAT_FLUSH_TIMEOUT_MILLIS"
"""Upper bound, in milliseconds, on flushing the tracer, meter and logger providers when an
unhandled exception is about to end the process (default 2000; 0 skips the flush)."""

FAILCAT_DISABLED_HOOKS = "FAILCAT_DISABLED_HOOKS"
"""Comma-separated hooks that ``instrument()`` leaves alone: any of ``excepthook``,
``threading``, ``asyncio``, ``logging``, ``record_exception`` (the SDK's
``Span.record_exception``), ``set_status`` (redaction of the SDK's ERROR status descriptions)
(default: none; all are installed)."""

OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN = "OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN"
"""OpenTelemetry's opt-in for exceptions as log records: ``logs`` emits an OTel log record
instead of the span event, ``logs/dup`` emits both; unset (or anything else) keeps span events."""
