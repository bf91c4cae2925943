"""Requests per second of OTLP/HTTP protobuf ingest into ``failcat serve``, with group commit and
without it (``--write-batch-size 1``: one transaction per request), on SQLite and PostgreSQL.

A real receiver process is started for each measurement; a client with ``--concurrency``
connections in flight posts ``--requests`` distinct trace requests, each carrying
``--failures`` exception events among ``--spans`` spans (so every request must be committed
before it is acknowledged). Prints requests/s and failures/s of both modes and the ratio
grouped / one-per-request, measured in the same run.

    python benchmarks/bench_receiver_ingest.py [--requests 1500] [--concurrency 64]
        [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

FAILCAT = str(Path(sys.executable).with_name("failcat"))
T0 = 1_700_000_000_000_000_000


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def build_body(index: int, spans: int, failures: int) -> bytes:
    trace_id = secrets.token_bytes(16)
    items = []
    for n in range(spans):
        events = []
        if n < failures:
            events.append(
                Span.Event(
                    name="exception",
                    time_unix_nano=T0 + index * 1000 + n,
                    attributes=[
                        _kv("exception.type", "openai.RateLimitError" if n % 2 else "KeyError"),
                        _kv("exception.message", f"request {index} failed: limit of {n} hit"),
                        _kv("exception.stacktrace", 'Traceback:\n  File "agent.py", line 9'),
                    ],
                )
            )
        items.append(
            Span(
                trace_id=trace_id,
                span_id=secrets.token_bytes(8),
                name=f"step-{n}",
                start_time_unix_nano=T0,
                end_time_unix_nano=T0 + 1000,
                events=events,
            )
        )
    request = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=[_kv("service.name", f"bench-{index % 5}")]),
                scope_spans=[ScopeSpans(spans=items)],
            )
        ]
    )
    return request.SerializeToString()


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


@contextmanager
def receiver(db_url: str, batch_size: int) -> Iterator[int]:
    grpc_port, http_port, api_port = _free_ports(3)
    process = subprocess.Popen(
        [FAILCAT, "serve", "--db", db_url, "--grpc-port", str(grpc_port),
         "--http-port", str(http_port), "--api-port", str(api_port),
         "--write-batch-size", str(batch_size), "--write-queue-size", "1024"],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("receiver did not start") from None
                time.sleep(0.1)
        yield http_port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


async def blast(port: int, bodies: list[bytes], concurrency: int) -> float:
    url = f"http://127.0.0.1:{port}/v1/traces"
    headers = {"Content-Type": "application/x-protobuf"}
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                while True:
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        if response.status == 200:
                            break
                        if response.status != 503:
                            raise RuntimeError(f"status {response.status}")
                    await asyncio.sleep(0.05)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{os.path.join(directory, 'bench.db')}"
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.databases import fresh_postgres_database

    with fresh_postgres_database() as url:
        yield url


def measure(kind: str, batch_size: int, args: argparse.Namespace) -> float:
    bodies = [build_body(i, args.spans, args.failures) for i in range(args.requests)]
    with database(kind) as url, receiver(url, batch_size) as port:
        # warm up connections, the catalog and the database
        asyncio.run(blast(port, [build_body(-1 - i, 5, 1) for i in range(20)], 4))
        seconds = asyncio.run(blast(port, bodies, args.concurrency))
    return args.requests / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--spans", type=int, default=20)
    parser.add_argument("--failures", type=int, default=4)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(
        f"{args.requests} requests, {args.spans} spans and {args.failures} failures each, "
        f"{args.concurrency} in flight"
    )
    for kind in kinds:
        single = measure(kind, 1, args)
        grouped = measure(kind, 2000, args)
        print(
            f"{kind:>10}: one transaction per request {single:8.0f} req/s "
            f"({single * args.failures:8.0f} failures/s); group commit {grouped:8.0f} req/s "
            f"({grouped * args.failures:8.0f} failures/s); ratio {grouped / single:5.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
