"""Sign-in for the web UI when ``FAILCAT_AUTH_TOKEN`` is set (CONTRACT §11).

A person signs in once by posting the token to ``/sign-in``; the receiver compares it in
constant time and answers with a cookie holding a random session id (``secrets``), never the
token, marked ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site's page
sends it) and ``Secure`` when the request came over TLS. Sessions live in this process's memory
and expire :data:`SESSION_SECONDS` after sign-in; a restart signs everyone out, which for a
read-only inspection page is cheaper than a table of sessions in the database.

Without a valid session every UI path answers 303 to ``/sign-in`` (for a browser asking for
HTML) or 401 (anything else). The two POSTs (sign-in, sign-out) also check that ``Origin`` is
this receiver's own, on top of ``SameSite=Strict``: a form on another site can neither sign a
person in to an attacker's session nor sign them out.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

__all__ = ["COOKIE_NAME", "SESSION_SECONDS", "SessionStore", "safe_next", "same_origin"]

COOKIE_NAME = "failcat_session"
#: A session lasts a working day.
SESSION_SECONDS = 12 * 3600
#: At most this many sessions are kept; signing in beyond it ends the oldest. Bounds the memory a
#: flood of sign-ins (each needs the token) could take.
MAX_SESSIONS = 1000

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SessionStore:
    """Random session ids with their expiry, in memory; ``clock`` is injectable for tests."""

    def __init__(
        self,
        token: str,
        clock: Callable[[], float] = time.monotonic,
        lifetime: float = SESSION_SECONDS,
    ) -> None:
        self._token = token.encode("utf-8")
        self._clock = clock
        self._lifetime = lifetime
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def token_matches(self, offered: str) -> bool:
        """Whether ``offered`` is the token (constant time)."""
        return hmac.compare_digest(offered.strip().encode("utf-8"), self._token)

    def open(self) -> str:
        """A new session id, valid for the lifetime."""
        while len(self._expiry) >= MAX_SESSIONS:
            self._expiry.popitem(last=False)
        session = secrets.token_urlsafe(32)
        self._expiry[session] = self._clock() + self._lifetime
        return session

    def valid(self, session: str | None) -> bool:
        if not session:
            return False
        expiry = self._expiry.get(session)
        if expiry is None:
            return False
        if expiry <= self._clock():
            del self._expiry[session]
            return False
        return True

    def close(self, session: str | None) -> None:
        if session:
            self._expiry.pop(session, None)


def same_origin(request: web.Request) -> bool:
    """Whether the request's ``Origin`` is this receiver (scheme, host and port)."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return False
    return origin == f"{request.scheme}://{request.host}"


def safe_next(target: str | None) -> str:
    """A path on this receiver to go to after sign-in; "/" for anything else (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def session_middleware(sessions: SessionStore, protects: Callable[[str], bool]) -> Middleware:
    """Answers a protected path without a valid session: 303 to sign-in for HTML, else 401."""

    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if not protects(request.path) or sessions.valid(request.cookies.get(COOKIE_NAME)):
            return await handler(request)
        if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
            raise web.HTTPSeeOther(location=f"/sign-in?{urlencode({'next': request.path_qs})}")
        return web.Response(
            status=401,
            text="sign in first: POST the token to /sign-in\n",
            content_type="text/plain",
        )

    return middleware


def set_session_cookie(response: web.StreamResponse, request: web.Request, session: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        session,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE_NAME, path="/")
