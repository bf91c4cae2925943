"""A few OTLP/gRPC senders that start a call and never send its message stop nobody: with more
of them than there are read slots, real SDK exporters over gRPC and HTTP are still served and
stored (a waiting call gets a slot within the yield time), and each stalled call ends with
``DEADLINE_EXCEEDED``: given away while others waited, or at ``--read-timeout``."""

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
STALLED = CONCURRENT_READS + 2


async def _no_message() -> AsyncIterator[bytes]:
    await asyncio.sleep(3600)
    yield b""  # never reached: the call's headers go out, its message never does


async def _stalled_calls(endpoint: str, started: threading.Event) -> list[tuple[str, str]]:
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
        return list(await asyncio.gather(*calls))


def test_stalled_grpc_calls_do_not_stop_good_senders(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'failcat.db'}"
    with running_receiver(
        url,
        tmp_path / "receiver.log",
        extra_args=["--read-timeout", "6"],
        env={"FAILCAT_AUTH_TOKEN": TOKEN},
    ) as receiver:
        started = threading.Event()
        outcomes: list[tuple[str, str]] = []
        stalled = threading.Thread(
            target=lambda: outcomes.extend(
                asyncio.run(_stalled_calls(receiver.grpc_endpoint, started))
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
            stalled.join(30)
        assert report["ok"], report["stderr"]
        stored = {(r["service_name"], r["span_id"]) for r in stored_failures(url)}
        assert stored == {(f["service"], f["span_id"]) for f in report["failures"]}
        assert [code for code, _ in outcomes] == ["DEADLINE_EXCEEDED"] * STALLED
        # The ones holding slots when the good call came gave way to it.
        assert any("busy" in details for _, details in outcomes), outcomes
