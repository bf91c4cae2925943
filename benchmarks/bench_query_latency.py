"""Latency of the query API at a million failures on PostgreSQL, through a real ``failcat serve``.

Creates a fresh database, migrates it to the newest schema (``failure_matches`` partitioned by
month) and loads ``--rows`` failures (1,000,000) generated in SQL, of a realistic shape:

* 200 services with a skewed share (the service of a trace is ``floor(200 * u^4)`` of a
  uniform ``u``: the biggest holds about a third of the rows, the smallest a few hundred);
* one more service, ``svc-retired``, with a quarter of the traces, all 20 to 30 days old (the
  first version of the busiest agent, replaced under a new name 20 days ago);
* traces of 1 to 20 failures (``1 + floor(20 * u^2)``, seven on average) a few seconds apart,
  the traces spread uniformly over the last 30 days;
* 40 codes, a message of 60 to 120 characters with variable parts, a stacktrace of about 1.5 KB
  whose line numbers vary, and attributes of 300 to 600 bytes of JSON (GenAI and HTTP keys);
* in the order they happened, as a receiver appends them (ids too);

one month's partition at a time, its indexes built after its rows and the schema then checked
to be the one the migrations make (:mod:`benchmarks._partitioned_load` says how and why: 10 M
rows in 12 to 17 minutes instead of 36), VACUUM ANALYZEd, and starts ``failcat serve`` on it.
``--requests`` (300) GET requests of each case are sent over HTTP on one keep-alive connection
of a real socket, and each one is timed from the request's first byte to the body's last:

* ``trace``: ``/api/v1/traces/{id}/failures`` for a different trace each time (sampled from
  the table, so of every size from 1 to 20);
* ``service big`` / ``service small``: the first page (50) of ``/api/v1/failures?service=...``
  for the service with the most rows and the one with the fewest;
* the same two with ``since=24h``;
* ``service retired``: the first page of ``svc-retired``, which a plan that walks the time
  index newest first and filters by service reads two thirds of the table for.

A first case, ``floor: one by id`` (``/api/v1/failures/{id}``, a primary-key read), is the
cheapest request that reaches the database: the floor of HTTP, a pooled connection and one row
on this machine at that moment, against which the others' figures can be read when other work
shares the machine. Prints p50/p95/p99 per case and the ratio of p99 to the 20 ms bar of issue
11, then the
``EXPLAIN (ANALYZE, BUFFERS)`` of the SQL each case sends (captured from the real
``FailureQueries`` method, run again with its parameters). The time of a request includes the
HTTP round trip and the JSON of each failure (its stacktrace and attributes), not the query
alone: that is what a user waits for. ``--json PATH`` writes the figures and the plans.
``--smoke`` loads 20,000 rows and sends 20 requests per case (seconds), for CI; its figures
mean nothing. ``--revision 0002`` migrates only that far, to compare the indexes of an older
schema on the same data: ``failcat serve`` would migrate it to the newest first, so the query
methods are then timed in this process, without HTTP and JSON (that load is one ``INSERT``).

``--aggregate`` then times the aggregation job (every query of ``failcat aggregate``) against a
bare ``count(*)`` of the same rows, with the default 1 h window and 24 h baseline and with a
31-day baseline (every row). ``--prune`` ends the run with ``failcat db prune --older-than`` as
a user runs it, twice: at a cut two days into the oldest month (its rows deleted in batches),
then at the start of the newest month (the oldest dropped whole); it deletes rows, so it goes
last. The database is dropped afterwards, unless ``--keep NAME`` loads into a new database of
that name and keeps it, for ``--reuse NAME`` to measure again without loading.

    python benchmarks/bench_query_latency.py [--rows 1000000] [--requests 300] [--json PATH]
        [--no-explain] [--revision head] [--smoke] [--aggregate] [--prune]
        [--keep NAME | --reuse NAME]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _partitioned_load
from collector_receiver.aggregate import AggregateSpec, compute_aggregate
from collector_receiver.demo.children import (
    HOST,
    ReceiverChild,
    free_ports,
    readyz_answers,
    serve_command,
    spawn,
    wait_until_ready,
)
from collector_receiver.store import upgrade
from collector_receiver.store.aggregates import AggregateQueries
from collector_receiver.store.queries import FailureQueries, Page
from collector_receiver.timeparse import utc_now
from tests.support import databases

BAR_MS = 20.0
SERVICES = 200
#: The caller's receiver and SDK settings (a token, a catalog) are not the benchmark's.
_NOT_PASSED_ON = ("FAILCAT_", "OTEL_")

# One row per failure: traces first (service, start, size), then their failures. setseed makes
# the same --rows load the same table on every run.
_LOAD_TEMPLATE = """
{traces}INSERT INTO failure_matches (
    event_key, trace_id, span_id, service_name, code, category, severity, catalog_version,
    exception_type, exception_message, stacktrace, fingerprint, source, occurred_at,
    received_at, attributes)
