"""The query API under ``/api/v1/`` (CONTRACT §7), mounted on the API port's aiohttp app.

==========================================  ==============================================
``GET /api/v1/failures``                    filters ``service``, ``code``, ``category``,
                                            ``trace_id``, ``provider``, ``model``, ``tool``,
                                            ``agent``, ``since``, ``until``, ``limit``,
                                            ``cursor``; newest first
``GET /api/v1/failures/{id}``               one failure; 404 when unknown
``GET /api/v1/traces/{trace_id}/failures``  every failure of a trace, oldest first
``GET /api/v1/patterns``                    one row per fingerprint; ``service``, ``code``,
                                            ``since``, ``limit``, ``cursor``
``GET /api/v1/catalog``                     catalog entries with their counts in
                                            [``since``, ``until``) (default the last 24h)
``GET /api/v1/rates``                       failures, GenAI operations and their ratio per
                                            value of ``by`` (``tool``, ``model``,
                                            ``provider``, ``agent``, ``operation``);
                                            ``service``, ``since``, ``until``
``GET /api/v1/openapi.json``                the OpenAPI 3.1 description of all of these
==========================================  ==============================================

Lists answer ``{"items": [...], "next_cursor": "..." | null}``; pass ``next_cursor`` back as
``cursor`` for the next page. Times are RFC 3339 or durations back from now (``15m``, ``24h``,
``7d``). Each failure carries ``trace_url``, built from ``ApiSettings.trace_url_template``
(``FAILCAT_TRACE_URL_TEMPLATE``, placeholders ``{trace_id}``, ``{span_id}``, ``{service_name}``).
The item shapes of failures and patterns are built by :mod:`collector_receiver.presentation`,
which ``failcat failures --json`` shares.

A bad parameter (including an unknown one, which is usually a typo) gets 400
``{"error": "<param>: <reason>"}``; a database that cannot be reached gets 503 with
``Retry-After``. Queries run in a worker thread so the event loop keeps serving OTLP and metrics.
Authentication is not done here: the server's middleware guards ``/api/v1`` as a whole.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from collector_receiver.events import UNCATALOGED
from collector_receiver.presentation import failure_json, list_json, pattern_json, rates_json
from collector_receiver.store import SchemaMissing, StoreError, StoreUnavailable
from collector_receiver.store.queries import DEFAULT_LIMIT, MAX_LIMIT, FailureQueries
from collector_receiver.store.rates import RATE_DIMENSIONS, check_dimension
from collector_receiver.timeparse import format_time, parse_time, utc_now

if TYPE_CHECKING:
    from collector_receiver.catalog import Catalog

__all__ = [
    "API_PREFIX",
    "GENAI_FILTERS",
    "ApiSettings",
    "BadParameter",
    "QueryParams",
    "add_api_routes",
    "catalog_body",
    "openapi_document",
    "query_window",
]

API_PREFIX = "/api/v1"
_TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")
_CATALOG_DEFAULT_SPAN = timedelta(hours=24)
_RETRY_AFTER_SECONDS = "5"
#: The GenAI filters of ``/api/v1/failures``, named as ``FailureQueries.list_failures`` names
#: them (exact match on ``gen_ai_<name>``).
GENAI_FILTERS = ("provider", "model", "tool", "agent")
T = TypeVar("T")


@dataclass(frozen=True)
class ApiSettings:
    """What the API needs besides the database.

    ``catalog_provider`` returns the catalog currently loaded (it changes on SIGHUP), so
    ``/api/v1/catalog`` always shows what the receiver matches against right now.
    """

    trace_url_template: str | None = None
    catalog_provider: Callable[[], Catalog] | None = None
    default_limit: int = DEFAULT_LIMIT
    max_limit: int = MAX_LIMIT

    def __post_init__(self) -> None:
        if not 1 <= self.max_limit <= MAX_LIMIT:
            raise ValueError(f"max_limit must be between 1 and {MAX_LIMIT}")
        if not 1 <= self.default_limit <= self.max_limit:
            raise ValueError("default_limit must be between 1 and max_limit")


class BadParameter(Exception):
    """A query parameter the API (and the web UI, which reads the same parameters) refuses:
    a 400 whose reason names the parameter."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document served at ``/api/v1/openapi.json``."""
    text = resources.files("collector_receiver.server").joinpath("openapi.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


class QueryParams:
    """Validated access to a request's query string; every error names its parameter."""

    def __init__(self, request: web.Request, allowed: tuple[str, ...], now: datetime) -> None:
        self._query = request.query
        self._now = now
        for name in self._query:
            if name not in allowed:
                raise BadParameter(name, f"unknown parameter (allowed: {', '.join(allowed)})")
            if len(self._query.getall(name)) > 1:
                raise BadParameter(name, "given more than once")

    def text(self, name: str) -> str | None:
        value = self._query.get(name, "").strip()
        if not value:
            return None
        if len(value) > 512:
            raise BadParameter(name, "longer than 512 characters")
        if "\x00" in value:
            # No stored value holds one (the store replaces NUL), and PostgreSQL refuses it.
            raise BadParameter(name, "contains a NUL character")
        return value

    def time(self, name: str) -> datetime | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_time(value, self._now)
        except ValueError as exc:
            raise BadParameter(name, str(exc)) from None

    def limit(self, settings: ApiSettings) -> int:
        value = self.text("limit")
        if value is None:
            return settings.default_limit
        if not value.isdigit() or not 1 <= int(value) <= settings.max_limit:
            raise BadParameter("limit", f"must be an integer from 1 to {settings.max_limit}")
        return int(value)

    def trace_id(self) -> str | None:
        value = self.text("trace_id")
        return None if value is None else _valid_trace_id(value, "trace_id")


def _valid_trace_id(value: str, parameter: str) -> str:
    if not _TRACE_ID.match(value):
        raise BadParameter(parameter, "must be 32 hexadecimal characters")
    if value == "0" * 32:
        raise BadParameter(parameter, "the all-zero trace id is not valid")
    return value.lower()


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def query_window(params: QueryParams) -> tuple[datetime | None, datetime | None]:
    """The ``since``/``until`` of a request, ``until`` later than ``since`` when both are given."""
    since = params.time("since")
    until = params.time("until")
    if since is not None and until is not None and until <= since:
        raise BadParameter("until", "must be later than since")
    return since, until


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _guarded(handler: Handler) -> Handler:
    """Map parameter errors to 400 and database trouble to 503 for one handler."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadParameter as exc:
            return _error(400, str(exc))
        except (StoreUnavailable, SchemaMissing) as exc:
            # Both clear up without a change to the request: the database comes back, or
            # someone runs the migration.
            return _error(503, str(exc), {"Retry-After": _RETRY_AFTER_SECONDS})
        except StoreError as exc:
            return _error(500, str(exc))

    return wrapper


async def _run(function: Callable[[], T]) -> T:
    # SQLAlchemy is blocking; keep the loop (OTLP, /metrics, other API calls) responsive.
    return await asyncio.to_thread(function)


def add_api_routes(app: web.Application, queries: FailureQueries, settings: ApiSettings) -> None:
    """Register every ``/api/v1`` route on ``app`` (call before the app starts)."""
    template = settings.trace_url_template

    async def list_failures(request: web.Request) -> web.StreamResponse:
        params = QueryParams(
            request,
            (
                "service",
                "code",
                "category",
                "trace_id",
                *GENAI_FILTERS,
                "since",
                "until",
                "limit",
                "cursor",
            ),
            utc_now(),
        )
        since, until = query_window(params)
        call = partial(
            queries.list_failures,
            service=params.text("service"),
            code=params.text("code"),
            category=params.text("category"),
            trace_id=params.trace_id(),
            **{name: params.text(name) for name in GENAI_FILTERS},
            since=since,
            until=until,
            limit=params.limit(settings),
            cursor=params.text("cursor"),
        )
        try:
            page = await _run(call)
        except ValueError as exc:  # the only ValueError left is a malformed cursor
            raise BadParameter("cursor", str(exc)) from None
        return web.json_response(
            list_json((failure_json(failure, template) for failure in page.items), page.next_cursor)
        )

    async def get_failure(request: web.Request) -> web.StreamResponse:
        QueryParams(request, (), utc_now())
        raw = request.match_info["id"]
        if not raw.isdigit() or len(raw) > 18:
            raise BadParameter("id", "must be a positive integer")
        failure = await _run(partial(queries.get_failure, int(raw)))
        if failure is None:
            return _error(404, f"id: no failure with id {raw}")
        return web.json_response(failure_json(failure, template))

    async def trace_failures(request: web.Request) -> web.StreamResponse:
        QueryParams(request, (), utc_now())
        trace_id = _valid_trace_id(request.match_info["trace_id"], "trace_id")
        failures = await _run(partial(queries.failures_for_trace, trace_id))
        return web.json_response(
            list_json((failure_json(failure, template) for failure in failures), None)
        )

    async def list_patterns(request: web.Request) -> web.StreamResponse:
        params = QueryParams(request, ("service", "code", "since", "limit", "cursor"), utc_now())
        call = partial(
            queries.list_patterns,
            service=params.text("service"),
            code=params.text("code"),
            since=params.time("since"),
            limit=params.limit(settings),
            cursor=params.text("cursor"),
        )
        try:
            page = await _run(call)
        except ValueError as exc:
            raise BadParameter("cursor", str(exc)) from None
        return web.json_response(
            list_json((pattern_json(pattern) for pattern in page.items), page.next_cursor)
        )

    async def catalog(request: web.Request) -> web.StreamResponse:
        now = utc_now()
        params = QueryParams(request, ("since", "until"), now)
        since, until = query_window(params)
        until = until or now
        since = since or until - _CATALOG_DEFAULT_SPAN
        if since >= until:
            raise BadParameter("since", "must be earlier than until")
        counts = await _run(partial(queries.catalog_counts, since, until))
        current = settings.catalog_provider() if settings.catalog_provider else None
        return web.json_response(catalog_body(current, counts, since, until))

    async def rates(request: web.Request) -> web.StreamResponse:
        params = QueryParams(request, ("by", "service", "since", "until"), utc_now())
        by = params.text("by")
        if by is None:
            raise BadParameter("by", f"required, one of {', '.join(RATE_DIMENSIONS)}")
        try:
            dimension = check_dimension(by)
        except ValueError as exc:
            raise BadParameter("by", str(exc)) from None
        since, until = query_window(params)
        call = partial(queries.rates, dimension, params.text("service"), since, until)
        return web.json_response(rates_json(dimension, await _run(call)))

    async def openapi(request: web.Request) -> web.StreamResponse:
        return web.json_response(openapi_document())

    app.router.add_get(f"{API_PREFIX}/failures", _guarded(list_failures))
    app.router.add_get(f"{API_PREFIX}/failures/{{id}}", _guarded(get_failure))
    app.router.add_get(f"{API_PREFIX}/traces/{{trace_id}}/failures", _guarded(trace_failures))
    app.router.add_get(f"{API_PREFIX}/patterns", _guarded(list_patterns))
    app.router.add_get(f"{API_PREFIX}/catalog", _guarded(catalog))
    app.router.add_get(f"{API_PREFIX}/rates", _guarded(rates))
    app.router.add_get(f"{API_PREFIX}/openapi.json", openapi)


def catalog_body(
    catalog: Catalog | None, counts: Mapping[str, int], since: datetime, until: datetime
) -> dict[str, Any]:
    """The body of ``/api/v1/catalog`` (and the UI's catalog page): every entry with its count
    in [since, until), and the uncataloged types."""
    items: list[dict[str, Any]] = []
    listed: set[str] = set()
    if catalog is not None:
        for entry in catalog.entries:
            items.append(
                {
                    "code": entry.code,
                    "title": entry.title,
                    "category": entry.category,
                    "severity": entry.severity,
                    "remediation": entry.remediation,
                    "runbook_url": entry.runbook_url,
                    "in_catalog": True,
                    "count": counts.get(entry.code, 0),
                }
            )
            listed.add(entry.code)
    # UNCATALOGED and codes of earlier catalog versions still have stored failures; list them
    # so the counts add up to everything stored in the window.
    extra = sorted(code for code in counts if code not in listed and code != UNCATALOGED)
    if UNCATALOGED not in listed:
        extra.insert(0, UNCATALOGED)
    for code in extra:
        items.append(
            {
                "code": code,
                "title": None,
                "category": "uncataloged" if code == UNCATALOGED else None,
                "severity": "medium" if code == UNCATALOGED else None,
                "remediation": None,
                "runbook_url": None,
                "in_catalog": False,
                "count": counts.get(code, 0),
            }
        )
    return {
        "items": items,
        "next_cursor": None,
        "catalog_version": catalog.catalog_version if catalog is not None else None,
        "window": {"start": format_time(since), "end": format_time(until)},
    }
