"""OTLP/HTTP (CONTRACT §4): ``POST /v1/traces``, ``/v1/logs``, ``/v1/metrics``.

Statuses a sender gets, and why:

=====  ==============================================================================
200    committed (or nothing to store); OTLP partial success counts rejected items
400    the body is not a valid OTLP message of that signal (reason in the body)
401    ``FAILCAT_AUTH_TOKEN`` is set and the bearer token is missing or wrong
413    the body is over ``--max-request-bytes``, on the wire or once inflated
415    a content type other than ``application/x-protobuf`` / ``application/json``, or a
       content encoding other than ``gzip`` / ``identity``
503    nothing stored — the database is unavailable, the write queue is full, or too many
       request bytes are in flight (``--max-inflight-bytes``); carries ``Retry-After``
       (seconds), the sender should retry
=====  ==============================================================================

A success answer is an ``Export*ServiceResponse`` in the request's content type. Error answers
to JSON requests are a JSON ``{"code", "message"}`` (the shape of ``google.rpc.Status``), to
others plain text with the reason.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from aiohttp.typedefs import Handler

from collector_receiver.otlp import (
    DecodeError,
    RequestTooLarge,
    Signal,
    UnsupportedMediaType,
    encode_response,
    inflate,
)
from collector_receiver.server._auth import bearer_middleware
from collector_receiver.server.ingest import OtlpIngest, RetryLater

_PATHS: dict[str, Signal] = {
    "/v1/traces": "traces",
    "/v1/logs": "logs",
    "/v1/metrics": "metrics",
}

#: Compressed bodies above this size are inflated in a worker thread. Measured: about 0.5 ms of
#: zlib work per 64 KiB of gzip input at typical OTLP ratios; below it the hand-off costs more.
_INFLATE_IN_THREAD_BYTES = 64 * 1024

# google.rpc.Code values used in JSON error bodies.
_RPC_CODE = {400: 3, 401: 16, 413: 8, 415: 3, 503: 14}


def build_otlp_http_app(
    ingest: OtlpIngest, max_request_bytes: int, auth_token: str | None = None
) -> web.Application:
    """The aiohttp application of the OTLP/HTTP listener."""
    middlewares = []
    if auth_token is not None:
        middlewares.append(bearer_middleware(auth_token, protects=lambda path: True))
    # aiohttp's own cap is the backstop for chunked bodies without Content-Length. Its automatic
    # decompression is off: ``inflate`` undoes gzip itself, with the cap on the inflated size.
    app = web.Application(
        client_max_size=max_request_bytes,
        middlewares=middlewares,
        handler_args={"auto_decompress": False},
    )
    handler = _ExportHandler(ingest, max_request_bytes)
    for path, signal in _PATHS.items():
        app.router.add_post(path, handler.route(signal))
    return app


class _ExportHandler:
    def __init__(self, ingest: OtlpIngest, max_request_bytes: int) -> None:
        self._ingest = ingest
        self._max = max_request_bytes

    def route(self, signal: Signal) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._handle(signal, request)

        return handle

    async def _handle(self, signal: Signal, request: web.Request) -> web.StreamResponse:
        content_type = request.content_type
        try:
            if request.content_length is not None and request.content_length > self._max:
                raise RequestTooLarge(
                    f"request body is {request.content_length} bytes, the limit is {self._max}"
                )
            # Admitted before the body is read, by its declared size (a chunked body by what
            # it turns out to be), then by what it holds once inflated too.
            async with self._ingest.admission(request.content_length or 0) as admission:
                try:
                    wire = await request.read()
                except web.HTTPRequestEntityTooLarge:
                    raise RequestTooLarge(
                        f"request body is over the limit of {self._max}"
                    ) from None
                admission.grow(len(wire))
                encoding = request.headers.get("Content-Encoding")
                if encoding and len(wire) > _INFLATE_IN_THREAD_BYTES:
                    # zlib releases the GIL: a large body inflates without stalling the loop.
                    body = await asyncio.to_thread(inflate, wire, encoding, self._max)
                else:
                    body = inflate(wire, encoding, self._max)
                if body is not wire:
                    admission.grow(len(wire) + len(body))
                outcome = await self._ingest.export(signal, body, content_type)
        except RequestTooLarge as exc:
            return _error(413, str(exc), content_type)
        except UnsupportedMediaType as exc:
            return _error(415, str(exc), content_type)
        except DecodeError as exc:
            return _error(400, str(exc), content_type)
        except RetryLater as exc:
            return _error(
                503,
                str(exc),
                content_type,
                headers={"Retry-After": str(exc.retry_after_seconds)},
            )
        body = encode_response(signal, outcome.rejected, outcome.message, content_type)
        return web.Response(body=body, status=200, content_type=content_type)


def _error(
    status: int, reason: str, content_type: str, headers: dict[str, str] | None = None
) -> web.Response:
    if content_type == "application/json":
        payload = json.dumps({"code": _RPC_CODE.get(status, 2), "message": reason})
        return web.Response(
            text=payload, status=status, content_type="application/json", headers=headers
        )
    return web.Response(text=reason, status=status, content_type="text/plain", headers=headers)


__all__ = [
    "build_otlp_http_app",
]
