"""ReadSlots: up to ``count`` holders at once; a waiter gets a slot when one is released, or,
when none is, the oldest holder's slot after ``yield_after`` (that holder is told through
``yielded``); waiters are served owner by owner in turn; a waiter that gives up leaves no trace;
a slot given away and then released frees nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable

import pytest

from collector_receiver.server._read_slots import ReadSlot, ReadSlots

#: Short, so that the tests that wait for a slot to be given away stay fast.
YIELD_AFTER = 0.05


async def _hold(
    slots: ReadSlots, release: asyncio.Event, taken: list[ReadSlot], owner: Hashable = "a"
) -> None:
    async with slots.slot(owner) as slot:
        taken.append(slot)
        await release.wait()


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition never held")


async def test_holders_up_to_the_count_then_a_waiter_gets_a_released_slot() -> None:
    slots = ReadSlots(2, yield_after=3600)  # no slot is given away in this test
    first, second = asyncio.Event(), asyncio.Event()
    taken: list[ReadSlot] = []
    holders = [
        asyncio.create_task(_hold(slots, first, taken)),
        asyncio.create_task(_hold(slots, second, taken)),
    ]
    await _until(lambda: slots.held == 2)
    waiter = asyncio.create_task(_hold(slots, asyncio.Event(), taken))
    await _until(lambda: slots.waiting == 1)
    assert len(taken) == 2
    first.set()
    await _until(lambda: len(taken) == 3)
    assert (slots.held, slots.waiting) == (2, 0)
    assert not any(slot.yielded.is_set() for slot in taken)
    second.set()
    waiter.cancel()
    await asyncio.gather(*holders, waiter, return_exceptions=True)
    assert slots.held == 0


async def test_the_oldest_holder_gives_way_to_a_waiter_after_yield_after() -> None:
    slots = ReadSlots(1, yield_after=YIELD_AFTER)
    taken: list[ReadSlot] = []
    stalled = asyncio.create_task(_hold(slots, asyncio.Event(), taken))
    await _until(lambda: slots.held == 1)
    async with slots.slot("b") as mine:
        assert taken[0].yielded.is_set()
        assert not mine.yielded.is_set()
        stalled.cancel()  # the holder that gave way ends; its release frees nothing
        await asyncio.gather(stalled, return_exceptions=True)
        assert slots.held == 1
    assert slots.held == 0


async def test_a_holder_nobody_waits_for_is_never_asked_to_give_way() -> None:
    slots = ReadSlots(1, yield_after=YIELD_AFTER)
    async with slots.slot("a") as slot:
        await asyncio.sleep(2 * YIELD_AFTER)
        assert not slot.yielded.is_set()


async def test_waiters_are_served_owner_by_owner() -> None:
    slots = ReadSlots(1, yield_after=3600)
    order: list[str] = []

    async def call(owner: str) -> None:
        async with slots.slot(owner):
            order.append(owner)

    async with slots.slot("first"):
        # One owner with three waiting calls, then another with one.
        waiters = [asyncio.create_task(call(owner)) for owner in ("a", "a", "a", "b")]
        await _until(lambda: slots.waiting == 4)
    await asyncio.gather(*waiters)
    assert order == ["a", "b", "a", "a"]
    assert slots.held == 0


async def test_a_waiter_that_gives_up_leaves_no_trace() -> None:
    slots = ReadSlots(1, yield_after=YIELD_AFTER)
    async with slots.slot("a") as held:
        waiter = asyncio.create_task(_hold(slots, asyncio.Event(), [], owner="b"))
        await _until(lambda: slots.waiting == 1)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        assert slots.waiting == 0
        await asyncio.sleep(2 * YIELD_AFTER)
        assert not held.yielded.is_set()  # nobody waits any more
    assert slots.held == 0


@pytest.mark.parametrize(("count", "yield_after"), [(0, 1.0), (1, 0.0)])
def test_a_bad_count_or_yield_time_is_a_construction_error(count: int, yield_after: float) -> None:
    with pytest.raises(ValueError):
        ReadSlots(count, yield_after)
