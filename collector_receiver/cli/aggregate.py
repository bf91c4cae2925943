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
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

from collector_receiver.cli._read_database import add_database_argument, open_reader, parse_flag

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
    parser.add_argument("--window", default="1h", help="length of the window (default 1h)")
    parser.add_argument(
        "--baseline", default="24h", help="length of the baseline before the window (default 24h)"
    )
    parser.add_argument("--json", action="store_true", help="print the JSON object (CONTRACT §9)")
    parser.add_argument("--store", action="store_true", help="save the result in the database")
    parser.add_argument("--every", help="repeat at this interval (e.g. 5m) until SIGTERM/SIGINT")
    parser.add_argument(
        "--drift-threshold",
        default=None,
        help="Jensen-Shannon divergence at or above which the mix has drifted (default 0.1)",
    )
    parser.add_argument(
        "--min-failures",
        default=None,
        help="fewest failures in the window and in the baseline to call drift (default 20)",
    )
    parser.add_argument(
        "--now", help="end of the window as an RFC 3339 time (default: the current time)"
    )
    add_database_argument(parser)
    parser.set_defaults(handler=_run)


def _spec_factory(args: argparse.Namespace) -> SpecFactory:
    """Validate every flag up front; return a function ``now -> AggregateSpec``."""
    from collector_receiver.aggregate import (
        DEFAULT_DRIFT_THRESHOLD,
        DEFAULT_MIN_FAILURES,
        AggregateSpec,
    )
    from collector_receiver.cli import CommandError
    from collector_receiver.timeparse import parse_duration

    window = parse_flag("window", parse_duration, args.window)
    baseline = parse_flag("baseline", parse_duration, args.baseline)
    threshold = DEFAULT_DRIFT_THRESHOLD
    if args.drift_threshold is not None:
        try:
            threshold = float(args.drift_threshold)
        except ValueError:
            raise CommandError(
                f"--drift-threshold: {args.drift_threshold!r} is not a number"
            ) from None
        if not 0.0 <= threshold <= 1.0:
            raise CommandError("--drift-threshold: must be within [0, 1]")
    min_failures = DEFAULT_MIN_FAILURES
    if args.min_failures is not None:
        if not str(args.min_failures).isdigit():
            raise CommandError(f"--min-failures: {args.min_failures!r} is not a whole number")
        min_failures = int(args.min_failures)

    def spec(now: datetime) -> AggregateSpec:
        return AggregateSpec(
            now=now,
            window=window,
            baseline=baseline,
            drift_threshold=threshold,
            min_failures=min_failures,
        )

    return spec


def _run(args: argparse.Namespace) -> int:
    from collector_receiver.cli import CommandError
    from collector_receiver.store import StoreError
    from collector_receiver.store.aggregates import AggregateQueries
    from collector_receiver.timeparse import parse_duration, parse_time

    make_spec = _spec_factory(args)
    fixed_now = None if args.now is None else parse_flag("now", parse_time, args.now)
    interval = None
    if args.every is not None:
        if fixed_now is not None:
            raise CommandError("--every: cannot repeat a run pinned by --now")
        interval = parse_flag("every", parse_duration, args.every)

    queries = open_reader(AggregateQueries.from_url, args.db)
    try:
        if interval is None:
            try:
                _run_once(args, queries, make_spec(fixed_now) if fixed_now else None, make_spec)
            except StoreError as exc:
                raise CommandError(str(exc), exit_code=1) from None
            return 0
        return _run_every(args, queries, interval.total_seconds(), make_spec)
    finally:
        queries.close()


def _run_once(
    args: argparse.Namespace,
    queries: AggregateQueries,
    spec: AggregateSpec | None,
    make_spec: SpecFactory,
) -> None:
    from collector_receiver.aggregate import compute_aggregate, render_tables, to_record
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
    from collector_receiver.cli import CommandError
    from collector_receiver.store import StoreError, StoreUnavailable

    runs = 0
    with _stop_on_signals() as stop:
        while not stop.is_set():
            try:
                _run_once(args, queries, None, make_spec)
                runs += 1
            except StoreUnavailable as exc:
                # Transient: say so and try again at the next tick rather than die at 3 a.m.
                print(f"failcat aggregate: {exc}; retrying in {args.every}", file=sys.stderr)
            except StoreError as exc:
                raise CommandError(str(exc), exit_code=1) from None
            stop.wait(seconds)
    print(f"failcat aggregate: stopped after {runs} run(s)", file=sys.stderr)
    return 0
