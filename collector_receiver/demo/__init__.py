"""``failcat demo``: the receiver, synthetic agents, and what got stored — in one command.

1. Start ``failcat serve`` in a child process on the embedded SQLite default
   (``sqlite:///failcat.db`` in the current directory, or ``--db``/``FAILCAT_DATABASE_URL``),
   on the default ports 4317/4318/9464 when they are free, else on free ports.
2. Wait until ``/readyz`` answers 200 (schema migrated, catalog loaded, database reachable).
3. Run :func:`collector_receiver.traffic.run_traffic` against its OTLP/gRPC port.
4. Wait until the database holds every failure that was sent (the receiver acknowledges a request
   only after its commit, so this is normally at once).
5. Print what was stored: codes with category, severity and count; the newest failures with
   their services and trace ids; the receiver's ``failcat_failures_total``; and the commands
   to look further.
6. Stop the receiver with SIGTERM (it drains and exits 0) — or, with ``--keep-running``, leave
   it serving until Ctrl-C so ``/metrics`` and ``/api/v1/failures`` can be tried.

Failures are counted for the demo's own time window only, so an existing ``failcat.db`` with
older rows gives the same summary.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from collector_receiver.settings import (
    DEFAULT_API_PORT,
    DEFAULT_DATABASE_URL,
    DEFAULT_GRPC_PORT,
    DEFAULT_HTTP_PORT,
)
from collector_receiver.traffic import TrafficError, TrafficResult, TrafficSpec, run_traffic

#: How long the receiver may take to become ready (first start migrates the schema).
READY_TIMEOUT_SECONDS = 30.0
#: How long to wait for the stored rows to reach the count sent.
SETTLE_TIMEOUT_SECONDS = 15.0
#: How long SIGTERM may take (the receiver drains in-flight requests first).
STOP_TIMEOUT_SECONDS = 40.0
_NEWEST = 8
_HOST = "127.0.0.1"


class DemoError(Exception):
    """The demo could not run; ``str()`` is one line."""


@dataclass(frozen=True)
class DemoSpec:
    db_url: str = DEFAULT_DATABASE_URL
    count: int = 200
    services: int = 4
    seed: int | None = None
    keep_running: bool = False
    catalog_path: str | None = None


@dataclass(frozen=True)
class Ports:
    grpc: int
    http: int
    api: int


@dataclass(frozen=True)
class StoredSummary:
    """What the database holds for the demo's window."""

    codes: tuple[tuple[str, str, str, int], ...]  # code, category, severity, count
    services: tuple[tuple[str, int], ...]
    newest: tuple[tuple[datetime, str, str, str, str], ...]  # time, service, code, type, trace

    @property
    def total(self) -> int:
        return sum(count for *_, count in self.codes)


