"""The receiver's own log: one JSON object per line on stderr, one line per notable event.

Events (``event`` field): ``started`` (with the listening ports), ``catalog_reloaded``,
``catalog_refused``, ``database_unavailable``, ``database_recovered``, ``write_failed``,
``write_queue_full`` and ``overloaded`` (at most one line a minute each, with the number of
requests refused since the last line), ``retention_pruned``, ``retention_failed`` and
``retention_interrupted`` (``--retention``, one line per run), ``stopping``, ``stopped`` (also
when a ``SIGTERM`` arrives during start-up). Nothing is logged per request: counters cover that.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import datetime, timezone
from typing import TextIO

LOGGER_NAME = "collector_receiver.server"

_log = logging.getLogger(LOGGER_NAME)


class JsonLineFormatter(logging.Formatter):
    """``{"time": …, "level": …, "event": …, <fields>}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", None) or record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line["error"] = f"{type(error).__name__}: {error}"
        return json.dumps(line, default=str, separators=(",", ":"))


def configure(stream: TextIO | None = None) -> logging.Handler:
    """Send the receiver's log to ``stream`` (stderr) as JSON lines; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    _log.addHandler(handler)
    _log.setLevel(logging.INFO)
    _log.propagate = False
    return handler


def log_event(event: str, level: int = logging.INFO, **fields: object) -> None:
    """Log one notable event with its fields."""
    _log.log(level, event, extra={"event": event, "fields": fields})


class ThrottledEvent:
    """An event that may happen per request (a refusal under load), logged at most once per
    ``interval`` seconds with the number of occurrences it stands for — one line for a burst,
    not one per request. Not thread-safe: call it from one thread (the event loop)."""

    def __init__(self, event: str, level: int = logging.WARNING, interval: float = 60.0) -> None:
        self._event = event
        self._level = level
        self._interval = interval
        self._last_logged: float | None = None
        self._unlogged = 0

    def occurred(self, **fields: object) -> None:
        self._unlogged += 1
        now = time.monotonic()
        if self._last_logged is not None and now - self._last_logged < self._interval:
            return
        log_event(self._event, self._level, occurrences=self._unlogged, **fields)
        self._last_logged = now
        self._unlogged = 0
