"""Which paths of the API port need the bearer token: ``/api/v1/`` always, ``/metrics`` only
with ``--metrics-auth``, ``/healthz`` and ``/readyz`` never."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from collector_receiver.server.metrics import ReceiverMetrics
from collector_receiver.server.ops_http import build_api_app

TOKEN = "s3cret"
GOOD = {"Authorization": f"Bearer {TOKEN}"}
WRONG = {"Authorization": "Bearer nope"}

Client = TestClient[web.Request, web.Application]


async def _ready() -> str | None:
    return None


def _add_api(app: web.Application) -> None:
    async def failures(request: web.Request) -> web.Response:
        return web.json_response({"items": [], "next_cursor": None})

    app.router.add_get("/api/v1/failures", failures)


async def _client(metrics_auth: bool) -> AsyncIterator[Client]:
    metrics = ReceiverMetrics()
    app = build_api_app(metrics, _ready, TOKEN, add_routes=_add_api, metrics_auth=metrics_auth)
    try:
        async with TestClient(TestServer(app)) as client:
            yield client
    finally:
        metrics.shutdown()


@pytest.fixture
async def guarded() -> AsyncIterator[Client]:
    async for client in _client(metrics_auth=True):
        yield client


@pytest.fixture
async def open_metrics() -> AsyncIterator[Client]:
    async for client in _client(metrics_auth=False):
        yield client


async def _status(client: Client, path: str, headers: dict[str, str] | None = None) -> int:
    response = await client.get(path, headers=headers)
    await response.read()
    return response.status


async def test_metrics_auth_puts_metrics_behind_the_token(guarded: Client) -> None:
    assert await _status(guarded, "/metrics") == 401
    assert await _status(guarded, "/metrics", WRONG) == 401
    response = await guarded.get("/metrics", headers=GOOD)
    assert response.status == 200
    assert "failcat_otlp_items_total" in await response.text()


async def test_without_metrics_auth_metrics_stay_open_and_the_api_does_not(
    open_metrics: Client,
) -> None:
    assert await _status(open_metrics, "/metrics") == 200
    assert await _status(open_metrics, "/api/v1/failures") == 401
    assert await _status(open_metrics, "/api/v1/failures", GOOD) == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_probes_never_need_the_token(
    guarded: Client, open_metrics: Client, path: str
) -> None:
    assert await _status(guarded, path) == 200
    assert await _status(guarded, path, WRONG) == 200
    assert await _status(open_metrics, path) == 200


def test_metrics_auth_without_a_token_is_a_programming_error() -> None:
    metrics = ReceiverMetrics()
    try:
        with pytest.raises(ValueError, match="metrics_auth needs an auth_token"):
            build_api_app(metrics, _ready, None, metrics_auth=True)
    finally:
        metrics.shutdown()
