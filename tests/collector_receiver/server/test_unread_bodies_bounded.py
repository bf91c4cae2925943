"""A body no handler reads is not read for long: a request refused for its missing token never
enters the in-flight budget and its connection is closed within the read timeout, and a body
sent to the 9464 port is drained for at most the read timeout, then the connection closed.

Real apps on real sockets; the clients are raw sockets that announce a body and send it slowly.
"""

from __future__ import annotations

import asyncio

from tests.collector_receiver.server._listeners import (
    api_listener,
    otlp_http_listener,
    post_head,
    read_until_closed,
)

READ = 1.0


async def _trickle(writer: asyncio.StreamWriter) -> None:
    try:
        for _ in range(400):  # 40 s of body at 10 bytes a second
            writer.write(b"\0")
            await writer.drain()
            await asyncio.sleep(0.1)
    except ConnectionError:
        pass


async def test_a_request_without_the_token_is_refused_unread_and_closed(
    sqlite_url: str, unused_tcp_port: int
) -> None:
    async with otlp_http_listener(
        sqlite_url, unused_tcp_port, auth_token="s3cret", read_timeout=READ
    ) as listener:
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
        writer.write(post_head("/v1/traces", 900_000) + b"\0" * 50_000)
        await writer.drain()
        trickling = asyncio.ensure_future(_trickle(writer))
        answer = await read_until_closed(reader, timeout=5 * READ)  # aiohttp alone: 10 s
        assert answer.startswith(b"HTTP/1.1 401"), answer
        assert not trickling.done()  # closed while the body was still coming
        trickling.cancel()
        assert listener.budget.held == 0
        writer.close()


async def test_a_body_sent_to_the_api_port_is_drained_for_at_most_the_read_timeout(
    unused_tcp_port: int,
) -> None:
    async with api_listener(unused_tcp_port, read_timeout=READ) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 900000\r\n\r\n"
        writer.write(head)
        await writer.drain()
        trickling = asyncio.ensure_future(_trickle(writer))
        answer = await read_until_closed(reader, timeout=5 * READ)  # aiohttp alone: 10 s
        assert answer.startswith(b"HTTP/1.1 200"), answer
        assert not trickling.done()
        trickling.cancel()
        writer.close()
