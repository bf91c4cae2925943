"""OTLP/HTTP (CONTRACT §4): ``POST /v1/traces``, ``/v1/logs``, ``/v1/metrics``.

Statuses a sender gets, and why (the mapping from reasons to statuses is the one table of
:mod:`collector_receiver.server._export_errors`, shared with OTLP/gRPC):

=====  ==============================================================================
200    committed (or nothing to store); OTLP partial success counts rejected items
400    the body is not a valid OTLP message of that signal (reason in the body)
401    ``FAILCAT_AUTH_TOKEN`` is set and the bearer token is missing or wrong (the body is
       not read)
408    the body had not fully arrived ``--read-timeout`` after the headers; nothing is
       kept and the connection is closed
413    the body is over ``--max-request-bytes``: announced (``Content-Length``, refused
       before reading), received, or once inflated
415    a content type other than ``application/x-protobuf`` / ``application/json``, or a
       content encoding other than ``gzip`` / ``identity``
503    nothing stored — the database is unavailable, the write queue is full, or too many
       request bytes are in flight (``--max-inflight-bytes``); carries ``Retry-After``
       (seconds), the sender should retry
=====  ==============================================================================

A success answer is an ``Export*ServiceResponse`` in the request's content type. Error answers
to JSON requests are a JSON ``{"code", "message"}`` (the shape of ``google.rpc.Status``), to
others plain text with the reason.

Memory held for a request is counted in the in-flight budget (``--max-inflight-bytes``, shared
with gRPC) as it comes, never by what the request announces: the body is read in chunks and
each chunk grows the request's share by its size before the next is read, so a sender that
announces 64 MiB and sends nothing holds nothing. A chunk that does not fit ends the request
with 503 (``Retry-After``). Once read, the share grows by the inflated body and, for
OTLP/JSON, by what decoding it takes (:data:`collector_receiver.otlp.JSON_DECODE_MULTIPLE`
times the body), and is released when the request is answered. Connection time limits
(``--idle-timeout``, header and body reading) are described in
:mod:`collector_receiver.server._connections`.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from aiohttp.typedefs import Handler

from collector_receiver.otlp import (
    JSON_DECODE_MULTIPLE,
    DecodeError,
    RequestTooLarge,
    Signal,
    encode_response,
    inflate,
)
from collector_receiver.server._auth import bearer_middleware
from collector_receiver.server._connections import connection_limits
from collector_receiver.server._export_errors import (
    ExportRefused,
    PermanentRefusal,
    RetryLater,
    refusal_of,
)
from collector_receiver.server.ingest import Admission, OtlpIngest

_PATHS: dict[str, Signal] = {
    "/v1/traces": "traces",
    "/v1/logs": "logs",
    "/v1/metrics": "metrics",
}

#: Compressed bodies above this size are inflated in a worker thread. Measured: about 0.5 ms of
#: zlib work per 64 KiB of gzip input at typical OTLP ratios; below it the hand-off costs more.
_INFLATE_IN_THREAD_BYTES = 64 * 1024


def build_otlp_http_app(
    ingest: OtlpIngest,
    max_request_bytes: int,
    auth_token: str | None = None,
    *,
    read_timeout: float = 30.0,
    idle_timeout: float = 60.0,
) -> web.Application:
    """The aiohttp application of the OTLP/HTTP listener (timeouts in seconds)."""
    middlewares = []
    if auth_token is not None:
        middlewares.append(bearer_middleware(auth_token, protects=lambda path: True))
    # aiohttp's automatic decompression is off: ``inflate`` undoes gzip itself, with the cap on
    # the inflated size.
    app = web.Application(
        client_max_size=max_request_bytes,
        middlewares=middlewares,
        handler_args={
            "auto_decompress": False,
            **connection_limits(idle_timeout, read_timeout),
        },
    )
    handler = _ExportHandler(ingest, max_request_bytes, read_timeout)
    for path, signal in _PATHS.items():
        app.router.add_post(path, handler.route(signal))
    return app


class _ExportHandler:
    def __init__(self, ingest: OtlpIngest, max_request_bytes: int, read_timeout: float) -> None:
        self._ingest = ingest
        self._max = max_request_bytes
        self._read_timeout = read_timeout

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
            async with self._ingest.admission(0) as admission:
                try:
                    wire = await asyncio.wait_for(
                        self._read_body(request, admission), self._read_timeout
                    )
                except asyncio.TimeoutError:
                    raise RetryLater(
                        "read_timeout",
                        f"the request body did not arrive within {self._read_timeout:g}s",
                    ) from None
                except ConnectionError:
                    # The sender went away mid-body: nobody reads this answer, and a sender
                    # that hangs up is no error of ours to log (aiohttp would, with a traceback).
                    raise PermanentRefusal(
                        "malformed", "the connection was lost during the body"
                    ) from None
                encoding = request.headers.get("Content-Encoding")
                if encoding and len(wire) > _INFLATE_IN_THREAD_BYTES:
                    # zlib releases the GIL: a large body inflates without stalling the loop.
                    body = await asyncio.to_thread(inflate, wire, encoding, self._max)
                else:
                    body = inflate(wire, encoding, self._max)
                held = len(wire) + len(body) if body is not wire else len(wire)
                if content_type == "application/json":
                    held += JSON_DECODE_MULTIPLE * len(body)
                admission.grow(held)
                outcome = await self._ingest.export(signal, body, content_type)
        except (DecodeError, ExportRefused) as exc:
            refusal = refusal_of(exc)
            response = _error(refusal, content_type)
            if refusal.reason == "read_timeout":
                await _drop(request, response)
            return response
        body = encode_response(signal, outcome.rejected, outcome.message, content_type)
        return web.Response(body=body, status=200, content_type=content_type)

    async def _read_body(self, request: web.Request, admission: Admission) -> bytes:
        """The whole body, each chunk admitted before the next is read (RetryLater if over)."""
        chunks: list[bytes] = []
        received = 0
        while chunk := await request.content.readany():
            received += len(chunk)
            if received > self._max:  # a chunked body, or more than Content-Length said
                raise RequestTooLarge(f"request body is over the limit of {self._max} bytes")
            admission.grow(received)
            chunks.append(chunk)
        return b"".join(chunks)


async def _drop(request: web.Request, response: web.Response) -> None:
    """Send ``response`` (the 408) if the client still listens, then close the connection at once.

    aiohttp would otherwise go on reading (and discarding) the rest of the body for a while
    before closing; a client this slow gets no more of the receiver's time.
    """
    response.force_close()
    try:
        await response.prepare(request)
        await response.write_eof()
    except ConnectionError:
        pass
    request.protocol.force_close()


def _error(refusal: ExportRefused, content_type: str) -> web.Response:
    """The error answer for ``refusal``: status, ``Retry-After`` and code from the one table."""
    answer = refusal.answer
    status, reason = answer.http_status, str(refusal)
    headers = None
    if answer.retry_after_seconds is not None:
        headers = {"Retry-After": str(answer.retry_after_seconds)}
    if content_type == "application/json":
        payload = json.dumps({"code": answer.rpc_code, "message": reason})
        return web.Response(
            text=payload, status=status, content_type="application/json", headers=headers
        )
    return web.Response(text=reason, status=status, content_type="text/plain", headers=headers)


__all__ = [
    "build_otlp_http_app",
]
