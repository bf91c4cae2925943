"""``threading.excepthook``: an exception that ends a thread other than the main one.

Recorded with mechanism ``threading``, handled False, and the OTel attributes ``thread.name``
and ``thread.id``; then the previous hook runs (by default it prints the traceback).
``SystemExit`` in a thread is a quiet exit, as in the standard library, and is not recorded.
The process goes on, so nothing is flushed here: the batch processors export as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_failcat._internal_errors import report_internal_error
from otel_failcat._recorder import FailureRecorder
from otel_failcat.hooks._patch import AttributePatch

_ThreadingHook = Callable[[Any], object]


class ThreadingExceptHook:
    """Installs itself as ``threading.excepthook`` and chains to the hook it found."""

    name = "threading"

    def __init__(self, recorder: FailureRecorder) -> None:
        self._recorder = recorder
        self._patch: AttributePatch[_ThreadingHook] = AttributePatch(threading, "excepthook")

    def install(self) -> None:
        def wrap(previous: _ThreadingHook) -> _ThreadingHook:
            def failcat_threading_excepthook(args: Any) -> None:
                if self._patch.active:
                    self._record(args)
                previous(args)

            return failcat_threading_excepthook

        self._patch.install(wrap)

    def uninstall(self) -> None:
        self._patch.uninstall()

    def _record(self, args: Any) -> None:
        try:
            exc = args.exc_value
            if not isinstance(exc, BaseException) or isinstance(exc, SystemExit):
                return
            attributes: dict[str, AttributeValue] = {}
            thread = args.thread
            if thread is not None:
                attributes["thread.name"] = str(thread.name)
                if thread.ident is not None:
                    attributes["thread.id"] = int(thread.ident)
            self._recorder.record(
                exc, "threading", handled=False, attributes=attributes, tb=args.exc_traceback
            )
        except Exception:
            report_internal_error("threading.excepthook")
