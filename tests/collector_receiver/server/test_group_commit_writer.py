"""GroupCommitWriter: concurrent requests share a transaction, are acknowledged only after it,
and a full queue pushes back instead of growing."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timezone
from typing import Any

import pytest

from collector_receiver.events import GenAIContext, MatchedFailure, OperationCounts, OperationKey
from collector_receiver.server._batch_writer import GroupCommitWriter, WriterBusy
from collector_receiver.store import FailureStore, StoreUnavailable, WriteResult, upgrade
from tests.collector_receiver.server._helpers import matched_failure


class GatedWrite:
    """A write function that records each group and can be held until released."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.operation_groups: list[list[str]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail_with: list[BaseException | None] = []

    def __call__(
        self, failures: Sequence[MatchedFailure], operations: Sequence[OperationCounts] = ()
    ) -> int:
        self.entered.set()
        self.gate.wait(10)
        self.groups.append([f.event_key[:2] for f in failures])
        self.operation_groups.append([o.delivery_key for o in operations])
        if self.fail_with:
            error = self.fail_with.pop(0)
            if error is not None:
                raise error
        return len(failures)


@contextlib.asynccontextmanager
async def _running(write: GatedWrite, **options: Any) -> AsyncIterator[GroupCommitWriter[int]]:
    """A started writer around ``write``, closed (draining what it holds) on the way out."""
    writer: GroupCommitWriter[int] = GroupCommitWriter(write, **options)
    writer.start()
    try:
        yield writer
    finally:
        await asyncio.to_thread(writer.close, 10)


async def _wait_entered(write: GatedWrite) -> None:
    await asyncio.to_thread(write.entered.wait, 10)


async def test_requests_waiting_during_a_write_are_committed_together() -> None:
    write = GatedWrite()
    write.gate.clear()
    async with _running(write, max_batch_failures=100, max_queued_requests=10) as writer:
        first = writer.submit([matched_failure("a0")])
        await _wait_entered(write)
        rest = [
            writer.submit([matched_failure(f"b{i}"), matched_failure(f"c{i}")]) for i in range(4)
        ]
        await asyncio.sleep(0.05)
        assert not first.done(), "acknowledged before the transaction returned"
        write.gate.set()
        await asyncio.wait_for(asyncio.gather(first, *rest), 10)
    assert write.groups[0] == ["a0"]
    assert write.groups[1] == ["b0", "c0", "b1", "c1", "b2", "c2", "b3", "c3"]
    assert len(write.groups) == 2


async def test_a_group_stops_at_the_batch_size_but_never_splits_a_request() -> None:
    write = GatedWrite()
    write.gate.clear()
    async with _running(write, max_batch_failures=3, max_queued_requests=10) as writer:
        first = writer.submit([matched_failure("a0")])
        await _wait_entered(write)
        big = writer.submit([matched_failure(f"b{i}") for i in range(5)])
        small = [writer.submit([matched_failure(f"c{i}")]) for i in range(4)]
        write.gate.set()
        await asyncio.wait_for(asyncio.gather(first, big, *small), 10)
    assert write.groups == [["a0"], ["b0", "b1", "b2", "b3", "b4"], ["c0", "c1", "c2"], ["c3"]]


async def test_full_queue_answers_busy_at_once() -> None:
    write = GatedWrite()
    write.gate.clear()
    async with _running(write, max_batch_failures=10, max_queued_requests=2) as writer:
        held = writer.submit([matched_failure("a0")])
        await _wait_entered(write)
        queued = [writer.submit([matched_failure(f"b{i}")]) for i in range(2)]
        with pytest.raises(WriterBusy):
            writer.submit([matched_failure("c0")])
        write.gate.set()
        await asyncio.wait_for(asyncio.gather(held, *queued), 10)
    assert sorted(k for group in write.groups for k in group) == ["a0", "b0", "b1"]


async def test_failures_waiting_are_bounded_too_but_an_empty_queue_takes_any_request() -> None:
    write = GatedWrite()
    write.gate.clear()
    async with _running(
        write, max_batch_failures=10, max_queued_requests=100, max_queued_failures=5
    ) as writer:
        held = writer.submit([matched_failure("a0")])
        await _wait_entered(write)
        big = writer.submit([matched_failure(f"b{i}") for i in range(8)])  # over 5, queue empty
        with pytest.raises(WriterBusy):
            writer.submit([matched_failure("c0")])
        write.gate.set()
        await asyncio.wait_for(asyncio.gather(held, big), 10)
        # once written, the room is back
        await asyncio.wait_for(writer.submit([matched_failure("d0")]), 10)
    assert write.groups == [["a0"], [f"b{i}" for i in range(8)], ["d0"]]


