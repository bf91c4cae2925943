"""``failcat aggregate``: what failed in the last window, compared with the baseline before it.

::

    failcat aggregate                                  # window 1h, baseline 24h, tables
    failcat aggregate --window 15m --baseline 6h --json
    failcat aggregate --store                          # also keep the result in failure_aggregates
    failcat aggregate --store --every 5m               # keep running until SIGTERM / Ctrl-C
    failcat aggregate --now 2026-11-28T12:00:00Z       # a reproducible run

The window is ``[now - window, now)`` and the baseline ``[now - window - baseline, now - window)``.
The method (counts, shares, Jensen-Shannon drift with ``--drift-threshold`` and
``--min-failures``) is described in :mod:`collector_receiver.aggregate`; ``--json`` prints the
object of CONTRACT §9. With ``--every`` and ``--json`` each run prints one JSON object per line.

``--every`` is the simple deployment; a cron entry (``*/5 * * * * failcat aggregate --store``) or
a Kubernetes CronJob running ``failcat aggregate --store`` on a schedule does the same without a
long-running process. ``--store`` needs the schema of revision 0002 (``failcat db upgrade``).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any

from collector_receiver.cli._aggregate_tables import render_tables
from collector_receiver.cli._errors import CommandError
from collector_receiver.cli._flag_types import duration, fraction, time, whole_number
from collector_receiver.cli._read_database import add_database_argument, open_reader

if TYPE_CHECKING:
    from collector_receiver.aggregate import AggregateSpec
    from collector_receiver.store.aggregates import AggregateQueries

#: Builds the spec of one run from the end of its window (validated flags bound in).
SpecFactory = Callable[[datetime], "AggregateSpec"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "aggregate",
        help="counts per code and service in a window, new patterns, and drift from the baseline",
        description="Aggregate the failures of a time window against the baseline before it.",
    )
    parser.add_argument(
        "--window", type=duration, default="1h", help="length of the window (default 1h)"
    )
    parser.add_argument(
        "--baseline",
        type=duration,
        default="24h",
        help="length of the baseline before the window (default 24h)",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON object (CONTRACT §9)")
    parser.add_argument("--store", action="store_true", help="save the result in the database")
    parser.add_argument(
        "--every", type=duration, help="repeat at this interval (e.g. 5m) until SIGTERM/SIGINT"
    )
    parser.add_argument(
        "--drift-threshold",
        type=fraction,
        default=None,
        help="Jensen-Shannon divergence at or above which the mix has drifted (default 0.1)",
    )
    parser.add_argument(
        "--min-failures",
        type=whole_number,
        default=None,
        help="fewest failures in the window and in the baseline to call drift (default 20)",
    )
    parser.add_argument(
        "--now", type=time, help="end of the window as an RFC 3339 time (default: the current time)"
    )
    add_database_argument(parser)
    parser.set_defaults(handler=_run)


def _spec_factory(args: argparse.Namespace) -> SpecFactory:
    """A function ``now -> AggregateSpec`` with the (already converted) flags bound in."""
    from collector_receiver.aggregate import (
        DEFAULT_DRIFT_THRESHOLD,
        DEFAULT_MIN_FAILURES,
        AggregateSpec,
    )

    threshold = DEFAULT_DRIFT_THRESHOLD if args.drift_threshold is None else args.drift_threshold
    min_failures = DEFAULT_MIN_FAILURES if args.min_failures is None else args.min_failures

    def spec(now: datetime) -> AggregateSpec:
        return AggregateSpec(
            now=now,
            window=args.window,
            baseline=args.baseline,
            drift_threshold=threshold,
            min_failures=min_failures,
        )

    return spec


def _run(args: argparse.Namespace) -> int:
    from collector_receiver.store import StoreError
    from collector_receiver.store.aggregates import AggregateQueries

    if args.every is not None and args.now is not None:
        raise CommandError("--every: cannot repeat a run pinned by --now")
    make_spec = _spec_factory(args)

    queries = open_reader(AggregateQueries.from_url, args.db)
    try:
        if args.every is None:
            try:
                _run_once(args, queries, make_spec(args.now) if args.now else None, make_spec)
            except StoreError as exc:
                raise CommandError(str(exc), exit_code=1) from None
            return 0
        return _run_every(args, queries, args.every.total_seconds(), make_spec)
    finally:
        queries.close()


def _run_once(
    args: argparse.Namespace,
    queries: AggregateQueries,
    spec: AggregateSpec | None,
    make_spec: SpecFactory,
) -> None:
    from collector_receiver.aggregate import compute_aggregate, to_record
    from collector_receiver.timeparse import utc_now

    computed_at = utc_now()
    spec = spec or make_spec(computed_at)
    result = compute_aggregate(queries, spec)
    if args.store:
        queries.save(to_record(spec, result, computed_at))
    if args.json:
        indent = None if args.every else 2
        print(json.dumps(result, indent=indent, ensure_ascii=False), flush=True)
    else:
        print(render_tables(result), flush=True)


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT; the previous handlers come back afterwards."""
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_every(
    args: argparse.Namespace, queries: AggregateQueries, seconds: float, make_spec: SpecFactory
) -> int:
    from collector_receiver.store import StoreError, StoreUnavailable

    runs = 0
    with _stop_on_signals() as stop:
        while not stop.is_set():
            try:
                _run_once(args, queries, None, make_spec)
                runs += 1
            except StoreUnavailable as exc:
                # Transient: say so and try again at the next tick rather than die at 3 a.m.
                print(
                    f"failcat aggregate: {exc}; retrying in {_spoken(args.every)}",
                    file=sys.stderr,
                )
            except StoreError as exc:
                raise CommandError(str(exc), exit_code=1) from None
            stop.wait(seconds)
    print(f"failcat aggregate: stopped after {runs} run(s)", file=sys.stderr)
    return 0


def _spoken(interval: timedelta) -> str:
    """``--every``'s value as a user writes it: 300 seconds is ``5m``."""
    seconds = int(interval.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
