"""The UI's pages: each handler reads the store's queries and renders one Jinja2 template.

The parameters are the query API's (:mod:`collector_receiver.server.query_api`), read by the
same validating class, so a UI URL and an API URL with the same query string select the same
rows, and a bad parameter gets the same one-line reason (as an HTML page with status 400).
What the pages add is a default window: the last 24 hours, resolved to fixed times in every
link the page writes (a "next page" link keeps reading the window the first page read).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from collector_receiver.aggregate import AggregateSpec, compute_aggregate
from collector_receiver.catalog import CatalogError, SuggestionInput, draft_entries
from collector_receiver.events import UNCATALOGED
from collector_receiver.presentation import rate_percent, render_trace_url
from collector_receiver.server.query_api import (
    GENAI_FILTERS,
    ApiSettings,
    BadParameter,
    QueryParams,
    catalog_body,
    query_window,
)
from collector_receiver.store import SchemaMissing, StoreError, StoreUnavailable
from collector_receiver.store.aggregates import AggregateQueries
from collector_receiver.store.timeline import TimelineQueries
from collector_receiver.timeparse import format_time, utc_now
from collector_receiver.ui._charts import bar_chart, line_chart

if TYPE_CHECKING:
    from collector_receiver.catalog import Catalog

__all__ = ["DEFAULT_WINDOW", "PAGE_SIZE", "Pages"]

#: Every page's window when the URL gives no ``since`` (CONTRACT §11).
DEFAULT_WINDOW = timedelta(hours=24)
#: Rows on one page of the failures and patterns lists (``limit`` overrides it).
PAGE_SIZE = 50
#: Buckets of the overview's chart and of each pattern's small chart.
_BUCKETS = 24
_TOP = 10
#: ``limit`` as the API reads it, with the UI's page size as its default.
_PAGE_LIMITS = ApiSettings(default_limit=PAGE_SIZE)
#: How many uncataloged kinds the catalog page lists, and how many of them it drafts entries for.
_UNCATALOGED_ROWS = 30
_DRAFTS = 10

T = TypeVar("T")
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Window:
    """The time range a page shows, resolved to fixed times."""

    since: datetime
    until: datetime
    default: bool  # neither since nor until was given

    @property
    def query(self) -> dict[str, str]:
        return {"since": format_time(self.since), "until": format_time(self.until)}

    def edges(self, buckets: int = _BUCKETS) -> list[datetime]:
        step = (self.until - self.since) / buckets
        return [self.since + step * i for i in range(buckets)] + [self.until]


def _resolve_window(params: QueryParams, now: datetime) -> Window:
    since, until = query_window(params)
    default = since is None and until is None
    until = until or now
    since = since or until - DEFAULT_WINDOW
    if since >= until:
        raise BadParameter("since", "must be earlier than until")
    return Window(since, until, default)


async def _run(function: Callable[[], T]) -> T:
    # The store is blocking; the loop keeps serving OTLP, metrics and the API meanwhile.
    return await asyncio.to_thread(function)


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


#: Where a name may wrap: after a dot, and after an underscore that ends a word.
_NAME_BREAKS = re.compile(r"(?<=\.)|(?<=[A-Za-z0-9]_)")


def _breakable_name(name: str) -> Markup:
    """A type or code name (``anthropic._exceptions.OverloadedError``, ``PROVIDER_OVERLOADED``)
    that may wrap between its parts, never inside a word: a table of names then fits a laptop's
    half-width column."""
    return Markup("<wbr>").join(escape(part) for part in _NAME_BREAKS.split(name))


def _query(base: Mapping[str, str | None] | None = None, **extra: str | None) -> str:
    """A query string of ``base`` updated by ``extra``, without empty values."""
    pairs = {**(base or {}), **extra}
    return urlencode({key: value for key, value in pairs.items() if value})


def template_environment() -> jinja2.Environment:
    """The templates of this package, with autoescaping on for every one of them."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("collector_receiver.ui", "templates"),
        # Every template is HTML (SVG is drawn inside HTML), so escape all, whatever the name.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["utc"] = format_time
    environment.filters["percent"] = rate_percent
    environment.filters["value_text"] = _value_text
    environment.filters["breakable"] = _breakable_name
    # A catalog file by its name: where it lies on the server is no reader's business.
    environment.filters["file_name"] = lambda source: PurePath(source).name or source
    environment.globals["query"] = _query
    return environment


