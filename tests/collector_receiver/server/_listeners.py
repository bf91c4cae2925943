"""Real aiohttp listeners of the receiver (OTLP/HTTP over a real SQLite store, and the 9464 app)
on real sockets in the test process, plus raw-socket helpers to talk to them like a slow or
idle client would."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from collector_receiver.catalog import load_catalog
from collector_receiver.prepare import FailurePreparer
from collector_receiver.server._batch_writer import GroupCommitWriter
from collector_receiver.server._inflight import InflightBytes
from collector_receiver.server.ingest import OtlpIngest
from collector_receiver.server.metrics import ReceiverMetrics
from collector_receiver.server.ops_http import build_api_app
from collector_receiver.server.otlp_http import build_otlp_http_app
from collector_receiver.store import FailureStore, WriteResult, upgrade
from otel_failcat.redaction import Redactor
from tests.collector_receiver.otlp._helpers import exception_event, resource, span, trace_request


@dataclass
class Listener:
    port: int
    budget: InflightBytes

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/traces"


@asynccontextmanager
async def otlp_http_listener(
    sqlite_url: str,
    port: int,
    *,
    inflight_limit: int = 1 << 30,
    max_request: int = 1 << 20,
    read_timeout: float = 30.0,
    idle_timeout: float = 60.0,
    auth_token: str | None = None,
) -> AsyncIterator[Listener]:
    """The OTLP/HTTP app on ``port`` with its in-flight budget exposed."""
    upgrade(sqlite_url)
    store = FailureStore.from_url(sqlite_url)
    metrics = ReceiverMetrics()
    writer: GroupCommitWriter[WriteResult] = GroupCommitWriter(
        store.write_batch, max_batch_failures=100, max_queued_requests=16
    )
    writer.start()
    budget = InflightBytes(inflight_limit)
    ingest = OtlpIngest(FailurePreparer(load_catalog(), Redactor()), writer, metrics, budget)
    app = build_otlp_http_app(
        ingest, max_request, auth_token, read_timeout=read_timeout, idle_timeout=idle_timeout
    )
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield Listener(port, budget)
    finally:
        await runner.cleanup()
        await asyncio.to_thread(writer.close, 10)
        store.close()
        metrics.shutdown()


@asynccontextmanager
async def api_listener(
    port: int, *, read_timeout: float = 30.0, idle_timeout: float = 60.0
) -> AsyncIterator[int]:
    """The 9464 app (metrics, health) on ``port``; yields the port."""
    metrics = ReceiverMetrics()

    async def ready() -> str | None:
        return None

    app = build_api_app(metrics, ready, read_timeout=read_timeout, idle_timeout=idle_timeout)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()
        metrics.shutdown()


def failing_request(service: str, padding: int = 0) -> bytes:
    """A valid protobuf trace export with one failure, padded by about ``padding`` bytes."""
    spans = [
        span(
            "call",
            trace_id=secrets.token_bytes(16),
            span_id=secrets.token_bytes(8),
            attributes={"padding": "x" * padding},
            events=[exception_event("TimeoutError", "slow upstream")],
        )
    ]
    return trace_request(spans, res=resource(service)).SerializeToString()


def post_head(path: str, content_length: int | None, *, chunked: bool = False) -> bytes:
    """The request line and headers of a protobuf POST, as a raw client sends them."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/x-protobuf"]
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def read_until_closed(reader: asyncio.StreamReader, timeout: float = 15.0) -> bytes:
    """Everything the server sends until it closes the connection (TimeoutError after
    ``timeout``). A reset (the server closed with our bytes unread) counts as closed."""

    async def everything() -> bytes:
        received = b""
        try:
            while chunk := await reader.read(65536):
                received += chunk
        except ConnectionResetError:
            pass
        return received

    return await asyncio.wait_for(everything(), timeout)
