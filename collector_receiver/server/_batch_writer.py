"""Group commit: many concurrent requests' failures written in one transaction, off the loop.

Each OTLP request hands its matched failures, and the GenAI operations it holds (an
:class:`~collector_receiver.events.OperationCounts`, or None), to :meth:`GroupCommitWriter.submit`
and awaits the returned future. One writer thread takes whatever requests are waiting (up to
``max_batch_failures`` rows: a request weighs its failures plus its operation count rows; a
single larger request is written whole and alone), calls the write function once for the group
— ``write(failures, operations)``, one transaction — and then resolves every request's future on
the event loop. A request is therefore acknowledged only after the transaction holding its
failures and its counts committed, so a request whose write failed is retried by its sender and
counted then.

The queue is bounded in requests and in rows waiting: when either bound is reached
:meth:`submit` raises :class:`WriterBusy` at once, and the caller answers retryably. Memory stays
bounded however fast senders are. (An empty queue always takes a request, however large, so a
big batch from a Collector is never refused forever.)

If a group's transaction fails with an error that is not "database unavailable", the group is
retried one request per transaction, so one request the database refuses cannot fail the
requests that happened to share its transaction.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from collector_receiver.events import MatchedFailure, OperationCounts

ResultT = TypeVar("ResultT")


class WriterBusy(Exception):
    """The write queue is full (or the writer is stopping): answer retryably, try again later."""


@dataclass
class _Pending:
    failures: Sequence[MatchedFailure]
    operations: OperationCounts | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None] = field(repr=False)

    @property
    def weight(self) -> int:
        """Rows this request writes: its failures and its operation counts."""
        counted = 0 if self.operations is None else len(self.operations.counts)
        return len(self.failures) + counted


#: The write function: one transaction holding a group's failures and operation counts.
WriteFunction = Callable[[Sequence[MatchedFailure], Sequence[OperationCounts]], ResultT]


class GroupCommitWriter(Generic[ResultT]):
    """Bounded queue + one writer thread calling ``write`` once per group of requests.

    ``on_commit(result, seconds)`` runs in the writer thread after each committed transaction
    (metrics); ``on_error(exc, seconds)`` after each failed one. Neither may raise.
    ``is_retryable_group_error(exc)`` says whether a failed group should NOT be split into
    single-request transactions (an unavailable database fails every request alike).
    """

    def __init__(
        self,
        write: WriteFunction[ResultT],
        *,
        max_batch_failures: int,
        max_queued_requests: int,
        max_queued_failures: int | None = None,
        on_commit: Callable[[ResultT, float], None] | None = None,
        on_error: Callable[[BaseException, float], None] | None = None,
        is_retryable_group_error: Callable[[BaseException], bool] = lambda exc: False,
    ) -> None:
        if max_batch_failures < 1 or max_queued_requests < 1:
            raise ValueError("max_batch_failures and max_queued_requests must be at least 1")
        self._write = write
        self._max_batch_failures = max_batch_failures
        self._queue: queue.Queue[_Pending | None] = queue.Queue(maxsize=max_queued_requests)
        self._max_queued_failures = max_queued_failures or max_batch_failures * max_queued_requests
        #: Rows (``_Pending.weight``) submitted and not yet taken by the writer thread (guarded
        #: by the lock).
        self._queued_failures = 0
        self._count_lock = threading.Lock()
        self._on_commit = on_commit
        self._on_error = on_error
        self._is_retryable = is_retryable_group_error
        self._thread: threading.Thread | None = None
        self._closing = False
        #: A request taken from the queue that did not fit in the previous group.
        self._carry: _Pending | None = None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("writer already started")
        self._thread = threading.Thread(target=self._run, name="failcat-writer", daemon=True)
        self._thread.start()

    def submit(
        self, failures: Sequence[MatchedFailure], operations: OperationCounts | None = None
    ) -> asyncio.Future[None]:
        """Queue a request's failures and operation counts; the future resolves after their
        commit (or fails).

        Must be called from the event loop's thread. Raises :class:`WriterBusy` when full.
        """
        if self._closing or self._thread is None:
            raise WriterBusy("the receiver is shutting down")
        loop = asyncio.get_running_loop()
        pending = _Pending(
            failures=failures, operations=operations, loop=loop, future=loop.create_future()
        )
        weight = pending.weight
        with self._count_lock:
            waiting = self._queued_failures
            if waiting and waiting + weight > self._max_queued_failures:
                raise WriterBusy(f"the write queue is full ({waiting} rows waiting)")
            try:
                self._queue.put_nowait(pending)
            except queue.Full:
                raise WriterBusy("the write queue is full") from None
            self._queued_failures += weight
        return pending.future

    def close(self, timeout: float | None = None) -> None:
        """Write everything queued so far, then stop the thread (blocking)."""
        self._closing = True
        if self._thread is None:
            return
        self._queue.put(None)  # blocks only while the writer drains a full queue
        self._thread.join(timeout)

    # -- writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            group, stop = self._take_group()
            if group:
                self._write_group(group)
            if stop:
                return

    def _take_group(self) -> tuple[list[_Pending], bool]:
        first = self._carry if self._carry is not None else self._queue.get()
        self._carry = None
        if first is None:
            return [], True
        group = [first]
        size = first.weight
        while size < self._max_batch_failures:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return group, True
            if size + item.weight > self._max_batch_failures:
                self._carry = item
                break
            group.append(item)
            size += item.weight
        return group, False

    def _write_group(self, group: list[_Pending]) -> None:
        failures = [f for pending in group for f in pending.failures]
        operations = [p.operations for p in group if p.operations is not None]
        with self._count_lock:
            self._queued_failures -= sum(pending.weight for pending in group)
        error = self._attempt(failures, operations)
        if error is None:
            for pending in group:
                _resolve(pending, None)
            return
        if len(group) == 1 or self._is_retryable(error):
            for pending in group:
                _resolve(pending, error)
            return
        for pending in group:
            alone = [] if pending.operations is None else [pending.operations]
            _resolve(pending, self._attempt(pending.failures, alone))

    def _attempt(
        self, failures: Sequence[MatchedFailure], operations: Sequence[OperationCounts]
    ) -> BaseException | None:
        started = time.perf_counter()
        try:
            result = self._write(failures, operations)
        except Exception as exc:  # handed to the waiting request, never lost
            if self._on_error is not None:
                self._on_error(exc, time.perf_counter() - started)
            return exc
        if self._on_commit is not None:
            self._on_commit(result, time.perf_counter() - started)
        return None


def _resolve(pending: _Pending, error: BaseException | None) -> None:
    def settle() -> None:
        if pending.future.done():  # the request was cancelled (client went away)
            return
        if error is None:
            pending.future.set_result(None)
        else:
            pending.future.set_exception(error)

    try:
        pending.loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        pass
