"""``uninstrument()`` puts back every hook exactly; ``instrument()`` twice is harmless."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading

import pytest
from opentelemetry.sdk.trace import Span as SdkSpan

from otel_failcat import FailcatInstrumentor, record_failure
from otel_failcat._recorder import active_recorder
from tests.otel_failcat._helpers import Telemetry, raise_and_catch


def _hooks() -> tuple[object, ...]:
    return (
        sys.excepthook,
        threading.excepthook,
        asyncio.BaseEventLoop.__dict__["call_exception_handler"],
        SdkSpan.__dict__["record_exception"],
        tuple(logging.getLogger().handlers),
        SdkSpan.__dict__["set_status"],
    )


def test_uninstrument_restores_every_hook_by_identity(telemetry: Telemetry) -> None:
    before = _hooks()
    instrumentor = FailcatInstrumentor()
    instrumentor.instrument(**telemetry.providers())
    during = _hooks()
    assert all(a is not b for a, b in zip(before[:4], during[:4], strict=True))
    assert len(during[4]) == len(before[4]) + 1
    instrumentor.uninstrument()
    after = _hooks()
    assert all(a is b for a, b in zip(before[:4], after[:4], strict=True))
    assert after[4] == before[4] and all(a is b for a, b in zip(before[4], after[4], strict=True))
    assert during[5] is not before[5] and after[5] is before[5]


def test_instrument_twice_installs_once(
    telemetry: Telemetry, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    chained: list[object] = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: chained.append(args[1]))
    before = _hooks()
    FailcatInstrumentor().instrument(**telemetry.providers())
    once = _hooks()
    other = Telemetry.create()
    try:
        FailcatInstrumentor().instrument(**other.providers())  # ignored, with a warning
        assert _hooks() == once
        assert "already instrumented" in caplog.text
        exc = raise_and_catch(ValueError("logged, then left unhandled"))
        logging.getLogger("tests.twice").error("failed", exc_info=exc)
        sys.excepthook(ValueError, exc, exc.__traceback__)
    finally:
        FailcatInstrumentor().uninstrument()
    assert _hooks() == before
    # One handler, one hook chain, the first call's providers: the failure is recorded once.
    assert len(telemetry.exception_events()) == 1
    assert sum(telemetry.failure_counts().values()) == 1
    assert other.exception_events() == []
    assert chained == [exc]  # and the previous hook ran once


def test_after_uninstrument_the_explicit_api_goes_back_to_global_providers(
    telemetry: Telemetry,
) -> None:
    FailcatInstrumentor().instrument(**telemetry.providers())
    FailcatInstrumentor().uninstrument()
    record_failure(raise_and_catch(ValueError("after")))
    assert telemetry.exception_events() == []
    assert active_recorder().providers()[0] is not telemetry.tracer_provider


def test_a_hook_wrapped_by_another_tool_stays_as_an_inactive_pass_through(
    telemetry: Telemetry,
) -> None:
    original = sys.excepthook
    calls: list[str] = []
    try:
        sys.excepthook = lambda *a: calls.append("base")
        FailcatInstrumentor().instrument(**telemetry.providers())
        ours = sys.excepthook

        def other_tool(*args: object) -> None:
            calls.append("other")
            ours(*args)  # type: ignore[arg-type]

        sys.excepthook = other_tool
        FailcatInstrumentor().uninstrument()
        assert sys.excepthook is other_tool  # not torn out from under the other tool
        exc = raise_and_catch(RuntimeError("late"))
        sys.excepthook(RuntimeError, exc, exc.__traceback__)
        assert calls == ["other", "base"]
        assert telemetry.exception_events() == []
    finally:
        sys.excepthook = original


def test_disabled_hooks_are_left_alone(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAILCAT_DISABLED_HOOKS", "logging, asyncio")
    before = _hooks()
    FailcatInstrumentor().instrument(**telemetry.providers())
    try:
        during = _hooks()
        assert during[2] is before[2]
        assert during[4] == before[4]
        assert during[0] is not before[0]
        assert during[3] is not before[3]
    finally:
        FailcatInstrumentor().uninstrument()
