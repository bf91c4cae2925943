"""``failcat serve`` in a subprocess, on free ports, for end-to-end tests.

Start it with :func:`running_receiver`; it yields a :class:`ReceiverProcess` once the receiver
logged ``started``, and on exit sends SIGTERM and checks the process drained and exited 0. With
``tls=ReceiverTls(...)`` every listener serves TLS and the endpoints are ``https://``; pass an
``ssl.SSLContext`` to :func:`http_get` / :func:`http_post` then.

Ports, the command line, the child process and its log are ``failcat demo``'s
(:mod:`collector_receiver.demo.children`); this module adds what tests need on top: the
installed console script, an environment without the caller's ``FAILCAT_``/``OTEL_`` variables,
TLS, the JSON log events, and a failed start as an AssertionError with the whole log.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from collector_receiver.demo.children import (
    Ports,
    ReceiverChild,
    ReceiverNotReady,
    free_port_numbers,
    serve_command,
    spawn,
    wait_until_ready,
)

FAILCAT = str(Path(sys.executable).with_name("failcat"))
_START_TIMEOUT = 30.0


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free a moment ago."""
    return free_port_numbers(count)


@dataclass(frozen=True)
class ReceiverTls:
    """``--tls-cert``, ``--tls-key`` and optionally ``--tls-client-ca`` for the receiver."""

    cert: Path
    key: Path
    client_ca: Path | None = None

    def args(self) -> list[str]:
        args = ["--tls-cert", str(self.cert), "--tls-key", str(self.key)]
        if self.client_ca is not None:
            args += ["--tls-client-ca", str(self.client_ca)]
        return args


class ReceiverProcess(ReceiverChild):
    """A started ``failcat serve``: its process, ports and log, and the URLs to reach it."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        db_url: str,
        ports: Ports,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
        tls: ReceiverTls | None = None,
    ) -> None:
        super().__init__(process, ports, log_path)
        self.db_url = db_url
        self.extra_env = dict(extra_env or {})
        self.tls = tls

    @property
    def grpc_port(self) -> int:
        return self.ports.grpc

    @property
    def http_port(self) -> int:
        return self.ports.http

    @property
    def api_port(self) -> int:
        return self.ports.api

    @property
    def scheme(self) -> str:
        return "http" if self.tls is None else "https"

    @property
    def http_endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.http_port}"

    @property
    def grpc_endpoint(self) -> str:
        # With TLS the scheme is what makes the SDK's gRPC exporter use a secure channel.
        address = f"127.0.0.1:{self.grpc_port}"
        return address if self.tls is None else f"https://{address}"

    @property
    def api_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.api_port}"

    def log_events(self) -> list[dict[str, object]]:
        """The receiver's JSON log lines so far (other stderr lines are skipped)."""
        events = []
        for line in self.log_path.read_text("utf-8", "replace").splitlines():
            try:
                parsed = json.loads(line)
            except ValueError:
                continue
            if isinstance(parsed, dict) and "event" in parsed:
                events.append(parsed)
        return events

    def wait_for_event(
        self, event: str, count: int = 1, timeout: float = 15.0
    ) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.log_events() if e["event"] == event]
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"no {event!r} event in the receiver log:\n{self.log_text()}")

    def terminate(self, timeout: float = 40.0) -> int:
        """SIGTERM, wait, return the exit status (a child that will not stop fails the test)."""
        self.send_sigterm()
        return self.process.wait(timeout)


def http_get(
    url: str, headers: Mapping[str, str] | None = None, *, context: ssl.SSLContext | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def http_post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    context: ssl.SSLContext | None = None,
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def start_receiver(
    db_url: str,
    log_path: Path,
    *,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    wait: bool = True,
    tls: ReceiverTls | None = None,
) -> ReceiverProcess:
    ports = Ports(*free_ports(3))
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("FAILCAT_", "OTEL_"))}
    environ.update(env or {})
    argv = serve_command(
        db_url,
        ports,
        host=None,
        extra_args=[*(tls.args() if tls is not None else ()), *extra_args],
        program=[FAILCAT],
    )
    receiver = ReceiverProcess(
        spawn(argv, log_path, environ), db_url, ports, log_path, dict(env or {}), tls
    )
    if wait:
        _wait_started(receiver)
    return receiver


def _wait_started(receiver: ReceiverProcess) -> None:
    def started() -> bool:
        return any(e["event"] == "started" for e in receiver.log_events())

    try:
        wait_until_ready(receiver, started, timeout=_START_TIMEOUT, poll=0.05)
    except ReceiverNotReady as exc:
        if exc.exited:
            raise AssertionError(f"the receiver exited early:\n{receiver.log_text()}") from None
        receiver.process.kill()
        raise AssertionError(f"the receiver did not start:\n{receiver.log_text()}") from None


@contextmanager
def running_receiver(
    db_url: str,
    log_path: Path,
    *,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    tls: ReceiverTls | None = None,
) -> Iterator[ReceiverProcess]:
    """A started receiver; stopped with SIGTERM afterwards, which must exit 0."""
    receiver = start_receiver(db_url, log_path, extra_args=extra_args, env=env, tls=tls)
    try:
        yield receiver
    finally:
        if receiver.alive():
            status = receiver.terminate()
            assert status == 0, f"exit status {status}:\n{receiver.log_text()}"
