"""httpx mock transports that answer as a provider does, or fail as a network does.

Every SDK here takes an httpx client (or builds on httpx), so its own request, retry and
error-mapping code runs unchanged against these answers. The Anthropic SDK 2.x is built on
``httpx2``, httpx's successor with the same API, so each helper takes the module to use.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx

Handler = Callable[[Any], Any]


def answer(
    status: int, body: object, headers: dict[str, str] | None = None, http: ModuleType = httpx
) -> Handler:
    """Every request gets ``status`` with the JSON ``body``."""

    def handler(request: Any) -> Any:
        return http.Response(
            status, json=body, headers={"request-id": "req_011CUpTnWXm8d3bK", **(headers or {})}
        )

    return handler


def read_timeout(http: ModuleType = httpx) -> Handler:
    def handler(request: Any) -> Any:
        raise http.ReadTimeout("timed out", request=request)

    return handler


def refused(http: ModuleType = httpx) -> Handler:
    def handler(request: Any) -> Any:
        raise http.ConnectError("[Errno 111] Connection refused", request=request)

    return handler


def client(handler: Handler, http: ModuleType = httpx) -> Any:
    return http.Client(transport=http.MockTransport(handler))


def async_client(handler: Handler, http: ModuleType = httpx) -> Any:
    return http.AsyncClient(transport=http.MockTransport(handler))
