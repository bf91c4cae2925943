"""Exception groups: one event for the group, carrying the failures inside it (its leaves) as
aligned lists, so that the receiver classifies the group by them."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from otel_failcat import record_failure, track
from otel_failcat._exception_info import (
    MAX_GROUP_DEPTH,
    MAX_GROUP_LEAVES,
    group_leaves,
    is_exception_group,
)
from otel_failcat._recorder import MAX_GROUP_MESSAGE_LENGTH
from otel_failcat.redaction import RedactionSettings, Redactor
from tests.otel_failcat._helpers import Telemetry, raise_and_catch

if sys.version_info < (3, 11):  # pragma: no cover - the floor of Python is 3.10
    pytest.skip("exception groups and TaskGroup are built in from 3.11", allow_module_level=True)

from builtins import BaseExceptionGroup, ExceptionGroup

FAKE_KEY = "sk-proj-" + "G7h8J9k0L1z2X3c4V5b6N7m8Q9w0E1r2T3y4U5i6"
HERE = __name__
GROUP_KEYS = (
    "failcat.group.exception_types",
    "failcat.group.messages",
    "failcat.group.base_types",
    "failcat.group.cause_types",
)


class ProviderError(Exception):
    pass


class RateLimitError(ProviderError):
    pass


class ToolFailed(Exception):
    pass


async def _fail(exc: BaseException) -> None:
    await asyncio.sleep(0)
    raise exc


def _task_group_failure(*failures: BaseException) -> BaseException:
    """What ``asyncio.TaskGroup`` raises when these tasks fail, caught."""

    async def main() -> None:
        async with asyncio.TaskGroup() as group:
            for failure in failures:
                group.create_task(_fail(failure))

    try:
        asyncio.run(main())
    except BaseException as caught:
        return caught
    raise AssertionError("the task group did not fail")


def _group_of(attrs: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The leaves as rows (type, message, base types, cause types); the lists must align."""
    columns = [attrs[key] for key in GROUP_KEYS]
    assert len({len(column) for column in columns}) == 1, columns
    return list(zip(*columns, strict=True))


# -- what a group holds -----------------------------------------------------------------------


def test_a_task_group_with_two_failing_tasks_records_both_leaves(instrumented: Telemetry) -> None:
    group = _task_group_failure(
        RateLimitError(f"429 Too Many Requests for key {FAKE_KEY}"),
        ConnectionRefusedError("MCP server refused the connection"),
    )
    assert type(group) is ExceptionGroup
    record_failure(group)

    ((_, attrs),) = instrumented.exception_events()
    assert attrs["exception.type"] == "ExceptionGroup"
    assert attrs["exception.message"] == "unhandled errors in a TaskGroup (2 sub-exceptions)"
    assert attrs["failcat.base_types"] == ("BaseExceptionGroup",)
    assert _group_of(attrs) == [
        (
            f"{HERE}.RateLimitError",
            "429 Too Many Requests for key [REDACTED:openai_key]",
            f"{HERE}.ProviderError",
            "",
        ),
        (
            "ConnectionRefusedError",
            "MCP server refused the connection",
            "ConnectionError OSError",
            "",
        ),
    ]


def test_a_group_escaping_track_is_one_event_whose_leaves_are_its_tasks(
    instrumented: Telemetry,
) -> None:
    async def agent() -> None:
        with track("agent.run"):
            async with asyncio.TaskGroup() as group:
                group.create_task(_fail(ToolFailed("search tool crashed")))
                group.create_task(_fail(TimeoutError("model call timed out")))

    with pytest.raises(ExceptionGroup):
        asyncio.run(agent())

    ((span, attrs),) = instrumented.exception_events()  # one failure, one event
    assert span.name == "agent.run"
    assert attrs["failcat.mechanism"] == "track"
    assert attrs["failcat.group.exception_types"] == (f"{HERE}.ToolFailed", "TimeoutError")
    assert attrs["failcat.group.base_types"] == ("", "OSError")


def test_nested_groups_are_flattened_depth_first() -> None:
    try:
        raise ExceptionGroup(
            "outer",
            [
                ValueError("a"),
                ExceptionGroup(
                    "inner", [KeyError("b"), ExceptionGroup("deeper", [TypeError("c")])]
                ),
                OSError("d"),
            ],
        )
    except ExceptionGroup as caught:
        leaves = group_leaves(caught)
    assert [type(leaf) for leaf in leaves] == [ValueError, KeyError, TypeError, OSError]


def test_a_task_group_failing_inside_a_task_group_is_flattened(instrumented: Telemetry) -> None:
    async def inner() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(_fail(RateLimitError("429")))
            group.create_task(_fail(ToolFailed("tool crashed")))

    async def main() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(inner())

    try:
        asyncio.run(main())
    except ExceptionGroup as caught:
        assert is_exception_group(caught.exceptions[0])  # the inner group, as a member
        record_failure(caught)

    ((_, attrs),) = instrumented.exception_events()
    assert attrs["failcat.group.exception_types"] == (
        f"{HERE}.RateLimitError",
        f"{HERE}.ToolFailed",
    )
    assert attrs["failcat.group.messages"] == ("429", "tool crashed")