class Pages:
    """The page handlers over one set of queries; ``auth`` (the receiver has a token) tells the
    templates to offer sign-out."""

    def __init__(
        self,
        queries: TimelineQueries,
        trace_url_template: str | None,
        catalog_provider: Callable[[], Catalog] | None,
        *,
        auth: bool,
    ) -> None:
        self._queries = queries
        self._aggregates = AggregateQueries(queries.engine)
        self._trace_url_template = trace_url_template
        self._catalog_provider = catalog_provider
        self._auth = auth
        self._templates = template_environment()

    # -- rendering --------------------------------------------------------------------------

    def render(
        self, request: web.Request, name: str, status: int = 200, **context: Any
    ) -> web.Response:
        body = self._templates.get_template(name).render(
            auth=self._auth, path=request.path, **context
        )
        return web.Response(
            text=body,
            status=status,
            content_type="text/html",
            charset="utf-8",
            headers={
                # The pages load nothing from outside the receiver; the browser enforces it too.
                "Content-Security-Policy": (
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                    "base-uri 'none'"
                ),
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
                "Cache-Control": "no-store",
            },
        )

    def guarded(self, handler: _Handler) -> _Handler:
        """Map a bad parameter to a 400 page and database trouble to a 503 page."""

        async def wrapper(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except BadParameter as exc:
                return self.render(request, "error.html", 400, title="Bad request", reason=str(exc))
            except (StoreUnavailable, SchemaMissing) as exc:
                return self.render(
                    request, "error.html", 503, title="Database unavailable", reason=str(exc)
                )
            except StoreError as exc:
                return self.render(request, "error.html", 500, title="Store error", reason=str(exc))

        return wrapper

    # -- pages ------------------------------------------------------------------------------

    async def overview(self, request: web.Request) -> web.StreamResponse:
        now = utc_now()
        window = _resolve_window(QueryParams(request, ("since", "until"), now), now)
        edges = window.edges()
        counts = await _run(partial(self._queries.counts_by_category, edges))
        spec = AggregateSpec(now=window.until, window=window.until - window.since)
        summary = await _run(partial(compute_aggregate, self._aggregates, spec))
        return self.render(
            request,
            "overview.html",
            window=window,
            chart=line_chart(counts, edges),
            edges=edges,
            counts=counts,
            summary=summary,
            top_codes=[c for c in summary["by_code"] if c["count"]][:_TOP],
            new_patterns=summary["new_patterns"][:_TOP],
        )

    async def failures(self, request: web.Request) -> web.StreamResponse:
        now = utc_now()
        filters = ("service", "code", "category", "trace_id", *GENAI_FILTERS)
        params = QueryParams(request, (*filters, "since", "until", "limit", "cursor"), now)
        window = _resolve_window(params, now)
        chosen = {name: params.text(name) for name in filters}
        chosen["trace_id"] = params.trace_id()
        limit = params.limit(_PAGE_LIMITS)
        cursor = params.text("cursor")
        call = partial(
            self._queries.list_failures,
            **chosen,
            since=window.since,
            until=window.until,
            limit=limit,
            cursor=cursor,
        )
        try:
            page = await _run(call)
        except ValueError as exc:  # a malformed cursor
            raise BadParameter("cursor", str(exc)) from None
        kept = {**{k: v for k, v in chosen.items() if v}, **window.query}
        if limit != PAGE_SIZE:
            kept["limit"] = str(limit)
        return self.render(
            request,
            "failures.html",
            window=window,
            filters=chosen,
            filter_names=filters,
            failures=page.items,
            kept=kept,
            next_query=urlencode({**kept, "cursor": page.next_cursor})
            if page.next_cursor
            else None,
            first_query=urlencode(kept) if cursor else None,
        )

    async def failure(self, request: web.Request) -> web.StreamResponse:
        QueryParams(request, (), utc_now())
        raw = request.match_info["id"]
        if not raw.isdigit() or len(raw) > 18:
            raise BadParameter("id", "must be a positive integer")
        failure = await _run(partial(self._queries.get_failure, int(raw)))
        if failure is None:
            return self.render(
                request,
                "error.html",
                404,
                title="Not found",
                reason=f"id: no failure with id {raw}",
            )
        trace = (
            await _run(partial(self._queries.failures_for_trace, failure.trace_id))
            if failure.trace_id
            else []
        )
        same_pattern = await _run(
            partial(self._queries.failures_of_pattern, failure.fingerprint, failure.service_name)
        )
        return self.render(
            request,
            "failure.html",
            failure=failure,
            trace_url=render_trace_url(
                self._trace_url_template, failure.trace_id, failure.span_id, failure.service_name
            ),
            trace=trace,
            same_pattern=same_pattern,
            genai=[
                (name, getattr(failure, f"gen_ai_{name}"))
                for name in ("provider", "model", "operation", "tool", "agent")
            ],
        )

    async def patterns(self, request: web.Request) -> web.StreamResponse:
        now = utc_now()
        params = QueryParams(request, ("service", "code", "since", "limit", "cursor"), now)
        since = params.time("since") or now - DEFAULT_WINDOW
        if since >= now:
            raise BadParameter("since", "must be in the past")
        window = Window(since, now, params.text("since") is None)
        limit = params.limit(_PAGE_LIMITS)
        cursor = params.text("cursor")
        chosen = {"service": params.text("service"), "code": params.text("code")}
        call = partial(
            self._queries.list_patterns, **chosen, since=since, limit=limit, cursor=cursor
        )
        try:
            page = await _run(call)
        except ValueError as exc:
            raise BadParameter("cursor", str(exc)) from None
        edges = window.edges()
        counts = await _run(
            partial(self._queries.counts_by_fingerprint, [p.fingerprint for p in page.items], edges)
        )
        kept = {**{k: v for k, v in chosen.items() if v}, "since": format_time(since)}
        if limit != PAGE_SIZE:
            kept["limit"] = str(limit)
        return self.render(
            request,
            "patterns.html",
            window=window,
            filters=chosen,
            patterns=[
                (p, bar_chart(counts.get(p.fingerprint, [0] * _BUCKETS), edges)) for p in page.items
            ],
            next_query=urlencode({**kept, "cursor": page.next_cursor})
            if page.next_cursor
            else None,
            first_query=urlencode(kept) if cursor else None,
        )

    async def rates(self, request: web.Request) -> web.StreamResponse:
        now = utc_now()
        params = QueryParams(request, ("service", "since", "until"), now)
        window = _resolve_window(params, now)
        service = params.text("service")
        tables = {}
        for by in ("tool", "model"):
            tables[by] = await _run(
                partial(self._queries.rates, by, service, window.since, window.until)
            )
        return self.render(request, "rates.html", window=window, service=service, tables=tables)

    async def catalog(self, request: web.Request) -> web.StreamResponse:
        now = utc_now()
        window = _resolve_window(QueryParams(request, ("since", "until"), now), now)
        counts = await _run(partial(self._queries.catalog_counts, window.since, window.until))
        current = self._catalog_provider() if self._catalog_provider else None
        body = catalog_body(current, counts, window.since, window.until)
        uncataloged = await _run(
            partial(
                self._aggregates.uncataloged_patterns,
                window.since,
                window.until,
                limit=_UNCATALOGED_ROWS,
            )
        )
        drafts, draft_problem = [], None
        if current is not None and uncataloged:
            try:
                drafts = draft_entries(
                    [
                        SuggestionInput(
                            exception_type=row.exception_type,
                            message_template=row.message_template,
                            occurrences=row.occurrences,
                            example_message=row.example_message,
                            services=row.services,
                        )
                        for row in uncataloged
                    ],
                    current,
                )[:_DRAFTS]
            except CatalogError as exc:  # a bug in drafting, not the user's: say so, show the rest
                draft_problem = str(exc)
        return self.render(
            request,
            "catalog.html",
            window=window,
            catalog=current,
            entries=[i for i in body["items"] if i["in_catalog"]],
            others=[i for i in body["items"] if not i["in_catalog"] and i["count"]],
            uncataloged=uncataloged,
            uncataloged_code=UNCATALOGED,
            drafts=drafts,
            draft_problem=draft_problem,
        )
