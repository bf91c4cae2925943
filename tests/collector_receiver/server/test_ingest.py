"""OtlpIngest with the real decode, catalog, redactor and store: what is committed, what is
counted, and which outcomes ask the sender to retry."""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from prometheus_client.parser import text_string_to_metric_families

from collector_receiver.catalog import load_catalog
from collector_receiver.otlp import ExtractResult, Signal
from collector_receiver.prepare import FailurePreparer
from collector_receiver.server._batch_writer import GroupCommitWriter
from collector_receiver.server._logging import LOGGER_NAME
from collector_receiver.server.ingest import OtlpIngest, RetryLater
from collector_receiver.server.metrics import ReceiverMetrics
from collector_receiver.store import FailureStore, StoreUnavailable, WriteResult, upgrade
from otel_failcat.redaction import Redactor
from tests.collector_receiver.otlp._helpers import (
    exception_event,
    otlp_json,
    resource,
    span,
    trace_request,
)

PROTOBUF = "application/x-protobuf"
#: Nothing listens on port 1: every connection attempt is refused at once.
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/failcat"


@dataclass
class Rig:
    ingest: OtlpIngest
    metrics: ReceiverMetrics
    committed: list[WriteResult]

    def counter(self, name: str, **labels: str) -> float:
        text = self.metrics.exposition().decode()
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    total += sample.value
        return total


async def _rig(url: str, *, start: bool = True) -> AsyncIterator[Rig]:
    store = FailureStore.from_url(url)
    metrics = ReceiverMetrics()
    committed: list[WriteResult] = []

    def on_commit(result: WriteResult, seconds: float) -> None:  # as the Receiver wires it
        committed.append(result)
        metrics.record_committed(
            result.inserted, [(p.service_name, p.code) for p in result.new_patterns]
        )

    writer: GroupCommitWriter[WriteResult] = GroupCommitWriter(
        store.write_batch,
        max_batch_failures=1000,
        max_queued_requests=8,
        on_commit=on_commit,
        is_retryable_group_error=lambda exc: isinstance(exc, StoreUnavailable),
    )
    if start:
        writer.start()
    preparer = FailurePreparer(load_catalog(), Redactor())
    try:
        yield Rig(OtlpIngest(preparer, writer, metrics), metrics, committed)
    finally:
        await asyncio.to_thread(writer.close, 10)
        store.close()
        metrics.shutdown()


@pytest.fixture
async def rig(sqlite_url: str) -> AsyncIterator[Rig]:
    upgrade(sqlite_url)
    async for value in _rig(sqlite_url):
        yield value


def _body(spans: int, failures: int, service: str = "svc") -> bytes:
    trace_id = secrets.token_bytes(16)
    items = [
        span(
            f"step-{i}",
            trace_id=trace_id,
            span_id=secrets.token_bytes(8),
            attributes={"payload": "x" * 100},
            events=[exception_event("KeyError", f"missing {i}")] if i < failures else [],
        )
        for i in range(spans)
    ]
    return trace_request(items, res=resource(service)).SerializeToString()


async def test_a_large_request_is_decoded_and_matched_off_the_loop_and_committed(
    rig: Rig,
) -> None:
    body = _body(spans=2000, failures=40)
    assert len(body) > 256 * 1024  # takes the worker-thread path for decode and for matching
    outcome = await rig.ingest.export("traces", body, PROTOBUF)
    assert (outcome.items, outcome.rejected, outcome.failures) == (2000, 0, 40)
    assert sum(len(r.inserted) for r in rig.committed) == 40
    assert rig.counter("failcat_failures_total") == 40
    assert rig.counter("failcat_otlp_items_total", outcome="accepted", signal="traces") == 2000
    assert rig.counter("failcat_match_duration_seconds_count") == 1


async def test_a_large_request_does_not_wait_for_the_default_executor(rig: Rig) -> None:
    """Its CPU work has a thread of its own: while every thread of the loop's default executor
    (the query API's reads, readiness pings) is busy, a large request is still handled."""
    loop = asyncio.get_running_loop()
    busy = ThreadPoolExecutor(max_workers=1)
    release = threading.Event()
    loop.set_default_executor(busy)
    blocked = loop.run_in_executor(None, release.wait)
    try:
        outcome = await asyncio.wait_for(
            rig.ingest.export("traces", _body(spans=2000, failures=20), PROTOBUF), timeout=120
        )
        assert not blocked.done()  # the default executor's one thread was busy all along
    finally:
        release.set()
        await blocked
    assert (outcome.items, outcome.failures) == (2000, 20)
    assert sum(len(r.inserted) for r in rig.committed) == 20


async def test_a_repeated_request_counts_its_failures_once(rig: Rig) -> None:
    body = _body(spans=3, failures=2)
    await rig.ingest.export("traces", body, PROTOBUF)
    await rig.ingest.export("traces", body, PROTOBUF)
    assert rig.counter("failcat_failures_total") == 2
    assert sum(r.duplicates for r in rig.committed) == 2