SELECT
{values}    started + make_interval(secs => n * 1.5),
    started + make_interval(secs => n * 1.5 + 2),
{attributes}FROM failures
WHERE g <= :rows
-- In the order they happened, as a receiver appends them: the heap follows occurred_at, and the
-- planner's statistics see that correlation as they do on a real store.
ORDER BY started, n
"""
_LOAD = (
    _LOAD_TEMPLATE.replace("{traces}", _partitioned_load.TRACES_AND_FAILURES.strip() + "\n")
    .replace("{values}", _partitioned_load.ROW_VALUES.strip("\n") + "\n")
    .replace("{attributes}", _partitioned_load.ROW_ATTRIBUTES.strip("\n") + "\n")
)


@dataclass(frozen=True)
class Case:
    """One kind of request: a label, and the path and the query method of request number n."""

    name: str
    path: Callable[[int], str]
    query: Callable[[FailureQueries, int], object]


@dataclass
class Result:
    case: str
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    ratio_p99_to_bar: float
    items_per_answer: float
    plan: list[str]


def load(url: str, rows: int, revision: str) -> dict[str, Any]:
    """Fill ``failure_matches`` with ``rows`` failures and ANALYZE it; what it took.

    At the head revision (partitioned) through :mod:`benchmarks._partitioned_load`, one
    partition at a time with its indexes built after its rows, then checked to be the schema
    the migrations make; at an older revision (one plain table) with one ``INSERT``.
    """
    if revision == "head":
        report, before = _partitioned_load.load(url, rows, SERVICES)
        _partitioned_load.verify_schema(url, before)
        return asdict(report) | {"schema_verified": True}
    started = time.perf_counter()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("SELECT setseed(0.42)"))
            # Seven failures a trace on average; a few more traces than needed, cut at ``rows``.
            params = {"rows": rows, "traces": rows // 6 + 10, "services": SERVICES}
            connection.execute(sa.text(_LOAD), params)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE failure_matches"))
    finally:
        engine.dispose()
    return {"rows": rows, "total_seconds": time.perf_counter() - started}


RETIRED = "svc-retired"


def choose(url: str, count: int) -> tuple[str, str, list[str], int]:
    """The biggest and the smallest service, ``count`` trace ids drawn from the table, and the
    id of one failure."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn) as conn:
        sizes = conn.execute(
            "SELECT service_name, count(*) FROM failure_matches WHERE service_name <> %s "
            "GROUP BY 1 ORDER BY 2 DESC, 1",
            (RETIRED,),
        ).fetchall()
        traces = conn.execute(
            "SELECT trace_id FROM failure_matches TABLESAMPLE SYSTEM (1) REPEATABLE (7) "
            "GROUP BY trace_id LIMIT %s",
            (count,),
        ).fetchall()
        if len(traces) < count:  # a small table: TABLESAMPLE's pages hold too few
            traces = conn.execute(
                "SELECT DISTINCT trace_id FROM failure_matches LIMIT %s", (count,)
            ).fetchall()
        (one,) = conn.execute("SELECT max(id) FROM failure_matches").fetchone() or (1,)
    print(
        f"services: {len(sizes)}, biggest {sizes[0][0]} ({sizes[0][1]:,} rows), "
        f"smallest {sizes[-1][0]} ({sizes[-1][1]:,} rows)"
    )
    ids = [row[0] for row in traces]
    random.Random(3).shuffle(ids)
    return sizes[0][0], sizes[-1][0], ids, int(one)


