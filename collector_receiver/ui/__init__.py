"""The web UI at ``/`` on the API port (9464) for people inspecting failures (CONTRACT §11).

==============================  ===========================================================
``GET /``                       overview: failures over time by category, top codes, new
                                patterns, the drift verdict (``since``, ``until``)
``GET /failures``               the failures list with the query API's filters (``service``,
                                ``code``, ``category``, ``trace_id``, ``provider``, ``model``,
                                ``tool``, ``agent``, ``since``, ``until``, ``limit``,
                                ``cursor``); "Next page" carries the API's cursor
``GET /failures/{id}``          one failure: message, stacktrace, attributes, GenAI context,
                                trace link, the other failures of its trace and fingerprint
``GET /patterns``               patterns with first/last seen, occurrences and a small chart
                                (``service``, ``code``, ``since``, ``limit``, ``cursor``)
``GET /rates``                  failure rates by tool and by model (``service``, ``since``,
                                ``until``)
``GET /catalog``                every entry with its count, the uncataloged types, and the
                                entries ``failcat catalog suggest`` drafts (``since``,
                                ``until``)
``GET|POST /sign-in``           only with ``FAILCAT_AUTH_TOKEN``; ``POST /sign-out``
``GET /static/…``               the stylesheet and the one small script
==============================  ===========================================================

The default window is the last 24 hours; each page shows its window, and every link it writes
holds the window as fixed times, so a shared link shows the same rows. Times are UTC; hovering
one shows it in the browser's local time.

Every page is rendered on the server from the same store queries as ``/api/v1`` (the UI adds
only counts over time, :mod:`collector_receiver.store.timeline`), by Jinja2 with autoescaping
on, so a failure's message, attributes or service name are always text, never markup. Pages
fetch nothing from outside the receiver (their ``Content-Security-Policy`` says so to the
browser too). The UI only reads: its only non-GET requests are sign-in and sign-out
(:mod:`collector_receiver.ui._sessions`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from aiohttp import web

from collector_receiver.store.timeline import TimelineQueries
from collector_receiver.ui._sessions import (
    COOKIE_NAME,
    SessionStore,
    clear_session_cookie,
    safe_next,
    same_origin,
    session_middleware,
    set_session_cookie,
)
from collector_receiver.ui._views import Pages

if TYPE_CHECKING:
    from collector_receiver.catalog import Catalog

__all__ = ["UI_PAGE_PATHS", "UiSettings", "add_ui_routes", "is_ui_path"]

#: The first segment of every page path ("" is the overview at ``/``).
UI_PAGE_PATHS = ("", "failures", "patterns", "rates", "catalog")


def is_ui_path(path: str) -> bool:
    """Whether ``path`` needs a session: every page and sign-out. Not ``/sign-in`` and not
    ``/static/`` (the form and its stylesheet hold no data), nor the API's own paths."""
    first = path.lstrip("/").split("/", 1)[0]
    return first in UI_PAGE_PATHS or path == "/sign-out"


@dataclass(frozen=True)
class UiSettings:
    """What the UI needs besides the database: the trace-link template, the catalog now loaded
    (it changes on SIGHUP), and the token that turns sign-in on."""

    trace_url_template: str | None = None
    catalog_provider: Callable[[], Catalog] | None = None
    auth_token: str | None = None


def add_ui_routes(app: web.Application, queries: TimelineQueries, settings: UiSettings) -> None:
    """Register the UI's routes on ``app`` (before it starts); with a token, its sign-in too.

    The session check is a middleware of ``app`` that looks only at UI paths, so ``/api/v1``,
    ``/metrics``, ``/healthz`` and ``/readyz`` keep the rules ``ops_http`` gives them.
    """
    pages = Pages(
        queries,
        settings.trace_url_template,
        settings.catalog_provider,
        auth=settings.auth_token is not None,
    )
    static = resources.files("collector_receiver.ui").joinpath("static")
    app.router.add_get("/", pages.guarded(pages.overview))
    app.router.add_get("/failures", pages.guarded(pages.failures))
    app.router.add_get("/failures/{id}", pages.guarded(pages.failure))
    app.router.add_get("/patterns", pages.guarded(pages.patterns))
    app.router.add_get("/rates", pages.guarded(pages.rates))
    app.router.add_get("/catalog", pages.guarded(pages.catalog))
    app.router.add_static("/static/", str(static), append_version=False)
    if settings.auth_token is None:
        return
    sessions = SessionStore(settings.auth_token)
    app.middlewares.append(session_middleware(sessions, is_ui_path))

    async def sign_in_form(request: web.Request) -> web.StreamResponse:
        return pages.render(
            request, "sign_in.html", next=safe_next(request.query.get("next")), problem=None
        )

    async def sign_in(request: web.Request) -> web.StreamResponse:
        if not same_origin(request):
            return pages.render(
                request, "error.html", 403, title="Forbidden", reason="Origin: not this receiver"
            )
        form = await request.post()
        token, target = form.get("token"), safe_next(str(form.get("next") or "/"))
        if not isinstance(token, str) or not sessions.token_matches(token):
            return pages.render(
                request, "sign_in.html", 401, next=target, problem="That is not the token."
            )
        response = web.HTTPSeeOther(location=target)
        set_session_cookie(response, request, sessions.open())
        return response

    async def sign_out(request: web.Request) -> web.StreamResponse:
        if not same_origin(request):
            return pages.render(
                request, "error.html", 403, title="Forbidden", reason="Origin: not this receiver"
            )
        sessions.close(request.cookies.get(COOKIE_NAME))
        response = web.HTTPSeeOther(location="/sign-in")
        clear_session_cookie(response)
        return response

    app.router.add_get("/sign-in", sign_in_form)
    app.router.add_post("/sign-in", sign_in)
    app.router.add_post("/sign-out", sign_out)
