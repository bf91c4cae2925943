"""OTLP/HTTP counts a body in the in-flight budget by the bytes that have arrived, never by the
``Content-Length`` it announces: a sender that announces a large body and sends little holds
little, a body that outgrows the budget beside others is refused with 503, and a body that has
not arrived within the read timeout is answered 408, its connection closed and its bytes freed
(as are those of a sender that hangs up mid-body).

The real OTLP/HTTP app over a real SQLite store, on a real socket; the slow clients are raw
sockets, the good senders aiohttp's client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.collector_receiver.server._listeners import (
    Listener,
    failing_request,
    otlp_http_listener,
    post_head,
    read_until_closed,
)
from tests.e2e._support import stored_failures

PROTOBUF = {"Content-Type": "application/x-protobuf"}
LIMIT = 64 * 1024


@pytest.fixture
async def listener(sqlite_url: str, unused_tcp_port: int) -> AsyncIterator[Listener]:
    async with otlp_http_listener(
        sqlite_url, unused_tcp_port, inflight_limit=LIMIT, read_timeout=1.0
    ) as value:
        yield value


async def _until_held(listener: Listener, size: int) -> None:
    for _ in range(500):
        if listener.budget.held >= size:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{listener.budget.held} bytes held, expected {size}")


async def _post(url: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=PROTOBUF) as answer:
            return answer.status, dict(answer.headers), await answer.read()


def _services(sqlite_url: str) -> list[str]:
    return sorted(str(row["service_name"]) for row in stored_failures(sqlite_url))


async def test_an_announced_body_holds_only_what_has_arrived(
    listener: Listener, sqlite_url: str
) -> None:
    _reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(post_head("/v1/traces", 900_000) + b"\0" * 1000)  # announces 14x the budget
    await writer.drain()
    await _until_held(listener, 1000)
    assert listener.budget.held == 1000

    good = failing_request("svc-good", padding=30_000)  # fits beside 1000 bytes, not 900 KB
    status, _, reason = await _post(listener.url, good)
    assert status == 200, reason
    assert _services(sqlite_url) == ["svc-good"]
    writer.close()


async def test_a_body_outgrowing_the_budget_beside_another_is_refused_with_503(
    listener: Listener, sqlite_url: str
) -> None:
    slow = failing_request("svc-slow", padding=40_000)
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(post_head("/v1/traces", len(slow)) + slow[:40_000])
    await writer.drain()
    await _until_held(listener, 40_000)

    status, headers, reason = await _post(listener.url, failing_request("svc-b", 30_000))
    assert status == 503, reason
    assert int(headers["Retry-After"]) >= 1
    assert b"in flight" in reason

    writer.write(slow[40_000:])  # the slow one completes and is stored
    await writer.drain()
    answer = await reader.readuntil(b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200"), answer
    writer.close()
    assert _services(sqlite_url) == ["svc-slow"]
    assert (await _post(listener.url, failing_request("svc-b", 30_000)))[0] == 200


async def test_a_body_not_arrived_within_the_read_timeout_is_408_closed_and_freed(
    listener: Listener, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(post_head("/v1/traces", 50_000) + b"\0" * 20_000)
    await writer.drain()
    await _until_held(listener, 20_000)

    answer = await read_until_closed(reader)  # the server closes the connection
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"did not arrive within 1s" in answer
    assert b"Connection: close" in answer
    assert listener.budget.held == 0
    writer.close()
    assert not caplog.records  # dropped quietly: no unhandled exception in aiohttp's log
    assert (await _post(listener.url, failing_request("svc-after")))[0] == 200
    assert _services(sqlite_url) == ["svc-after"]


async def test_a_trickled_body_is_dropped_at_the_read_timeout_all_the_same(
    listener: Listener,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(post_head("/v1/traces", 50_000))

    async def trickle() -> None:  # a byte every 50 ms: every read makes progress, none ends
        try:
            for _ in range(400):
                writer.write(b"\0")
                await writer.drain()
                await asyncio.sleep(0.05)
        except ConnectionError:
            pass

    trickling = asyncio.ensure_future(trickle())
    answer = await read_until_closed(reader)
    trickling.cancel()
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert listener.budget.held == 0
    writer.close()


async def test_a_chunked_body_past_the_request_limit_is_413(listener: Listener) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(post_head("/v1/traces", None, chunked=True))
    chunk = b"\0" * 65536
    try:
        for _ in range(20):  # 1.25 MiB against a 1 MiB limit, announced nowhere
            writer.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            await writer.drain()
    except ConnectionError:
        pass
    answer = await read_until_closed(reader)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert listener.budget.held == 0
    writer.close()


async def test_an_announced_size_past_the_request_limit_is_413_before_any_byte(
    listener: Listener,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(post_head("/v1/traces", 64 * 1024 * 1024))
    answer = await reader.readuntil(b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert listener.budget.held == 0
    writer.close()


async def test_a_sender_hanging_up_mid_body_frees_its_bytes_and_logs_nothing(
    listener: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    _reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    writer.write(post_head("/v1/traces", 50_000) + b"\0" * 20_000)
    await writer.drain()
    await _until_held(listener, 20_000)
    writer.close()
    await writer.wait_closed()
    for _ in range(500):
        if listener.budget.held == 0:
            break
        await asyncio.sleep(0.01)
    assert listener.budget.held == 0
    assert not caplog.records  # a hang-up is not an error with a traceback