def run_demo(spec: DemoSpec, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the whole demo; returns the exit status. Raises DemoError (one line) when it cannot."""
    out = out or sys.stdout
    err = err or sys.stderr
    window_start = _utc_now()
    with _sigterm_as_interrupt(), tempfile.TemporaryDirectory(prefix="failcat-demo-") as scratch:
        receiver = _start_receiver(spec, Path(scratch) / "receiver.log", err)
        try:
            result = _send(spec, receiver.ports, err)
            stored = _settle(spec.db_url, window_start, len(result.failures))
            failures_total = _scrape_failures_total(receiver.ports.api)
            _print_summary(out, spec, receiver.ports, result, stored, failures_total)
            if spec.keep_running:
                _serve_until_interrupted(out, receiver)
        finally:
            status = receiver.stop()
        if status != 0:
            raise DemoError(f"the receiver exited with status {status}: {receiver.last_log_line()}")
    return 0 if stored.total == len(result.failures) else 1


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the demo like Ctrl-C does, so the receiver is always stopped first."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- the receiver ------------------------------------------------------------------------------


class _Receiver:
    """``failcat serve`` as a child process with its log in a file."""

    def __init__(self, process: subprocess.Popen[bytes], ports: Ports, log_path: Path) -> None:
        self.process = process
        self.ports = ports
        self.log_path = log_path

    def alive(self) -> bool:
        return self.process.poll() is None

    def last_log_line(self) -> str:
        try:
            lines = self.log_path.read_text("utf-8", "replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return lines[-1] if lines else "(no log)"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait()
        return int(self.process.returncode)


def _start_receiver(spec: DemoSpec, log_path: Path, err: TextIO) -> _Receiver:
    ports = choose_ports()
    receiver = _spawn(spec, ports, log_path)
    try:
        _wait_ready(receiver)
    except DemoError:
        if receiver.alive() or "cannot listen" not in receiver.log_text():
            receiver.stop()
            raise
        # Another program took a port between the check and the bind: once more on free ports.
        receiver = _spawn(spec, free_ports(), log_path)
        _wait_ready(receiver)
    ports = receiver.ports
    print(
        f"failcat demo: receiver ready on {_HOST} (OTLP/gRPC :{ports.grpc}, OTLP/HTTP "
        f":{ports.http}, metrics and API :{ports.api}), database {display_url(spec.db_url)}",
        file=err,
    )
    return receiver


def choose_ports() -> Ports:
    """The default ports when all three are free, else three free ports."""
    defaults = (DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, DEFAULT_API_PORT)
    if all(_port_free(port) for port in defaults):
        return Ports(*defaults)
    return free_ports()


def free_ports() -> Ports:
    sockets = []
    try:
        for _ in range(3):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((_HOST, 0))
            sockets.append(sock)
        grpc, http, api = (int(s.getsockname()[1]) for s in sockets)
        return Ports(grpc, http, api)
    finally:
        for sock in sockets:
            sock.close()


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((_HOST, port))
        except OSError:
            return False
    return True


def _spawn(spec: DemoSpec, ports: Ports, log_path: Path) -> _Receiver:
    argv = [
        sys.executable,
        "-m",
        "collector_receiver",
        "serve",
        "--db",
        spec.db_url,
        "--host",
        _HOST,
        "--grpc-port",
        str(ports.grpc),
        "--http-port",
        str(ports.http),
        "--api-port",
        str(ports.api),
    ]
    if spec.catalog_path:
        argv += ["--catalog", spec.catalog_path]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=dict(os.environ)
        )
    return _Receiver(process, ports, log_path)


def _wait_ready(receiver: _Receiver) -> None:
    url = f"http://{_HOST}:{receiver.ports.api}/readyz"
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not receiver.alive():
            raise DemoError(f"the receiver did not start: {_reason(receiver.last_log_line())}")
        if _http_status(url) == 200:
            return
        time.sleep(0.1)
    raise DemoError(
        f"the receiver was not ready after {READY_TIMEOUT_SECONDS:g}s: "
        f"{_reason(receiver.last_log_line())}"
    )


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


def _serve_until_interrupted(out: TextIO, receiver: _Receiver) -> None:
    print(
        f"\nThe receiver keeps running (pid {receiver.process.pid}); press Ctrl-C to stop it.",
        file=out,
        flush=True,
    )
    try:
        while receiver.alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass


# -- traffic and the database -----------------------------------------------------------------


def _send(spec: DemoSpec, ports: Ports, err: TextIO) -> TrafficResult:
    from collector_receiver.traffic._progress import ProgressBar

    traffic = TrafficSpec(
        endpoint=f"http://{_HOST}:{ports.grpc}",
        protocol="grpc",
        count=spec.count,
        services=spec.services,
        seed=spec.seed,
        token=os.environ.get("FAILCAT_AUTH_TOKEN") or None,
    )
    bar = ProgressBar(traffic.count, "failures sent", err)
    try:
        return run_traffic(traffic, progress=bar)
    except TrafficError as exc:
        raise DemoError(str(exc)) from None
    finally:
        bar.close()


def _settle(db_url: str, window_start: datetime, sent: int) -> StoredSummary:
    """Read the window until it holds ``sent`` failures or stops changing."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    previous = -1
    stable_since = time.monotonic()
    while True:
        stored = read_window(db_url, window_start)
        now = time.monotonic()
        if stored.total != previous:
            previous, stable_since = stored.total, now
        if stored.total >= sent or now >= deadline or now - stable_since >= 3.0:
            return stored
        time.sleep(0.1)


def read_window(db_url: str, window_start: datetime) -> StoredSummary:
    """Codes, services and the newest failures stored since ``window_start``."""
    from collector_receiver.store import StoreError
    from collector_receiver.store.aggregates import AggregateQueries
    from collector_receiver.store.queries import FailureQueries

    window_end = _utc_now() + timedelta(minutes=5)  # agents' clocks may run a little ahead
    try:
        aggregates = AggregateQueries.from_url(db_url)
        try:
            counts = aggregates.window_counts(window_start, window_end, window_start, window_start)
        finally:
            aggregates.close()
        queries = FailureQueries.from_url(db_url)
        try:
            page = queries.list_failures(since=window_start, until=window_end, limit=_NEWEST)
        finally:
            queries.close()
    except StoreError as exc:
        raise DemoError(f"reading {db_url} failed: {exc}") from None
    codes = sorted(
        ((c.code, c.category, c.severity, c.count) for c in counts.window_codes),
        key=lambda row: (-row[3], row[0]),
    )
    services = sorted(
        ((s.service_name, s.count) for s in counts.window_services), key=lambda r: (-r[1], r[0])
    )
    newest = tuple(
        (f.occurred_at, f.service_name, f.code, f.exception_type, f.trace_id or "-")
        for f in page.items
    )
    return StoredSummary(tuple(codes), tuple(services), newest)


def _scrape_failures_total(api_port: int) -> float | None:
    """The sum of ``failcat_failures_total`` on the receiver's /metrics (None if unreadable)."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(f"http://{_HOST}:{api_port}/metrics", timeout=5) as response:
            text = response.read().decode("utf-8")
    except (OSError, ValueError):
        return None
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "failcat_failures_total":
                total += sample.value
    return total


# -- the summary ------------------------------------------------------------------------------


def _print_summary(
    out: TextIO,
    spec: DemoSpec,
    ports: Ports,
    result: TrafficResult,
    stored: StoredSummary,
    failures_total: float | None,
) -> None:
    sent = len(result.failures)
    uncataloged = sum(row[3] for row in stored.codes if row[0] == "UNCATALOGED")
    lines = [
        result.summary_line(),
        f"stored {stored.total} of {sent} failures in {display_url(spec.db_url)}: "
        f"{len(stored.codes)} codes "
        f"({uncataloged} UNCATALOGED) from {len(stored.services)} services",
    ]
    if stored.total != sent:
        lines.append(f"WARNING: {sent - stored.total} failures sent were not found in the database")
    if failures_total is not None:
        lines.append(
            f"receiver metric failcat_failures_total = {failures_total:g} "
            f"(all failures it committed since it started)"
        )
    lines += ["", "Failures by code:"]
    lines += _table(
        ["CODE", "CATEGORY", "SEVERITY", "COUNT"],
        [
            [code, category, severity, str(count)]
            for code, category, severity, count in stored.codes
        ],
        right=(3,),
    )
    lines += ["", "Failures by service:"]
    lines += _table(
        ["SERVICE", "COUNT"], [[name, str(count)] for name, count in stored.services], right=(1,)
    )
    lines += ["", "Newest failures:"]
    lines += _table(
        ["TIME (UTC)", "SERVICE", "CODE", "TYPE", "TRACE ID"],
        [
            [when.strftime("%H:%M:%S.%f")[:-3], service, code, exc_type, trace]
            for when, service, code, exc_type, trace in stored.newest
        ],
    )
    db = "" if spec.db_url == DEFAULT_DATABASE_URL else f" --db {display_url(spec.db_url)}"
    trace = stored.newest[0][4] if stored.newest else "<trace id>"
    api = f"http://{_HOST}:{ports.api}"
    running = "" if spec.keep_running else " (while it runs: failcat demo --keep-running)"
    hints = [
        (f"failcat failures{db} --trace-id {trace}", "one trace's failures, with stacktraces"),
        (f"failcat failures{db} --code UNCATALOGED", "what the catalog does not know yet"),
        (f"failcat aggregate{db} --window 1h", "counts, shares, new patterns, drift"),
        (f"curl {api}/metrics", "Prometheus counters" + running),
        (f"curl '{api}/api/v1/failures?limit=5'", "the query API" + running),
    ]
    width = max(len(command) for command, _ in hints)
    lines += ["", "Where to look next:"]
    lines += [f"  {command.ljust(width)}  # {why}" for command, why in hints]
    print("\n".join(lines), file=out, flush=True)


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: tuple[int, ...] = ()
) -> list[str]:
    if not rows:
        return ["  (none)"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return (
            "  "
            + "  ".join(
                cell.rjust(width) if i in right else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()
        )

    return [line(headers)] + [line(row) for row in rows]


def display_url(url: str) -> str:
    """``url`` with its password, if any, shown as ``***`` (it is printed on a terminal)."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def _utc_now() -> datetime:
    from collector_receiver.timeparse import utc_now

    return utc_now()


__all__ = [
    "READY_TIMEOUT_SECONDS",
    "SETTLE_TIMEOUT_SECONDS",
    "STOP_TIMEOUT_SECONDS",
    "DemoError",
    "DemoSpec",
    "Ports",
    "StoredSummary",
    "choose_ports",
    "display_url",
    "free_ports",
    "read_window",
    "run_demo",
]
