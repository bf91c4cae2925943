"""Every page of the UI in a real Chromium, on a real ``failcat serve`` filled over OTLP: each
loads with no console error and no request leaving the receiver, at laptop and phone widths,
and shows what the API answers for the same rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e._receiver import ReceiverProcess, http_get
from tests.ui.conftest import FILLED_FAILURES, OpenPage, api

PAGES = {
    "overview": "/",
    "failures": "/failures",
    "patterns": "/patterns",
    "rates": "/rates",
    "catalog": "/catalog",
}


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_loads_at_laptop_and_phone_width(
    filled: ReceiverProcess, open_page: OpenPage, screenshots: Path, width: int
) -> None:
    watched = open_page(filled, width)
    first_id = api(filled, "/api/v1/failures?tool=fetch_page&limit=1")["items"][0]["id"]  # type: ignore[index]
    for name, path in {**PAGES, "failure": f"/failures/{first_id}"}.items():
        assert watched.goto(path) == 200, name
        page = watched.page
        assert page.locator("main h1").count() == 1
        if name != "failure":
            assert "(the last 24 hours)" in page.inner_text("main"), name  # the default window
        # Nothing wider than the screen: tables scroll inside their own box.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (name, overflow)
        if width == 1280:
            # On a laptop no table scrolls sideways either, except the chart's numbers (a column
            # per bucket, folded away under the chart).
            scrolling = page.evaluate(
                "[...document.querySelectorAll('.scroll')]"
                ".filter(box => !box.closest('details') && box.scrollWidth > box.clientWidth)"
                ".map(box => box.closest('section')?.querySelector('h2')?.textContent)"
            )
            assert scrolling == [], (name, scrolling)
        suffix = "" if width == 1280 else "-phone"
        page.screenshot(path=str(screenshots / f"{name}{suffix}.png"))
    # The static files came from the receiver too (the route hook saw only its host).
    assert watched.hosts == {filled.api_url.removeprefix("http://")}


def test_overview_charts_every_category_and_lists_the_top_codes(
    filled: ReceiverProcess, open_page: OpenPage
) -> None:
    items: list[dict[str, Any]] = api(filled, "/api/v1/failures?limit=1000")["items"]  # type: ignore[assignment]
    watched = open_page(filled)
    watched.goto("/")
    page = watched.page
    categories = {item["category"] for item in items}
    labels = page.locator("svg.chart .series text").all_text_contents()
    assert sorted(label.rsplit(" (", 1)[0] for label in labels) == sorted(categories)
    # Each line is named with its total; the totals add up to every stored failure.
    assert sum(int(label.rsplit("(", 1)[1].rstrip(")")) for label in labels) == FILLED_FAILURES
    # Lines differ by dash pattern too, not by colour alone.
    dashes = page.locator("svg.chart polyline").evaluate_all(
        "lines => lines.map(l => l.getAttribute('stroke-dasharray'))"
    )
    assert len(set(dashes)) == len(dashes)
    top = page.locator("#codes-title + div tbody tr").first.locator("td").all_inner_texts()
    counts: dict[str, int] = {}
    for item in items:
        counts[item["code"]] = counts.get(item["code"], 0) + 1
    assert (top[0], int(top[3])) == max(counts.items(), key=lambda kv: (kv[1], kv[0] == top[0]))
    assert "No drift" in page.inner_text("#drift-title + p")  # no baseline: no score


def _page_ids(watched: Any) -> list[int]:
    ids = watched.page.locator("tr[data-failure-id]").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.failureId))"
    )
    return list(ids)


def test_filters_and_paging_reach_the_rows_the_api_answers(
    filled: ReceiverProcess, open_page: OpenPage
) -> None:
    watched = open_page(filled)
    page = watched.page
    watched.goto("/failures?service=checkout-agent&limit=7")
    seen: list[int] = []
    cursor = None
    while True:
        query = "service=checkout-agent&limit=7" + (f"&cursor={cursor}" if cursor else "")
        expected = api(filled, f"/api/v1/failures?{query}")
        assert _page_ids(watched) == [item["id"] for item in expected["items"]]  # type: ignore[union-attr]
        seen += _page_ids(watched)
        cursor = expected["next_cursor"]
        if cursor is None:
            assert page.get_by_text("Last page").is_visible()
            break
        page.get_by_role("link", name="Next page").click()
        assert f"cursor={cursor}" in page.url
    assert len(seen) == len(set(seen)) == 30

    # The filter form narrows by the §7 names; the URL holds them, so the link can be shared.
    watched.goto("/failures")
    page.get_by_label("Tool").fill("fetch_page")
    page.get_by_role("button", name="Filter").click()
    assert "tool=fetch_page" in page.url
    expected = api(filled, "/api/v1/failures?tool=fetch_page")
    assert _page_ids(watched) == [item["id"] for item in expected["items"]]  # type: ignore[union-attr]
    assert len(_page_ids(watched)) == 3


def test_a_bad_filter_gets_the_apis_reason_as_a_page(
    filled: ReceiverProcess, open_page: OpenPage
) -> None:
    watched = open_page(filled)
    assert watched.goto("/failures?since=yesterday-ish") == 400
    api_status, api_body = http_get(f"{filled.api_url}/api/v1/failures?since=yesterday-ish")
    assert api_status == 400
    reason = watched.page.inner_text(".problem")
    assert reason.removeprefix("Problem: ") in api_body.decode()
    assert watched.goto("/failures?cursor=not-a-cursor") == 400
    assert watched.goto("/failures/999999") == 404
    # The browser logs each error status it was answered with, and nothing else.
    assert [e.rsplit(" ", 3)[1] for e in watched.console_errors] == ["400", "400", "404"]
    watched.console_errors.clear()


def test_a_failure_page_shows_its_stacktrace_trace_link_and_relatives(
    filled: ReceiverProcess, open_page: OpenPage
) -> None:
    watched = open_page(filled)
    page = watched.page
    watched.goto("/failures?service=checkout-agent&code=UNCATALOGED&limit=1")
    expected: dict[str, Any] = api(filled, "/api/v1/failures?service=checkout-agent&limit=1000")
    page.locator("tr[data-failure-id] a").first.click()
    failure_id = int(page.url.rsplit("/", 1)[1])
    failure = api(filled, f"/api/v1/failures/{failure_id}")
    assert page.inner_text("pre.message") == failure["exception_message"]
    stacktrace = page.inner_text("pre.stacktrace")
    assert stacktrace.startswith("Traceback (most recent call last):")
    assert stacktrace == failure["stacktrace"]
    link = page.get_by_role("link", name="Open the trace")
    assert link.get_attribute("href") == failure["trace_url"]
    assert failure["trace_url"] == f"http://127.0.0.1:16686/trace/{failure['trace_id']}"
    # All 30 checkout failures share one trace; the fingerprint's list holds this failure.
    trace_rows = page.locator("h2:has-text('Failures of this trace') + div tr[data-failure-id]")
    assert trace_rows.count() == len(expected["items"]) == 30
    same = page.locator("h2:has-text('Failures of this fingerprint') + div tr[data-failure-id]")
    assert str(failure_id) in same.evaluate_all("rows => rows.map(r => r.dataset.failureId)")
    assert page.get_by_text('"checkout"').count() == 0  # a string attribute is shown as itself
    assert page.locator("td.value", has_text="checkout").count() == 1


def test_a_genai_failure_shows_its_context(filled: ReceiverProcess, open_page: OpenPage) -> None:
    (failure,) = api(filled, "/api/v1/failures?model=gpt-4o")["items"]  # type: ignore[misc]
    watched = open_page(filled)
    watched.goto(f"/failures/{failure['id']}")
    rows = watched.page.locator("h2:has-text('GenAI context') + table tr")
    names, values = rows.locator("th").all_inner_texts(), rows.locator("td").all_inner_texts()
    shown = dict(zip(names, values, strict=True))
    assert shown == {
        "Provider": "openai",
        "Model": "gpt-4o",
        "Operation": "chat",
        "Tool": "-",
        "Agent": "research",
    }


def test_rates_show_failures_operations_and_a_percentage(
    filled: ReceiverProcess, open_page: OpenPage
) -> None:
    watched = open_page(filled)
    watched.goto("/rates")
    page = watched.page
    for by in ("tool", "model"):
        answer: dict[str, Any] = api(filled, f"/api/v1/rates?by={by}")
        rows = page.locator(f"#by-{by} + div tbody tr")
        assert rows.count() == len(answer["items"])
        for row, item in zip(rows.all(), answer["items"], strict=True):
            cells = row.locator("th, td").all_inner_texts()
            rate = "-" if item["failure_rate"] is None else f"{item['failure_rate'] * 100:.1f} %"
            value = "(none)" if item["value"] is None else item["value"]
            assert cells == [value, str(item["failures"]), str(item["operations"]), rate]
    assert page.locator("#by-tool + div tbody tr", has_text="fetch_page").inner_text().split(
        "\t"
    ) == ["fetch_page", "3", "6", "50.0 %"]


def test_the_catalog_page_counts_every_entry_and_the_uncataloged(
    filled: ReceiverProcess, open_page: OpenPage
) -> None:
    answer: dict[str, Any] = api(filled, "/api/v1/catalog")
    watched = open_page(filled)
    watched.goto("/catalog")
    page = watched.page
    rows = page.locator("#entries-title + div tbody tr")
    shown = {
        row.locator("td").nth(0).inner_text(): int(row.locator("td").nth(4).inner_text())
        for row in rows.all()
    }
    expected = {i["code"]: i["count"] for i in answer["items"] if i["in_catalog"] or i["count"]}
    assert shown == expected
    uncataloged = page.locator("#uncataloged-title + div tbody tr").all_inner_texts()
    assert any(row.startswith("ZeroDivisionError\t") and "\t12\t" in row for row in uncataloged)
    drafts = page.locator("figure.draft pre").all_inner_texts()
    assert any("ZeroDivisionError" in draft for draft in drafts)


def test_pages_are_keyboard_navigable(filled: ReceiverProcess, open_page: OpenPage) -> None:
    watched = open_page(filled)
    watched.goto("/")
    page = watched.page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(3):  # skip link, brand, Overview, then Failures
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Failures"
    # The focused link is drawn with a visible outline.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    page.wait_for_url("**/failures")
    assert page.locator("tr[data-failure-id]").count() == FILLED_FAILURES


def test_times_are_utc_with_the_local_time_on_hover(
    filled: ReceiverProcess, open_page: OpenPage
) -> None:
    watched = open_page(filled)
    watched.goto("/failures")
    first = watched.page.locator("tr[data-failure-id] time").first
    assert first.inner_text().endswith("UTC")
    assert first.get_attribute("title").endswith("(local time)")  # type: ignore[union-attr]
