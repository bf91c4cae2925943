"""Bearer-token authentication (``FAILCAT_AUTH_TOKEN``) for OTLP and the query API.

When a token is configured, OTLP/HTTP requests and ``/api/v1/`` need
``Authorization: Bearer <token>`` and gRPC calls the same in metadata ``authorization``.
``/metrics`` needs it only with ``--metrics-auth`` (env ``FAILCAT_METRICS_AUTH=1``); ``/healthz``
and ``/readyz`` never do, so orchestrators' probes need no secret. Tokens are compared in
constant time. A token that is set but empty or blank is refused at start
(:mod:`collector_receiver.settings`), never read as "no authentication".

The token travels in clear text unless TLS is on (``--tls-cert``): on any network but loopback,
use both.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp.typedefs import Middleware

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def authorized(header_value: str | None, token: str) -> bool:
    """Whether an ``Authorization`` value carries ``token`` as a bearer credential."""
    if not header_value:
        return False
    scheme, _, credential = header_value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(credential.strip().encode("utf-8"), token.encode("utf-8"))


def grpc_authorized(metadata: Iterable[tuple[str, str | bytes]] | None, token: str) -> bool:
    """Whether gRPC invocation metadata carries the bearer token."""
    for key, value in metadata or ():
        if key.lower() == "authorization":
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            return authorized(text, token)
    return False


def bearer_middleware(token: str, protects: Callable[[str], bool]) -> Middleware:
    """An aiohttp middleware answering 401 to requests to protected paths without the token."""

    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if protects(request.path) and not authorized(request.headers.get("Authorization"), token):
            return web.json_response(
                {"error": "missing or wrong bearer token"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="failcat"'},
            )
        return await handler(request)

    return middleware
