"""``sys.excepthook``: the main thread's unhandled exception, just before the process dies.

Records the exception (mechanism ``excepthook``, handled False), then flushes the tracer, meter
and logger providers, bounded by ``FAILCAT_FLUSH_TIMEOUT_MILLIS``, so the last failure is
exported before the interpreter exits (with the instrumentor's reserve of file descriptors
freed for it, for a process that dies of having none left: :mod:`otel_failcat._reserve`); then
chains to the previous hook, which prints the traceback. An exception that escapes
``asyncio.run`` arrives here too. ``SystemExit`` never reaches ``sys.excepthook``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType

from otel_failcat._internal_errors import report_internal_error
from otel_failcat._recorder import FailureRecorder
from otel_failcat._reserve import DescriptorReserve
from otel_failcat.hooks._patch import AttributePatch

_ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


class SysExceptHook:
    """Installs itself as ``sys.excepthook`` and chains to the hook it found."""

    name = "excepthook"

    def __init__(
        self,
        recorder: FailureRecorder,
        flush_timeout_millis: int,
        reserve: DescriptorReserve | None = None,
    ) -> None:
        self._recorder = recorder
        self._flush_timeout_millis = flush_timeout_millis
        self._reserve = reserve if reserve is not None else DescriptorReserve(0)
        self._patch: AttributePatch[_ExceptHook] = AttributePatch(sys, "excepthook")

    def install(self) -> None:
        def wrap(previous: _ExceptHook) -> _ExceptHook:
            def failcat_excepthook(
                exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
            ) -> None:
                if self._patch.active:
                    self._record_and_flush(exc, tb)
                previous(exc_type, exc, tb)

            return failcat_excepthook

        self._patch.install(wrap)

    def uninstall(self) -> None:
        self._patch.uninstall()

    def _record_and_flush(self, exc: BaseException, tb: TracebackType | None) -> None:
        try:
            if isinstance(exc, BaseException):
                self._recorder.record(exc, "excepthook", handled=False, tb=tb)
            if self._flush_timeout_millis > 0:
                with self._reserve.released():
                    self._recorder.flush(self._flush_timeout_millis)
        except Exception:
            report_internal_error("sys.excepthook")
