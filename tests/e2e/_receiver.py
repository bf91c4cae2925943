"""``failcat serve`` in a subprocess, on free ports, for end-to-end tests.

Start it with :func:`running_receiver`; it yields a :class:`ReceiverProcess` once ``/healthz``
answers, and on exit sends SIGTERM and checks the process drained and exited 0. With
``tls=ReceiverTls(...)`` every listener serves TLS and the endpoints are ``https://``; pass an
``ssl.SSLContext`` to :func:`http_get` / :func:`http_post` then.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

FAILCAT = str(Path(sys.executable).with_name("failcat"))
_START_TIMEOUT = 30.0


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


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


@dataclass
class ReceiverProcess:
    process: subprocess.Popen[bytes]
    db_url: str
    grpc_port: int
    http_port: int
    api_port: int
    log_path: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    tls: ReceiverTls | None = None

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

    def log_text(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def terminate(self, timeout: float = 40.0) -> int:
        """SIGTERM, wait, return the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
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
    grpc_port, http_port, api_port = free_ports(3)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("FAILCAT_", "OTEL_"))}
    environ.update(env or {})
    log = log_path.open("ab")
    process = subprocess.Popen(
        [
            FAILCAT,
            "serve",
            "--db",
            db_url,
            "--grpc-port",
            str(grpc_port),
            "--http-port",
            str(http_port),
            "--api-port",
            str(api_port),
            *(tls.args() if tls is not None else ()),
            *extra_args,
        ],
        stdout=log,
        stderr=log,
        env=environ,
    )
    log.close()
    receiver = ReceiverProcess(
        process, db_url, grpc_port, http_port, api_port, log_path, dict(env or {}), tls
    )
    if wait:
        _wait_started(receiver)
    return receiver


def _wait_started(receiver: ReceiverProcess) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if not receiver.alive():
            raise AssertionError(f"the receiver exited early:\n{receiver.log_text()}")
        if any(e["event"] == "started" for e in receiver.log_events()):
            return
        time.sleep(0.05)
    receiver.process.kill()
    raise AssertionError(f"the receiver did not start:\n{receiver.log_text()}")


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
