"""``RetentionJob`` (``failcat serve --retention``): prunes at start and every interval off the
event loop, logs each run as one line, keeps going after a failed run, stops when asked."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from collector_receiver.server._logging import LOGGER_NAME
from collector_receiver.server._retention import RetentionJob
from collector_receiver.store import FailureStore, upgrade
from collector_receiver.timeparse import utc_now
from tests.collector_receiver.store._helpers import failure, stored_rows


def _events(caplog: pytest.LogCaptureFixture) -> list[tuple[str, dict[str, object]]]:
    return [
        (record.getMessage(), dict(getattr(record, "fields", {})))
        for record in caplog.records
        if record.name == LOGGER_NAME
    ]


async def _run_until(job: RetentionJob, runs: int) -> None:
    job.start()
    for _ in range(400):
        if job.runs >= runs:
            break
        await asyncio.sleep(0.025)
    await job.stop()


def test_it_prunes_at_start_and_again_and_logs_each_run(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    upgrade(sqlite_url)
    store = FailureStore.from_url(sqlite_url)
    now = utc_now()
    store.write_batch(
        [failure(n, occurred_at=now - timedelta(days=40)) for n in range(5)]
        + [failure(10, occurred_at=now)]
    )
    try:
        job = RetentionJob(store, timedelta(days=30), timedelta(seconds=1))
        asyncio.run(_run_until(job, 2))
        assert [row["event_key"] for row in stored_rows(store)] == [failure(10).event_key]
    finally:
        store.close()

    pruned = [fields for event, fields in _events(caplog) if event == "retention_pruned"]
    assert len(pruned) >= 2
    assert pruned[0]["failures"] == 5 and pruned[0]["patterns"] == 0
    assert pruned[1]["failures"] == 0
    assert {"before", "operation_buckets", "delivery_keys", "seconds"} <= set(pruned[0])


def test_a_failed_run_is_logged_and_the_next_one_still_runs(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    store = FailureStore.from_url(sqlite_url)  # no schema: every run fails
    try:
        asyncio.run(_run_until(RetentionJob(store, timedelta(days=30), timedelta(seconds=1)), 2))
    finally:
        store.close()

    failed = [fields for event, fields in _events(caplog) if event == "retention_failed"]
    assert len(failed) >= 2
    assert "failcat db upgrade" in str(failed[0]["reason"])
    assert "\n" not in str(failed[0]["reason"])