def cases(big: str, small: str, traces: Sequence[str], one: int) -> list[Case]:
    def failures(service: str, since: str | None) -> Callable[[int], str]:
        query = {"service": service} | ({"since": since} if since else {})
        return lambda _: "/api/v1/failures?" + urllib.parse.urlencode(query)

    day = timedelta(hours=24)
    return [
        # Not a bar of its own: the cheapest request that reaches the database (a primary key),
        # the floor of HTTP, a pooled connection and one row on this machine at this moment.
        Case(
            "floor: one by id",
            lambda _: f"/api/v1/failures/{one}",
            lambda q, _: q.get_failure(one),
        ),
        Case(
            "trace",
            lambda n: f"/api/v1/traces/{traces[n % len(traces)]}/failures",
            lambda q, n: q.failures_for_trace(traces[n % len(traces)]),
        ),
        Case("service big", failures(big, None), lambda q, _: q.list_failures(service=big)),
        Case("service small", failures(small, None), lambda q, _: q.list_failures(service=small)),
        Case(
            "service big, since=24h",
            failures(big, "24h"),
            lambda q, _: q.list_failures(service=big, since=utc_now() - day),
        ),
        Case(
            "service small, since=24h",
            failures(small, "24h"),
            lambda q, _: q.list_failures(service=small, since=utc_now() - day),
        ),
        Case(
            "service retired",
            failures(RETIRED, None),
            lambda q, _: q.list_failures(service=RETIRED),
        ),
    ]


def time_case(port: int, case: Case, requests: int) -> tuple[list[float], float]:
    """Milliseconds of each request of ``case`` and the mean number of items answered."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        for n in range(min(5, requests)):  # warm the connection and the server's pool
            _get(connection, case.path(n))
        times, items = [], 0
        for n in range(requests):
            started = time.perf_counter()
            body = _get(connection, case.path(n))
            times.append((time.perf_counter() - started) * 1000)
            document = json.loads(body)
            items += len(document["items"]) if "items" in document else 1
    finally:
        connection.close()
    return times, items / requests


def time_in_process(url: str, case: Case, requests: int) -> tuple[list[float], float]:
    """Like :func:`time_case`, calling the query method in this process (no HTTP, no JSON)."""
    queries = FailureQueries.from_url(url)
    try:
        for n in range(min(5, requests)):
            case.query(queries, n)
        times, items = [], 0
        for n in range(requests):
            started = time.perf_counter()
            answer = case.query(queries, n)
            times.append((time.perf_counter() - started) * 1000)
            items += _count(answer)
    finally:
        queries.close()
    return times, items / requests


def _count(answer: object) -> int:
    """Items in a query method's answer: a page, a list, or one failure (None when unknown)."""
    if isinstance(answer, Page):
        return len(answer.items)
    if isinstance(answer, list):
        return len(answer)
    return 0 if answer is None else 1


def _get(connection: http.client.HTTPConnection, path: str) -> bytes:
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise SystemExit(f"GET {path} answered {response.status}: {body[:200]!r}")
    return body


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile (inclusive method: the p99 of 300 values is near the 3rd largest)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def explain(url: str, case: Case) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of every SELECT ``case.query`` sends, as text lines."""
    queries = FailureQueries.from_url(url)
    captured: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    sa.event.listen(queries.engine, "before_cursor_execute", grab)
    try:
        case.query(queries, 0)
    finally:
        sa.event.remove(queries.engine, "before_cursor_execute", grab)
    lines: list[str] = []
    raw = queries.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in captured:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            lines += [row[0] for row in cursor.fetchall()]
    finally:
        raw.close()
        queries.close()
    return lines


def count_rows(url: str) -> int:
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn) as conn:
        (rows,) = conn.execute("SELECT count(*) FROM failure_matches").fetchone() or (0,)
    return int(rows)


def _best_of_two(run: Callable[[], object]) -> tuple[float, object]:
    """The fewer seconds of two runs of ``run`` (the first warms the cache) and its answer."""
    times, answer = [], None
    for _ in range(2):
        started = time.perf_counter()
        answer = run()
        times.append(time.perf_counter() - started)
    return min(times), answer


def aggregate(url: str) -> list[dict[str, Any]]:
    """Seconds of the aggregation job (:func:`compute_aggregate`, all of ``failcat aggregate``'s
    queries) against a bare ``count(*)`` of the rows of its window and baseline: with the
    default 1 h window and 24 h baseline (what the last 25 hours of the store hold), and with a
    baseline of 31 days (every row, the worst case)."""
    engine = sa.create_engine(url)
    queries = AggregateQueries(engine)
    now = utc_now()
    figures = []
    count_sql = sa.text(
        "SELECT count(*) FROM failure_matches WHERE occurred_at >= :start AND occurred_at < :end"
    )
    try:
        for label, spec in (
            ("1h window, 24h baseline", AggregateSpec(now=now)),
            ("1h window, 31d baseline", AggregateSpec(now=now, baseline=timedelta(days=31))),
        ):

            def bare_count(spec: AggregateSpec = spec) -> object:
                with engine.connect() as connection:
                    window = {"start": spec.baseline_start, "end": spec.window_end}
                    return connection.execute(count_sql, window).scalar()

            count_seconds, rows = _best_of_two(bare_count)
            job_seconds, _ = _best_of_two(lambda spec=spec: compute_aggregate(queries, spec))
            figure = {
                "case": label,
                "rows_in_window_and_baseline": int(str(rows)),
                "count_seconds": count_seconds,
                "job_seconds": job_seconds,
                "ratio": job_seconds / count_seconds,
            }
            print(
                f"aggregate, {label}: {figure['rows_in_window_and_baseline']:,} rows, "
                f"job {job_seconds:.2f}s against count(*) {count_seconds:.2f}s "
                f"(ratio {figure['ratio']:.1f})",
                flush=True,
            )
            figures.append(figure)
    finally:
        engine.dispose()
    return figures


def _failcat(url: str, *arguments: str) -> tuple[float, str]:
    """Seconds and output of one ``failcat`` command run as a user runs it (a new process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_PASSED_ON)}
    command = [sys.executable, "-m", "collector_receiver", *arguments, "--db", url]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} exited {done.returncode}: {done.stderr[-500:]}")
    return seconds, done.stdout.strip()


