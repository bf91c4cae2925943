"""``FailcatInstrumentor``: installs the hooks and points the explicit API at its providers."""

from __future__ import annotations

import atexit
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from otel_failcat._recorder import FailureRecorder, set_active_recorder
from otel_failcat._reserve import DescriptorReserve
from otel_failcat._settings import AgentSettings
from otel_failcat.hooks import Hook
from otel_failcat.hooks.asyncio_handler import AsyncioExceptionHook
from otel_failcat.hooks.logging_handler import LoggingHook
from otel_failcat.hooks.span_record_exception import SpanRecordExceptionHook
from otel_failcat.hooks.span_status import SpanStatusHook
from otel_failcat.hooks.sys_excepthook import SysExceptHook
from otel_failcat.hooks.threading_excepthook import ThreadingExceptHook


class FailcatInstrumentor(BaseInstrumentor):
    """Captures the failures of this process as OpenTelemetry span events and a metric.

    ``instrument(tracer_provider=..., meter_provider=..., logger_provider=...)`` installs the
    hooks for ``sys.excepthook``, ``threading.excepthook``, the asyncio exception handler and
    ``logging``, routes the SDK's ``Span.record_exception`` through failcat (so spans started
    with OpenTelemetry's defaults add one redacted event per exception, not one per span),
    redacts the descriptions of ERROR statuses the SDK sets from exception messages, minus
    the hooks named in ``FAILCAT_DISABLED_HOOKS``, and makes
    :func:`otel_failcat.record_failure` and :func:`otel_failcat.track` use the given providers.
    Providers not given are the global ones, looked up when a failure is recorded. The
    ``FAILCAT_*`` variables and ``OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`` are read here, once
    (:class:`~otel_failcat._settings.AgentSettings`), and handed to the recorder and the hooks.
    ``opentelemetry-instrument`` calls it without arguments through the entry point
    ``failcat``. Instrumenting twice is harmless (the second call is ignored with a warning, as
    for every OpenTelemetry instrumentor); ``uninstrument()`` puts back every hook exactly.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        """None: it instruments the interpreter, not a library."""
        return ()

    def _instrument(self, **kwargs: Any) -> None:
        settings = AgentSettings.from_env()
        recorder = FailureRecorder(
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
            logger_provider=kwargs.get("logger_provider"),
            settings=settings,
        )
        # Descriptors for the exporters of a process that used up its own (EMFILE), freed at
        # exit before the providers' shutdown, which atexit runs after this handler.
        reserve = DescriptorReserve()
        reserve.acquire()
        atexit.register(reserve.release)
        hooks = _build_hooks(recorder, settings, reserve)
        for hook in hooks:
            hook.install()
        self._failcat_hooks = hooks
        self._failcat_reserve = reserve
        set_active_recorder(recorder)

    def _uninstrument(self, **kwargs: Any) -> None:
        hooks: list[Hook] = getattr(self, "_failcat_hooks", [])
        for hook in reversed(hooks):
            hook.uninstall()
        self._failcat_hooks = []
        reserve: DescriptorReserve | None = getattr(self, "_failcat_reserve", None)
        if reserve is not None:
            atexit.unregister(reserve.release)
            reserve.release()
            del self._failcat_reserve
        set_active_recorder(None)


def _build_hooks(
    recorder: FailureRecorder, settings: AgentSettings, reserve: DescriptorReserve
) -> list[Hook]:
    hooks: list[Hook] = [
        SysExceptHook(recorder, settings.flush_timeout_millis, reserve),
        ThreadingExceptHook(recorder),
        AsyncioExceptionHook(recorder),
        LoggingHook(recorder),
        SpanRecordExceptionHook(recorder),
        SpanStatusHook(recorder, settings.redactor),
    ]
    return [hook for hook in hooks if hook.name not in settings.disabled_hooks]
