"""Big raw OTLP/gRPC messages sent at once, and the receiver's memory read from ``/proc``.

The messages are valid ``ExportTraceServiceRequest`` bytes (one span with a large bytes
attribute, no failure), sent with the generic ``unary_unary`` stub, one channel (so one
connection) per message, like many senders at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from grpc import aio
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.e2e._slow_clients import status_of

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
MIB = 1024 * 1024


def big_trace_request(size: int) -> bytes:
    """A valid trace export request of about ``size`` bytes without failures."""
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add()
    name = spans.resource.attributes.add()
    name.key, name.value.string_value = "service.name", "svc-flood"
    span = spans.scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = b"\x01" * 16, b"\x02" * 8, "big"
    blob = span.attributes.add()
    blob.key, blob.value.bytes_value = "blob", b"x" * size
    return request.SerializeToString()


def rss_mib(pid: int) -> int:
    """The resident set size of ``pid`` now, in MiB."""
    return status_of(pid, ("VmRSS",))["VmRSS"]


@dataclass
class PeakRss:
    before_mib: int
    peak_mib: int = 0

    @property
    def growth_mib(self) -> int:
        return self.peak_mib - self.before_mib


@contextmanager
def peak_rss(pid: int) -> Iterator[PeakRss]:
    """Sample the RSS of ``pid`` every 10 ms while the block runs; its highest value.

    Sampled rather than read from ``VmHWM``: the high-water mark includes start-up, and a
    sample misses at most a 10 ms spike.
    """
    result = PeakRss(rss_mib(pid))
    result.peak_mib = result.before_mib
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            result.peak_mib = max(result.peak_mib, rss_mib(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        done.set()
        sampler.join()
        result.peak_mib = max(result.peak_mib, rss_mib(pid))


async def _send(endpoint: str, body: bytes, token: str) -> str:
    async with aio.insecure_channel(endpoint) as channel:
        export = channel.unary_unary(TRACE_EXPORT)
        try:
            await export(body, metadata=(("authorization", f"Bearer {token}"),), timeout=60)
        except aio.AioRpcError as error:
            return error.code().name
        return "OK"


def flood(endpoint: str, count: int, size: int, token: str) -> list[str]:
    """Send ``count`` messages of ``size`` bytes at once; the status code name of each."""
    body = big_trace_request(size)

    async def everything() -> list[str]:
        return list(await asyncio.gather(*(_send(endpoint, body, token) for _ in range(count))))

    return asyncio.run(everything())
