"""Slow and idle clients held against a receiver for as long as a test needs, and good senders
timed beside them.

:class:`SlowClients` keeps ``count`` raw TCP connections open to one port, each doing the same
thing (send half a header, announce a body and send nothing, trickle a body...). When the
receiver closes one, another takes its place at once, so the pressure lasts until the block
ends, however short the receiver's timeouts. It records how long each connection lived and
what the receiver answered, if anything.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import grpc

from tests.e2e._receiver import http_post

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
PROTOBUF = {"Content-Type": "application/x-protobuf"}

#: What one slow client does once connected: write through ``send`` for as long as it likes.
Behaviour = Callable[[asyncio.StreamWriter], Awaitable[None]]


def sends(data: bytes) -> Behaviour:
    """Send ``data`` once, then nothing more."""

    async def behave(writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()

    return behave


def trickles(head: bytes, every: float) -> Behaviour:
    """Send ``head``, then one byte every ``every`` seconds, forever."""

    async def behave(writer: asyncio.StreamWriter) -> None:
        writer.write(head)
        await writer.drain()
        while True:
            await asyncio.sleep(every)
            writer.write(b"\0")
            await writer.drain()

    return behave


@dataclass
class Closed:
    #: Seconds from just before connecting until the close was seen: at least as long as the
    #: receiver held the connection, longer by however late the client noticed the close.
    lived: float
    answer: bytes


@dataclass
class SlowClients:
    port: int
    count: int
    behaviour: Behaviour
    closed: list[Closed] = field(default_factory=list)
    opened: int = 0
    #: Connections open right now.
    open_now: int = 0

    def statuses(self) -> list[str]:
        """The status line of each answer the receiver gave ('' when it just closed)."""
        return [c.answer.split(b"\r\n", 1)[0].decode("latin-1") for c in self.closed]

    async def _slot(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # Read before connecting: the receiver's timers start at accept, later than this,
            # so a lifetime measured from here is never shorter than the receiver held the
            # connection, however late this loop (running every slot) resumes after connecting.
            started = time.monotonic()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            self.opened += 1
            self.open_now += 1
            behaving = asyncio.ensure_future(self._behave(writer))
            answer = await self._until_closed(reader, stop)
            behaving.cancel()
            self.open_now -= 1
            writer.close()
            if answer is not None:
                self.closed.append(Closed(time.monotonic() - started, answer))

    async def _behave(self, writer: asyncio.StreamWriter) -> None:
        try:
            await self.behaviour(writer)
        except (ConnectionError, OSError):
            pass

    @staticmethod
    async def _until_closed(reader: asyncio.StreamReader, stop: asyncio.Event) -> bytes | None:
        """What the receiver sent before closing; None when the test ended first."""
        received = b""
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                reading = asyncio.ensure_future(reader.read(65536))
                done, _ = await asyncio.wait({reading, stopping}, return_when="FIRST_COMPLETED")
                if reading not in done:
                    reading.cancel()
                    return None
                try:
                    chunk = reading.result()
                except ConnectionError:
                    return received
                if not chunk:
                    return received
                received += chunk
        finally:
            stopping.cancel()


@contextmanager
def slow_clients(
    port: int, count: int, behaviour: Behaviour, *, at_least: float = 2.5
) -> Iterator[SlowClients]:
    """``count`` connections doing ``behaviour`` to ``port``, renewed until the block ends,
    and held for ``at_least`` seconds (past the receiver's timeouts) even if it ends sooner."""
    clients = SlowClients(port, count, behaviour)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()

    async def run() -> None:
        started.set()
        await asyncio.gather(*(clients._slot(stop) for _ in range(count)))

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    started.wait(5)
    try:
        deadline = time.monotonic() + 30
        while clients.open_now < count and time.monotonic() < deadline:
            time.sleep(0.01)
        held_until = time.monotonic() + at_least
        yield clients
        time.sleep(max(0.0, held_until - time.monotonic()))
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


def timed_http_export(endpoint: str, body: bytes) -> tuple[int, float]:
    """POST a protobuf trace export; its status and how long the answer took, in seconds."""
    started = time.monotonic()
    status, _, _ = http_post(f"{endpoint}/v1/traces", body, PROTOBUF)
    return status, time.monotonic() - started


def timed_grpc_export(endpoint: str, body: bytes) -> tuple[str, float]:
    """A gRPC trace export on a fresh channel; its status name and how long it took."""
    started = time.monotonic()
    with grpc.insecure_channel(endpoint) as channel:
        try:
            channel.unary_unary(TRACE_EXPORT)(body, timeout=20)
            code = "OK"
        except grpc.RpcError as error:
            code = error.code().name
    return code, time.monotonic() - started


def status_of(pid: int, names: Sequence[str] = ("VmRSS", "VmHWM")) -> dict[str, int]:
    """Fields of ``/proc/<pid>/status`` in MiB."""
    found = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key = line.split(":", 1)[0]
            if key in names:
                found[key] = int(line.split()[1]) // 1024
    return found


def open_files_limit(pid: int) -> int:
    """The soft ``Max open files`` of a process."""
    with open(f"/proc/{pid}/limits") as limits:
        for line in limits:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise AssertionError("no open-file limit")
