"""Whether the database answers, for readiness (``/readyz`` and ``failcat_ready``).

The receiver already learns it from its own work: each transaction the writer commits says the
database answers, each that fails because the database is unavailable says it does not (with
the driver's reason). A readiness check answers from the newest of these and of its own pings,
and pings (``SELECT 1``, in a worker thread) only when the newest is older than
:data:`MAX_AGE_SECONDS`; checks that come while a ping is under way wait for that same ping.

Staleness bound: an answer describes the database as it was at most :data:`MAX_AGE_SECONDS`
(5 s) earlier, or as a ping started at the check found it. However often probes and scrapes
come, an idle receiver pings at most once per 5 s, and one that commits at least that often
never does.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: How old the newest evidence may be before a check pings the database.
MAX_AGE_SECONDS = 5.0


@dataclass(frozen=True)
class _Evidence:
    #: None: the database answered; else why it did not (one line).
    reason: str | None
    #: When it was learned (the clock's time; for a ping, when it started).
    at: float


class DatabaseHealth:
    """The newest evidence of the database's reachability, and a ping when it is too old.

    :meth:`reachable` and :meth:`unreachable` may be called from any thread (the writer's);
    :meth:`check` runs on the event loop. ``ping`` runs in a worker thread and returns None
    when the database answered, else the one-line reason.
    """

    def __init__(
        self,
        ping: Callable[[], str | None],
        *,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ping = ping
        self._max_age = max_age
        self._clock = clock
        self._evidence: _Evidence | None = None
        self._lock = threading.Lock()
        self._pinging: asyncio.Task[str | None] | None = None

    def reachable(self) -> None:
        """The database just answered (a transaction committed)."""
        self._learn(_Evidence(None, self._clock()))

    def unreachable(self, reason: str) -> None:
        """The database just failed to answer, for ``reason``."""
        self._learn(_Evidence(reason, self._clock()))

    async def check(self) -> str | None:
        """None when the database answers, else why not (see the module doc for how fresh)."""
        evidence = self._evidence
        if evidence is not None and self._clock() - evidence.at < self._max_age:
            return evidence.reason
        if self._pinging is None or self._pinging.done():
            self._pinging = asyncio.get_running_loop().create_task(self._ping_now())
        # Shielded: a check that times out leaves the ping running for the next one to reuse,
        # so a database that hangs gets one ping at a time, not one per probe.
        return await asyncio.shield(self._pinging)

    async def _ping_now(self) -> str | None:
        started = self._clock()
        reason = await asyncio.to_thread(self._ping)
        self._learn(_Evidence(reason, started))
        return reason

    def _learn(self, evidence: _Evidence) -> None:
        # A ping that started before a commit or a failure must not overwrite what they said.
        with self._lock:
            if self._evidence is None or evidence.at >= self._evidence.at:
                self._evidence = evidence


__all__ = ["MAX_AGE_SECONDS", "DatabaseHealth"]
