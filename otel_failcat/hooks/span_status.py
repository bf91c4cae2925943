"""The SDK's ``Span.set_status``: an ERROR root span carries its exception, and no secret.

Two things happen when a span's status is set to ERROR while instrumented; every other status
passes straight through (the normal path pays one type check and one comparison).

**The exception in flight is recorded on a library's root span.** Libraries that instrument
themselves (the Anthropic SDK, mcp 2.x's server middleware, many HTTP instrumentations) start
their spans with ``record_exception=False, set_status_on_exception=False`` and mark a failed call
by hand: ``span.set_status(ERROR)`` and ``error.type`` inside their ``except`` block, no
exception event. The receiver stores such a span as a ``span_status`` failure, unless an
ancestor or descendant in the same request carries an exception event (CONTRACT §4). When the
application has no span of its own open, the library's span is the root of a trace of its own,
and the application's later record of the same exception (``sys.excepthook``,
``logger.exception``, ``record_failure``) lands on a new ``failcat.unhandled_exception`` span in
another trace, where the lineage rule cannot see that both are one failure: two rows.

So when a recording SDK span **without a parent** is set to ERROR while an exception is being
handled (``sys.exc_info()``: the library sets the status inside its ``except`` block) and that
exception object has not been recorded yet, it is recorded here, on that span, through the
recorder (redaction, fingerprint, base types, group leaves, dedupe). Every later sighting of the
same object is then skipped by identity, and the one event carries the library span's trace and
attributes. Its ``failcat.mechanism`` is ``track`` and ``failcat.handled`` False: the library is
doing by hand what the SDK's ``set_status_on_exception`` does for an exception escaping a span,
and the SDK's defaults record that case as ``track``/False (``span_record_exception``), so a
span gets the same event whichever way its library marks it. The SDK's own path,
``record_exception`` then ``set_status``, finds the exception already recorded and adds nothing.

A span with a parent (a span of the application's own is open around the library call, or the
library's own outer span) is left as it was. The later sighting then lands on an open ancestor,
which the lineage rule already pairs with the status-only span: one row, as before. Recording on
the child instead would add rows where that rule keeps one: a framework that wraps the
library's exception in its own (pydantic-ai's ``ModelHTTPError`` around the Anthropic SDK's
error, tenacity's ``RetryError`` around the last attempt's) has its wrapper recorded on the
application's span, another object, and every failed attempt of a retry loop would be an
exception event of its own, which the receiver never folds.

Nor is an exception in flight whose cause chain holds one recorded already: it is the
consequence of a failure that has its event (a framework turning the failure of a step into
its own "run aborted" and marking its run's span), and the status is that layer noting it.
An ERROR set with no exception in flight (a library that sees an error *answer* and raises only
after its span has ended, as mcp 2.x's JSON-RPC client span does) records nothing here; the
span and its status message are remembered (:mod:`otel_failcat._recorded_on`), so the exception
raised next with that message, recorded with no span open, goes in that span's trace, under it. A
library that marks a root attempt span ERROR for an exception it then handles (a retry that
succeeds) gets an exception event on that span; that adds no row, since the receiver already
stores that span (ERROR with ``error.type``) as a ``span_status`` failure, and the event makes
that row say which exception it was. An ERROR set on a root span while code handles an
*unrelated* exception (a call in an ``except`` block whose own instrumentation marks its span
failed) is taken to be about the exception in flight, which is then recorded on that span.

**ERROR descriptions are redacted.** When an exception escapes a span started with
OpenTelemetry's defaults, the SDK sets the description ``"<Type>: <message>"`` — the raw
message, secrets included. The failcat event on that span is redacted, so the status must be
too, or a key in an exception message would still reach the trace backend. The description
goes through the same redactor (and length cap) as ``exception.message``; if redaction fails
internally, the description is dropped rather than sent unredacted. An exception escaping
nested spans gives each the same description; the last one redacted is remembered by the hook,
so the enclosing spans do not redact it again.

``uninstall()`` puts back the very function it replaced.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.trace import Status, StatusCode

from otel_failcat._exception_info import cause_chain
from otel_failcat._internal_errors import report_internal_error
from otel_failcat._recorder import FailureRecorder, recorded_on, seen_exceptions
from otel_failcat.hooks._patch import AttributePatch
from otel_failcat.redaction import Redactor

_SetStatus = Callable[..., None]


class SpanStatusHook:
    """Replaces ``opentelemetry.sdk.trace.Span.set_status`` and restores it exactly.

    ``recorder`` records the exception in flight on a span set to ERROR; ``redactor`` is the
    one ``exception.message`` goes through (``instrument()`` builds both).
    """

    name = "set_status"

    def __init__(self, recorder: FailureRecorder, redactor: Redactor) -> None:
        self._recorder = recorder
        self._redactor = redactor
        self._patch: AttributePatch[_SetStatus] = AttributePatch(SdkSpan, "set_status")
        # The last (description, redacted) pair. Rebound as a whole, never mutated, so threads
        # racing here at worst redact again.
        self._last: tuple[str, str] | None = None

    def install(self) -> None:
        def wrap(previous: _SetStatus) -> _SetStatus:
            # Same signature as the SDK's, so positional and keyword callers both work.
            def set_status(
                span: SdkSpan, status: Status | StatusCode, description: str | None = None
            ) -> None:
                if self._patch.active:
                    code = status.status_code if isinstance(status, Status) else status
                    if code is StatusCode.ERROR:
                        self._record_in_flight(span, status, description)
                        status, description = self._redacted_status(status, description)
                previous(span, status, description)

            set_status.__doc__ = previous.__doc__
            return set_status

        self._patch.install(wrap)

    def uninstall(self) -> None:
        self._patch.uninstall()

    def _record_in_flight(
        self, span: SdkSpan, status: Status | StatusCode, description: str | None
    ) -> None:
        """Record the exception being handled, if any and new, on ``span``; with none, remember
        the span's message for the exception its library raises next. Never raises."""
        try:
            exc = sys.exc_info()[1]
            # A span with a parent is left to the receiver's lineage rule (see the module
            # docstring); an ended one would send the event to the current span or a new one.
            if span.parent is not None or not span.is_recording():
                return
            if exc is None:
                message = status.description if isinstance(status, Status) else description
                if message:
                    recorded_on().failed_answer(message, span.get_span_context())
                return
            seen = seen_exceptions()
            if exc in seen or any(link in seen for link in cause_chain(exc)):
                return
            self._recorder.record(exc, "track", handled=False, span=span)
        except Exception:
            report_internal_error("Span.set_status")

    def _redacted_status(
        self, status: Status | StatusCode, description: str | None
    ) -> tuple[Status | StatusCode, str | None]:
        """``status`` and ``description`` with an ERROR description redacted. Never raises."""
        try:
            if isinstance(status, Status):
                if status.description:
                    clean = self._redact(status.description)
                    if clean != status.description:
                        status = Status(StatusCode.ERROR, clean)
            elif description:
                description = self._redact(description)
        except Exception:
            report_internal_error("Span.set_status")
            if isinstance(status, Status):
                status = Status(status.status_code)
            description = None
        return status, description

    def _redact(self, description: str) -> str:
        last = self._last
        if last is not None and last[0] == description:
            return last[1]
        clean = self._redactor.message(description)
        self._last = (description, clean)
        return clean
