"""Markup and script in a failure's message, attribute and service name are shown as text:
no dialog fires, no element is made of them, and the characters are on the page literally."""

from __future__ import annotations

from urllib.parse import quote

from tests.e2e._receiver import ReceiverProcess
from tests.ui._ui_agent import XSS_ATTRIBUTE, XSS_MESSAGE_INPUT, XSS_SERVICE
from tests.ui.conftest import OpenPage, api


def test_markup_in_a_failure_stays_text_on_every_page(
    filled: ReceiverProcess, open_page: OpenPage
) -> None:
    (failure,) = api(filled, f"/api/v1/failures?service={quote(XSS_SERVICE)}")["items"]  # type: ignore[misc]
    assert XSS_MESSAGE_INPUT in failure["exception_message"]  # stored as sent
    watched = open_page(filled)
    page = watched.page
    for path in (
        f"/failures/{failure['id']}",
        f"/failures?service={quote(XSS_SERVICE)}",
        "/failures",
        "/patterns",
        "/catalog",
        "/",
    ):
        assert watched.goto(path) == 200
        # The only script is the UI's own; no <img> or <b> came from the data.
        assert page.locator("script").evaluate_all("s => s.map(e => e.src)") == [
            f"{filled.api_url}/static/ui.js"
        ]
        assert page.locator("main img, main b").count() == 0
    watched.goto(f"/failures/{failure['id']}")
    assert XSS_MESSAGE_INPUT in page.inner_text("pre.message")
    assert page.get_by_text(XSS_ATTRIBUTE, exact=True).is_visible()
    assert page.get_by_role("link", name=XSS_SERVICE, exact=True).is_visible()
    assert watched.dialogs == []  # also asserted for every page by the fixture
