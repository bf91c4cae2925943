"""``failcat.base_types`` and the leaves of an exception group (``failcat.group.*``) as the edge
reads them: from what the real agent records, and from odd or hostile senders."""

from __future__ import annotations

import asyncio
import sys

import pytest

from collector_receiver.events import MAX_GROUP_LEAVES, GroupLeaf
from collector_receiver.otlp import decode_request, extract_failures
from otel_failcat import record_failure
from tests.collector_receiver.otlp._helpers import exception_event, span, trace_request
from tests.collector_receiver.otlp._recorded import recorded
from tests.otel_failcat._helpers import raise_and_catch

HERE = __name__


class ServiceError(Exception):
    pass


class ClientError(ServiceError):
    pass


class ThrottlingException(ClientError):
    pass


def _extract(*events):  # type: ignore[no-untyped-def]
    body = trace_request([span(events=list(events))]).SerializeToString()
    return extract_failures("traces", decode_request("traces", body, "application/x-protobuf"))


def test_the_bases_the_agent_records_reach_the_failure() -> None:
    [event] = recorded(lambda _: record_failure(raise_and_catch(ThrottlingException("slow down"))))

    assert event.exception_type == f"{HERE}.ThrottlingException"
    assert event.base_types == (f"{HERE}.ClientError", f"{HERE}.ServiceError")
    assert event.group_leaves == ()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.TaskGroup is new in 3.11")
def test_the_leaves_of_a_task_group_the_agent_records_reach_the_failure() -> None:
    async def _fail(exc: BaseException) -> None:
        await asyncio.sleep(0)
        raise exc

    async def agent() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(_fail(ThrottlingException("Rate exceeded")))
            group.create_task(_fail(ConnectionRefusedError("MCP server refused")))

    def run(_: object) -> None:
        try:
            asyncio.run(agent())
        except BaseException as group:  # the ExceptionGroup the TaskGroup raised
            record_failure(group)

    [event] = recorded(run)  # one group, one failure

    assert event.exception_type == "ExceptionGroup"
    assert event.group_leaves == (
        GroupLeaf(
            f"{HERE}.ThrottlingException",
            "Rate exceeded",
            base_types=(f"{HERE}.ClientError", f"{HERE}.ServiceError"),
        ),
        GroupLeaf(
            "ConnectionRefusedError",
            "MCP server refused",
            base_types=("ConnectionError", "OSError"),
        ),
    )


def test_base_types_written_as_one_comma_separated_string_are_read_too() -> None:
    [event] = _extract(exception_event("x.Leaf", failcat__base_types="x.Mid, x.Base")).events

    assert event.base_types == ("x.Mid", "x.Base")


def test_lists_shorter_than_the_types_leave_the_rest_of_a_leaf_empty() -> None:
    [event] = _extract(
        exception_event(
            "ExceptionGroup",
            failcat__group__exception_types=["a.A", "b.B", "c.C"],
            failcat__group__messages=["first"],
            failcat__group__base_types=["a.Base a.Root", ""],
            failcat__group__cause_types=[],
        )
    ).events

    assert event.group_leaves == (
        GroupLeaf("a.A", "first", base_types=("a.Base", "a.Root")),
        GroupLeaf("b.B"),
        GroupLeaf("c.C"),
    )


def test_elements_that_are_not_strings_count_as_empty() -> None:
    [event] = _extract(
        exception_event(
            "ExceptionGroup",
            failcat__group__exception_types=[1, 2],
            failcat__group__messages=[True, False],
            failcat__group__base_types=[3, 4],
        )
    ).events

    assert event.group_leaves == (GroupLeaf(""), GroupLeaf(""))


def test_a_types_attribute_that_is_not_a_list_gives_no_leaves() -> None:
    [event] = _extract(
        exception_event("ExceptionGroup", failcat__group__exception_types="a.A")
    ).events

    assert event.exception_type == "ExceptionGroup" and event.group_leaves == ()


def test_hostile_group_lists_are_cut() -> None:
    many = [f"pkg.E{i}" for i in range(1000)]
    [event] = _extract(
        exception_event(
            "ExceptionGroup",
            failcat__group__exception_types=many,
            failcat__group__base_types=["  ".join(many) * 10] * 1000,
        )
    ).events

    assert len(event.group_leaves) == MAX_GROUP_LEAVES
    assert all(0 < len(leaf.base_types) <= 32 for leaf in event.group_leaves)
    assert all("" not in leaf.base_types for leaf in event.group_leaves)