def test_a_base_exception_group_of_interrupts_names_them(instrumented: Telemetry) -> None:
    group = raise_and_catch(
        BaseExceptionGroup("stopped", [KeyboardInterrupt(), asyncio.CancelledError("cancelled")])
    )
    assert type(group) is BaseExceptionGroup
    record_failure(group)
    ((_, attrs),) = instrumented.exception_events()
    assert attrs["exception.type"] == "BaseExceptionGroup"
    assert attrs["failcat.base_types"] == ()
    assert _group_of(attrs) == [
        ("KeyboardInterrupt", "", "", ""),
        ("asyncio.exceptions.CancelledError", "cancelled", "", ""),
    ]


def test_a_group_of_one_kind_names_that_kind_for_every_leaf(instrumented: Telemetry) -> None:
    record_failure(_task_group_failure(RateLimitError("429 a"), RateLimitError("429 b")))
    ((_, attrs),) = instrumented.exception_events()
    assert set(attrs["failcat.group.exception_types"]) == {f"{HERE}.RateLimitError"}
    assert sorted(attrs["failcat.group.messages"]) == ["429 a", "429 b"]


def test_a_leafs_own_cause_chain_is_named(instrumented: Telemetry) -> None:
    def wrapped() -> BaseException:
        try:
            raise ConnectionResetError("peer reset")
        except ConnectionResetError as root:
            try:
                raise ToolFailed("fetch tool failed") from root
            except ToolFailed as failed:
                return failed

    record_failure(raise_and_catch(ExceptionGroup("tools", [wrapped(), ValueError("v")])))
    ((_, attrs),) = instrumented.exception_events()
    assert attrs["failcat.group.cause_types"] == ("ConnectionResetError", "")


# -- not a group --------------------------------------------------------------------------------


def test_a_wrapper_over_a_group_is_described_by_the_groups_leaves(
    instrumented: Telemetry,
) -> None:
    # Agent code that wraps what a task group (an MCP client) raised: the wrapper says nothing,
    # the group's leaves say what failed, so they travel with the wrapper.
    group = _task_group_failure(RateLimitError("429"))
    try:
        raise RuntimeError("agent gave up") from group
    except RuntimeError as exc:
        record_failure(exc)
    ((_, attrs),) = instrumented.exception_events()
    assert attrs["exception.type"] == "RuntimeError"
    assert attrs["failcat.cause_types"][0] == "ExceptionGroup"
    assert _group_of(attrs) == [(f"{HERE}.RateLimitError", "429", f"{HERE}.ProviderError", "")]


def test_an_exception_that_is_not_a_group_has_no_group_attributes(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(RateLimitError("429")))
    ((_, attrs),) = instrumented.exception_events()
    assert not set(GROUP_KEYS) & set(attrs)
    assert group_leaves(RateLimitError("429")) == []


# -- bounded and redacted -----------------------------------------------------------------------


def test_at_most_sixteen_leaves_the_first_kept(instrumented: Telemetry) -> None:
    record_failure(
        raise_and_catch(ExceptionGroup("fan-out", [ToolFailed(f"call {i}") for i in range(100)]))
    )
    ((_, attrs),) = instrumented.exception_events()
    assert attrs["failcat.group.messages"] == tuple(f"call {i}" for i in range(MAX_GROUP_LEAVES))
    assert len(_group_of(attrs)) == MAX_GROUP_LEAVES


def test_nesting_deeper_than_the_bound_keeps_the_deep_group_as_a_leaf() -> None:
    group: BaseException = ValueError("bottom")
    for level in range(50):
        group = ExceptionGroup(f"level {level}", [group])
    (leaf,) = group_leaves(group)
    assert type(leaf) is ExceptionGroup
    # Entered down to the bound: the leaf is the group MAX_GROUP_DEPTH levels below the top.
    assert str(leaf).startswith(f"level {50 - 1 - MAX_GROUP_DEPTH} ")


def test_a_member_seen_twice_is_one_leaf() -> None:
    shared = ToolFailed("the same object in two sub-groups")
    group = ExceptionGroup("g", [ExceptionGroup("a", [shared]), ExceptionGroup("b", [shared])])
    assert group_leaves(group) == [shared]


class _HostileGroup(ExceptionGroup):
    """A subclass whose ``exceptions`` cannot be read."""

    @property
    def exceptions(self) -> Any:
        raise RuntimeError("no members for you")


