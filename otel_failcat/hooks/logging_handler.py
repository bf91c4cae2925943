"""``logging``: records at ERROR and above that carry an exception (``logger.exception(...)``).

A handler on the root logger, at level ERROR, so it sees what propagates to the root (a logger
with ``propagate = False`` is not seen). Recorded with mechanism ``logging``, handled True (the
code caught the exception and logged it), on the current span when there is one. Records of
``otel_failcat`` itself and of ``opentelemetry`` (SDK, exporters, instrumentations) are ignored,
so an exporter that logs its own failure cannot feed back into the recorder.
"""

from __future__ import annotations

import logging

from otel_failcat._internal_errors import report_internal_error
from otel_failcat._recorder import FailureRecorder

_IGNORED_LOGGER_PREFIXES = ("otel_failcat", "opentelemetry")


def _ignored(logger_name: str) -> bool:
    return any(
        logger_name == prefix or logger_name.startswith(prefix + ".")
        for prefix in _IGNORED_LOGGER_PREFIXES
    )


class FailureLogHandler(logging.Handler):
    """Hands the exception of an ERROR+ record to the recorder; formats and prints nothing."""

    def __init__(self, recorder: FailureRecorder) -> None:
        super().__init__(level=logging.ERROR)
        self._recorder = recorder
        self.active = True

    def emit(self, record: logging.LogRecord) -> None:
        if not self.active:
            return
        try:
            exc_info = record.exc_info
            if not exc_info or _ignored(record.name):
                return
            exc = exc_info[1]
            if isinstance(exc, BaseException):
                self._recorder.record(exc, "logging", handled=True, tb=exc_info[2])
        except Exception:
            report_internal_error("logging handler")


class LoggingHook:
    """Adds a :class:`FailureLogHandler` to the root logger and removes exactly that one."""

    name = "logging"

    def __init__(self, recorder: FailureRecorder) -> None:
        self._recorder = recorder
        self._handler: FailureLogHandler | None = None

    def install(self) -> None:
        if self._handler is not None:
            return
        self._handler = FailureLogHandler(self._recorder)
        logging.getLogger().addHandler(self._handler)

    def uninstall(self) -> None:
        if self._handler is None:
            return
        self._handler.active = False
        logging.getLogger().removeHandler(self._handler)
        self._handler = None
