"""One OTLP export request, transport-agnostic: decode → extract → prepare → the failure sink.

Both listeners (gRPC and HTTP) call :meth:`OtlpIngest.export` with the request's body (already
inflated) and content type. It returns or raises one of the outcomes of
:mod:`collector_receiver.server._export_errors`, which the listeners turn into their statuses
through that module's one table:

* returns :class:`ExportOutcome` — the failures are committed (or there were none); answer OK
  with OTLP partial success when ``rejected`` > 0;
* raises :class:`~collector_receiver.otlp.DecodeError` (and its subclasses) — a permanent
  refusal, the sender's mistake: do not retry;
* raises :class:`RetryLater` — nothing was stored (reason ``queue_full``, ``unavailable`` or
  ``store_error``); answer retryably so the sender keeps the data. Each is counted as a persist
  error by its reason.

The failure sink is the group-commit writer (:mod:`collector_receiver.server._batch_writer`),
which acknowledges a request only once its failures, and the counts of its GenAI operations
(``ExtractResult.operations``), are committed. A request with neither (the common case outside
GenAI traffic) is acknowledged without touching the database. The CPU work of a large
request (decode, walk, match) runs in the ingest thread (one per process, of its own: see
:data:`_CPU_THREADS`) so the event loop keeps serving other requests.

While a listener reads and decodes a body it holds an :meth:`OtlpIngest.admission`, grown to
what the request holds as it goes (see :mod:`collector_receiver.server._inflight`); a growth
that does not fit raises :class:`RetryLater` with reason ``overloaded``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from collector_receiver.events import FailureEvent, MatchedFailure, OperationCounts
from collector_receiver.otlp import ExtractResult, Signal, decode_request, extract_failures
from collector_receiver.prepare import FailurePreparer
from collector_receiver.server._batch_writer import GroupCommitWriter, WriterBusy
from collector_receiver.server._export_errors import RetryLater
from collector_receiver.server._inflight import InflightBytes
from collector_receiver.server._logging import ThrottledEvent
from collector_receiver.server.metrics import ReceiverMetrics
from collector_receiver.store import StoreUnavailable

# The thresholds below keep any one request's work on the event loop to a few milliseconds;
# under them the worker-thread hand-off costs more than it saves. The costs they rest on are
# measured by the benchmarks named, which print them; re-run those rather than trust a figure
# quoted here (the last run, on a shared 2-core machine, is given only as a scale).

#: Bodies above this size are decoded and walked in a worker thread. ``bench_extract.py``, line
#: (b): protobuf cost about 8 µs per KiB, so 256 KiB stays near 2 ms on the loop.
_THREAD_THRESHOLD_BYTES = 256 * 1024
#: The same for OTLP/JSON, which costs several times protobuf per span (``bench_extract.py``,
#: line (c): about 40 µs per KiB, so 32 KiB stays near 1.5 ms).
_THREAD_THRESHOLD_JSON_BYTES = 32 * 1024
#: Requests with more failures than this are redacted and matched in a worker thread
#: (``bench_prepare.py``: about 0.25 ms per failure with the default catalog, redaction of
#: stacktraces and attributes the largest part).
_THREAD_THRESHOLD_FAILURES = 8

#: Threads that run the work over those thresholds. One: the work holds the GIL, so a second
#: thread adds no throughput, only a switch between requests every 5 ms
#: (``sys.getswitchinterval``), and each request finishes sooner in turn than all of them
#: together. With four 2,000-span requests at once, one thread spent 23.0 ms of receiver CPU
#: per request against 24.6 ms on the default executor's six (``bench_ingest_e2e.py``, 1 %
#: failing, means of four alternating runs each). The price: a request waits for the one before
#: it (a 64 MiB protobuf request is walked in about 1.5 s here). More cores come from
#: ``--workers``. A pool of its own also keeps this work from delaying the default executor's
#: short jobs (query API reads, readiness pings, the metrics exposition).
_CPU_THREADS = 1

T = TypeVar("T")


@dataclass(frozen=True)
class ExportOutcome:
    """The answer to a successful export: how many items were rejected, and why."""

    items: int
    rejected: int
    message: str
    failures: int


class OtlpIngest:
    """Turns OTLP request bodies into committed failures and counted items."""

    def __init__(
        self,
        preparer: FailurePreparer,
        writer: GroupCommitWriter[Any],
        metrics: ReceiverMetrics,
        inflight: InflightBytes | None = None,
    ) -> None:
        self._preparer = preparer
        self._writer = writer
        self._metrics = metrics
        self._inflight = inflight
        # Lives as long as the receiver; its thread starts with the first heavy request and
        # ends when this object is collected or the interpreter exits.
        self._cpu = ThreadPoolExecutor(_CPU_THREADS, thread_name_prefix="failcat-ingest")
        self._overloaded_log = ThrottledEvent("overloaded")
        self._queue_full_log = ThrottledEvent("write_queue_full")
        self._write_failed_log = ThrottledEvent("write_failed")

    @asynccontextmanager
    async def admission(self, size: int) -> AsyncIterator[Admission]:
        """Hold ``size`` bytes of the in-flight budget while the request is handled.

        Raises :class:`RetryLater` (reason ``overloaded``, counted) when they do not fit, now
        or when :meth:`Admission.grow` is called. Without a budget everything is admitted.
        """
        admission = Admission(self._inflight, self._overloaded)
        admission.grow(size)
        try:
            yield admission
        finally:
            admission.release()

    def _overloaded(self, held: int, limit: int) -> None:
        """Count and log (throttled) an admission refused for want of in-flight budget."""
        self._metrics.record_persist_error("overloaded")
        self._overloaded_log.occurred(inflight_bytes=held, max_inflight_bytes=limit)

    async def export(self, signal: Signal, body: bytes, content_type: str) -> ExportOutcome:
        """Decode, match and commit one request's failures; see the module doc for outcomes."""
        started = time.perf_counter()
        try:
            threshold = (
                _THREAD_THRESHOLD_JSON_BYTES
                if content_type == "application/json"
                else _THREAD_THRESHOLD_BYTES
            )
            extracted = await self._maybe_in_thread(
                len(body) > threshold, self._extract, signal, body, content_type
            )
            failures: list[MatchedFailure] = []
            if extracted.events:
                failures = await self._maybe_in_thread(
                    len(extracted.events) > _THREAD_THRESHOLD_FAILURES,
                    self._match,
                    extracted.events,
                )
            operations = extracted.operations
            if operations is not None:
                # Their service names and context values are stored and become labels, so they
                # are redacted and cut as a failure's are (and then agree with the failures').
                operations = self._preparer.prepare_operations(operations)
            if failures or operations is not None:
                # The operation counts go into the transaction of the request's failures: a
                # request acknowledged has both committed, one refused has neither.
                await self._commit(failures, operations)
            self._metrics.record_items(
                signal, extracted.items - extracted.rejected, extracted.rejected
            )
            return ExportOutcome(
                items=extracted.items,
                rejected=extracted.rejected,
                message=extracted.error_message,
                failures=len(failures),
            )
        finally:
            self._metrics.record_request_duration(signal, time.perf_counter() - started)

    async def _maybe_in_thread(self, in_thread: bool, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in the ingest thread when it is heavy, else inline (cheaper)."""
        if in_thread:
            return await asyncio.get_running_loop().run_in_executor(self._cpu, function, *args)
        return function(*args)

    @staticmethod
    def _extract(signal: Signal, body: bytes, content_type: str) -> ExtractResult:
        return extract_failures(signal, decode_request(signal, body, content_type))

    def _match(self, events: Sequence[FailureEvent]) -> list[MatchedFailure]:
        match_started = time.perf_counter()
        failures = [matched for matched, _ in self._preparer.prepare(events)]
        self._metrics.record_match_duration(time.perf_counter() - match_started)
        return failures

    async def _commit(
        self, failures: list[MatchedFailure], operations: OperationCounts | None
    ) -> None:
        try:
            await self._writer.submit(failures, operations)
        except WriterBusy as exc:
            self._metrics.record_persist_error("queue_full")
            self._queue_full_log.occurred(reason=str(exc))
            raise RetryLater("queue_full", str(exc)) from None
        except StoreUnavailable as exc:
            self._metrics.record_persist_error("unavailable")
            raise RetryLater("unavailable", f"the database is unavailable: {exc}") from None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # StoreError or a bug: nothing stored, the sender retries
            self._metrics.record_persist_error("store_error")
            self._write_failed_log.occurred(error=f"{type(exc).__name__}: {exc}")
            raise RetryLater("store_error", "the failures could not be stored") from None


class Admission:
    """A request's share of the in-flight budget; see :meth:`OtlpIngest.admission`."""

    def __init__(
        self, budget: InflightBytes | None, on_refused: Callable[[int, int], None]
    ) -> None:
        self._budget = budget
        #: Told ``(held, limit)`` of the budget when a growth is refused (to count and log it).
        self._on_refused = on_refused
        self._held = 0

    def grow(self, size: int) -> None:
        """Hold ``size`` bytes in all (the body so far, then inflated and decoded); RetryLater
        if over. Called once per chunk received, so it stays a comparison and an addition."""
        budget = self._budget
        if budget is None or size <= self._held:
            return
        if not budget.try_grow(self._held, size):
            held, limit = budget.held, budget.limit
            self._on_refused(held, limit)
            raise RetryLater(
                "overloaded", f"too many request bytes in flight ({held} of {limit}); retry later"
            )
        self._held = size

    def release(self) -> None:
        if self._budget is not None:
            self._budget.release(self._held)
        self._held = 0


__all__ = [
    "Admission",
    "ExportOutcome",
    "OtlpIngest",
    "RetryLater",
]
