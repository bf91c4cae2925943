"""A gRPC connection without a call for the idle timeout is closed by the receiver (HTTP/2
GOAWAY), so idle sockets do not pile up; the client reconnects for its next call.

A real grpc.aio server on a real socket and a real grpc.aio client channel, whose state shows
the server going away: READY while connected, IDLE once the connection is closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio

from collector_receiver.catalog import load_catalog
from collector_receiver.pipeline import FailurePreparer
from collector_receiver.server._batch_writer import GroupCommitWriter
from collector_receiver.server.ingest import OtlpIngest
from collector_receiver.server.metrics import ReceiverMetrics
from collector_receiver.server.otlp_grpc import build_grpc_server
from collector_receiver.store import FailureStore, WriteResult, upgrade
from otel_failcat.redaction import Redactor
from tests.collector_receiver.otlp._helpers import resource, span, trace_request

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


@pytest.fixture
async def endpoint(sqlite_url: str) -> AsyncIterator[str]:
    upgrade(sqlite_url)
    store = FailureStore.from_url(sqlite_url)
    metrics = ReceiverMetrics()
    writer: GroupCommitWriter[WriteResult] = GroupCommitWriter(
        store.write_batch, max_batch_failures=100, max_queued_requests=8
    )
    writer.start()
    ingest = OtlpIngest(FailurePreparer(load_catalog(), Redactor()), writer, metrics)
    server = build_grpc_server(ingest, 1024 * 1024, idle_timeout=0.5)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)
        await asyncio.to_thread(writer.close, 10)
        store.close()
        metrics.shutdown()


async def test_an_idle_connection_is_closed_and_the_next_call_reconnects(endpoint: str) -> None:
    body = trace_request([span()], res=resource("svc-idle")).SerializeToString()
    async with aio.insecure_channel(endpoint) as channel:
        export = channel.unary_unary(TRACE_EXPORT)
        await export(body, timeout=10)
        assert channel.get_state() == grpc.ChannelConnectivity.READY
        # The client's own idle timeout is 30 minutes: only the server can end it this soon.
        await asyncio.wait_for(
            channel.wait_for_state_change(grpc.ChannelConnectivity.READY), timeout=20
        )
        assert channel.get_state() == grpc.ChannelConnectivity.IDLE
        await export(body, timeout=10)