async def test_unavailable_database_fails_every_request_of_the_group() -> None:
    write = GatedWrite()
    write.gate.clear()
    write.fail_with = [None, StoreUnavailable("connection refused")]
    async with _running(
        write,
        max_batch_failures=10,
        max_queued_requests=10,
        is_retryable_group_error=lambda exc: isinstance(exc, StoreUnavailable),
    ) as writer:
        first = writer.submit([matched_failure("a0")])
        await _wait_entered(write)
        group = [writer.submit([matched_failure(f"b{i}")]) for i in range(3)]
        write.gate.set()
        await first
        results = await asyncio.gather(*group, return_exceptions=True)
    assert all(isinstance(r, StoreUnavailable) for r in results)
    assert len(write.groups) == 2  # not retried one by one: the database is down for all


async def test_a_refused_group_is_retried_request_by_request() -> None:
    write = GatedWrite()
    write.gate.clear()
    # First call: the held request. Second: the group fails. Then one call per request,
    # of which the middle one fails again.
    write.fail_with = [None, ValueError("bad row"), None, ValueError("bad row"), None]
    async with _running(write, max_batch_failures=10, max_queued_requests=10) as writer:
        first = writer.submit([matched_failure("a0")])
        await _wait_entered(write)
        group = [writer.submit([matched_failure(f"b{i}")]) for i in range(3)]
        write.gate.set()
        await first
        results = await asyncio.gather(*group, return_exceptions=True)
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], ValueError)
    assert write.groups[1:] == [["b0", "b1", "b2"], ["b0"], ["b1"], ["b2"]]


async def test_close_writes_everything_queued_and_then_refuses(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    store = FailureStore.from_url(sqlite_url)
    committed: list[WriteResult] = []
    writer: GroupCommitWriter[WriteResult] = GroupCommitWriter(
        store.write_batch,
        max_batch_failures=50,
        max_queued_requests=100,
        on_commit=lambda result, seconds: committed.append(result),
    )
    writer.start()
    try:
        futures = [writer.submit([matched_failure(f"k{i:02d}")]) for i in range(30)]
        # a duplicate delivery of the first request, in the same group or the next
        futures.append(writer.submit([matched_failure("k00")]))
        await asyncio.to_thread(writer.close, 10)
        await asyncio.wait_for(asyncio.gather(*futures), 10)
        with pytest.raises(WriterBusy):
            writer.submit([matched_failure("late")])
    finally:
        store.close()
    assert sum(len(r.inserted) for r in committed) == 30
    assert sum(r.duplicates for r in committed) == 1


def _operations(key: str, rows: int) -> OperationCounts:
    hour = datetime(2026, 12, 1, 10, tzinfo=timezone.utc)
    return OperationCounts(
        counts={
            OperationKey(hour, "svc", GenAIContext(operation="chat", model=f"m{i}")): 1
            for i in range(rows)
        },
        delivery_key=key,
    )


async def test_operation_counts_share_the_transaction_of_their_group() -> None:
    write = GatedWrite()
    write.gate.clear()
    async with _running(write, max_batch_failures=100, max_queued_requests=10) as writer:
        first = writer.submit([matched_failure("a0")], _operations("d0", 1))
        await _wait_entered(write)
        only_counts = writer.submit([], _operations("d1", 2))
        both = writer.submit([matched_failure("b0")], _operations("d2", 1))
        neither_counts = writer.submit([matched_failure("c0")])
        write.gate.set()
        await asyncio.wait_for(asyncio.gather(first, only_counts, both, neither_counts), 10)
    assert write.groups == [["a0"], ["b0", "c0"]]
    assert write.operation_groups == [["d0"], ["d1", "d2"]]


async def test_operation_rows_weigh_in_the_batch_size() -> None:
    write = GatedWrite()
    write.gate.clear()
    async with _running(write, max_batch_failures=3, max_queued_requests=10) as writer:
        first = writer.submit([matched_failure("a0")])
        await _wait_entered(write)
        rest = [writer.submit([], _operations(f"d{i}", 2)) for i in range(3)]
        write.gate.set()
        await asyncio.wait_for(asyncio.gather(first, *rest), 10)
    # Two rows each: with a batch of three rows, each request goes alone.
    assert write.operation_groups == [[], ["d0"], ["d1"], ["d2"]]


async def test_a_split_group_retries_each_request_with_its_own_counts() -> None:
    write = GatedWrite()
    write.gate.clear()
    write.fail_with = [None, ValueError("refused"), None, ValueError("refused again")]
    async with _running(write, max_batch_failures=100, max_queued_requests=10) as writer:
        first = writer.submit([matched_failure("a0")])
        await _wait_entered(write)
        good = writer.submit([matched_failure("b0")], _operations("d0", 1))
        bad = writer.submit([matched_failure("b1")], _operations("d1", 1))
        write.gate.set()
        await first
        results = await asyncio.gather(good, bad, return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], ValueError)
    assert write.operation_groups[1:] == [["d0", "d1"], ["d0"], ["d1"]]
