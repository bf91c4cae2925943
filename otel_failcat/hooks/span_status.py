"""The SDK's ``Span.set_status``: ERROR descriptions are redacted before they leave the process.

When an exception escapes a span started with OpenTelemetry's defaults
(``set_status_on_exception=True``), the SDK sets the span's status to ERROR with the description
``"<Type>: <message>"`` — the raw message, secrets included. The failcat event on that span is
redacted (see :mod:`otel_failcat.hooks.span_record_exception`), so the status must be too, or a
key in an exception message would still reach the trace backend.

While instrumented, ``opentelemetry.sdk.trace.Span.set_status`` is replaced on the class by a
function that passes an ERROR status's description through the same redactor (and length cap)
as ``exception.message``, then calls the SDK's own method. Statuses other than ERROR, and
ERROR without a description, pass through untouched: the normal path pays one type check.
If redaction fails internally, the description is dropped rather than sent unredacted.
An exception escaping nested spans gives each the same description; the last one redacted is
remembered by the hook, so the enclosing spans do not redact it again.
``uninstall()`` puts back the very function it replaced.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.trace import Status, StatusCode

from otel_failcat._internal_errors import report_internal_error
from otel_failcat.hooks._patch import AttributePatch
from otel_failcat.redaction import Redactor

_SetStatus = Callable[..., None]


class SpanStatusHook:
    """Replaces ``opentelemetry.sdk.trace.Span.set_status`` and restores it exactly.

    ``redactor`` is the one ``exception.message`` goes through (``instrument()`` builds it).
    """

    name = "set_status"

    def __init__(self, redactor: Redactor) -> None:
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
                    status, description = self._redacted_status(status, description)
                previous(span, status, description)

            set_status.__doc__ = previous.__doc__
            return set_status

        self._patch.install(wrap)

    def uninstall(self) -> None:
        self._patch.uninstall()

    def _redacted_status(
        self, status: Status | StatusCode, description: str | None
    ) -> tuple[Status | StatusCode, str | None]:
        """``status`` and ``description`` with any ERROR description redacted. Never raises."""
        try:
            if isinstance(status, Status):
                if status.status_code is StatusCode.ERROR and status.description:
                    clean = self._redact(status.description)
                    if clean != status.description:
                        status = Status(StatusCode.ERROR, clean)
            elif status is StatusCode.ERROR and description:
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
