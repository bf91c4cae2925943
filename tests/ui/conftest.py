"""The UI tests' browser and receiver: Debian's Chromium driven by Playwright, a real
``failcat serve`` filled by real OTLP from the OpenTelemetry SDK.

Chromium is launched by path (``/usr/bin/chromium``, installed by ``scripts/ensure-services.sh``);
Playwright's own browser download is never used. Every page a test opens goes through
:class:`WatchedPage`, which records the host of every request the browser makes and every
console error, and the test's teardown asserts there were none outside the receiver and none at
all. ``FAILCAT_UI_SCREENSHOTS=docs/ui`` writes the tests' screenshots where docs/ui.md shows them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Route, sync_playwright

from tests.e2e._receiver import ReceiverProcess, http_get, running_receiver

CHROMIUM = Path("/usr/bin/chromium")
AGENT = Path(__file__).with_name("_ui_agent.py")
GENAI_AGENT = Path(__file__).parents[1] / "collector_receiver" / "server" / "_genai_agent.py"
TRACE_URL_TEMPLATE = "http://127.0.0.1:16686/trace/{trace_id}"
#: The failures the two agents send: 30 + 12 + 1 from _ui_agent, 4 from _genai_agent.
FILLED_FAILURES = 47


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-services.sh (apt-get chromium)")
    with sync_playwright() as playwright:
        # --no-sandbox: the test machines run as root, where Chromium's sandbox cannot start.
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class WatchedPage:
    """A page whose requests and console errors are recorded (see the module docstring)."""

    page: Page
    origin: str
    hosts: set[str] = field(default_factory=set)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def goto(self, path: str) -> int:
        response = self.page.goto(f"{self.origin}{path}")
        assert response is not None
        return response.status


def _watch(browser: Browser, origin: str, width: int = 1280, height: int = 900) -> WatchedPage:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watched = WatchedPage(page, origin)

    def route(route: Route, request: Request) -> None:
        host = urlsplit(request.url).netloc
        watched.hosts.add(host)
        if f"http://{host}" == origin:
            route.continue_()
        else:
            route.abort()  # recorded above; never let the browser leave the receiver

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    context.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda error: watched.console_errors.append(str(error)))

    def dialog(d: object) -> None:
        watched.dialogs.append(d.message)  # type: ignore[attr-defined]
        d.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", dialog)
    return watched


#: ``open_page(receiver, width=1280)``.
OpenPage = Callable[..., WatchedPage]


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    """``open_page(receiver, width=1280)``: a watched page on that receiver's 9464 port."""
    opened: list[WatchedPage] = []

    def open_(receiver: ReceiverProcess, width: int = 1280) -> WatchedPage:
        watched = _watch(browser, receiver.api_url, width)
        opened.append(watched)
        return watched

    yield open_
    for watched in opened:
        watched.page.context.close()
    for watched in opened:
        assert watched.hosts <= {urlsplit(watched.origin).netloc}, watched.hosts
        assert watched.console_errors == [], watched.console_errors
        assert watched.dialogs == [], watched.dialogs


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: docs/ui when FAILCAT_UI_SCREENSHOTS says so, else a temp dir."""
    target = os.environ.get("FAILCAT_UI_SCREENSHOTS")
    if not target:
        return tmp_path
    directory = Path(target)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def api(receiver: ReceiverProcess, path: str, token: str | None = None) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, body = http_get(f"{receiver.api_url}{path}", headers)
    assert status == 200, body
    answer: dict[str, object] = json.loads(body)
    return answer


def fill(receiver: ReceiverProcess, expected: int = FILLED_FAILURES) -> None:
    """Send both agents' spans and wait until every failure is stored."""
    for argv in (
        [sys.executable, str(AGENT), "--http", receiver.http_endpoint],
        [
            sys.executable,
            str(GENAI_AGENT),
            "--http",
            receiver.http_endpoint,
            "--grpc",
            receiver.grpc_endpoint,
        ],
    ):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 20
    stored = 0
    while time.monotonic() < deadline:
        stored = len(api(receiver, "/api/v1/failures?limit=1000")["items"])  # type: ignore[arg-type]
        if stored >= expected:
            break
        time.sleep(0.1)
    assert stored == expected


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverProcess]:
    """One ``failcat serve`` on SQLite per test module, holding both agents' failures."""
    directory = tmp_path_factory.mktemp("ui")
    with running_receiver(
        f"sqlite:///{directory / 'failcat.db'}",
        directory / "receiver.log",
        env={"FAILCAT_TRACE_URL_TEMPLATE": TRACE_URL_TEMPLATE},
    ) as receiver:
        fill(receiver)
        yield receiver
