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

_CallExceptionHandler = Callable[[asyncio.BaseEventLoop, dict[str, Any]], object]
_ATTRIBUTE = "call_exception_handler"


class AsyncioExceptionHook:
    """Wraps ``BaseEventLoop.call_exception_handler`` and chains to the original."""

    name = "asyncio"

    def __init__(self, recorder: FailureRecorder) -> None:
        self._recorder = recorder
        self._previous: _CallExceptionHandler | None = None
        self._installed: _CallExceptionHandler | None = None
        self._active = False

    def install(self) -> None:
        if self._installed is not None:
            return
        # The class __dict__ holds the plain function; getattr would give the same object for a
        # function, but reading __dict__ makes "restore exactly" exact for any descriptor.
        previous: _CallExceptionHandler = asyncio.BaseEventLoop.__dict__[_ATTRIBUTE]

        def call_exception_handler(loop: asyncio.BaseEventLoop, context: dict[str, Any]) -> None:
            if self._active:
                self._record(context)
            previous(loop, context)

        self._previous = previous
        self._installed = call_exception_handler
        self._active = True
        setattr(asyncio.BaseEventLoop, _ATTRIBUTE, call_exception_handler)

    def uninstall(self) -> None:
        self._active = False
        if (
            self._installed is not None
            and asyncio.BaseEventLoop.__dict__.get(_ATTRIBUTE) is self._installed
        ):
            setattr(asyncio.BaseEventLoop, _ATTRIBUTE, self._previous)
        self._installed = None
        self._previous = None

    def _record(self, context: Any) -> None:
        try:
            exc = context.get("exception") if isinstance(context, dict) else None
            if isinstance(exc, BaseException):
                self._recorder.record(exc, "asyncio", handled=False)
        except Exception:
            report_internal_error("asyncio exception handler")