def test_a_group_whose_members_cannot_be_read_is_recorded_without_leaves(
    instrumented: Telemetry,
) -> None:
    record_failure(raise_and_catch(_HostileGroup("hostile", [ValueError("x")])))
    ((_, attrs),) = instrumented.exception_events()
    assert attrs["exception.type"] == f"{HERE}._HostileGroup"
    assert not set(GROUP_KEYS) & set(attrs)


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("cannot print")


def test_every_leaf_message_is_redacted_capped_or_replaced_when_unprintable(
    instrumented: Telemetry,
) -> None:
    long_message = f"{FAKE_KEY} " + "context window exceeded " * 100
    record_failure(raise_and_catch(ExceptionGroup("g", [ToolFailed(long_message), _Unprintable()])))
    ((_, attrs),) = instrumented.exception_events()
    capped, unprintable = attrs["failcat.group.messages"]
    assert capped.startswith("[REDACTED:openai_key] context window exceeded")
    assert len(capped) <= MAX_GROUP_MESSAGE_LENGTH
    assert "…[truncated " in capped
    assert unprintable == "<unprintable _Unprintable object>"
    assert all(FAKE_KEY not in str(value) for value in attrs.values())


@pytest.mark.parametrize("agent_environment", [{"FAILCAT_MAX_MESSAGE_LENGTH": "100"}])
def test_a_tighter_configured_message_cap_applies_to_leaves_too(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(ExceptionGroup("g", [ToolFailed("x" * 300)])))
    ((_, attrs),) = instrumented.exception_events()
    (message,) = attrs["failcat.group.messages"]
    assert len(message) <= 100 and message.startswith("xxx")


def test_redactor_message_takes_the_smaller_of_two_limits() -> None:
    redactor = Redactor(RedactionSettings(max_message_length=200))
    text = "word " * 100
    assert len(redactor.message(text, limit=50)) <= 50
    assert len(redactor.message(text, limit=10_000)) <= 200
    assert redactor.message("short", limit=50) == "short"


# -- logs mode --------------------------------------------------------------------------------


@pytest.mark.parametrize("agent_environment", [{"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs"}])
def test_logs_mode_carries_the_leaves(instrumented: Telemetry) -> None:
    record_failure(_task_group_failure(RateLimitError("429"), ToolFailed("crashed")))
    (record,) = instrumented.log_records()
    assert tuple(record.attributes["failcat.group.exception_types"]) == (
        f"{HERE}.RateLimitError",
        f"{HERE}.ToolFailed",
    )
    assert tuple(record.attributes["failcat.group.base_types"]) == (f"{HERE}.ProviderError", "")


class RequestFailed(Exception):
    """Stands for mcp's MCPError: raised in place of the error its request span recorded."""


def _request_span_records_and_replaces(instrumented: Telemetry, cause_link: str) -> BaseException:
    """A client whose request span records a TimeoutError, then raises its own error out of a
    task group, ``from None`` (mcp 2.x) or ``from`` the timeout; returns the group."""
    tracer = instrumented.tracer_provider.get_tracer("mcp")

    async def request() -> None:
        try:
            with tracer.start_as_current_span("MCP send tools/call"):
                raise TimeoutError()
        except TimeoutError as timeout:
            if cause_link == "from None":
                raise RequestFailed("Request 'tools/call' timed out") from None
            raise RequestFailed("Request 'tools/call' timed out") from timeout

    async def client() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(request())

    try:
        asyncio.run(client())
    except ExceptionGroup as group:
        return group
    raise AssertionError("the task group did not fail")


def test_a_group_of_an_error_raised_from_none_over_a_recorded_one_is_not_recorded_again(
    instrumented: Telemetry,
) -> None:
    # `from None` says the new error stands in for the timeout the span recorded: one failure.
    group = _request_span_records_and_replaces(instrumented, "from None")
    record_failure(group)
    assert [attrs["exception.type"] for _, attrs in instrumented.exception_events()] == [
        "TimeoutError"
    ]


def test_a_group_of_a_wrapper_raised_from_a_recorded_error_is_recorded(
    instrumented: Telemetry,
) -> None:
    # `from` keeps the cause visible: a wrapper of its own (the receiver decides, by its rules).
    group = _request_span_records_and_replaces(instrumented, "from")
    record_failure(group)
    assert [attrs["exception.type"] for _, attrs in instrumented.exception_events()] == [
        "TimeoutError",
        "ExceptionGroup",
    ]


def test_a_plain_error_raised_from_none_over_a_recorded_one_is_still_recorded(
    instrumented: Telemetry,
) -> None:
    # Only a group's leaves count as restating: a plain exception is recorded as ever.
    tracer = instrumented.tracer_provider.get_tracer("mcp")
    try:
        try:
            with tracer.start_as_current_span("MCP send tools/call"):
                raise TimeoutError()
        except TimeoutError:
            raise RequestFailed("Request 'tools/call' timed out") from None
    except RequestFailed as error:
        record_failure(error)
    assert len(instrumented.exception_events()) == 2
