"""asyncio, the standard library, httpx, httpx2, requests, aiohttp and websockets: timeouts,
cancellations, refused connections, HTTP status errors and a WebSocket closed mid-session raised
by the real calls (urllib's against a local server that answers with the status asked for), and
ordinary programming errors."""

from __future__ import annotations

import asyncio
import json
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import httpx
import httpx2
import requests
from _mock_http import answer, client
from _scenario import report, run, run_wrapped


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _StatusHandler(BaseHTTPRequestHandler):
    """``/status/<code>`` answers that status; ``/stream`` sends headers and then holds the
    response open, so the connection it came on stays taken; ``/truncated`` closes before its
    body is complete; ``/html`` is a login page where JSON was expected; ``/long-line`` is one
    70 kB line."""

    def do_GET(self) -> None:
        if self.path == "/stream":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.flush()
            threading.Event().wait(5)
            return
        if self.path == "/truncated":
            # The body stops short of its Content-Length and the connection closes.
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b'{"a"')
            self.close_connection = True
            return
        if self.path in ("/html", "/long-line"):
            body = b"<html><body>Sign in</body></html>" if self.path == "/html" else b"x" * 70_000
            self.send_response(200)
            self.send_header("Content-Type", "text/html" if self.path == "/html" else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        code = int(self.path.rsplit("/", 1)[-1])
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


_server = ThreadingHTTPServer(("127.0.0.1", 0), _StatusHandler)
_server.daemon_threads = True
threading.Thread(target=_server.serve_forever, daemon=True).start()
_LOCAL = f"http://127.0.0.1:{_server.server_address[1]}"


def _silent_port() -> socket.socket:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    return listener


def _urllib_status(code: int):
    def call() -> None:
        urllib.request.urlopen(f"{_LOCAL}/status/{code}", timeout=5)

    return call


def _urllib_truncated() -> None:
    with urllib.request.urlopen(f"{_LOCAL}/truncated", timeout=5) as answer:
        answer.read()


def _aiohttp_html_instead_of_json() -> None:
    async def call() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{_LOCAL}/html") as answer:
                await answer.json()

    asyncio.run(call())


def _stream_line_over_limit() -> None:
    # A tool reading its peer line by line: one line longer than the StreamReader's 64 KiB
    # limit becomes ValueError over LimitOverrunError.
    async def call() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", _server.server_address[1])
        writer.write(b"GET /long-line HTTP/1.0\r\n\r\n")
        await writer.drain()
        try:
            while await reader.readline():
                pass
        finally:
            writer.close()

    asyncio.run(call())


def _aiohttp_status(code: int):
    # aiohttp's own raise_for_status: ClientResponseError "429, message='Too Many Requests', …".
    async def call() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{_LOCAL}/status/{code}") as answer:
                answer.raise_for_status()

    return call


def _websocket_closed() -> None:
    # A realtime backend that fails mid-session: the server closes with 1011 (internal error)
    # and the client's next recv raises websockets' ConnectionClosedError.
    from websockets.sync.client import connect
    from websockets.sync.server import serve

    def crash(connection: object) -> None:
        connection.close(1011, "model backend crashed")  # type: ignore[attr-defined]

    with serve(crash, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        with connect(f"ws://127.0.0.1:{port}") as connection:
            connection.recv()


async def _wait_for() -> None:
    await asyncio.wait_for(asyncio.sleep(5), timeout=0.05)


async def _cancelled() -> None:
    task = asyncio.get_running_loop().create_task(asyncio.sleep(5))
    await asyncio.sleep(0)
    task.cancel()
    await task


async def _asyncio_timeout_block() -> None:
    async with asyncio.timeout(0.05):
        await asyncio.sleep(5)


async def _task_group_refused() -> None:
    # Two tool calls in parallel; one cannot connect: asyncio raises an ExceptionGroup of it.
    async def fetch() -> None:
        await asyncio.open_connection("127.0.0.1", _closed_port())

    async with asyncio.TaskGroup() as group:
        group.create_task(fetch())
        group.create_task(asyncio.sleep(0.01))


async def _task_group_bug() -> None:
    async def summarize() -> None:
        {"notes": []}["summary"]

    async with asyncio.TaskGroup() as group:
        group.create_task(summarize())


def _refused() -> None:
    socket.create_connection(("127.0.0.1", _closed_port()), timeout=2)


def _urllib_refused() -> None:
    urllib.request.urlopen(f"http://127.0.0.1:{_closed_port()}/v1", timeout=2)


def _requests_refused() -> None:
    requests.get(f"http://127.0.0.1:{_closed_port()}/v1", timeout=2)


def _httpx_refused() -> None:
    httpx.get(f"http://127.0.0.1:{_closed_port()}/v1", timeout=2)


def _httpx_429() -> None:
    client(answer(429, {"error": "slow down"})).get("https://search.test/v1?q=x").raise_for_status()


def _httpx_503() -> None:
    client(answer(503, {"error": "unavailable"})).get("https://search.test/v1").raise_for_status()


def _httpx_404() -> None:
    client(answer(404, {"error": "missing"})).get(
        "https://search.test/v1/items/7"
    ).raise_for_status()


def _httpx_401() -> None:
    client(answer(401, {"error": "invalid token"})).get("https://crm.test/v2/me").raise_for_status()


def _httpx2_refused() -> None:
    httpx2.get(f"http://127.0.0.1:{_closed_port()}/v1", timeout=2)


def _httpx2_read_timeout() -> None:
    with _silent_port() as listener:
        httpx2.get(f"http://127.0.0.1:{listener.getsockname()[1]}/v1", timeout=0.2)


def _httpx2_status(code: int):
    # The local server, not a mock transport: httpx2 as the SDKs built on it send.
    def call() -> None:
        httpx2.get(f"{_LOCAL}/status/{code}", timeout=5).raise_for_status()

    return call


def _httpx2_pool_timeout() -> None:
    # One connection in the pool, held by a response still streaming; the next request waits
    # for it until its pool timeout.
    limits = httpx2.Limits(max_connections=1)
    timeout = httpx2.Timeout(5, pool=0.2)
    with (
        httpx2.Client(limits=limits, timeout=timeout) as http,
        http.stream("GET", f"{_LOCAL}/stream"),
    ):
        http.get(f"{_LOCAL}/status/200")


def _subprocess_timeout() -> None:
    subprocess.run([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.3, check=True)


def _tool_command_failed() -> None:
    # A coding agent's test-runner tool: the command it runs exits 1 and check=True raises.
    subprocess.run([sys.executable, "-c", "import sys; sys.exit(1)"], check=True)


def _file_too_large() -> None:
    # A sandbox's file-size limit (RLIMIT_FSIZE, ulimit -f): the write past it fails with EFBIG
    # (Python ignores SIGXFSZ, which would otherwise end the process). The limit is this
    # process's own and is put back at once.
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    with tempfile.TemporaryFile() as out:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
        try:
            out.write(b"x" * 65536)
            out.flush()
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def _json_decode() -> None:
    json.loads('{"answer": "the model stopped mid-')


def _file_not_found() -> None:
    with open("/nonexistent/agent/prompts/system.txt") as prompt:
        prompt.read()


def _key_error() -> None:
    {"model": "gpt-4o"}["temperature"]


def _type_error() -> None:
    len(42)  # type: ignore[arg-type]


def _attribute_error() -> None:
    None.strip()  # type: ignore[union-attr]


def _zero_division() -> None:
    tokens, calls = 100, 0
    print(tokens / calls)


def _name_error() -> None:
    exec("print(undefined_variable)")


def _assertion() -> None:
    plan = []
    assert plan, "the planner returned no steps"


run("wait_for_timeout", _wait_for)
run("asyncio_timeout_block", _asyncio_timeout_block, via="log")
run("cancelled", _cancelled, via="track")
run("connection_refused", _refused, via="thread")
run("task_group_refused", _task_group_refused)
run("ordinary_task_group_key_error", _task_group_bug, via="log")
run("urllib_refused", _urllib_refused)
run("requests_refused", _requests_refused, via="span")
run("httpx_refused", _httpx_refused)
run("httpx_429", _httpx_429)
run("httpx_503", _httpx_503, via="log")
run("httpx_404", _httpx_404)
run("httpx_401", _httpx_401, via="log")
run("httpx2_refused", _httpx2_refused)
run("httpx2_read_timeout", _httpx2_read_timeout, via="track")
run("httpx2_403", _httpx2_status(403))
run("httpx2_429", _httpx2_status(429), via="span")
run("httpx2_pool_timeout", _httpx2_pool_timeout)
run("urllib_503", _urllib_status(503))
run("urllib_429", _urllib_status(429), via="log")
run("urllib_404", _urllib_status(404), via="track")
run("urllib_401", _urllib_status(401))
run("urllib_403", _urllib_status(403), via="thread")
run("subprocess_timeout", _subprocess_timeout, via="span")
run("subprocess_failed", _tool_command_failed, via="log")
run("aiohttp_429", _aiohttp_status(429))
run("aiohttp_503", _aiohttp_status(503), via="log")
run("aiohttp_401", _aiohttp_status(401), via="track")
run("aiohttp_422", _aiohttp_status(422), via="span")
run("httpx2_413", _httpx2_status(413))
run("httpx2_504", _httpx2_status(504), via="track")
run("urllib_400", _urllib_status(400), via="log")
run("websocket_closed_1011", _websocket_closed, via="thread")
run("urllib_truncated_body", _urllib_truncated, via="log")
run("aiohttp_html_instead_of_json", _aiohttp_html_instead_of_json)
run("stream_line_over_limit", _stream_line_over_limit, via="span")
run("json_decode", _json_decode)
run("file_too_large", _file_too_large, via="log")
run("file_not_found", _file_not_found)
run("ordinary_key_error", _key_error)
run("ordinary_type_error", _type_error, via="log")
run("ordinary_attribute_error", _attribute_error, via="thread")
run("ordinary_zero_division", _zero_division, via="track")
run("ordinary_name_error", _name_error)
run("ordinary_assertion", _assertion, via="span")
# The same failures inside the agent's own wrapper (see _scenario: via="wrapped").
run_wrapped(
    "httpx_429",
    "urllib_503",
    "requests_refused",
    "subprocess_timeout",
    "json_decode",
    "file_too_large",
    "ordinary_key_error",
)
report()