def prune(url: str) -> list[dict[str, Any]]:
    """``failcat db prune --older-than`` as a user runs it: first at a cut two days after the
    oldest row, inside the oldest month (rows deleted in batches), then at the first instant of
    the newest month (the oldest month dropped whole, after counting its rows), that one first
    with ``--dry-run`` (the count alone), beside ``failcat db current`` (the command's start and
    a connection, no work)."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn) as conn:
        (oldest,) = conn.execute("SELECT min(occurred_at) FROM failure_matches").fetchone() or (
            None,
        )
        (newest,) = conn.execute("SELECT max(occurred_at) FROM failure_matches").fetchone() or (
            None,
        )
    if oldest is None or newest is None:
        raise SystemExit("--prune: the table is empty")
    floor_seconds, _ = _failcat(url, "db", "current")
    newest_month = newest.astimezone(timezone.utc).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    figures = []
    for label, cut, dry_run in (
        ("rows of a month, in batches", oldest + timedelta(days=2), False),
        # What the run below counts before it drops the month (its rows are reported).
        ("a whole month, --dry-run", newest_month, True),
        ("a whole month dropped", newest_month, False),
    ):
        # A whole number of seconds back from now, rounded down: the cut falls on or just after
        # ``cut`` (by the command's start), never before it.
        back = int((utc_now() - cut).total_seconds())
        dry = ("--dry-run",) if dry_run else ()
        seconds, output = _failcat(url, "db", "prune", "--older-than", f"{back}s", *dry)
        deleted = re.search(r"(?:deleted|would delete) ([\d,]+) failure", output)
        failures = int(deleted.group(1).replace(",", "")) if deleted else 0
        figure = {
            "case": label,
            "older_than_seconds": back,
            "failures": failures,
            "failures_per_second": failures / seconds,
            "seconds": seconds,
            "command_floor_seconds": floor_seconds,
            "output": output,
        }
        print(f"prune, {label}: {seconds:.1f}s ({output})", flush=True)
        figures.append(figure)
    return figures


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    """The URL of the database to measure: a fresh one dropped afterwards, a new one kept
    (``--keep NAME``), or one a ``--keep`` run loaded (``--reuse NAME``)."""
    if args.keep is None and args.reuse is None:
        with databases.fresh_postgres_database() as url:
            yield url
        return
    name = args.keep or args.reuse
    dsn = databases.admin_dsn()
    url = f"{dsn.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if args.reuse is not None and not exists:
            raise SystemExit(f"--reuse: there is no database {name}")
        if args.keep is not None:
            if exists:
                raise SystemExit(f"--keep: a database {name} exists already (--reuse it?)")
            conn.execute(f'CREATE DATABASE "{name}"')
    yield url
    print(f'kept the database {name} (drop it with: DROP DATABASE "{name}")')


def run(args: argparse.Namespace) -> tuple[list[Result], dict[str, Any]]:
    with database(args) as url:
        if args.reuse is None:
            upgrade(url, args.revision)
            loaded = load(url, args.rows, args.revision)
            print(
                f"loaded {args.rows:,} failures in {loaded['total_seconds']:.0f}s (ANALYZEd)",
                flush=True,
            )
        else:
            loaded = {"reused": args.reuse}
            args.rows = count_rows(url)
            print(f"reusing {args.reuse}: {args.rows:,} failures", flush=True)
        big, small, traces, one = choose(url, args.requests)
        chosen = cases(big, small, traces, one)
        results: list[Result] = []

        def measure(timer: Callable[[Case], tuple[list[float], float]]) -> None:
            for case in chosen:
                times, items = timer(case)
                plan = [] if args.no_explain else explain(url, case)
                p99 = percentile(times, 0.99)
                results.append(
                    Result(
                        case=case.name,
                        requests=len(times),
                        p50_ms=percentile(times, 0.50),
                        p95_ms=percentile(times, 0.95),
                        p99_ms=p99,
                        max_ms=max(times),
                        ratio_p99_to_bar=p99 / BAR_MS,
                        items_per_answer=items,
                        plan=plan,
                    )
                )

        if args.revision != "head":
            # failcat serve would migrate the schema to head first (or, with --no-migrate,
            # refuse an old one): time the query methods themselves.
            print(f"schema at revision {args.revision}: timing in process, without HTTP")
            measure(lambda case: time_in_process(url, case, args.requests))
        else:
            with tempfile.TemporaryDirectory() as scratch:
                ports = free_ports()
                log_path = Path(scratch) / "receiver.log"
                env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_PASSED_ON)}
                command = serve_command(url, ports)
                child = ReceiverChild(spawn(command, log_path, env), ports, log_path)
                try:
                    wait_until_ready(child, readyz_answers(child), timeout=60)
                    measure(lambda case: time_case(ports.api, case, args.requests))
                finally:
                    status = child.stop()
                if status != 0:
                    raise SystemExit(f"the receiver exited {status}: {child.last_log_line()}")
        aggregation = aggregate(url) if args.aggregate else None
        pruned = prune(url) if args.prune else None
    through = "http" if args.revision == "head" else "in-process"
    about = {"load": loaded, "big_service": big, "small_service": small, "through": through}
    return results, about | {"aggregation": aggregation, "prune": pruned}


def print_results(results: Sequence[Result]) -> None:
    print(f"{'case':<26} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p99/bar':>8} {'items':>6}")
    for r in results:
        print(
            f"{r.case:<26} {r.p50_ms:>8.2f} {r.p95_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.ratio_p99_to_bar:>8.2f} {r.items_per_answer:>6.1f}"
        )
    for r in results:
        if r.plan:
            print(f"\n-- EXPLAIN (ANALYZE, BUFFERS): {r.case}")
            print("\n".join(r.plan))


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=_positive, default=1_000_000)
    parser.add_argument("--requests", type=_positive, default=300, help="per case")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN output")
    parser.add_argument(
        "--revision",
        default="head",
        help="migrate to this schema revision (an older one, say 0002, to compare its indexes)",
    )
    parser.add_argument("--smoke", action="store_true", help="20,000 rows, 20 requests a case")
    parser.add_argument(
        "--aggregate", action="store_true", help="time the aggregation job against a bare count"
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="at the end, time failcat db prune in batches and of a whole month (deletes rows)",
    )
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--keep", metavar="NAME", help="load into a new database NAME and keep it")
    kept.add_argument(
        "--reuse", metavar="NAME", help="measure the database NAME a --keep run loaded (no load)"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.requests = 20_000, 20
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not databases.postgres_available():
        raise SystemExit("PostgreSQL is not reachable (FAILCAT_TEST_PG_URL or 127.0.0.1:5432)")
    started_at = datetime.now(timezone.utc)
    load_at_start = list(os.getloadavg())
    results, about = run(args)
    print_results(results)
    if args.json is not None:
        document = {
            "benchmark": "bench_query_latency",
            "date": started_at.isoformat(timespec="seconds"),
            "machine": {
                "nproc": len(os.sched_getaffinity(0)),
                "python": platform.python_version(),
                "load_average_at_start": load_at_start,
                "load_average_at_end": list(os.getloadavg()),
            },
            "sizes": {"rows": args.rows, "requests": args.requests, "smoke": args.smoke},
            "schema_revision": args.revision,
            "bar_ms": BAR_MS,
            **about,
            "results": [asdict(result) for result in results],
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
