"""Where ``otel_failcat``'s own failures go: a private logger and a counter, never the host.

Telemetry must not break the agent it observes, so every hook and the recorder catch their own
errors and hand them to :func:`report_internal_error`. Each distinct place (``where``) is logged
once with its traceback on the ``otel_failcat._internal`` logger (which the logging hook ignores,
so this cannot feed back); every occurrence is counted. Tests read :func:`internal_error_count`.
"""

from __future__ import annotations

import logging
import threading

INTERNAL_LOGGER_NAME = "otel_failcat._internal"

_logger = logging.getLogger(INTERNAL_LOGGER_NAME)
_lock = threading.Lock()
_count = 0
_logged_places: set[str] = set()


def report_internal_error(where: str) -> None:
    """Count the exception being handled and log it the first time ``where`` fails.

    Call it from an ``except`` block. It never raises, even if logging itself is broken.
    """
    global _count
    try:
        with _lock:
            _count += 1
            first = where not in _logged_places
            _logged_places.add(where)
        if first:
            _logger.warning(
                "otel_failcat: internal error in %s (logged once; later ones are only counted)",
                where,
                exc_info=True,
            )
    except Exception:  # the last line of defence must not raise either
        pass


def internal_error_count() -> int:
    """How many internal errors were swallowed in this process so far."""
    return _count
