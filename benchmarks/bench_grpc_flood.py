"""The memory of a real ``failcat serve`` under a flood of big OTLP/gRPC messages, and how long a
good sender waits meanwhile.

Starts ``failcat serve`` (SQLite, ``FAILCAT_AUTH_TOKEN`` set) and a good sender in another
process that exports a small trace request every 50 ms over its own connection. After a second
it sends ``--senders`` messages of ``--mib`` MiB at once, one connection each, with the right
token (``--auth``) or a wrong one; or, with ``--stalled N``, opens N calls that never send
their message. It prints the status codes of the flood, the receiver's RSS growth (sampled from
``/proc/<pid>/status`` every 10 ms) and the good sender's answers and waits. Linux only.

    python benchmarks/bench_grpc_flood.py [--senders 16] [--mib 32] [--auth]
        [--max-inflight-bytes N] [--stalled N] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

from grpc import aio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e._grpc_flood import MIB, TRACE_EXPORT, flood, peak_rss
from tests.e2e._receiver import start_receiver

TOKEN = "bench-token"

_GOOD_SENDER = r"""
import asyncio, json, sys, time
from grpc import aio
from tests.e2e._grpc_flood import TRACE_EXPORT, big_trace_request

async def main(endpoint, seconds):
    body, answers = big_trace_request(100), []
    async with aio.insecure_channel(endpoint) as channel:
        export = channel.unary_unary(TRACE_EXPORT)
        await channel.channel_ready()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.monotonic()
            try:
                await export(body, metadata=(("authorization", "Bearer " + sys.argv[3]),),
                             timeout=10)
                code = "OK"
            except aio.AioRpcError as error:
                code = error.code().name
            answers.append((code, time.monotonic() - started))
            await asyncio.sleep(0.05)
    print(json.dumps(answers))

asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""


async def _never() -> AsyncIterator[bytes]:
    await asyncio.sleep(3600)
    yield b""


def _stalled(endpoint: str, count: int, seconds: float) -> list[str]:
    async def one(channel: aio.Channel) -> str:
        call = channel.stream_unary(TRACE_EXPORT)
        try:
            await call(_never(), metadata=(("authorization", f"Bearer {TOKEN}"),), timeout=seconds)
        except aio.AioRpcError as error:
            return error.code().name
        return "OK"

    async def everything() -> list[str]:
        async with aio.insecure_channel(endpoint) as channel:
            return list(await asyncio.gather(*(one(channel) for _ in range(count))))

    return asyncio.run(everything())


def one_round(args: argparse.Namespace) -> None:
    directory = Path(tempfile.mkdtemp())
    extra = []
    if args.max_inflight_bytes:
        extra = ["--max-inflight-bytes", str(args.max_inflight_bytes)]
    receiver = start_receiver(
        f"sqlite:///{directory / 'failcat.db'}",
        directory / "receiver.log",
        extra_args=extra,
        env={"FAILCAT_AUTH_TOKEN": TOKEN},
    )
    try:
        time.sleep(1)
        good = subprocess.Popen(
            [sys.executable, "-c", _GOOD_SENDER, receiver.grpc_endpoint, "6", TOKEN],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        time.sleep(1)
        started = time.monotonic()
        with peak_rss(receiver.process.pid) as memory:
            if args.stalled:
                codes = _stalled(receiver.grpc_endpoint, args.stalled, 40)
            else:
                token = TOKEN if args.auth else "wrong-token"
                codes = flood(receiver.grpc_endpoint, args.senders, args.mib * MIB, token)
        took = time.monotonic() - started
        answers = json.loads(good.communicate(timeout=60)[0])
        waits = sorted(wait for _, wait in answers)
        print(
            f"flood {dict(Counter(codes))} in {took:.1f} s, RSS +{memory.growth_mib} MiB "
            f"(from {memory.before_mib}); good sender {dict(Counter(c for c, _ in answers))}, "
            f"median {waits[len(waits) // 2] * 1000:.0f} ms, max {waits[-1] * 1000:.0f} ms"
        )
    finally:
        receiver.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--mib", type=int, default=32)
    parser.add_argument("--auth", action="store_true", help="the flood has the right token")
    parser.add_argument("--max-inflight-bytes", type=int, default=0)
    parser.add_argument("--stalled", type=int, default=0, help="calls that send no message")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for _ in range(args.rounds):
        one_round(args)


if __name__ == "__main__":
    main()
