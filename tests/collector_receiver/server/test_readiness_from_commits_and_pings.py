"""Readiness answers from the writer's latest commit or failure and pings the database only when
that is older than the staleness bound; a ping that hangs is shared, never repeated per probe.

Real databases: a SQLite file that answers and a PostgreSQL port nobody listens on. The clock
is a list the test moves, so nothing here waits for time to pass.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from collector_receiver.server._database_health import MAX_AGE_SECONDS, DatabaseHealth
from collector_receiver.store import FailureStore, StoreError

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/failcat"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counted_ping(store: FailureStore) -> tuple[Callable[[], str | None], list[None]]:
    pings: list[None] = []

    def ping() -> str | None:
        pings.append(None)
        try:
            store.ping()
        except StoreError as exc:
            return f"the database is unreachable: {exc}"
        return None

    return ping, pings


async def test_without_evidence_a_check_pings_and_then_answers_from_it(sqlite_url: str) -> None:
    store = FailureStore.from_url(sqlite_url)
    ping, pings = counted_ping(store)
    clock = Clock()
    health = DatabaseHealth(ping, clock=clock)
    try:
        assert await health.check() is None
        clock.now += MAX_AGE_SECONDS / 2
        assert await health.check() is None
        assert len(pings) == 1
        clock.now += MAX_AGE_SECONDS
        assert await health.check() is None
        assert len(pings) == 2  # the evidence grew old: pinged again
    finally:
        store.close()


async def test_recent_commits_and_failures_answer_without_a_ping(sqlite_url: str) -> None:
    store = FailureStore.from_url(sqlite_url)
    ping, pings = counted_ping(store)
    clock = Clock()
    health = DatabaseHealth(ping, clock=clock)
    try:
        health.unreachable("the database is unreachable: connection refused")
        assert await health.check() == "the database is unreachable: connection refused"
        clock.now += 1
        health.reachable()
        assert await health.check() is None
        for _ in range(10):  # a busy receiver that commits all the time never pings
            clock.now += MAX_AGE_SECONDS - 1
            health.reachable()
            assert await health.check() is None
        assert pings == []
    finally:
        store.close()


async def test_an_unreachable_database_is_not_ready_with_the_reason() -> None:
    store = FailureStore.from_url(UNREACHABLE)
    ping, pings = counted_ping(store)
    health = DatabaseHealth(ping, clock=Clock())
    try:
        reason = await health.check()
        assert reason is not None and reason.startswith("the database is unreachable: ")
        assert await health.check() == reason
        assert len(pings) == 1
    finally:
        store.close()


async def test_checks_during_a_hanging_ping_wait_for_that_one_ping() -> None:
    release = threading.Event()
    pings: list[None] = []

    def hanging_ping() -> str | None:
        pings.append(None)
        release.wait(10)
        return "the database did not answer"

    health = DatabaseHealth(hanging_ping, clock=Clock())
    for _ in range(3):  # probes that give up (as /readyz does after 5 s) leave the ping running
        try:
            await asyncio.wait_for(health.check(), 0.05)
        except asyncio.TimeoutError:
            pass
        else:
            raise AssertionError("the ping should still hang")
    waiting = asyncio.ensure_future(health.check())
    release.set()
    assert await waiting == "the database did not answer"
    assert len(pings) == 1


async def test_a_ping_that_started_before_a_commit_does_not_overwrite_it() -> None:
    clock = Clock()
    started = threading.Event()
    release = threading.Event()

    def slow_failing_ping() -> str | None:
        started.set()
        release.wait(10)
        return "the database is unreachable: timeout"

    health = DatabaseHealth(slow_failing_ping, clock=clock)
    pinging = asyncio.ensure_future(health.check())
    assert await asyncio.to_thread(started.wait, 10)
    clock.now += 1
    health.reachable()  # the writer committed while the ping was under way
    release.set()
    assert await pinging == "the database is unreachable: timeout"
    assert await health.check() is None  # the newer evidence stands
