"""A gRPC connection without a call for the idle timeout is closed by the receiver (HTTP/2
GOAWAY), so idle sockets do not pile up, and the client reconnects for its next call; so is a
connection that never sends the HTTP/2 preface, or never finishes its TLS handshake.

A real grpc.aio server on real sockets (with TLS from a throwaway certificate); a real grpc.aio
client channel, whose state shows the server going away (READY while connected, IDLE once the
connection is closed), and raw sockets that connect and say nothing.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc import aio

from collector_receiver.catalog import load_catalog
from collector_receiver.prepare import FailurePreparer
from collector_receiver.server._batch_writer import GroupCommitWriter
from collector_receiver.server.ingest import OtlpIngest
from collector_receiver.server.metrics import ReceiverMetrics
from collector_receiver.server.otlp_grpc import build_grpc_server
from collector_receiver.store import FailureStore, WriteResult, upgrade
from otel_failcat.redaction import Redactor
from tests.collector_receiver.otlp._helpers import resource, span, trace_request
from tests.support.tls_certificates import make_certificates

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


IDLE_TIMEOUT = 0.5


@pytest.fixture
async def ingest(sqlite_url: str) -> AsyncIterator[OtlpIngest]:
    upgrade(sqlite_url)
    store = FailureStore.from_url(sqlite_url)
    metrics = ReceiverMetrics()
    writer: GroupCommitWriter[WriteResult] = GroupCommitWriter(
        store.write_batch, max_batch_failures=100, max_queued_requests=8
    )
    writer.start()
    try:
        yield OtlpIngest(FailurePreparer(load_catalog(), Redactor()), writer, metrics)
    finally:
        await asyncio.to_thread(writer.close, 10)
        store.close()
        metrics.shutdown()


@pytest.fixture
async def endpoint(ingest: OtlpIngest) -> AsyncIterator[str]:
    server = build_grpc_server(ingest, 1024 * 1024, idle_timeout=IDLE_TIMEOUT)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


@pytest.fixture
async def tls_port(ingest: OtlpIngest, tmp_path: Path) -> AsyncIterator[int]:
    certificates = make_certificates(tmp_path)
    credentials = grpc.ssl_server_credentials(
        [(certificates.server_key.read_bytes(), certificates.server_cert.read_bytes())]
    )
    server = build_grpc_server(ingest, 1024 * 1024, idle_timeout=IDLE_TIMEOUT)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    try:
        yield port
    finally:
        await server.stop(None)


def _closed_by_the_server(port: int) -> bool:
    """Connect, send nothing; whether the server closes the connection (the library's own
    handshake timeout, 120 s, would outlast the 20 s we wait)."""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.settimeout(20)
        try:
            while connection.recv(4096):
                pass
        except TimeoutError:
            return False
        return True


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


async def test_a_connection_that_never_sends_the_preface_is_closed(endpoint: str) -> None:
    port = int(endpoint.rsplit(":", 1)[1])
    assert await asyncio.to_thread(_closed_by_the_server, port)


async def test_a_connection_that_never_finishes_its_tls_handshake_is_closed(tls_port: int) -> None:
    assert await asyncio.to_thread(_closed_by_the_server, tls_port)
