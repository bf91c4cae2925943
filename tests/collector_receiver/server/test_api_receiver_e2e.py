"""The query API of a real ``failcat serve`` process, fed over real OTLP/HTTP, on both databases.

Failures go in as OTLP/JSON span events, through decoding, matching against the packaged
catalog and the group-commit writer; they come out of ``/api/v1`` behind the bearer token, with
trace links, and page exactly while the receiver keeps storing new ones.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

TOKEN = "e2e-secret-token"
TRACE = "5b8efff798038103d269b633813fc60c"
TEMPLATE = "http://jaeger.local/trace/{trace_id}?uiFind={span_id}"


@dataclass
class Receiver:
    otlp: str
    api: str
    process: subprocess.Popen[str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _request(url: str, body: bytes | None = None, token: str | None = TOKEN) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, raw.decode("utf-8", "replace")


@pytest.fixture
def receiver(db_url: str) -> Iterator[Receiver]:
    http_port, api_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "FAILCAT_AUTH_TOKEN": TOKEN,
        "FAILCAT_TRACE_URL_TEMPLATE": TEMPLATE,
    }
    command = [sys.executable, "-m", "collector_receiver", "serve", "--db", db_url]
    command += ["--grpc-port", "0", "--http-port", str(http_port), "--api-port", str(api_port)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    api = f"http://127.0.0.1:{api_port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"failcat serve exited: {process.stdout.read() if process.stdout else ''}"
                )
            try:
                if _request(f"{api}/readyz", token=None)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("failcat serve did not become ready in 60 s")
            time.sleep(0.2)
        yield Receiver(f"http://127.0.0.1:{http_port}", api, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


_sent = 0


def _span(service_trace: str, span_id: str, when_ns: int, exc_type: str, message: str) -> Any:
    def attr(key: str, value: str) -> dict[str, Any]:
        return {"key": key, "value": {"stringValue": value}}

    return {
        "traceId": service_trace,
        "spanId": span_id,
        "name": "agent.step",
        "kind": 1,
        "startTimeUnixNano": str(when_ns - 1_000_000),
        "endTimeUnixNano": str(when_ns + 1_000_000),
        "status": {"code": 2},
        "events": [
            {
                "timeUnixNano": str(when_ns),
                "name": "exception",
                "attributes": [
                    attr("exception.type", exc_type),
                    attr("exception.message", message),
                    attr(
                        "exception.stacktrace",
                        f'Traceback (most recent call last):\n  File "agent.py", line 3\n'
                        f"{exc_type}: {message}",
                    ),
                ],
            }
        ],
    }


def _send(
    receiver: Receiver, count: int, service: str = "planner", trace: str | None = None
) -> None:
    """POST one OTLP/JSON request holding ``count`` failing spans."""
    global _sent
    spans = []
    for _ in range(count):
        _sent += 1
        trace_id = trace or f"{_sent:032x}"
        exc = ("openai.RateLimitError", "Rate limit reached for gpt-4o in organization org-1")
        if _sent % 3 == 0:
            exc = ("httpx.ReadTimeout", "timed out")
        spans.append(_span(trace_id, f"{_sent:016x}", time.time_ns(), *exc))
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                },
                "scopeSpans": [{"scope": {"name": "e2e"}, "spans": spans}],
            }
        ]
    }
    status, answer = _request(f"{receiver.otlp}/v1/traces", json.dumps(body).encode(), TOKEN)
    assert status == 200, answer


def test_api_of_a_running_receiver(receiver: Receiver) -> None:
    _send(receiver, 12, service="planner")
    _send(receiver, 2, service="coder", trace=TRACE)

    for path in ("failures", "patterns", "catalog", f"traces/{TRACE}/failures", "openapi.json"):
        assert _request(f"{receiver.api}/api/v1/{path}", token=None)[0] == 401, path
        assert _request(f"{receiver.api}/api/v1/{path}", token="wrong")[0] == 401, path

    status, body = _request(f"{receiver.api}/api/v1/failures?limit=100")
    assert status == 200
    items = body["items"]
    assert len(items) == 14
    assert {i["service_name"] for i in items} == {"planner", "coder"}
    codes = {i["exception_type"]: i["code"] for i in items}
    assert codes["openai.RateLimitError"] != "UNCATALOGED"  # matched by the packaged catalog

    status, chain = _request(f"{receiver.api}/api/v1/traces/{TRACE}/failures")
    assert status == 200
    assert [i["service_name"] for i in chain["items"]] == ["coder", "coder"]
    first = chain["items"][0]
    assert first["trace_url"] == f"http://jaeger.local/trace/{TRACE}?uiFind={first['span_id']}"
    assert _request(f"{receiver.api}/api/v1/failures/{first['id']}")[1] == first

    status, patterns = _request(f"{receiver.api}/api/v1/patterns?limit=100")
    assert status == 200
    assert sum(p["occurrences"] for p in patterns["items"]) == 14
    coder = _request(f"{receiver.api}/api/v1/patterns?service=coder&since=1h")[1]
    assert sum(p["occurrences"] for p in coder["items"]) == 2

    status, catalog = _request(f"{receiver.api}/api/v1/catalog?since=1h")
    assert status == 200
    assert sum(i["count"] for i in catalog["items"]) == 14
    assert catalog["catalog_version"]

    assert _request(f"{receiver.api}/api/v1/failures?limit=5000")[0] == 400
    assert _request(f"{receiver.api}/api/v1/failures/999999")[0] == 404
    status, document = _request(f"{receiver.api}/api/v1/openapi.json")
    assert status == 200 and "/api/v1/failures" in document["paths"]


def test_paging_while_the_receiver_keeps_storing(receiver: Receiver) -> None:
    _send(receiver, 40)
    status, body = _request(f"{receiver.api}/api/v1/failures?limit=1000")
    before = {i["id"] for i in body["items"]}
    assert len(before) == 40

    seen: list[int] = []
    url = f"{receiver.api}/api/v1/failures?limit=6"
    while True:
        status, page = _request(url)
        assert status == 200
        seen.extend(i["id"] for i in page["items"])
        _send(receiver, 3)  # new failures arrive between page reads
        if page["next_cursor"] is None:
            break
        url = f"{receiver.api}/api/v1/failures?limit=6&cursor={page['next_cursor']}"
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
