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
2. the call reserves a share of the in-flight budget (``--max-inflight-bytes``, shared with
   OTLP/HTTP) for the message it is about to receive: ``min(--max-request-bytes,
   --max-inflight-bytes / 4)``. A reservation that does not fit is refused at once with
   ``UNAVAILABLE`` (persist error ``overloaded``, like HTTP's 503);
3. the message must arrive within ``--read-timeout``, else the call ends with
   ``DEADLINE_EXCEEDED`` (a time limit passed, which OTLP senders retry; ``CANCELLED`` would
   say the caller gave up) and its bytes are freed.

Once the message has arrived the reservation is exchanged for the message's real (inflated)
size, held until the call is answered; a size that does not fit beside the others is refused
with ``UNAVAILABLE``.

The bound and its worst case. gRPC hands a message over only when all of it has arrived, so its
bytes cannot be counted while they arrive; the reservation stands in for them. Every reader and
every admitted request is inside the budget, so at most 4 messages are being received at once
(fewer while the budget holds other requests), and the message bytes held for gRPC and HTTP
requests together are at most ``max(--max-inflight-bytes, 4 * --max-request-bytes)`` (plus,
while a gzip message is inflated, its compressed copy). With the defaults (256 MiB, 64 MiB) the
reservation is a whole request and the bound is exact: 256 MiB. With a budget below 4 requests
it is looser: at 64 MiB, 4 messages of up to 64 MiB each may be arriving at once. Memory is a
small multiple of message bytes (gRPC's buffer, the copy handed over, the decoded form):
measured, 16 senders of 32 MiB at a 64 MiB budget raise the receiver's RSS by 240-320 MiB
(760-870 MiB when each message was received as it came). Four senders trickling a message each
hold the four reads until ``--read-timeout``; more reads at once would loosen the bound.

Before a call is read, a sender can push no more than the HTTP/2 flow-control window of each
stream (64 KiB: bandwidth probing, which grows it to 4 MiB, is off), on at most 100 streams per
connection: 16 unauthenticated senders of 32 MiB raise the RSS by 2 MiB.

Connections without a call for ``--idle-timeout`` are closed (HTTP/2 ``GOAWAY``).

Status codes: ``OK`` (with OTLP partial success), ``INVALID_ARGUMENT`` (malformed, or no
message), ``RESOURCE_EXHAUSTED`` (too large), ``UNAUTHENTICATED`` (bearer token missing or
wrong), ``DEADLINE_EXCEEDED`` (the message did not arrive within ``--read-timeout``),
``UNAVAILABLE`` (nothing stored — database unavailable, write queue full, or too many request
bytes in flight; retry).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeAlias

import grpc
from grpc import aio

from collector_receiver.otlp import DecodeError, RequestTooLarge, Signal, encode_response
from collector_receiver.server._auth import grpc_authorized
from collector_receiver.server.ingest import OtlpIngest, RetryLater

_PROTOBUF = "application/x-protobuf"

_SERVICES: dict[str, Signal] = {
    "opentelemetry.proto.collector.trace.v1.TraceService": "traces",
    "opentelemetry.proto.collector.logs.v1.LogsService": "logs",
    "opentelemetry.proto.collector.metrics.v1.MetricsService": "metrics",
}

#: The in-flight budget is split into this many read reservations: the most messages being
#: received at once, and so the factor of the worst case (see the module doc). More would let
#: more slow senders read side by side, at the price of a looser bound.
CONCURRENT_READS = 4

#: HTTP/2 streams one connection may have open; what a client pushes before its calls are
#: read is at most this many flow-control windows.
_MAX_CONCURRENT_STREAMS = 100

_Context: TypeAlias = aio.ServicerContext[bytes, bytes]
_Export: TypeAlias = Callable[[AsyncIterator[bytes], _Context], Awaitable[bytes]]


def read_reservation(max_request_bytes: int, max_inflight_bytes: int | None) -> int:
    """The bytes of the in-flight budget a call reserves while its message is received."""
    if max_inflight_bytes is None:
        return max_request_bytes
    return max(1, min(max_request_bytes, max_inflight_bytes // CONCURRENT_READS))


def build_grpc_server(
    ingest: OtlpIngest,
    max_request_bytes: int,
    auth_token: str | None = None,
    *,
    max_inflight_bytes: int | None = None,
    read_timeout: float = 30.0,
    idle_timeout: float = 60.0,
) -> aio.Server:
    """A grpc.aio server with the three OTLP services (ports are added by the caller).

    ``max_inflight_bytes`` is the limit of the budget ``ingest`` admits against (None: no
    budget); ``read_timeout`` and ``idle_timeout`` are seconds.
    """
    server = aio.server(
        options=[
            ("grpc.max_receive_message_length", max_request_bytes),
            ("grpc.max_send_message_length", 4 * 1024 * 1024),
            # Bandwidth probing grows every stream's window towards the link's bandwidth-delay
            # product (many MiB on loopback): bytes a client may push before we read its call.
            ("grpc.http2.bdp_probe", 0),
            ("grpc.max_concurrent_streams", _MAX_CONCURRENT_STREAMS),
            ("grpc.max_connection_idle_ms", max(1, round(idle_timeout * 1000))),
        ]
    )
    reservation = read_reservation(max_request_bytes, max_inflight_bytes)
    handlers = [
        grpc.method_handlers_generic_handler(
            service,
            {
                "Export": grpc.stream_unary_rpc_method_handler(
                    _export(ingest, signal, auth_token, reservation, read_timeout)
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
    reservation: int,
    read_timeout: float,
) -> _Export:
    async def export(requests: AsyncIterator[bytes], context: _Context) -> bytes:
        # The message is not read yet: refuse a stranger before gRPC receives any of it.
        if auth_token is not None and not grpc_authorized(
            context.invocation_metadata(), auth_token
        ):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")
        try:
            async with ingest.admission(reservation):
                request = await _receive(context, read_timeout)
            # The reservation is exchanged for the real size with no await in between, so no
            # other request can take the bytes just released.
            async with ingest.admission(len(request)):
                outcome = await ingest.export(signal, request, _PROTOBUF)
        except RequestTooLarge as exc:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        except DecodeError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except RetryLater as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        return encode_response(signal, outcome.rejected, outcome.message, _PROTOBUF)

    return export


async def _receive(context: _Context, read_timeout: float) -> bytes:
    """The call's one message, which must arrive within ``read_timeout`` seconds."""
    try:
        message = await asyncio.wait_for(context.read(), read_timeout)
    except asyncio.TimeoutError:
        await context.abort(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            f"the request message did not arrive within {read_timeout:g} s (--read-timeout)",
        )
    if not isinstance(message, bytes):  # EOF: the client closed its side without a message
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the call carried no message")
    return message


__all__ = [
    "CONCURRENT_READS",
    "build_grpc_server",
    "read_reservation",
]
