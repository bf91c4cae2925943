"""Both aiohttp listeners (OTLP/HTTP and the 9464 app) close a connection that has no request in
progress for the idle timeout: one that sends nothing, half a request header, a header trickled
a byte at a time, or nothing more after an answered request. A request being handled for longer
than the idle timeout is still answered.

Real apps on real sockets; the idle clients are raw sockets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.collector_receiver.server._listeners import (
    api_listener,
    failing_request,
    otlp_http_listener,
    post_head,
    read_until_closed,
)

IDLE = 1.0


@pytest.fixture(params=["otlp-http", "api"])
async def port(
    request: pytest.FixtureRequest, sqlite_url: str, unused_tcp_port: int
) -> AsyncIterator[int]:
    if request.param == "api":
        async with api_listener(unused_tcp_port, idle_timeout=IDLE) as value:
            yield value
        return
    async with otlp_http_listener(sqlite_url, unused_tcp_port, idle_timeout=IDLE) as listener:
        yield listener.port


async def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert await read_until_closed(reader) == b""
    writer.close()


async def test_a_connection_that_sends_half_a_header_is_closed(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
    await writer.drain()
    assert await read_until_closed(reader) == b""
    writer.close()


async def test_a_header_trickled_byte_by_byte_is_closed_all_the_same(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    header = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 500

    async def trickle() -> None:  # 10 bytes a second: 50 s for the whole header
        try:
            for byte in header:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.1)
        except ConnectionError:
            pass

    trickling = asyncio.ensure_future(trickle())
    assert await read_until_closed(reader) == b""
    assert not trickling.done()  # closed while the header was still coming
    trickling.cancel()
    writer.close()


async def test_a_keep_alive_connection_idle_after_its_answer_is_closed(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await writer.drain()
    answer = await read_until_closed(reader)  # the answer, then the close
    assert answer.startswith(b"HTTP/1.1 "), answer
    assert b"Connection: close" not in answer  # kept alive, then closed for being idle
    writer.close()


async def test_a_request_handled_longer_than_the_idle_timeout_is_answered(
    sqlite_url: str, unused_tcp_port: int
) -> None:
    async with otlp_http_listener(
        sqlite_url, unused_tcp_port, idle_timeout=IDLE, read_timeout=10.0
    ) as listener:
        body = failing_request("svc-slow-sender")
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
        writer.write(post_head("/v1/traces", len(body)) + body[:10])
        await writer.drain()
        await asyncio.sleep(2.5 * IDLE)  # the body takes longer than the idle timeout
        writer.write(body[10:])
        await writer.drain()
        answer = await reader.readuntil(b"\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200"), answer
        writer.close()