async def test_requests_without_failures_never_touch_the_database() -> None:
    async for rig in _rig(UNREACHABLE):
        outcome = await rig.ingest.export("traces", _body(spans=5, failures=0), PROTOBUF)
        assert outcome.failures == 0
        assert rig.counter("failcat_otlp_items_total", outcome="accepted") == 5
        assert rig.counter("failcat_persist_errors_total") == 0


async def test_an_unreachable_database_asks_the_sender_to_retry() -> None:
    async for rig in _rig(UNREACHABLE):
        with pytest.raises(RetryLater) as retry:
            await rig.ingest.export("traces", _body(spans=2, failures=1), PROTOBUF)
        assert retry.value.reason == "unavailable"
        assert retry.value.retry_after_seconds > 0
        assert rig.counter("failcat_persist_errors_total", reason="unavailable") == 1
        # nothing is counted as accepted: the sender will send these items again
        assert rig.counter("failcat_otlp_items_total") == 0


async def test_a_writer_that_takes_nothing_more_asks_the_sender_to_retry(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    async for rig in _rig(sqlite_url, start=False):
        with pytest.raises(RetryLater) as retry:
            await rig.ingest.export("traces", _body(spans=2, failures=1), PROTOBUF)
        assert retry.value.reason == "queue_full"
        assert rig.counter("failcat_persist_errors_total", reason="queue_full") == 1


async def test_json_bodies_are_decoded_off_the_loop_from_a_smaller_size(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTLP/JSON costs several times protobuf per span, so its worker-thread threshold is
    lower."""
    decoded_in: list[str] = []
    extract = OtlpIngest._extract

    def observed(signal: Signal, body: bytes, content_type: str) -> ExtractResult:
        decoded_in.append(threading.current_thread().name)
        return extract(signal, body, content_type)

    monkeypatch.setattr(OtlpIngest, "_extract", staticmethod(observed))
    request = trace_request(
        [span(f"s{i}", attributes={"payload": "x" * 100}) for i in range(300)], res=resource("svc")
    )
    protobuf = request.SerializeToString()
    as_json = otlp_json(request)
    assert len(protobuf) < 64 * 1024 < len(as_json) < 256 * 1024

    await rig.ingest.export("traces", protobuf, PROTOBUF)
    await rig.ingest.export("traces", as_json, "application/json")
    loop_thread = threading.current_thread().name
    assert decoded_in[0] == loop_thread
    assert decoded_in[1] != loop_thread  # a JSON body this size goes to a worker thread
    assert rig.counter("failcat_otlp_items_total", outcome="accepted") == 600


async def test_a_transaction_the_database_refuses_is_retryable_counted_and_logged(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Not an outage (a table is missing): still nothing is stored, and the sender retries."""
    upgrade(sqlite_url)
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        conn.execute("DROP TABLE failure_patterns")
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    async for rig in _rig(sqlite_url):
        for _ in range(2):
            with pytest.raises(RetryLater) as retry:
                await rig.ingest.export("traces", _body(spans=2, failures=1), PROTOBUF)
            assert retry.value.reason == "store_error"
            assert retry.value.retry_after_seconds > 0
        assert rig.counter("failcat_persist_errors_total", reason="store_error") == 2
        assert rig.counter("failcat_persist_errors_total", reason="unavailable") == 0
        assert rig.counter("failcat_otlp_items_total") == 0
        assert rig.counter("failcat_failures_total") == 0
    lines = [r for r in caplog.records if getattr(r, "event", None) == "write_failed"]
    assert len(lines) == 1  # two refusals, one line with the reason
    assert "failure_patterns" in str(getattr(lines[0], "fields", {}).get("error"))


async def test_operation_counts_are_stored_redacted_as_the_failures_are(
    rig: Rig, sqlite_url: str
) -> None:
    """A secret in a GenAI span's service name or context never reaches gen_ai_operations, and
    the stored values agree with those of the request's failures (same redaction, same cut)."""
    key = "sk-proj-" + "Q7r8S9t0A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"
    agent = f"planner {key}"
    items = [
        span(
            "invoke_agent planner",
            span_id=secrets.token_bytes(8),
            attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent},
            events=[exception_event("KeyError", "missing plan")],
        )
    ]
    body = trace_request(items, res=resource(f"svc {key}")).SerializeToString()
    outcome = await rig.ingest.export("traces", body, PROTOBUF)
    assert outcome.failures == 1
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as connection:
        operations = connection.execute(
            "SELECT service_name, gen_ai_agent, operations FROM gen_ai_operations"
        ).fetchall()
        failures = connection.execute(
            "SELECT service_name, gen_ai_agent FROM failure_matches"
        ).fetchall()
    assert len(operations) == 1
    service, stored_agent, count = operations[0]
    assert count == 1
    assert key not in service and key not in stored_agent
    assert "[REDACTED" in service and stored_agent.startswith("planner ")
    assert failures == [(service, stored_agent)]
