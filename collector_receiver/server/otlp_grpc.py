"""OTLP/gRPC (CONTRACT §4): ``TraceService``, ``LogsService`` and ``MetricsService`` Export.

The services are registered as generic handlers that pass the raw message bytes through, so the
protobuf classes stay inside ``collector_receiver.otlp``. gRPC inflates ``gzip`` itself and
refuses a message over ``grpc.max_receive_message_length`` (``--max-request-bytes``) with
``RESOURCE_EXHAUSTED`` before we see it.

Status codes: ``OK`` (with OTLP partial success), ``INVALID_ARGUMENT`` (malformed),
``RESOURCE_EXHAUSTED`` (too large), ``UNAUTHENTICATED`` (bearer token missing or wrong),
``UNAVAILABLE`` (nothing stored — database unavailable, write queue full, or too many request
bytes in flight; retry).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

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

_Export = Callable[[bytes, aio.ServicerContext[bytes, bytes]], Awaitable[bytes]]


def build_grpc_server(
    ingest: OtlpIngest, max_request_bytes: int, auth_token: str | None = None
) -> aio.Server:
    """A grpc.aio server with the three OTLP services (ports are added by the caller)."""
    server = aio.server(
        options=[
            ("grpc.max_receive_message_length", max_request_bytes),
            ("grpc.max_send_message_length", 4 * 1024 * 1024),
        ]
    )
    handlers = [
        grpc.method_handlers_generic_handler(
            service,
            {"Export": grpc.unary_unary_rpc_method_handler(_export(ingest, signal, auth_token))},
        )
        for service, signal in _SERVICES.items()
    ]
    server.add_generic_rpc_handlers(handlers)
    return server


def _export(ingest: OtlpIngest, signal: Signal, auth_token: str | None) -> _Export:
    async def export(request: bytes, context: aio.ServicerContext[bytes, bytes]) -> bytes:
        if auth_token is not None and not grpc_authorized(
            context.invocation_metadata(), auth_token
        ):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")
        try:
            # gRPC has read (and inflated) the message already; the bound keeps it from being
            # decoded while too much else is in flight.
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


__all__ = [
    "build_grpc_server",
]
