"""With ``FAILCAT_AUTH_TOKEN`` the UI needs a session: every page sends a browser to sign-in
(anything else gets 401), the token signs in once into an ``HttpOnly``, ``SameSite=Strict``
cookie holding a random id (never the token), sign-out ends it, a POST from another origin is
refused, and ``/api/v1`` still wants its bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e._receiver import ReceiverProcess, http_get, http_post, running_receiver
from tests.ui.conftest import OpenPage

TOKEN = "ui-test-token-5f1d9a"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverProcess]:
    directory = tmp_path_factory.mktemp("ui-auth")
    with running_receiver(
        f"sqlite:///{directory / 'failcat.db'}",
        directory / "receiver.log",
        env={"FAILCAT_AUTH_TOKEN": TOKEN},
    ) as receiver:
        yield receiver


def test_sign_in_is_required_and_keeps_a_session_without_the_token(
    guarded: ReceiverProcess, open_page: OpenPage, screenshots: Path
) -> None:
    watched = open_page(guarded)
    page = watched.page
    watched.goto("/failures?service=checkout-agent")
    sent_to = urlsplit(page.url)
    assert sent_to.path == "/sign-in"
    assert parse_qs(sent_to.query) == {"next": ["/failures?service=checkout-agent"]}
    page.screenshot(path=str(screenshots / "sign-in.png"))

    page.get_by_label("Token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "That is not the token."
    assert page.context.cookies() == []
    watched.console_errors.clear()  # the browser logs the 401 of the refused sign-in

    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/failures?service=checkout-agent")
    assert page.locator("main h1").inner_text() == "Failures"
    (cookie,) = page.context.cookies()
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert TOKEN not in cookie["value"] and len(cookie["value"]) >= 40
    assert page.evaluate("document.cookie") == ""  # no script can read it
    for path in ("/", "/patterns", "/rates", "/catalog"):
        assert watched.goto(path) == 200

    # The session is no bearer token: the API still answers 401 to the browser.
    assert page.request.get(f"{guarded.api_url}/api/v1/failures").status == 401
    assert page.request.get(
        f"{guarded.api_url}/api/v1/failures", headers={"Authorization": f"Bearer {TOKEN}"}
    ).ok

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    assert page.context.cookies() == []
    watched.goto("/catalog")
    assert page.url.startswith(f"{guarded.api_url}/sign-in?next=")


def test_without_a_session_pages_answer_401_to_non_browsers(guarded: ReceiverProcess) -> None:
    for path in ("/", "/failures", "/failures/1", "/patterns", "/rates", "/catalog"):
        status, body = http_get(f"{guarded.api_url}{path}")
        assert status == 401, path
        assert b"<" not in body  # no page, not even an empty one
    # A forged cookie is no session.
    status, _ = http_get(f"{guarded.api_url}/", {"Cookie": f"failcat_session={TOKEN}"})
    assert status == 401
    # What the sign-in form needs, and the probes, need nothing.
    assert http_get(f"{guarded.api_url}/sign-in")[0] == 200
    assert http_get(f"{guarded.api_url}/static/ui.css")[0] == 200
    assert http_get(f"{guarded.api_url}/healthz")[0] == 200


def test_a_sign_in_posted_from_another_origin_is_refused(guarded: ReceiverProcess) -> None:
    form = f"token={TOKEN}&next=/".encode()
    plain = {"Content-Type": "application/x-www-form-urlencoded"}
    for origin in ({"Origin": "http://evil.example"}, {}, {"Origin": "null"}):
        status, headers, _ = http_post(f"{guarded.api_url}/sign-in", form, {**plain, **origin})
        assert status == 403, origin
        assert "Set-Cookie" not in headers
    status, headers, _ = http_post(
        f"{guarded.api_url}/sign-in", form, {**plain, "Origin": guarded.api_url}
    )
    # urllib follows the 303 to "/" without the cookie, which is then a 401: the cookie was set.
    assert status == 401


def test_sign_in_never_redirects_off_the_receiver(
    guarded: ReceiverProcess, open_page: OpenPage
) -> None:
    watched = open_page(guarded)
    page = watched.page
    watched.goto("/sign-in?next=//evil.example/x")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{guarded.api_url}/")
    assert page.locator("main h1").inner_text() == "Overview"
