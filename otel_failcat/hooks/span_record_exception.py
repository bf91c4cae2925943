"""The SDK's ``Span.record_exception``: spans started with OpenTelemetry's defaults.

``tracer.start_as_current_span(name)`` has ``record_exception=True``: when an exception escapes
the block, the SDK span's ``__exit__`` calls ``self.record_exception(exc, escaped=True)``, and
user code calls ``span.record_exception(exc)`` in its ``except`` blocks. Left alone, every span
an exception passes through adds its own ``exception`` event (message unredacted, no
``failcat.*`` attributes), so one failure would become one row per span at the receiver.

While instrumented, ``opentelemetry.sdk.trace.Span.record_exception`` is replaced on the class
(the SDK's ``__exit__`` looks it up there), so only the exception path pays; span creation is
not wrapped. For a recording SDK span the call goes through the shared recorder instead:

- the first span to record an exception object gets the one ``failcat`` event, with the SDK
  call's ``attributes`` merged under the failcat ones and its ``timestamp`` kept. That is the
  innermost span, where the exception was raised: the best trace link;
- every later sighting (an enclosing span it escapes from, a hook) adds nothing: identity dedupe.
  The SDK still sets each span's ERROR status itself (``set_status_on_exception`` is separate);
- an exception leaving the span is mechanism ``track``, handled False, the same situation as
  an exception escaping a ``track`` block. That is a call with ``escaped=True`` (the SDK span's
  ``__exit__``), or one from ``opentelemetry.trace.use_span``, which records on the way out
  for ``start_as_current_span`` but does not pass ``escaped``, so its caller is recognised;
- any other call (code calling ``span.record_exception(e)``, normally on an exception it caught)
  is ``explicit``, handled True, like ``record_failure``.

A span that is no longer recording (ended) and an argument that is not an exception go to the
original method, which behaves as it always did. So does every call once uninstrumented, if
another tool has wrapped the method since (it stays in their chain as a pass-through).
Subclasses that override ``record_exception`` and spans of other implementations are not
touched. If recording fails internally, the error is counted and logged once, and no event is
added: falling back to the SDK's unredacted event could send a secret.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from types import CodeType
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.util import types

from otel_failcat._internal_errors import report_internal_error
from otel_failcat._recorder import FailureRecorder
from otel_failcat.hooks._patch import AttributePatch

_RecordException = Callable[..., None]


class SpanRecordExceptionHook:
    """Replaces ``opentelemetry.sdk.trace.Span.record_exception`` and restores it exactly."""

    name = "record_exception"

    def __init__(self, recorder: FailureRecorder) -> None:
        self._recorder = recorder
        self._patch: AttributePatch[_RecordException] = AttributePatch(SdkSpan, "record_exception")

    def install(self) -> None:
        def wrap(previous: _RecordException) -> _RecordException:
            escaping_callers = _escaping_callers()

            # Same signature as the SDK's, so positional and keyword callers both work.
            def record_exception(
                span: SdkSpan,
                exception: BaseException,
                attributes: types.Attributes = None,
                timestamp: int | None = None,
                escaped: bool = False,
            ) -> None:
                if (
                    self._patch.active
                    and isinstance(exception, BaseException)
                    and _is_recording(span)
                ):
                    # The frame lookup runs on the exception path only (see _escaping_callers).
                    escaping = escaped or _caller_code_in(escaping_callers)
                    self._record(span, exception, attributes, timestamp, escaping)
                    return
                previous(span, exception, attributes, timestamp, escaped)

            record_exception.__doc__ = previous.__doc__
            return record_exception

        self._patch.install(wrap)

    def uninstall(self) -> None:
        self._patch.uninstall()

    def _record(
        self,
        span: SdkSpan,
        exception: BaseException,
        attributes: types.Attributes,
        timestamp: int | None,
        escaped: bool,
    ) -> None:
        try:
            self._recorder.record(
                exception,
                "track" if escaped else "explicit",
                handled=not escaped,
                attributes=_plain_attributes(attributes),
                span=span,
                timestamp=timestamp,
            )
        except Exception:
            report_internal_error("Span.record_exception")


def _escaping_callers() -> frozenset[CodeType]:
    """The code of the places that record an exception because it is leaving a span.

    ``start_as_current_span`` and ``use_span`` record it from ``opentelemetry.trace.use_span``
    *without* ``escaped=True``; ``with span:`` records it from the SDK span's ``__exit__`` with
    it. Recognising the caller is the only way to tell these from code that caught the
    exception and calls ``span.record_exception(e)`` itself.
    """
    callers: set[CodeType] = set()
    for function in (trace.use_span, SdkSpan.__dict__.get("__exit__")):
        code = getattr(inspect.unwrap(function), "__code__", None) if function else None
        if isinstance(code, CodeType):
            callers.add(code)
    return frozenset(callers)


def _caller_code_in(codes: frozenset[CodeType]) -> bool:
    """Whether the caller of the patched method runs one of ``codes``. Never raises."""
    try:
        # 0: this function, 1: the patched method, 2: whoever called it.
        return sys._getframe(2).f_code in codes
    except Exception:  # no frame introspection on this interpreter: assume a plain call
        return False


def _is_recording(span: Any) -> bool:
    try:
        return bool(span.is_recording())
    except Exception:
        return False


def _plain_attributes(attributes: types.Attributes) -> dict[str, Any] | None:
    # The SDK accepts any mapping (including its BoundedAttributes); the recorder copies it.
    return dict(attributes) if attributes else None
