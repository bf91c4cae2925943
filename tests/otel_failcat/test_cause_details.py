"""The first links of the cause chain are described beyond their type: ``failcat.cause_messages``
and ``failcat.cause_base_types``, aligned with ``failcat.cause_types``, so that a receiver
classifies an agent's wrapper (``raise StepFailed("step failed") from exc``) by what it wraps;
a wrapper over an exception group carries that group's leaves."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from otel_failcat import record_failure
from otel_failcat._exception_info import MAX_CAUSE_DETAILS
from otel_failcat._recorder import MAX_GROUP_MESSAGE_LENGTH
from tests.otel_failcat._helpers import Telemetry

FAKE_KEY = "sk-proj-" + "G7h8J9k0L1z2X3c4V5b6N7m8Q9w0E1r2T3y4U5i6"
HERE = __name__


class ProviderError(Exception):
    pass


class BadRequestError(ProviderError):
    pass


class StepFailed(Exception):
    pass


def _wrapped(cause: BaseException, message: str = "step failed") -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise StepFailed(message) from inner
    except StepFailed as wrapper:
        return wrapper


def _attributes(instrumented: Telemetry, exc: BaseException) -> dict[str, Any]:
    record_failure(exc)
    ((_, attrs),) = instrumented.exception_events()
    return dict(attrs)


def test_each_cause_is_described_aligned_with_its_type(instrumented: Telemetry) -> None:
    cause = BadRequestError(f"context_length_exceeded for key {FAKE_KEY}")
    cause.__context__ = ConnectionResetError("peer reset")

    attrs = _attributes(instrumented, _wrapped(cause))

    assert attrs["failcat.cause_types"] == (f"{HERE}.BadRequestError", "ConnectionResetError")
    assert attrs["failcat.cause_messages"] == (
        "context_length_exceeded for key [REDACTED:openai_key]",
        "peer reset",
    )
    assert attrs["failcat.cause_base_types"] == (
        f"{HERE}.ProviderError",
        "ConnectionError OSError",
    )


def test_a_failure_without_a_cause_carries_no_descriptions(instrumented: Telemetry) -> None:
    attrs = _attributes(instrumented, ValueError("plain"))

    assert attrs["failcat.cause_types"] == ()
    assert "failcat.cause_messages" not in attrs
    assert "failcat.cause_base_types" not in attrs


def test_descriptions_are_bounded_in_number_and_length(instrumented: Telemetry) -> None:
    innermost: BaseException = RuntimeError("x" * (MAX_GROUP_MESSAGE_LENGTH * 3))
    for depth in range(MAX_CAUSE_DETAILS + 4):
        outer = StepFailed(f"layer {depth}")
        outer.__cause__ = innermost
        innermost = outer

    attrs = _attributes(instrumented, innermost)

    assert len(attrs["failcat.cause_types"]) == MAX_CAUSE_DETAILS + 4  # the chain itself
    assert len(attrs["failcat.cause_messages"]) == MAX_CAUSE_DETAILS
    assert len(attrs["failcat.cause_base_types"]) == MAX_CAUSE_DETAILS
    assert attrs["failcat.cause_messages"][0] == f"layer {MAX_CAUSE_DETAILS + 2}"
    assert all(len(m) <= MAX_GROUP_MESSAGE_LENGTH for m in attrs["failcat.cause_messages"])


def test_an_unprintable_cause_is_described_by_a_placeholder(instrumented: Telemetry) -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    attrs = _attributes(instrumented, _wrapped(Unprintable()))

    assert attrs["failcat.cause_messages"] == ("<unprintable Unprintable object>",)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.TaskGroup is new in 3.11")
def test_a_wrapper_over_a_task_group_carries_the_groups_leaves(instrumented: Telemetry) -> None:
    async def fail() -> None:
        await asyncio.sleep(0)
        raise BadRequestError("Unknown tool: get_forecast")

    async def main() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(fail())

    try:
        try:
            asyncio.run(main())
        except BaseException as inner:
            raise StepFailed("step failed") from inner
    except StepFailed as wrapper:
        attrs = _attributes(instrumented, wrapper)

    assert attrs["exception.type"] == f"{HERE}.StepFailed"
    assert attrs["failcat.cause_types"] == ("ExceptionGroup",)
    assert attrs["failcat.group.exception_types"] == (f"{HERE}.BadRequestError",)
    assert attrs["failcat.group.messages"] == ("Unknown tool: get_forecast",)
