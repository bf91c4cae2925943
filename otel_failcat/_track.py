"""The explicit API: ``record_failure(exc)`` and ``track(name)``.

Both work whether or not ``instrument()`` was called: they use the instrumentor's providers
while it is instrumented, else the global providers at call time.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, TypeVar, cast

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from otel_failcat import attributes as names
from otel_failcat._exception_info import qualified_type_name
from otel_failcat._internal_errors import report_internal_error
from otel_failcat._recorder import Attributes, FailureRecorder, active_recorder

_F = TypeVar("_F", bound=Callable[..., Any])


def record_failure(exc: BaseException, attributes: Attributes | None = None) -> None:
    """Record ``exc`` as a failure the code has handled (mechanism ``explicit``).

    The event goes on the current span, or on a new span ``failcat.unhandled_exception`` when
    there is none. ``attributes`` (``gen_ai.tool.name``, ``gen_ai.request.model``,
    ``agent.step``...) are added to the event. Recording the same exception object again, here
    or in any hook, does nothing. Never raises.
    """
    active_recorder().record(exc, "explicit", handled=True, attributes=attributes)


def _is_failure(exc: BaseException) -> bool:
    # A generator closed early and an orderly exit are how Python ends things, not failures.
    return not isinstance(exc, (GeneratorExit, SystemExit))


def _mark_failed(
    recorder: FailureRecorder, span: Span, exc: BaseException, attributes: Attributes | None
) -> None:
    recorder.record(exc, "track", handled=False, attributes=attributes, span=span)
    try:
        if span.is_recording():
            # The receiver counts an ERROR span carrying ``error.type`` and no exception event
            # as a failure of its own (CONTRACT §4). So ``error.type`` goes only on a span that
            # carries an exception event: enclosing ``track`` spans the exception escapes, and
            # every span in logs-only mode (the failure travels as a log record), get the
            # status alone, and one exception stays one stored failure.
            if _carries_exception_event(span):
                span.set_attribute(names.ERROR_TYPE, qualified_type_name(type(exc)))
            span.set_status(Status(StatusCode.ERROR))
    except Exception:
        report_internal_error("track")


def _carries_exception_event(span: Span) -> bool:
    # The SDK's span exposes its events; another implementation's is assumed to have none.
    events = getattr(span, "events", ())
    return any(getattr(event, "name", None) == names.EXCEPTION_EVENT_NAME for event in events)


class _TrackedBlock:
    """One run of a tracked block: a current span, and the failure that escapes it."""

    def __init__(self, name: str, attributes: Attributes | None) -> None:
        self._name = name
        self._attributes = attributes
        self._recorder = active_recorder()
        self._span_cm: AbstractContextManager[Span] | None = None
        self._span: Span | None = None

    def __enter__(self) -> Span:
        self._span_cm = self._recorder.tracer().start_as_current_span(
            self._name,
            # The span carries the caller's attributes as the failure event does: redacted.
            attributes=self._recorder.redacted_attributes(self._attributes),
            record_exception=False,
            set_status_on_exception=False,
        )
        self._span = self._span_cm.__enter__()
        return self._span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._span_cm is not None and self._span is not None
        try:
            if exc is not None and _is_failure(exc):
                _mark_failed(self._recorder, self._span, exc, self._attributes)
        finally:
            self._span_cm.__exit__(exc_type, exc, tb)


class track:  # lowercase: used like a function: @track("step") / with track("step")
    """Run a block, a function, a coroutine or a generator in a span and record what escapes.

    ``track(name, attributes=None)`` is a decorator for functions, ``async`` functions,
    generators and async generators, and a context manager (``with`` and ``async with``) whose
    target is the span. The span is started with ``record_exception=False`` and
    ``set_status_on_exception=False``; when an exception escapes, ``track`` records it (mechanism
    ``track``, handled False, with ``attributes`` on the event), sets the span status to ERROR
    and ``error.type`` to the exception's qualified type, and re-raises it unchanged. A nested
    ``track`` that sees the same exception records it only once: the enclosing spans get status
    ERROR without ``error.type``, so the receiver does not count it again from their status.
    ``GeneratorExit`` and ``SystemExit`` are not failures.

    A decorated function can be called concurrently; one ``track(...)`` object used as a context
    manager serves one block at a time (nesting the same object is fine).
    """

    def __init__(self, name: str, attributes: Attributes | None = None) -> None:
        self._name = name
        self._attributes = dict(attributes) if attributes else None
        self._blocks: list[_TrackedBlock] = []

    # -- context manager -------------------------------------------------------------------

    def __enter__(self) -> Span:
        block = _TrackedBlock(self._name, self._attributes)
        span = block.__enter__()
        self._blocks.append(block)
        return span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._blocks.pop().__exit__(exc_type, exc, tb)

    async def __aenter__(self) -> Span:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    # -- decorator -------------------------------------------------------------------------

    def __call__(self, func: _F) -> _F:
        name, attributes = self._name, self._attributes
        if inspect.isasyncgenfunction(func):
            return cast(_F, _track_async_generator(func, name, attributes))
        if inspect.isgeneratorfunction(func):
            return cast(_F, _track_generator(func, name, attributes))
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_coroutine(*args: Any, **kwargs: Any) -> Any:
                with _TrackedBlock(name, attributes):
                    return await func(*args, **kwargs)

            return cast(_F, run_coroutine)

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with _TrackedBlock(name, attributes):
                return func(*args, **kwargs)

        return cast(_F, run)


# Generators: the span lives from the first step to exhaustion (or close), and is current only
# while the generator's own code runs, so it never leaks into the consumer between steps.


def _track_generator(
    func: Callable[..., Generator[Any, Any, Any]], name: str, attributes: Attributes | None
) -> Callable[..., Generator[Any, Any, Any]]:
    @functools.wraps(func)
    def run_generator(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        recorder = active_recorder()
        span = recorder.tracer().start_span(
            name, attributes=recorder.redacted_attributes(attributes)
        )
        span_context = trace.set_span_in_context(span)
        try:
            token = otel_context.attach(span_context)
            try:
                inner = func(*args, **kwargs)
            finally:
                otel_context.detach(token)
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                token = otel_context.attach(span_context)
                try:
                    if thrown is not None:
                        pending, thrown = thrown, None
                        value = inner.throw(pending)
                    else:
                        value = inner.send(sent)
                except StopIteration as stop:
                    return stop.value
                except BaseException as exc:
                    if _is_failure(exc):
                        _mark_failed(recorder, span, exc, attributes)
                    raise
                finally:
                    otel_context.detach(token)
                try:
                    sent = yield value
                except GeneratorExit:
                    token = otel_context.attach(span_context)
                    try:
                        inner.close()
                    finally:
                        otel_context.detach(token)
                    raise
                except BaseException as exc:
                    thrown = exc
        finally:
            span.end()

    return run_generator


def _track_async_generator(
    func: Callable[..., AsyncGenerator[Any, Any]], name: str, attributes: Attributes | None
) -> Callable[..., AsyncGenerator[Any, Any]]:
    @functools.wraps(func)
    async def run_async_generator(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        recorder = active_recorder()
        span = recorder.tracer().start_span(
            name, attributes=recorder.redacted_attributes(attributes)
        )
        span_context = trace.set_span_in_context(span)
        try:
            inner = func(*args, **kwargs)
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                token = otel_context.attach(span_context)
                try:
                    if thrown is not None:
                        pending, thrown = thrown, None
                        value = await inner.athrow(pending)
                    else:
                        value = await inner.asend(sent)
                except StopAsyncIteration:
                    return
                except BaseException as exc:
                    if _is_failure(exc):
                        _mark_failed(recorder, span, exc, attributes)
                    raise
                finally:
                    otel_context.detach(token)
                try:
                    sent = yield value
                except GeneratorExit:
                    token = otel_context.attach(span_context)
                    try:
                        await inner.aclose()
                    finally:
                        otel_context.detach(token)
                    raise
                except BaseException as exc:
                    thrown = exc
        finally:
            span.end()

    return run_async_generator
