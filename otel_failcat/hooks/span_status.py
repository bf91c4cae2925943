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
remembered (with the redactor that did it), so the enclosing spans do not redact it again.
``uninstall()`` puts back the very function it replaced.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.trace import Status, StatusCode

from otel_failcat._internal_errors import report_internal_error
from otel_failcat._recorder import current_redactor
from otel_failcat.hooks._patch import AttributePatch
from otel_failcat.redaction import Redactor

_SetStatus = Callable[..., None]


class SpanStatusHook:
    """Replaces ``opentelemetry.sdk.trace.Span.set_status`` and restores it exactly."""

    name = "set_status"

    def __init__(self) -> None:
        self._patch: AttributePatch[_SetStatus] = AttributePatch(SdkSpan, "set_status")

    def install(self) -> None:
        def wrap(previous: _SetStatus) -> _SetStatus:
            # Same signature as the SDK's, so positional and keyword callers both work.
            def set_status(
                span: SdkSpan, status: Status | StatusCode, description: str | None = None
            ) -> None:
                if self._patch.active:
                    status, description = redacted_status(status, description)
                previous(span, status, description)

            set_status.__doc__ = previous.__doc__
            return set_status

        self._patch.install(wrap)

    def uninstall(self) -> None:
        self._patch.uninstall()


def redacted_status(
    status: Status | StatusCode, description: str | None
) -> tuple[Status | StatusCode, str | None]:
    """``status`` and ``description`` with any ERROR description redacted. Never raises."""
    try:
        if isinstance(status, Status):
            if status.status_code is StatusCode.ERROR and status.description:
                clean = _redact(status.description)
                if clean != status.description:
                    status = Status(StatusCode.ERROR, clean)
        elif status is StatusCode.ERROR and description:
            description = _redact(description)
    except Exception:
        report_internal_error("Span.set_status")
        if isinstance(status, Status):
            status = Status(status.status_code)
        description = None
    return status, description


# The last (redactor, description, redacted) triple. Rebound as a whole, never mutated, so
# threads racing here at worst redact again.
_last_redaction: tuple[Redactor, str, str] | None = None


def _redact(description: str) -> str:
    global _last_redaction
    redactor = current_redactor()
    last = _last_redaction
    if last is not None and last[0] is redactor and last[1] == description:
        return last[2]
    clean = redactor.message(description)
    _last_redaction = (redactor, description, clean)
    return clean
