"""A saturated receiver answers retryably on both listeners and loses nothing: too many request
bytes in flight (``overloaded``) and a full write queue (``queue_full``) get HTTP 503 with
``Retry-After`` and gRPC ``UNAVAILABLE``, are counted by reason, are logged once, and the same
requests are stored when sent again.

The real OTLP/HTTP app and grpc.aio server, the real decode, catalog and SQLite store; the only
addition is a gate in front of ``FailureStore.write_batch`` that holds the writer thread inside
a transaction so that requests stay in flight for as long as the test needs.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import secrets
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import aiohttp
import grpc
import pytest
from aiohttp import web
from grpc import aio
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from prometheus_client.parser import text_string_to_metric_families

from collector_receiver.catalog import load_catalog
from collector_receiver.events import MatchedFailure, OperationCounts
from collector_receiver.prepare import FailurePreparer
from collector_receiver.server._batch_writer import GroupCommitWriter
from collector_receiver.server._inflight import InflightBytes
from collector_receiver.server._logging import LOGGER_NAME
from collector_receiver.server.ingest import OtlpIngest
from collector_receiver.server.metrics import ReceiverMetrics
from collector_receiver.server.otlp_grpc import build_grpc_server
from collector_receiver.server.otlp_http import build_otlp_http_app
from collector_receiver.store import FailureStore, WriteResult, upgrade
from otel_failcat.redaction import Redactor
from tests.collector_receiver.otlp._helpers import exception_event, resource, span, trace_request
from tests.e2e._support import stored_failures

PROTOBUF = {"Content-Type": "application/x-protobuf"}
TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
MAX_REQUEST = 1024 * 1024


@dataclass
class Listeners:
    http: str
    grpc: str
    url: str
    metrics: ReceiverMetrics
    entered: threading.Event
    gate: threading.Event

    def counter(self, name: str, **labels: str) -> float:
        total = 0.0
        for family in text_string_to_metric_families(self.metrics.exposition().decode()):
            for sample in family.samples:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    total += sample.value
        return total

    async def held_in_writer(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 10), "the writer never started"


async def _listeners(
    sqlite_url: str, port: int, inflight_limit: int, queued_requests: int
) -> AsyncIterator[Listeners]:
    upgrade(sqlite_url)
    store = FailureStore.from_url(sqlite_url)
    metrics = ReceiverMetrics()
    entered, gate = threading.Event(), threading.Event()

    def gated_write(
        failures: Sequence[MatchedFailure], operations: Sequence[OperationCounts]
    ) -> WriteResult:
        entered.set()
        gate.wait(10)
        return store.write_batch(failures, operations)

    writer: GroupCommitWriter[WriteResult] = GroupCommitWriter(
        gated_write,
        max_batch_failures=1,  # one request per transaction: the queue fills predictably
        max_queued_requests=queued_requests,
        on_commit=lambda result, _: metrics.record_committed(result.inserted, []),
    )
    writer.start()
    ingest = OtlpIngest(
        FailurePreparer(load_catalog(), Redactor()), writer, metrics, InflightBytes(inflight_limit)
    )
    runner = web.AppRunner(build_otlp_http_app(ingest, MAX_REQUEST))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    server = build_grpc_server(ingest, MAX_REQUEST)
    grpc_port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield Listeners(
            f"http://127.0.0.1:{port}/v1/traces",
            f"127.0.0.1:{grpc_port}",
            sqlite_url,
            metrics,
            entered,
            gate,
        )
    finally:
        gate.set()
        await server.stop(None)
        await runner.cleanup()
        await asyncio.to_thread(writer.close, 10)
        store.close()
        metrics.shutdown()


@pytest.fixture
async def overloaded(sqlite_url: str, unused_tcp_port: int) -> AsyncIterator[Listeners]:
    # Room for about one small request: a second one in flight does not fit.
    async for value in _listeners(sqlite_url, unused_tcp_port, 1500, queued_requests=8):
        yield value


@pytest.fixture
async def queue_of_one(sqlite_url: str, unused_tcp_port: int) -> AsyncIterator[Listeners]:
    async for value in _listeners(sqlite_url, unused_tcp_port, 1 << 30, queued_requests=1):
        yield value


def _failure(service: str, padding: int = 0, *, random_padding: bool = False) -> bytes:
    spans = [
        span(
            "call",
            trace_id=secrets.token_bytes(16),
            span_id=secrets.token_bytes(8),
            attributes={"padding": secrets.token_hex(padding) if random_padding else "x" * padding},
            events=[exception_event("TimeoutError", "slow upstream")],
        )
    ]
    return trace_request(spans, res=resource(service)).SerializeToString()


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes
) -> tuple[int, dict[str, str], bytes]:
    async with session.post(url, data=body, headers=PROTOBUF) as answer:
        return answer.status, dict(answer.headers), await answer.read()


async def _grpc_export(target: str, body: bytes) -> bytes:
    async with aio.insecure_channel(target) as channel:
        answer: bytes = await channel.unary_unary(TRACE_EXPORT)(body, timeout=10)
        return answer


def _services(listeners: Listeners) -> list[str]:
    return sorted(str(row["service_name"]) for row in stored_failures(listeners.url))


async def test_too_many_bytes_in_flight_is_retryable_counted_and_logged_once(
    overloaded: Listeners, caplog: pytest.LogCaptureFixture
) -> None:
    first = _failure("svc-first", padding=600)
    later = _failure("svc-later", padding=600)
    assert len(first) < 1500 < 2 * len(first)
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    async with aiohttp.ClientSession() as session:
        held = asyncio.ensure_future(_post(session, overloaded.http, first))
        await overloaded.held_in_writer()

        status, headers, reason = await _post(session, overloaded.http, later)
        assert status == 503, reason
        assert int(headers["Retry-After"]) >= 1
        assert b"in flight" in reason
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _grpc_export(overloaded.grpc, later)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert overloaded.counter("failcat_persist_errors_total", reason="overloaded") == 2
        # nothing of the refused request is counted: its sender sends it again
        assert overloaded.counter("failcat_otlp_items_total", outcome="accepted") == 0

        overloaded.gate.set()
        assert (await held)[0] == 200
        assert (await _post(session, overloaded.http, later))[0] == 200
    assert _services(overloaded) == ["svc-first", "svc-later"]
    assert overloaded.counter("failcat_otlp_items_total", outcome="accepted") == 2
    assert overloaded.counter("failcat_failures_total") == 2
    lines = [r for r in caplog.records if getattr(r, "event", None) == "overloaded"]
    assert len(lines) == 1  # two refusals, one line


async def test_a_request_larger_than_the_bound_is_taken_when_alone(overloaded: Listeners) -> None:
    overloaded.gate.set()
    big = _failure("svc-big", padding=4000)
    assert len(big) > 1500
    async with aiohttp.ClientSession() as session:
        assert (await _post(session, overloaded.http, big))[0] == 200
    answer = ExportTraceServiceResponse.FromString(await _grpc_export(overloaded.grpc, big))
    assert answer.partial_success.rejected_spans == 0
    assert _services(overloaded) == ["svc-big"]  # the second delivery was a duplicate
    assert overloaded.counter("failcat_persist_errors_total") == 0


async def test_a_full_write_queue_is_retryable_on_both_listeners(queue_of_one: Listeners) -> None:
    async with aiohttp.ClientSession() as session:
        writing = asyncio.ensure_future(_post(session, queue_of_one.http, _failure("svc-a")))
        await queue_of_one.held_in_writer()
        waiting = asyncio.ensure_future(_post(session, queue_of_one.http, _failure("svc-b")))
        while queue_of_one.counter("failcat_match_duration_seconds_count") < 2:
            await asyncio.sleep(0.01)  # svc-b matched; it is queued behind svc-a next
        await asyncio.sleep(0.05)

        status, headers, _ = await _post(session, queue_of_one.http, _failure("svc-c"))
        assert status == 503
        assert int(headers["Retry-After"]) >= 1
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _grpc_export(queue_of_one.grpc, _failure("svc-d"))
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert queue_of_one.counter("failcat_persist_errors_total", reason="queue_full") == 2

        queue_of_one.gate.set()
        assert [(await writing)[0], (await waiting)[0]] == [200, 200]
    assert _services(queue_of_one) == ["svc-a", "svc-b"]
    assert queue_of_one.counter("failcat_failures_total") == 2


async def test_a_large_gzip_body_is_inflated_and_stored(overloaded: Listeners) -> None:
    overloaded.gate.set()
    packed = gzip.compress(_failure("svc-gzip", padding=100_000, random_padding=True))
    assert len(packed) > 64 * 1024  # inflated in a worker thread
    async with aiohttp.ClientSession() as session:
        async with session.post(
            overloaded.http, data=packed, headers={**PROTOBUF, "Content-Encoding": "gzip"}
        ) as answer:
            assert answer.status == 200, await answer.text()
    assert _services(overloaded) == ["svc-gzip"]
