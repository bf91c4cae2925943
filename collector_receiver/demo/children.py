"""``failcat serve`` as a child process: on free ports, with its output in a log file.

``failcat demo`` runs its receiver this way, and so do the end-to-end tests. :func:`spawn` starts
the command line :func:`serve_command` builds, with stdin closed and stdout and stderr appended
to the log file; :func:`wait_until_ready` polls a readiness check until it holds, the child
exits, or the time is up (:class:`ReceiverNotReady`, whose ``str()`` is one line and says why,
from the receiver's last log line); :meth:`ReceiverChild.stop` sends SIGTERM, under which the
receiver drains its in-flight requests and exits 0, and kills the child only if it takes longer
than :data:`STOP_TIMEOUT_SECONDS`.

Ports chosen here were free a moment ago; another program can take one before the child binds
it, which the child then reports as ``cannot listen`` and exits.
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from collector_receiver.settings import DEFAULT_API_PORT, DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT

__all__ = [
    "HOST",
    "READY_TIMEOUT_SECONDS",
    "STOP_TIMEOUT_SECONDS",
    "Ports",
    "ReceiverChild",
    "ReceiverNotReady",
    "choose_ports",
    "free_port_numbers",
    "free_ports",
    "readyz_answers",
    "serve_command",
    "spawn",
    "wait_until_ready",
]

#: The address the children listen on: the loopback, nothing reachable from elsewhere.
HOST = "127.0.0.1"
#: How long the receiver may take to become ready (first start migrates the schema).
READY_TIMEOUT_SECONDS = 30.0
#: How long SIGTERM may take (the receiver drains in-flight requests first).
STOP_TIMEOUT_SECONDS = 40.0
#: The receiver started by running this package's command in the current interpreter.
_THIS_INTERPRETER = (sys.executable, "-m", "collector_receiver")


@dataclass(frozen=True)
class Ports:
    grpc: int
    http: int
    api: int


class ReceiverNotReady(Exception):
    """The child exited (``exited``) or was not ready in time; ``str()`` is one line."""

    def __init__(self, message: str, *, exited: bool) -> None:
        super().__init__(message)
        self.exited = exited


class ReceiverChild:
    """``failcat serve`` as a child process with its log in a file."""

    def __init__(self, process: subprocess.Popen[bytes], ports: Ports, log_path: Path) -> None:
        self.process = process
        self.ports = ports
        self.log_path = log_path

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        """Everything the child wrote so far ('' when the log cannot be read)."""
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def last_log_line(self) -> str:
        lines = self.log_text().strip().splitlines()
        return lines[-1] if lines else "(no log)"

    def send_sigterm(self) -> None:
        """Ask the receiver to drain and exit, if it still runs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """SIGTERM, wait up to ``timeout`` (then kill); the exit status."""
        self.send_sigterm()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def free_port_numbers(count: int) -> list[int]:
    """``count`` distinct ports of :data:`HOST` that were free a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            sockets.append(sock)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_ports() -> Ports:
    """Three free ports, for OTLP/gRPC, OTLP/HTTP and the metrics and API listener."""
    return Ports(*free_port_numbers(3))


def choose_ports() -> Ports:
    """The default ports when all three are free, else three free ports."""
    defaults = (DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, DEFAULT_API_PORT)
    if all(_port_free(port) for port in defaults):
        return Ports(*defaults)
    return free_ports()


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def serve_command(
    db_url: str,
    ports: Ports,
    *,
    host: str | None = HOST,
    extra_args: Sequence[str] = (),
    program: Sequence[str] = _THIS_INTERPRETER,
) -> list[str]:
    """The command line of ``failcat serve`` on ``ports`` (``--host`` left out when None)."""
    return [
        *program,
        "serve",
        "--db",
        db_url,
        *(("--host", host) if host is not None else ()),
        "--grpc-port",
        str(ports.grpc),
        "--http-port",
        str(ports.http),
        "--api-port",
        str(ports.api),
        *extra_args,
    ]


def spawn(
    argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` with stdin closed and its output appended to ``log_path``."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=dict(os.environ if env is None else env),
        )


def wait_until_ready(
    child: ReceiverChild,
    ready: Callable[[], bool],
    *,
    timeout: float = READY_TIMEOUT_SECONDS,
    poll: float = 0.1,
) -> None:
    """Return once ``ready()`` holds; :class:`ReceiverNotReady` if the child exits or time is up.

    The child is left as it is: stopping it (or starting another on other ports) is the
    caller's choice.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise ReceiverNotReady(
                f"the receiver did not start: {_reason(child.last_log_line())}", exited=True
            )
        if ready():
            return
        time.sleep(poll)
    raise ReceiverNotReady(
        f"the receiver was not ready after {timeout:g}s: {_reason(child.last_log_line())}",
        exited=False,
    )


def readyz_answers(child: ReceiverChild) -> Callable[[], bool]:
    """A readiness check: ``/readyz`` of the child answers 200 (schema, catalog and database)."""
    url = f"http://{HOST}:{child.ports.api}/readyz"
    return lambda: _http_status(url) == 200


def _reason(log_line: str) -> str:
    """A log line of the receiver, shortened to what a person needs."""
    try:
        record = json.loads(log_line)
    except ValueError:
        return log_line.strip()
    if isinstance(record, dict):
        return str(record.get("reason") or record.get("error") or record.get("event") or log_line)
    return log_line.strip()


def _http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, ValueError):
        return None
