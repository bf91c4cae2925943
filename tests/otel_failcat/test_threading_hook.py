"""``threading.excepthook``: a thread's unhandled exception is recorded and chained."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from otel_failcat import FailcatInstrumentor
from tests.otel_failcat._helpers import Telemetry


@pytest.fixture
def previous_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", calls.append)
    return calls


@pytest.fixture
def hooked(telemetry: Telemetry, previous_calls: list[Any]) -> Iterator[Telemetry]:
    FailcatInstrumentor().instrument(**telemetry.providers())
    yield telemetry
    FailcatInstrumentor().uninstrument()


def _run_thread(target: Any, name: str) -> None:
    thread = threading.Thread(target=target, name=name)
    thread.start()
    thread.join()


def test_thread_failure_is_recorded_with_the_thread_and_chained(
    hooked: Telemetry, previous_calls: list[Any]
) -> None:
    def work() -> None:
        raise ConnectionError("worker lost the model API")

    _run_thread(work, "tool-worker")

    ((span, attrs),) = hooked.exception_events()
    assert span.name == "failcat.unhandled_exception"
    assert attrs["exception.type"] == "ConnectionError"
    assert attrs["failcat.mechanism"] == "threading"
    assert attrs["failcat.handled"] is False
    assert attrs["thread.name"] == "tool-worker"
    assert isinstance(attrs["thread.id"], int)
    (args,) = previous_calls
    assert args.exc_type is ConnectionError


def test_system_exit_in_a_thread_is_not_a_failure(
    hooked: Telemetry, previous_calls: list[Any]
) -> None:
    _run_thread(lambda: sys.exit(3), "exiting")
    assert hooked.exception_events() == []
