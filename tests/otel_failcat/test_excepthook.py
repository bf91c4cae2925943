"""``sys.excepthook``: the main thread's unhandled exception is recorded, flushed, then chained."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_failcat import FailcatInstrumentor
from tests.otel_failcat._helpers import Telemetry, raise_and_catch

Call = tuple[type[BaseException], BaseException, TracebackType | None]


@pytest.fixture
def previous_calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """A stand-in for the interpreter's hook, installed before instrumenting."""
    calls: list[Call] = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: calls.append(args))
    return calls


@pytest.fixture
def hooked(telemetry: Telemetry, previous_calls: list[Call]) -> Iterator[Telemetry]:
    FailcatInstrumentor().instrument(**telemetry.providers())
    yield telemetry
    FailcatInstrumentor().uninstrument()


def test_unhandled_exception_is_recorded_then_chained(
    hooked: Telemetry, previous_calls: list[Call]
) -> None:
    exc = raise_and_catch(RuntimeError("agent crashed"))
    sys.excepthook(RuntimeError, exc, exc.__traceback__)

    ((span, attrs),) = hooked.exception_events()
    assert span.name == "failcat.unhandled_exception"
    assert attrs["failcat.mechanism"] == "excepthook"
    assert attrs["failcat.handled"] is False
    assert previous_calls == [(RuntimeError, exc, exc.__traceback__)]


def test_an_exception_already_recorded_is_not_recorded_again(
    hooked: Telemetry, previous_calls: list[Call]
) -> None:
    from otel_failcat import record_failure

    exc = raise_and_catch(RuntimeError("seen"))
    record_failure(exc)
    sys.excepthook(RuntimeError, exc, exc.__traceback__)
    assert len(hooked.exception_events()) == 1
    assert len(previous_calls) == 1


def test_the_providers_are_flushed_before_chaining(previous_calls: list[Call]) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    # A batch processor that would wait a minute: only a flush gets the span out in time.
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    exported_when_chained: list[int] = []

    def previous(*args: Any) -> None:
        exported_when_chained.append(len(exporter.get_finished_spans()))

    sys.excepthook = previous
    FailcatInstrumentor().instrument(tracer_provider=provider)
    try:
        exc = raise_and_catch(RuntimeError("last words"))
        sys.excepthook(RuntimeError, exc, exc.__traceback__)
    finally:
        FailcatInstrumentor().uninstrument()
        provider.shutdown()
    assert exported_when_chained == [1]


def test_a_broken_recorder_still_chains(
    hooked: Telemetry, previous_calls: list[Call], monkeypatch: pytest.MonkeyPatch
) -> None:
    from otel_failcat._internal_errors import internal_error_count
    from otel_failcat._recorder import FailureRecorder

    monkeypatch.setattr(FailureRecorder, "flush", lambda self, t: 1 / 0)
    before = internal_error_count()
    exc = raise_and_catch(RuntimeError("x"))
    sys.excepthook(RuntimeError, exc, exc.__traceback__)
    assert internal_error_count() == before + 1
    assert len(previous_calls) == 1
