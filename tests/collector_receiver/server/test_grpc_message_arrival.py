"""The gRPC listener before a call's message has arrived: the call is refused ``UNAVAILABLE``
(counted ``overloaded``) before anything is read when the in-flight budget is full, ends
``DEADLINE_EXCEEDED`` when the message does not arrive within the read timeout (and holds no
budget afterwards), and a call closed without a message is ``INVALID_ARGUMENT``.

A real grpc.aio server on a real socket with the real ingest, catalog and SQLite store; the
clients are real grpc.aio client-streaming calls whose request iterator decides when (or
whether) the one message is sent — on the wire the same as a unary call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from grpc import aio
from prometheus_client.parser import text_string_to_metric_families

from collector_receiver.catalog import load_catalog
from collector_receiver.prepare import FailurePreparer
from collector_receiver.server._batch_writer import GroupCommitWriter
from collector_receiver.server._inflight import InflightBytes
from collector_receiver.server.ingest import OtlpIngest
from collector_receiver.server.metrics import ReceiverMetrics
from collector_receiver.server.otlp_grpc import build_grpc_server
from collector_receiver.store import FailureStore, WriteResult, upgrade
from otel_failcat.redaction import Redactor
from tests.collector_receiver.otlp._helpers import resource, span, trace_request

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
MAX_REQUEST = 1024 * 1024
LIMIT = 4 * MAX_REQUEST
READ_TIMEOUT = 0.5


@dataclass
class Listener:
    endpoint: str
    budget: InflightBytes
    metrics: ReceiverMetrics

    def overloaded(self) -> float:
        for family in text_string_to_metric_families(self.metrics.exposition().decode()):
            for sample in family.samples:
                if (
                    sample.name == "failcat_persist_errors_total"
                    and sample.labels.get("reason") == "overloaded"
                ):
                    return sample.value
        return 0.0


@pytest.fixture
async def listener(sqlite_url: str) -> AsyncIterator[Listener]:
    upgrade(sqlite_url)
    store = FailureStore.from_url(sqlite_url)
    metrics = ReceiverMetrics()
    writer: GroupCommitWriter[WriteResult] = GroupCommitWriter(
        store.write_batch, max_batch_failures=100, max_queued_requests=8
    )
    writer.start()
    budget = InflightBytes(LIMIT)
    ingest = OtlpIngest(FailurePreparer(load_catalog(), Redactor()), writer, metrics, budget)
    server = build_grpc_server(ingest, MAX_REQUEST, read_timeout=READ_TIMEOUT)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield Listener(f"127.0.0.1:{port}", budget, metrics)
    finally:
        await server.stop(None)
        await asyncio.to_thread(writer.close, 10)
        store.close()
        metrics.shutdown()


def _good_request() -> bytes:
    return trace_request([span()], res=resource("svc-arrival")).SerializeToString()


async def _message_after(event: asyncio.Event, body: bytes | None) -> AsyncIterator[bytes]:
    """The call's messages: ``body`` once ``event`` is set (None: close without one)."""
    await event.wait()
    if body is not None:
        yield body


async def _call(endpoint: str, messages: AsyncIterator[bytes]) -> grpc.StatusCode:
    code, _ = await _call_details(endpoint, messages)
    return code


async def _call_details(
    endpoint: str, messages: AsyncIterator[bytes]
) -> tuple[grpc.StatusCode, str]:
    async with aio.insecure_channel(endpoint) as channel:
        export = channel.stream_unary(TRACE_EXPORT)
        try:
            await export(messages, timeout=10)
        except aio.AioRpcError as error:
            return error.code(), error.details() or ""
        return grpc.StatusCode.OK, ""


async def test_a_full_budget_refuses_a_call_before_reading_it(listener: Listener) -> None:
    assert listener.budget.try_grow(0, LIMIT)  # another request holds everything
    never = asyncio.Event()
    # The message never comes: only a refusal before reading can answer before the timeout.
    code = await asyncio.wait_for(
        _call(listener.endpoint, _message_after(never, _good_request())), READ_TIMEOUT / 2
    )
    assert code == grpc.StatusCode.UNAVAILABLE
    assert listener.overloaded() == 1
    listener.budget.release(LIMIT)
    assert await _call(listener.endpoint, _message_after(_set(), _good_request())) == (
        grpc.StatusCode.OK
    )


async def test_a_message_that_does_not_arrive_in_time_ends_the_call(listener: Listener) -> None:
    never = asyncio.Event()
    code, details = await _call_details(listener.endpoint, _message_after(never, _good_request()))
    assert code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "--read-timeout" in details  # ended by the receiver, not by the client's deadline
    assert listener.budget.held == 0


async def test_a_call_closed_without_a_message_is_invalid(listener: Listener) -> None:
    code = await _call(listener.endpoint, _message_after(_set(), None))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert listener.budget.held == 0


def _set() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event
