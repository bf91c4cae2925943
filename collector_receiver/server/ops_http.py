"""The API listener (port 9464): ``/metrics``, ``/healthz``, ``/readyz`` and ``/api/v1/``.

* ``GET /metrics`` — Prometheus text exposition of :mod:`collector_receiver.server.metrics`;
  each scrape runs the readiness check first and exposes its outcome as ``failcat_ready``.
* ``GET /healthz`` — 200 while the process runs (liveness).
* ``GET /readyz`` — 200 when the database answers and a catalog is loaded; 503 with the reason
  otherwise (readiness: take the receiver out of a load balancer while its database is down).
  ``failcat serve``'s check answers from the writer's latest commit or failure, or a ping, at
  most 5 s old (:mod:`collector_receiver.server._database_health`), and waits at most 5 s for a
  ping it has to make.
* ``/api/v1/…`` — the query API (CONTRACT §7), added by ``collector_receiver.server.query_api``.
* ``/`` and its pages — the web UI (CONTRACT §11), added by :mod:`collector_receiver.ui`; with
  a token its pages need a sign-in session (a cookie), not the bearer token.

With ``FAILCAT_AUTH_TOKEN`` set, ``/api/v1/`` needs the bearer token, and ``/metrics`` too when
``--metrics-auth`` is given (Prometheus then sends it with ``authorization: {credentials: …}`` in
its scrape config). Under mutual TLS (``--tls-client-ca``) every path but ``/healthz`` and
``/readyz`` also needs a verified client certificate (403 without one; see
:mod:`collector_receiver.server._tls`). ``/healthz`` and ``/readyz`` never need either, so
liveness and readiness probes need no secret.

A connection without a request in progress for ``--idle-timeout`` (also one that never sends a
complete request) is closed, and a body no route reads is drained for at most
``min(10 s, --read-timeout)``: see :mod:`collector_receiver.server._connections`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from collector_receiver.server._auth import bearer_middleware
from collector_receiver.server._connections import connection_limits
from collector_receiver.server._tls import client_certificate_middleware
from collector_receiver.server.metrics import EXPOSITION_CONTENT_TYPE, ReceiverMetrics

#: Answers None when ready, else a one-line reason.
ReadinessCheck = Callable[[], Awaitable[str | None]]

#: How long /readyz waits for the database before calling it unreachable.
_READY_TIMEOUT_SECONDS = 5.0


def build_api_app(
    metrics: ReceiverMetrics,
    readiness: ReadinessCheck,
    auth_token: str | None = None,
    add_routes: Callable[[web.Application], None] | None = None,
    *,
    metrics_auth: bool = False,
    require_client_certificate: bool = False,
    read_timeout: float = 30.0,
    idle_timeout: float = 60.0,
) -> web.Application:
    """The aiohttp application of the API listener; ``add_routes`` adds ``/api/v1/``.

    ``metrics_auth``: ``/metrics`` needs ``auth_token`` too. ``require_client_certificate``:
    the listener's TLS context asks for client certificates (``CERT_OPTIONAL``) and this app
    refuses every path but ``/healthz`` and ``/readyz`` on a connection that presented none.
    ``idle_timeout`` and ``read_timeout`` are seconds, see
    :mod:`collector_receiver.server._connections`.
    """
    if metrics_auth and auth_token is None:
        raise ValueError("metrics_auth needs an auth_token")
    middlewares = []
    if require_client_certificate:
        middlewares.append(client_certificate_middleware())
    if auth_token is not None:

        def protects(path: str) -> bool:
            return path.startswith("/api/") or (metrics_auth and path == "/metrics")

        middlewares.append(bearer_middleware(auth_token, protects=protects))
    # Idle connections and unread bodies are timed like on the OTLP port (see _connections).
    app = web.Application(
        middlewares=middlewares, handler_args=connection_limits(idle_timeout, read_timeout)
    )

    async def not_ready_reason() -> str | None:
        try:
            reason = await asyncio.wait_for(readiness(), _READY_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            reason = f"the database did not answer within {_READY_TIMEOUT_SECONDS:g}s"
        metrics.set_ready(reason is None)
        return reason

    async def metrics_handler(request: web.Request) -> web.Response:
        await not_ready_reason()
        body = await asyncio.to_thread(metrics.exposition)
        response = web.Response(body=body)
        response.headers["Content-Type"] = EXPOSITION_CONTENT_TYPE
        return response

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        reason = await not_ready_reason()
        if reason is None:
            return web.json_response({"status": "ready"})
        return web.json_response({"status": "not ready", "reason": reason}, status=503)

    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if add_routes is not None:
        add_routes(app)
    return app


__all__ = [
    "ReadinessCheck",
    "build_api_app",
]
