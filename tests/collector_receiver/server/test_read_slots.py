"""ReadSlots: up to ``count`` holders at once; the next waits and gets a slot when one is
released, or, when none is, takes the oldest holder's slot after ``yield_after`` (telling that
holder through ``yielded``); a slot given away and then released frees nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from collector_receiver.server._read_slots import ReadSlot, ReadSlots

#: Short, so that the tests that wait for a slot to be given away stay fast.
YIELD_AFTER = 0.05


async def _hold(slots: ReadSlots, release: asyncio.Event, taken: list[ReadSlot]) -> None:
    async with slots.slot() as slot:
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
    await asyncio.sleep(0)
    assert slots.held == 2
    waiter = asyncio.create_task(_hold(slots, asyncio.Event(), taken))
    await asyncio.sleep(0.01)
    assert len(taken) == 2  # the third waits
    first.set()
    await holders[0]
    await _until(lambda: len(taken) == 3)
    assert slots.held == 2
    assert not any(slot.yielded.is_set() for slot in taken)
    second.set()
    waiter.cancel()
    await asyncio.gather(holders[1], waiter, return_exceptions=True)
    assert slots.held == 0


async def test_the_oldest_holder_gives_way_to_a_waiter_after_yield_after() -> None:
    slots = ReadSlots(1, yield_after=YIELD_AFTER)
    never = asyncio.Event()
    taken: list[ReadSlot] = []
    stalled = asyncio.create_task(_hold(slots, never, taken))
    await asyncio.sleep(0)
    async with slots.slot() as mine:
        assert taken[0].yielded.is_set()
        assert not mine.yielded.is_set()
        assert slots.held == 1
        stalled.cancel()  # the holder that gave way ends; its release frees nothing
        await asyncio.gather(stalled, return_exceptions=True)
        assert slots.held == 1
    assert slots.held == 0


async def test_a_holder_alone_is_never_asked_to_give_way() -> None:
    slots = ReadSlots(1, yield_after=YIELD_AFTER)
    async with slots.slot() as slot:
        await asyncio.sleep(2 * YIELD_AFTER)
        assert not slot.yielded.is_set()


@pytest.mark.parametrize(("count", "yield_after"), [(0, 1.0), (1, 0.0)])
def test_a_bad_count_or_yield_time_is_a_construction_error(count: int, yield_after: float) -> None:
    with pytest.raises(ValueError):
        ReadSlots(count, yield_after)
