"""Under ``--workers`` the 9464 port is the parent's, which receives no OTLP: the UI there reads
the database the workers write, here PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from tests.e2e._receiver import running_receiver
from tests.ui.conftest import FILLED_FAILURES, TRACE_URL_TEMPLATE, OpenPage, api, fill


def test_the_parent_of_workers_serves_the_ui_from_postgresql(
    postgres_url: str, tmp_path: Path, open_page: OpenPage
) -> None:
    with running_receiver(
        postgres_url,
        tmp_path / "receiver.log",
        extra_args=["--workers", "2"],
        env={"FAILCAT_TRACE_URL_TEMPLATE": TRACE_URL_TEMPLATE},
    ) as receiver:
        fill(receiver)
        watched = open_page(receiver)
        page = watched.page
        watched.goto("/failures?limit=1000")
        assert page.locator("tr[data-failure-id]").count() == FILLED_FAILURES
        watched.goto("/")
        totals = page.inner_text(".totals")
        assert totals.startswith(f"{FILLED_FAILURES} failures")
        newest = api(receiver, "/api/v1/failures?limit=1")["items"][0]  # type: ignore[index]
        watched.goto(f"/failures/{newest['id']}")
        assert (
            page.get_by_role("link", name="Open the trace").get_attribute("href")
            == newest["trace_url"]
        )
        for path in ("/patterns", "/rates", "/catalog"):
            assert watched.goto(path) == 200
