"""asyncio: exceptions the event loop reports to its exception handler.

That is a task whose exception was never retrieved ("Task exception was never retrieved", at
garbage collection), a failing callback (``call_soon``, ``call_later``, protocols), and whatever
else the loop cannot hand to user code. An exception that is awaited or retrieved is the user's
to handle and is not reported by the loop, so it is not recorded here.

The hook replaces ``asyncio.BaseEventLoop.call_exception_handler`` on the class, so it covers
every loop of the standard library, including loops created after instrumentation and the one of
``asyncio.run``, and it still calls a custom handler set with ``loop.set_exception_handler``
(the original method does). Loops that do not derive from ``BaseEventLoop`` (uvloop) are not
covered. A crash of ``asyncio.run``'s main coroutine propagates to ``sys.excepthook``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from otel_failcat._internal_errors import report_internal_error
from otel_failcat._recorder import FailureRecorder
from otel_failcat.hooks._patch import AttributePatch

_CallExceptionHandler = Callable[[asyncio.BaseEventLoop, dict[str, Any]], object]


class AsyncioExceptionHook:
    """Wraps ``BaseEventLoop.call_exception_handler`` and chains to the original."""

    name = "asyncio"

    def __init__(self, recorder: FailureRecorder) -> None:
        self._recorder = recorder
        self._patch: AttributePatch[_CallExceptionHandler] = AttributePatch(
            asyncio.BaseEventLoop, "call_exception_handler"
        )

    def install(self) -> None:
        def wrap(previous: _CallExceptionHandler) -> _CallExceptionHandler:
            def call_exception_handler(
                loop: asyncio.BaseEventLoop, context: dict[str, Any]
            ) -> None:
                if self._patch.active:
                    self._record(context)
                previous(loop, context)

            return call_exception_handler

        self._patch.install(wrap)

    def uninstall(self) -> None:
        self._patch.uninstall()

    def _record(self, context: Any) -> None:
        try:
            exc = context.get("exception") if isinstance(context, dict) else None
            if isinstance(exc, BaseException):
                self._recorder.record(exc, "asyncio", handled=False)
        except Exception:
            report_internal_error("asyncio exception handler")
