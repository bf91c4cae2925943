"""Environment variables read by ``otel_failcat`` (and, for redaction, by the receiver too).

Each is read when it is used (at ``instrument()`` time or when a redactor is built), never at
import time, so a test or a host can change them before instrumenting.
"""

FAILCAT_REDACTION_ENABLED = "FAILCAT_REDACTION_ENABLED"
"""``true`` (default) or ``false``: scrub secrets from messages and stacktraces."""

FAILCAT_REDACTION_EXTRA_PATTERNS = "FAILCAT_REDACTION_EXTRA_PATTERNS"
"""Extra regular expressions whose matches are redacted too, separated by newlines."""

FAILCAT_MAX_MESSAGE_LENGTH = "FAILCAT_MAX_MESSAGE_LENGTH"
"""Cap on ``exception.message`` in characters (default 4096)."""

FAILCAT_MAX_STACKTRACE_LENGTH = "FAILCAT_MAX_STACKTRACE_LENGTH"
"""Cap on ``exception.stacktrace`` in characters (default 16384)."""
