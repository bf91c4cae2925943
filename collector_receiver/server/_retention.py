"""``failcat serve --retention``: pruning the store at start and every ``--retention-interval``.

The prune (:meth:`FailureStore.prune`, whose batches never hold a lock for long) runs in a
thread of its own, never on the event loop, so the listeners keep answering and the writer keeps
committing while it works. Each run is logged as one line: ``retention_pruned`` with the
cutoff, what was deleted and how long it took, or ``retention_failed`` with the reason (the
database is away: the next run continues where this one stopped). A run still going when the
receiver stops ends after its current batch; the receiver does not wait for the rest.

With ``--workers`` only the parent process runs it: one prune per receiver is enough, and
several pruning the same rows would only wait for each other's batches.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import timedelta

from collector_receiver._one_line import one_line
from collector_receiver.server._logging import log_event
from collector_receiver.store import FailureStore, StoreError
from collector_receiver.timeparse import format_time, utc_now


class _Stopping(Exception):
    """Raised between batches (from the progress callback) when the receiver stops."""


class RetentionJob:
    """Prunes what is older than ``keep`` now, then every ``interval``, until :meth:`stop`."""

    def __init__(self, store: FailureStore, keep: timedelta, interval: timedelta) -> None:
        self._store = store
        self._keep = keep
        self._interval = interval
        self._stopping = threading.Event()
        self._task: asyncio.Task[None] | None = None
        #: Completed runs (pruned or failed), for tests and the log's readers.
        self.runs = 0

    def start(self) -> None:
        """Start the first run now (on the running loop), the next ones every interval."""
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop after the batch in progress, and wait for that."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()  # wakes the sleep; a run in its thread ends at its next batch
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            # shield: cancelling the task must not abandon the thread while it holds a
            # connection of the store that stop() is about to close; it stops by itself.
            run = asyncio.ensure_future(asyncio.to_thread(self.run_once))
            try:
                await asyncio.shield(run)
            except asyncio.CancelledError:
                await asyncio.gather(run, return_exceptions=True)
                raise
            await asyncio.sleep(self._interval.total_seconds())

    def run_once(self) -> None:
        """One prune, logged (blocking: run it in a thread)."""
        before = utc_now() - self._keep
        started = time.monotonic()
        try:
            result = self._store.prune(before, progress=self._check_stopping)
        except _Stopping:
            log_event("retention_interrupted", before=format_time(before))
            return
        except StoreError as exc:
            self.runs += 1
            log_event(
                "retention_failed",
                logging.ERROR,
                before=format_time(before),
                reason=one_line(exc),
            )
            return
        except Exception as exc:  # a bug must not end the loop (or the receiver) silently
            self.runs += 1
            log_event(
                "retention_failed",
                logging.ERROR,
                before=format_time(before),
                reason=f"{type(exc).__name__}: {one_line(exc)}",
            )
            return
        self.runs += 1
        log_event(
            "retention_pruned",
            before=format_time(result.before),
            failures=result.failures,
            patterns=result.patterns,
            operation_buckets=result.operation_buckets,
            delivery_keys=result.delivery_keys,
            dropped_partitions=list(result.dropped_partitions),
            seconds=round(time.monotonic() - started, 3),
        )

    def _check_stopping(self, _stage: str, _done: int) -> None:
        if self._stopping.is_set():
            raise _Stopping


__all__ = ["RetentionJob"]
