"""OTLP/gRPC (CONTRACT §4): ``TraceService``, ``LogsService`` and ``MetricsService`` Export.

The services are registered as generic handlers that pass the raw message bytes through, so the
protobuf classes stay inside ``collector_receiver.otlp``. gRPC inflates ``gzip`` itself and
refuses a message over ``grpc.max_receive_message_length`` (``--max-request-bytes``, on the wire
and inflated) with ``RESOURCE_EXHAUSTED``.

Nothing is read before it is allowed. ``Export`` is a unary call, but it is registered as a
client-streaming one (the wire format is the same: a stream of one message), so the handler
runs when the call's headers have arrived and gRPC asks the transport for the message only when
the handler reads it. Before that, in this order:

1. the bearer token is checked: ``UNAUTHENTICATED`` without reading anything;
2. the call takes its place in the in-flight budget (``--max-inflight-bytes``, shared with
   OTLP/HTTP), which must have room: ``UNAVAILABLE`` (persist error ``overloaded``, like
   HTTP's 503) when it is full;
3. the call takes one of 4 read slots (:mod:`collector_receiver.server._read_slots`): when
   all are taken it waits, waiting calls are served connection by connection in turn, and
   while any waits the call that has been receiving longest gives its slot up after 2 s;
4. the message must arrive within ``--read-timeout`` of the call's start, else the call ends
   with ``DEADLINE_EXCEEDED`` (a time limit passed, which OTLP senders retry; ``CANCELLED``
   would say the caller gave up) — also when it gave its slot up — and its bytes are freed.

Once the message has arrived the call's share of the budget grows to the message's (inflated)
size and is held until the call is answered; a size that does not fit beside the others is
refused with ``UNAVAILABLE``.

The bound and its worst case. gRPC hands a message over only when all of it has arrived, so,
unlike HTTP's, its bytes cannot be counted while they arrive; at most 4 calls are receiving at
once, each at most ``--max-request-bytes``. The message bytes held for gRPC and HTTP requests
together are therefore at most ``--max-inflight-bytes + 4 * --max-request-bytes`` (plus, while
a gzip message is inflated, its compressed copy): 512 MiB with the defaults (256 MiB, 64 MiB).
Memory is a small multiple of message bytes (gRPC's buffer, the copy handed over, the decoded
form). Measured (``benchmarks/bench_grpc_flood.py``: 16 senders of 32 MiB at once), the
receiver's RSS grows by 375-580 MiB at a 64 MiB budget and by 370-420 MiB at the default one,
against 700-870 MiB when every message was received as it came; with a wrong token it grows by
0-2 MiB, against 720-870 MiB when the token was checked after receiving.

Slow senders. A call that starts and never sends its message holds a read slot (and no budget)
for 2 s at most while others wait, and the calls of one connection wait as one, so a few slow
connections, however many calls they open, delay a good sender by a few seconds and stop
nobody (one connection with 100 such calls: a good sender waits up to 2 s). A sender whose
message takes longer than 2 s to arrive is asked to retry while the receiver is busy.

Before a call is read, a sender can push no more than the HTTP/2 flow-control window of each
stream (64 KiB: bandwidth probing, which grows it to 4 MiB, is off), on at most 100 streams per
connection. Connections without a call for ``--idle-timeout`` are closed (HTTP/2 ``GOAWAY``),
and so are those that have not finished the TLS handshake or the HTTP/2 preface by then.

Status codes (mapped from the refusal's reason by the one table of
:mod:`collector_receiver.server._export_errors`, shared with OTLP/HTTP): ``OK`` (with OTLP
partial success), ``INVALID_ARGUMENT`` (malformed, or no
message), ``RESOURCE_EXHAUSTED`` (too large), ``UNAUTHENTICATED`` (bearer token missing or
wrong), ``DEADLINE_EXCEEDED`` (the message did not arrive within ``--read-timeout``, or within
2 s while other calls waited for a read slot; retry),
``UNAVAILABLE`` (nothing stored — database unavailable, write queue full, or too many request
bytes in flight; retry).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeAlias

import grpc
from grpc import aio

from collector_receiver.otlp import DecodeError, Signal, encode_response
from collector_receiver.server._auth import grpc_authorized
from collector_receiver.server._export_errors import (
    ExportRefused,
    PermanentRefusal,
    RetryLater,
    answer_for,
)
from collector_receiver.server._read_slots import ReadSlot, ReadSlots
from collector_receiver.server.ingest import OtlpIngest

_PROTOBUF = "application/x-protobuf"

_SERVICES: dict[str, Signal] = {
    "opentelemetry.proto.collector.trace.v1.TraceService": "traces",
    "opentelemetry.proto.collector.logs.v1.LogsService": "logs",
    "opentelemetry.proto.collector.metrics.v1.MetricsService": "metrics",
}

#: Calls receiving their message at once: the factor of the worst case (see the module doc).
CONCURRENT_READS = 4
#: Seconds after which the call receiving longest gives its read slot to a waiting one: about
#: what a 64 MiB message needs at 256 Mbit/s, and what a waiting sender may be delayed by.
YIELD_AFTER_SECONDS = 2.0

#: HTTP/2 streams one connection may have open; what a client pushes before its calls are
#: read is at most this many flow-control windows.
_MAX_CONCURRENT_STREAMS = 100

_Context: TypeAlias = aio.ServicerContext[bytes, bytes]
_Export: TypeAlias = Callable[[AsyncIterator[bytes], _Context], Awaitable[bytes]]


def build_grpc_server(
    ingest: OtlpIngest,
    max_request_bytes: int,
    auth_token: str | None = None,
    *,
    read_timeout: float = 30.0,
    idle_timeout: float = 60.0,
    reuse_port: bool = False,
) -> aio.Server:
    """A grpc.aio server with the three OTLP services (ports are added by the caller).

    ``read_timeout`` and ``idle_timeout`` are seconds. ``reuse_port`` lets the workers of
    ``--workers N`` share the port; otherwise it is off, so that a second receiver started on
    a port already in use is refused instead of silently taking half of its traffic (gRPC
    turns ``SO_REUSEPORT`` on by default on Linux).
    """
    idle_ms = max(1, round(idle_timeout * 1000))
    server = aio.server(
        options=[
            ("grpc.max_receive_message_length", max_request_bytes),
            ("grpc.max_send_message_length", 4 * 1024 * 1024),
            # Bandwidth probing grows every stream's window towards the link's bandwidth-delay
            # product (many MiB on loopback): bytes a client may push before we read its call.
            ("grpc.http2.bdp_probe", 0),
            ("grpc.max_concurrent_streams", _MAX_CONCURRENT_STREAMS),
            ("grpc.max_connection_idle_ms", idle_ms),
            # A connection whose TLS handshake has not finished is not idle to gRPC (it has no
            # transport yet) and would stay open for the library's default of 120 s.
            ("grpc.server_handshake_timeout_ms", idle_ms),
            ("grpc.so_reuseport", 1 if reuse_port else 0),
        ]
    )
    slots = ReadSlots(CONCURRENT_READS, min(YIELD_AFTER_SECONDS, read_timeout))
    handlers = [
        grpc.method_handlers_generic_handler(
            service,
            {
                "Export": grpc.stream_unary_rpc_method_handler(
                    _export(ingest, signal, auth_token, slots, read_timeout)
                )
            },
        )
        for service, signal in _SERVICES.items()
    ]
    server.add_generic_rpc_handlers(handlers)
    return server


def _export(
    ingest: OtlpIngest,
    signal: Signal,
    auth_token: str | None,
    slots: ReadSlots,
    read_timeout: float,
) -> _Export:
    async def export(requests: AsyncIterator[bytes], context: _Context) -> bytes:
        # ``requests`` stays unused: the one message is taken with ``context.read()``, which
        # gRPC starts only when asked and which can be bounded in time.
        deadline = asyncio.get_running_loop().time() + read_timeout
        try:
            # The message is not read yet: refuse a stranger before gRPC receives any of it.
            if auth_token is not None and not grpc_authorized(
                context.invocation_metadata(), auth_token
            ):
                raise PermanentRefusal("unauthenticated", "missing or wrong bearer token")
            # A place in the budget (1 byte) before reading: refused now when it is full.
            async with ingest.admission(1) as admission:
                async with slots.slot(context.peer()) as slot:
                    request = await _receive(context, slot, deadline)
                admission.grow(len(request))
                outcome = await ingest.export(signal, request, _PROTOBUF)
        except (DecodeError, ExportRefused) as exc:
            await context.abort(answer_for(exc).grpc_code, str(exc))
        return encode_response(signal, outcome.rejected, outcome.message, _PROTOBUF)

    return export


async def _receive(context: _Context, slot: ReadSlot, deadline: float) -> bytes:
    """The call's one message, which must arrive by ``deadline`` and before ``slot`` yields."""
    loop = asyncio.get_running_loop()
    read = asyncio.ensure_future(context.read())
    yielded = asyncio.ensure_future(slot.yielded.wait())
    try:
        await asyncio.wait(
            (read, yielded), timeout=deadline - loop.time(), return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        yielded.cancel()
        if not read.done():
            read.cancel()
    if not read.done() or read.cancelled():
        reason = (
            "the receiver is busy and the request message had not arrived after "
            f"{loop.time() - slot.started:.0f} s; retry"
            if slot.yielded.is_set()
            else "the request message did not arrive within --read-timeout"
        )
        raise RetryLater("read_timeout", reason)
    message = read.result()
    if not isinstance(message, bytes):  # EOF: the client closed its side without a message
        raise PermanentRefusal("malformed", "the call carried no message")
    return message


__all__ = [
    "CONCURRENT_READS",
    "YIELD_AFTER_SECONDS",
    "build_grpc_server",
]
