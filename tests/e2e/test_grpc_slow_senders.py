"""A few OTLP/gRPC connections with calls that never send their message stop nobody: one
connection with 40 such calls (ten times the read slots) beside real SDK exporters over gRPC
and HTTP, which are still served and stored within their 10 s timeout. The stalled calls that
held slots gave them up with ``DEADLINE_EXCEEDED``; the calls of that one connection waited as
one, so the good sender did not queue behind all 40 (which would take 40 / 4 x 2 s = 20 s)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from grpc import aio

from collector_receiver.server.otlp_grpc import CONCURRENT_READS
from tests.e2e._grpc_flood import TRACE_EXPORT
from tests.e2e._receiver import running_receiver
from tests.e2e._support import run_agent, stored_failures

pytestmark = pytest.mark.slow

TOKEN = "slow-test-token"
STALLED = 10 * CONCURRENT_READS


async def _no_message() -> AsyncIterator[bytes]:
    await asyncio.sleep(3600)
    yield b""  # never reached: the call's headers go out, its message never does


async def _stalled_calls(
    endpoint: str, started: threading.Event, stop: threading.Event
) -> list[tuple[str, str]]:
    """Open the stalled calls on one connection; when ``stop`` is set, how those that ended
    meanwhile ended."""

    async def one(channel: aio.Channel) -> tuple[str, str]:
        call = channel.stream_unary(TRACE_EXPORT)
        try:
            await call(_no_message(), metadata=(("authorization", f"Bearer {TOKEN}"),), timeout=60)
        except aio.AioRpcError as error:
            return error.code().name, error.details() or ""
        return "OK", ""

    async with aio.insecure_channel(endpoint) as channel:
        await channel.channel_ready()
        calls = [asyncio.ensure_future(one(channel)) for _ in range(STALLED)]
        await asyncio.sleep(0.3)  # the calls' headers are at the receiver
        started.set()
        await asyncio.to_thread(stop.wait, 60)
        ended = [call.result() for call in calls if call.done()]
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        return ended


def test_one_connection_of_stalled_grpc_calls_stops_no_good_sender(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'failcat.db'}"
    with running_receiver(
        url, tmp_path / "receiver.log", env={"FAILCAT_AUTH_TOKEN": TOKEN}
    ) as receiver:
        started, stop = threading.Event(), threading.Event()
        ended: list[tuple[str, str]] = []
        stalled = threading.Thread(
            target=lambda: ended.extend(
                asyncio.run(_stalled_calls(receiver.grpc_endpoint, started, stop))
            )
        )
        stalled.start()
        try:
            assert started.wait(10)
            report = run_agent(
                ["grpc:traces:svc-beside-stalled:2", "http:logs:svc-beside-stalled-http:2"],
                grpc_endpoint=receiver.grpc_endpoint,
                http_endpoint=receiver.http_endpoint,
                extra=["--token", TOKEN],
            )
        finally:
            stop.set()
            stalled.join(30)
        assert report["ok"], report["stderr"]
        stored = {(r["service_name"], r["span_id"]) for r in stored_failures(url)}
        assert stored == {(f["service"], f["span_id"]) for f in report["failures"]}
        # Those holding slots when the good calls came gave way to them.
        assert ended, "no stalled call gave its slot up"
        assert {code for code, _ in ended} == {"DEADLINE_EXCEEDED"}, ended
        assert all("busy" in details for _, details in ended), ended
