"""``failcat demo``: the receiver, synthetic agents, and what got stored — in one command.

1. Start ``failcat serve`` in a child process on the embedded SQLite default
   (``sqlite:///failcat.db`` in the current directory, or ``--db``/``FAILCAT_DATABASE_URL``),
   on the default ports 4317/4318/9464 when they are free, else on free ports.
2. Wait until ``/readyz`` answers 200 (schema migrated, catalog loaded, database reachable).
3. Run :func:`collector_receiver.traffic.run_traffic` against its OTLP/gRPC port.
4. Wait until the database holds every failure that was sent (the receiver acknowledges a request
   only after its commit, so this is normally at once).
5. Print what was stored: codes with category, severity and count; the newest failures with
   their services and trace ids; the failure rates by tool and by model (failures, operations,
   rate, from the store's rates query); the receiver's ``failcat_failures_total``; and the
   commands to look further.
6. Stop the receiver with SIGTERM (it drains and exits 0) — or, with ``--keep-running``, leave
   it serving until Ctrl-C so ``/metrics`` and ``/api/v1/failures`` can be tried.

Failures are counted for the demo's own time window only, so an existing ``failcat.db`` with
older rows gives the same summary. The rates are the exception: operations are counted per hour
(CONTRACT §5), so they cover the hours the demo ran in, from the start of the first — an
earlier demo in the same hour adds to both sides of them.

The child process (ports, start, readiness, stop) is :mod:`collector_receiver.demo.children`;
the printed report is ``collector_receiver/demo/_summary.py``; this module runs the steps.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from collector_receiver.demo._summary import (
    Rate,
    StoredSummary,
    print_summary,
    scrape_failures_total,
)
from collector_receiver.demo.children import (
    HOST,
    READY_TIMEOUT_SECONDS,
    STOP_TIMEOUT_SECONDS,
    Ports,
    ReceiverChild,
    ReceiverNotReady,
    choose_ports,
    free_ports,
    readyz_answers,
    serve_command,
    spawn,
    wait_until_ready,
)
from collector_receiver.environment_variables import DEFAULT_DATABASE_URL, FAILCAT_AUTH_TOKEN
from collector_receiver.store import display_url  # the URL is printed on a terminal
from collector_receiver.traffic import TrafficError, TrafficResult, TrafficSpec, run_traffic

if TYPE_CHECKING:  # the store is imported when the window is read, not with the demo
    from collector_receiver.store.rates import RateRow

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

#: How long to wait for the stored rows to reach the count sent.
SETTLE_TIMEOUT_SECONDS = 15.0
#: Largest seed: the traffic's random generator is seeded with a 64-bit signed integer.
_MAX_SEED = 2**63 - 1
#: How many of the newest failures the summary lists.
_NEWEST = 8


class DemoError(Exception):
    """The demo could not run; ``str()`` is one line."""


@dataclass(frozen=True)
class DemoSpec:
    """What the demo sends and where it stores it. Invalid values raise ValueError (one line)."""

    db_url: str = DEFAULT_DATABASE_URL
    count: int = 200
    services: int = 4
    seed: int | None = None
    keep_running: bool = False
    catalog_path: str | None = None

    def __post_init__(self) -> None:
        # The count and service ranges are the traffic's own; checked now, before a receiver
        # is started or a database file created.
        TrafficSpec(count=self.count, services=self.services, seed=self.seed)
        if self.seed is not None and not 0 <= self.seed <= _MAX_SEED:
            raise ValueError(f"--seed: must be from 0 to {_MAX_SEED}")


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
            print_summary(
                out,
                db_url=spec.db_url,
                keep_running=spec.keep_running,
                ports=receiver.ports,
                result=result,
                stored=stored,
                failures_total=scrape_failures_total(receiver.ports.api),
            )
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


def _start_receiver(spec: DemoSpec, log_path: Path, err: TextIO) -> ReceiverChild:
    receiver = _spawn(spec, choose_ports(), log_path)
    try:
        wait_until_ready(receiver, readyz_answers(receiver))
    except ReceiverNotReady as exc:
        if not exc.exited or "cannot listen" not in receiver.log_text():
            receiver.stop()
            raise DemoError(str(exc)) from None
        # Another program took a port between the check and the bind: once more on free ports.
        receiver = _spawn(spec, free_ports(), log_path)
        try:
            wait_until_ready(receiver, readyz_answers(receiver))
        except ReceiverNotReady as again:
            receiver.stop()
            raise DemoError(str(again)) from None
    ports = receiver.ports
    print(
        f"failcat demo: receiver ready on {HOST} (OTLP/gRPC :{ports.grpc}, OTLP/HTTP "
        f":{ports.http}, metrics and API :{ports.api}), database {display_url(spec.db_url)}",
        file=err,
    )
    return receiver


def _spawn(spec: DemoSpec, ports: Ports, log_path: Path) -> ReceiverChild:
    catalog = ("--catalog", spec.catalog_path) if spec.catalog_path else ()
    argv = serve_command(spec.db_url, ports, extra_args=catalog)
    return ReceiverChild(spawn(argv, log_path), ports, log_path)


def _serve_until_interrupted(out: TextIO, receiver: ReceiverChild) -> None:
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
        endpoint=f"http://{HOST}:{ports.grpc}",
        protocol="grpc",
        count=spec.count,
        services=spec.services,
        seed=spec.seed,
        token=os.environ.get(FAILCAT_AUTH_TOKEN) or None,
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
            # Operations are counted per hour: the rates start at the hour the demo began in.
            hour = window_start.replace(minute=0, second=0, microsecond=0)
            by_tool = queries.rates("tool", since=hour, until=window_end)
            by_model = queries.rates("model", since=hour, until=window_end)
        finally:
            queries.close()
    except StoreError as exc:
        raise DemoError(f"reading {display_url(db_url)} failed: {exc}") from None
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
    return StoredSummary(
        tuple(codes),
        tuple(services),
        newest,
        rates_by_tool=_worst_first(by_tool),
        rates_by_model=_worst_first(by_model),
        rates_since=hour,
    )


def _worst_first(rows: Iterable[RateRow]) -> tuple[Rate, ...]:
    """The rates of named tools (models), highest first; the row of "no tool" is left out (its
    failures are the model calls' and the agents', its operations every other GenAI span)."""
    rates = [
        Rate(row.value, row.failures, row.operations, row.failure_rate)
        for row in rows
        if row.value is not None
    ]
    rates.sort(key=lambda r: (r.failure_rate is None, -(r.failure_rate or 0.0), -r.failures))
    return tuple(rates)


def _utc_now() -> datetime:
    from collector_receiver.timeparse import utc_now

    return utc_now()
