"""asyncio: what a loop reports to its exception handler is recorded, on loops created at any
time, and the loop's own or custom handler still runs."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import pytest

from tests.otel_failcat._helpers import Telemetry


class TaskError(Exception):
    pass


async def _fail() -> None:
    raise TaskError("task failed and nobody awaited it")


def test_a_task_exception_never_retrieved_is_recorded(
    instrumented: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        asyncio.get_running_loop().create_task(_fail())
        await asyncio.sleep(0.01)

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        asyncio.run(main())  # a loop created after instrument()
        gc.collect()  # the "never retrieved" report happens when the task is collected

    ((span, attrs),) = instrumented.exception_events()
    assert span.name == "failcat.unhandled_exception"
    assert attrs["exception.type"] == f"{__name__}.TaskError"
    assert attrs["failcat.mechanism"] == "asyncio"
    assert attrs["failcat.handled"] is False
    # Chained: asyncio's default handler still logged it (and the logging hook deduped it).
    assert any("never retrieved" in r.getMessage() for r in caplog.records)


def test_a_retrieved_task_exception_is_the_users_and_not_recorded(
    instrumented: Telemetry,
) -> None:
    async def main() -> None:
        task = asyncio.get_running_loop().create_task(_fail())
        with pytest.raises(TaskError):
            await task

    asyncio.run(main())
    gc.collect()
    assert instrumented.exception_events() == []


def test_a_failing_callback_reaches_a_custom_handler_too(instrumented: Telemetry) -> None:
    handled: list[dict[str, Any]] = []

    def callback() -> None:
        raise TaskError("callback broke")

    loop = asyncio.new_event_loop()
    try:
        loop.set_exception_handler(lambda _loop, context: handled.append(context))
        loop.call_soon(callback)
        loop.run_until_complete(asyncio.sleep(0.01))
    finally:
        loop.close()

    ((_, attrs),) = instrumented.exception_events()
    assert attrs["exception.message"] == "callback broke"
    assert len(handled) == 1 and isinstance(handled[0]["exception"], TaskError)


def test_a_report_without_exception_is_ignored(instrumented: Telemetry) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.set_exception_handler(lambda _loop, context: None)
        loop.call_exception_handler({"message": "just a message"})
    finally:
        loop.close()
    assert instrumented.exception_events() == []
