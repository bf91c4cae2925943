"""One OTLP export request, transport-agnostic: decode → extract → prepare → group commit.

Both listeners (gRPC and HTTP) call :meth:`OtlpIngest.export` with the request's body (already
inflated) and content type, and turn what it returns or raises into their own statuses:

* returns :class:`ExportOutcome` — the failures are committed (or there were none); answer OK
  with OTLP partial success when ``rejected`` > 0;
* raises :class:`~collector_receiver.otlp.DecodeError` (and its subclasses) — the sender's
  mistake, do not retry;
* raises :class:`RetryLater` — nothing was stored (write queue full, database unavailable or a
  failed transaction); answer retryably so the sender keeps the data.

A request without failures (the common case) is acknowledged without touching the database.
The CPU work of a large request (decode, walk, match) runs in a worker thread so the event loop
keeps serving other requests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from collector_receiver.events import MatchedFailure
from collector_receiver.otlp import Signal, decode_request, extract_failures
from collector_receiver.pipeline import FailurePreparer
from collector_receiver.server._batch_writer import GroupCommitWriter, WriterBusy
from collector_receiver.server._logging import log_event
from collector_receiver.server.metrics import PersistErrorReason, ReceiverMetrics
from collector_receiver.store import StoreUnavailable

#: Bodies above this size are decoded and matched in a worker thread (measured: a 256 KiB
#: protobuf takes a few milliseconds to walk — longer than we want to stall the loop).
_THREAD_THRESHOLD_BYTES = 256 * 1024


@dataclass(frozen=True)
class ExportOutcome:
    """The answer to a successful export: how many items were rejected, and why."""

    items: int
    rejected: int
    message: str
    failures: int


class RetryLater(Exception):
    """Nothing of the request was stored; the sender should send it again later."""

    def __init__(self, reason: PersistErrorReason, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class _Prepared:
    failures: list[MatchedFailure]
    items: int
    rejected: int
    message: str


class OtlpIngest:
    """Turns OTLP request bodies into committed failures and counted items."""

    def __init__(
        self,
        preparer: FailurePreparer,
        writer: GroupCommitWriter[Any],
        metrics: ReceiverMetrics,
    ) -> None:
        self._preparer = preparer
        self._writer = writer
        self._metrics = metrics

    async def export(self, signal: Signal, body: bytes, content_type: str) -> ExportOutcome:
        """Decode, match and commit one request's failures; see the module doc for outcomes."""
        started = time.perf_counter()
        try:
            if len(body) > _THREAD_THRESHOLD_BYTES:
                prepared = await asyncio.to_thread(self._prepare, signal, body, content_type)
            else:
                prepared = self._prepare(signal, body, content_type)
            if prepared.failures:
                await self._commit(prepared.failures)
            self._metrics.record_items(
                signal, prepared.items - prepared.rejected, prepared.rejected
            )
            return ExportOutcome(
                items=prepared.items,
                rejected=prepared.rejected,
                message=prepared.message,
                failures=len(prepared.failures),
            )
        finally:
            self._metrics.record_request_duration(signal, time.perf_counter() - started)

    def _prepare(self, signal: Signal, body: bytes, content_type: str) -> _Prepared:
        request = decode_request(signal, body, content_type)
        extracted = extract_failures(signal, request)
        failures: list[MatchedFailure] = []
        if extracted.events:
            match_started = time.perf_counter()
            failures = [matched for matched, _ in self._preparer.prepare(extracted.events)]
            self._metrics.record_match_duration(time.perf_counter() - match_started)
        return _Prepared(
            failures=failures,
            items=extracted.items,
            rejected=extracted.rejected,
            message=extracted.error_message,
        )

    async def _commit(self, failures: list[MatchedFailure]) -> None:
        try:
            await self._writer.submit(failures)
        except WriterBusy as exc:
            self._metrics.record_persist_error("queue_full")
            raise RetryLater("queue_full", str(exc), retry_after_seconds=1) from None
        except StoreUnavailable as exc:
            self._metrics.record_persist_error("unavailable")
            raise RetryLater(
                "unavailable", f"the database is unavailable: {exc}", retry_after_seconds=5
            ) from None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # StoreError or a bug: nothing stored, the sender retries
            self._metrics.record_persist_error("store_error")
            log_event("write_failed", logging.WARNING, error=f"{type(exc).__name__}: {exc}")
            raise RetryLater(
                "store_error", "the failures could not be stored", retry_after_seconds=5
            ) from None
