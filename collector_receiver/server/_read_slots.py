"""How many gRPC calls may be receiving their message at once, and who gives way to whom.

gRPC hands a message to the handler only when all of it has arrived, and until then nobody can
tell how many of its bytes the library holds: up to ``--max-request-bytes`` per call. The slots
bound how many calls are receiving at once, and with them the bytes held outside the in-flight
budget (see :mod:`collector_receiver.server.otlp_grpc`).

A bound on slots alone would let a few senders that start a call and never send its message
(or send it very slowly) hold every slot until ``--read-timeout``. So a call that finds every
slot taken waits, and the call that has been receiving longest gives its slot up once it has
had it for ``yield_after`` seconds: a waiting call gets a slot within ``yield_after``, however
many slow calls there are. The call that gives way is told through :attr:`ReadSlot.yielded`.

Used from the event loop's thread only, so no lock is needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ReadSlot:
    """One call's permission to receive its message."""

    def __init__(self, started: float) -> None:
        self.started = started
        #: Set when the slot was given to a waiting call; the holder must stop receiving.
        self.yielded = asyncio.Event()


class ReadSlots:
    """At most ``count`` holders at once; the oldest gives way after ``yield_after`` seconds
    to a call that waits."""

    def __init__(self, count: int, yield_after: float) -> None:
        if count < 1:
            raise ValueError("at least one read slot is needed")
        if yield_after <= 0:
            raise ValueError("yield_after must be positive")
        self.count = count
        self.yield_after = yield_after
        #: The holders, oldest first (a dict keeps insertion order).
        self._holders: dict[ReadSlot, None] = {}
        self._changed = asyncio.Event()

    @property
    def held(self) -> int:
        return len(self._holders)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[ReadSlot]:
        """Hold a slot for the block; waits at most ``yield_after`` seconds for one."""
        slot = await self._acquire()
        try:
            yield slot
        finally:
            self._release(slot)

    async def _acquire(self) -> ReadSlot:
        loop = asyncio.get_running_loop()
        while len(self._holders) >= self.count:
            oldest = next(iter(self._holders))
            wait = oldest.started + self.yield_after - loop.time()
            if wait <= 0:
                self._release(oldest)
                oldest.yielded.set()
                break
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), wait)
            except asyncio.TimeoutError:
                pass
        slot = ReadSlot(loop.time())
        self._holders[slot] = None
        return slot

    def _release(self, slot: ReadSlot) -> None:
        if slot not in self._holders:  # it gave way already
            return
        del self._holders[slot]
        # Wake every waiter (and make a new event for the next change); the first to run takes
        # the slot, the others find none and wait again.
        self._changed.set()
        self._changed = asyncio.Event()


__all__ = ["ReadSlot", "ReadSlots"]
