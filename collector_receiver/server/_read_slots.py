"""How many gRPC calls may be receiving their message at once, and who gives way to whom.

gRPC hands a message to the handler only when all of it has arrived, and until then nobody can
tell how many of its bytes the library holds: up to ``--max-request-bytes`` per call. The slots
bound how many calls are receiving at once, and with them the bytes held outside the in-flight
budget (see :mod:`collector_receiver.server.otlp_grpc`).

A bound on slots alone would let a few senders that start calls and never send their messages
(or send them very slowly) hold every slot until ``--read-timeout``. So:

* a call that finds every slot taken waits, and once the oldest holder has had its slot for
  ``yield_after`` seconds it gives it up to a waiting call (told through
  :attr:`ReadSlot.yielded`);
* waiting calls are served by owner (the connection they came on) in turn, oldest first within
  an owner, so one connection with a hundred stalled calls waits as one, beside the others.

A sender on its own connection therefore gets a slot within about ``yield_after * (slow
connections / slots + 1)``, however many calls each slow connection has open.

Used from the event loop's thread only, so no lock is needed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class ReadSlot:
    """One call's permission to receive its message."""

    def __init__(self, started: float) -> None:
        self.started = started
        #: Set when the slot was given to a waiting call; the holder must stop receiving.
        self.yielded = asyncio.Event()


class ReadSlots:
    """At most ``count`` holders at once; waiters served owner by owner; the oldest holder
    gives way after ``yield_after`` seconds while anyone waits."""

    def __init__(self, count: int, yield_after: float) -> None:
        if count < 1:
            raise ValueError("at least one read slot is needed")
        if yield_after <= 0:
            raise ValueError("yield_after must be positive")
        self.count = count
        self.yield_after = yield_after
        #: The holders, oldest first (a dict keeps insertion order).
        self._holders: dict[ReadSlot, None] = {}
        #: Waiting calls by owner; the owners' order is the order they are served in.
        self._waiting: dict[Hashable, deque[asyncio.Future[ReadSlot]]] = {}
        self._yield_timer: asyncio.TimerHandle | None = None

    @property
    def held(self) -> int:
        return len(self._holders)

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    @asynccontextmanager
    async def slot(self, owner: Hashable) -> AsyncIterator[ReadSlot]:
        """Hold a slot for the block, waiting for one if need be."""
        slot = await self._acquire(owner)
        try:
            yield slot
        finally:
            self._release(slot)

    async def _acquire(self, owner: Hashable) -> ReadSlot:
        loop = asyncio.get_running_loop()
        if len(self._holders) < self.count and not self._waiting:
            return self._grant(loop)
        future: asyncio.Future[ReadSlot] = loop.create_future()
        self._waiting.setdefault(owner, deque()).append(future)
        self._schedule_yield(loop)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release(future.result())  # handed a slot just as the call ended
            else:
                self._forget(owner, future, loop)
            raise

    def _grant(self, loop: asyncio.AbstractEventLoop) -> ReadSlot:
        slot = ReadSlot(loop.time())
        self._holders[slot] = None
        return slot

    def _release(self, slot: ReadSlot) -> None:
        if slot not in self._holders:  # it gave way already
            return
        del self._holders[slot]
        self._hand_over(asyncio.get_running_loop())

    def _forget(
        self, owner: Hashable, future: asyncio.Future[ReadSlot], loop: asyncio.AbstractEventLoop
    ) -> None:
        queue = self._waiting.get(owner)
        if queue is not None and future in queue:
            queue.remove(future)
            if not queue:
                del self._waiting[owner]
        self._schedule_yield(loop)

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        """Give free slots to waiting calls, one owner after the other."""
        while len(self._holders) < self.count and self._waiting:
            owner, queue = next(iter(self._waiting.items()))
            future = queue.popleft()
            del self._waiting[owner]
            if queue:
                self._waiting[owner] = queue  # to the back of the turn
            if not future.done():  # not cancelled meanwhile
                future.set_result(self._grant(loop))
        self._schedule_yield(loop)

    def _schedule_yield(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._yield_timer is not None:
            self._yield_timer.cancel()
            self._yield_timer = None
        if self._waiting and len(self._holders) >= self.count:
            oldest = next(iter(self._holders))
            self._yield_timer = loop.call_at(
                oldest.started + self.yield_after, self._yield_oldest, loop
            )

    def _yield_oldest(self, loop: asyncio.AbstractEventLoop) -> None:
        self._yield_timer = None
        if not self._waiting or not self._holders:
            return
        oldest = next(iter(self._holders))
        if loop.time() < oldest.started + self.yield_after:  # a timer of an earlier state
            self._schedule_yield(loop)
            return
        del self._holders[oldest]
        oldest.yielded.set()
        self._hand_over(loop)


__all__ = ["ReadSlot", "ReadSlots"]
