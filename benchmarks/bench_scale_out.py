"""Several ``failcat serve`` on one PostgreSQL database: failures/s per worker, rows and bytes
per million failures, partition sizes, prune time.

For each ``--receivers`` count (1 and 2) and ``--workers`` count (2), on a fresh database,
that many receivers are started (each ``failcat serve --workers N``, on ports of its own) and
fed ``--requests`` OTLP/gRPC requests of ``--spans`` spans, every span failing — the requests
and the sending code are ``bench_ingest_e2e.py``'s persist path (a stacktrace of ~2 KB that no
other failure shares, so every failure is a new pattern: the worst case for the write path).
Request *n* goes to receiver *n mod R*, as the Collector's ``loadbalancing`` exporter routing
by trace id would spread them; ``--clients`` sending threads in all, over ``--connections``
gRPC connections per receiver. The clock runs from the first request until the last is
answered (a receiver answers after its failures are committed), and the run fails unless the
database then holds every failure. Printed per configuration: failures/s in all and per worker
process, the CPU seconds of the receivers and of the database's backends, and the ratio to the
**limit** measured in the same run on the same rows: a psycopg binary COPY into a table made
``LIKE failure_matches INCLUDING ALL`` (what the database alone takes to store them).

Then, on the database of the last configuration (which holds every failure of its run):

* **size**: ``failure_matches`` (heap and TOAST, and its indexes, summed over its partitions when
  it is partitioned) and ``failure_patterns``, as bytes and rows per million failures —
  extrapolated linearly from the measured count, which B-tree indexes and heaps follow closely;
  the GenAI tables' bytes besides;
* **partitions**: each partition of ``failure_matches`` with its rows and bytes, when the schema
  partitions it (else said);
* **prune**: ``failcat db prune --older-than 30d`` timed on those rows (the requests'
  timestamps are months old, so it expires all of them), as seconds per million rows deleted,
  beside the seconds of ``failcat db current`` on the same database (the command's start,
  which a prune of few rows is mostly), when this ``failcat`` has the command (else said: not
  measured). When ``failure_matches`` is partitioned the prune drops the expired partition
  whole, whose cost does not grow with its rows: the per-million figure is then an upper
  bound that a bigger ``--requests`` lowers.

On a machine with fewer cores than receiver processes the receivers share the cores, so
failures/s per worker falls as workers are added: the per-worker figure is what one worker
gives where it has a core of its own only when ``nproc`` covers every process. ``--json PATH``
writes everything; ``--smoke`` runs a few small requests with one worker each, in seconds, for
CI (its figures mean nothing).

    python benchmarks/bench_scale_out.py [--receivers 1 2] [--workers 2] [--requests 40]
        [--spans 500] [--clients 4] [--connections 16] [--json PATH] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_ingest_e2e as ingest  # the persist path's requests and senders

from collector_receiver.demo.children import (
    ReceiverChild,
    ReceiverNotReady,
    free_ports,
    readyz_answers,
    serve_command,
    spawn,
    wait_until_ready,
)

FAILCAT = str(Path(sys.executable).with_name("failcat"))
MILLION = 1_000_000
#: Older than every timestamp of the requests (``bench_ingest_e2e`` dates them 2026-09-21).
PRUNE_OLDER_THAN = "30d"


@dataclass
class Row:
    receivers: int
    workers: int
    failures: int
    seconds: float
    failures_per_second: float
    per_worker: float
    limit: float
    ratio: float
    receiver_cpu_seconds: float
    database_cpu_seconds: float
    retries: int


@dataclass
class Partition:
    name: str
    rows: int
    bytes: int


@dataclass
class Sizes:
    failures: int
    patterns: int
    matches_table_bytes: int
    matches_index_bytes: int
    patterns_bytes: int
    genai_bytes: int
    partitioned: bool
    partitions: list[Partition] = field(default_factory=list)

    def per_million(self, value: int) -> float:
        return value * MILLION / self.failures


@dataclass
class Prune:
    measured: bool
    note: str
    rows_deleted: int = 0
    seconds: float = 0.0
    #: ``failcat db current`` on the same database: the command's start, not the prune's work.
    startup_seconds: float = 0.0
    seconds_per_million: float = 0.0


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _start(url: str, workers: int, log_path: Path) -> ReceiverChild:
    ports = free_ports()
    extra = ["--workers", str(workers)] if workers > 1 else []
    child = ReceiverChild(
        spawn(serve_command(url, ports, extra_args=extra), log_path, ingest._receiver_env()),
        ports,
        log_path,
    )
    try:
        wait_until_ready(child, readyz_answers(child), timeout=60)
    except ReceiverNotReady as exc:
        child.stop()
        raise SystemExit(str(exc)) from None
    return child


def _wait(senders: Sequence[ingest.Sender], children: Sequence[ReceiverChild]) -> None:
    while any(sender.is_alive() for sender in senders):
        for child in children:
            if not child.alive():
                raise SystemExit(f"a receiver exited: {child.last_log_line()}")
        time.sleep(0.01)
    errors = [error for sender in senders for error in sender.errors]
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, the first: {errors[0]}")


def run_configuration(
    receivers: int,
    workers: int,
    workload: ingest.Workload,
    warmup: ingest.Workload,
    args: argparse.Namespace,
    log_dir: Path,
    measure_storage: bool,
) -> tuple[Row, Sizes | None, Prune | None]:
    choice = ingest.DatabaseChoice("postgresql")
    with choice.fresh(f"scale-r{receivers}-w{workers}") as database:
        children: list[ReceiverChild] = []
        try:
            for n in range(receivers):  # one after the other: the first migrates
                log_path = log_dir / f"receiver-r{receivers}-w{workers}-{n}.log"
                children.append(_start(database.url, workers, log_path))
            connections = [
                ingest.Connections(f"127.0.0.1:{child.ports.grpc}", args.connections)
                for child in children
            ]
            for pool in connections:
                ingest.warm_up(pool, warmup.bodies)
            shares = [workload.bodies[n::receivers] for n in range(receivers)]
            clients = [max(1, args.clients // receivers)] * receivers
            before = [ingest.CpuSnapshot.take(c.process.pid, database) for c in children]
            started = time.perf_counter()
            senders = [
                sender
                for pool, bodies, count in zip(connections, shares, clients, strict=True)
                for sender in ingest.send(pool, bodies, count)
            ]
            _wait(senders, children)
            elapsed = max(sender.last_answer for sender in senders) - started
            after = [ingest.CpuSnapshot.take(c.process.pid, database) for c in children]
            for pool in connections:
                pool.close()
            # The warm-up goes to every receiver and is stored once (the receivers are idempotent).
            expected = warmup.failures + workload.failures
            stored = database.count_failures()
            if stored != expected:
                raise SystemExit(f"every request was answered but {stored} of {expected} stored")
        finally:
            statuses = [child.stop() for child in children]
        if any(statuses):
            raise SystemExit(f"a receiver exited {statuses}: {children[0].last_log_line()}")
        rejected = sum(sender.rejected_spans for sender in senders)
        if rejected:
            raise SystemExit(f"the receivers rejected {rejected} spans")
        limit = database.persist_limit_rate()  # first: it reads the stored rows, prune deletes
        sizes = measure_sizes(_dsn(database.url)) if measure_storage else None
        prune = measure_prune(database.url) if measure_storage else None
        rate = workload.failures / elapsed
        row = Row(
            receivers=receivers,
            workers=workers,
            failures=workload.failures,
            seconds=elapsed,
            failures_per_second=rate,
            per_worker=rate / (receivers * workers),
            limit=limit,
            ratio=rate / limit,
            receiver_cpu_seconds=sum(
                a.receiver - b.receiver for a, b in zip(after, before, strict=True)
            ),
            # Every snapshot reads the same database's backends: one difference is all of them.
            database_cpu_seconds=after[0].database - before[0].database,
            retries=sum(sender.retries for sender in senders),
        )
    return row, sizes, prune


_TREE = "pg_partition_tree('failure_matches'::regclass)"


def measure_sizes(dsn: str) -> Sizes:
    """Bytes and rows of the tables a failure lands in, summed over partitions when there are
    any (``pg_partition_tree`` of a plain table is that table alone)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # what autovacuum leaves; the figures need no dead rows
        table, indexes = conn.execute(
            f"SELECT sum(pg_table_size(relid)), sum(pg_indexes_size(relid)) FROM {_TREE}"
        ).fetchone() or (0, 0)
        partitioned = conn.execute(
            "SELECT relkind = 'p' FROM pg_class WHERE oid = 'failure_matches'::regclass"
        ).fetchone() == (True,)
        failures = _count(conn, "SELECT count(*) FROM failure_matches")
        patterns = _count(conn, "SELECT count(*) FROM failure_patterns")
        patterns_bytes = _count(conn, "SELECT pg_total_relation_size('failure_patterns')")
        genai_bytes = _count(
            conn,
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "WHERE c.relname IN ('gen_ai_operations', 'gen_ai_counted_deliveries') "
            "AND c.relkind = 'r'",
        )
        partitions: list[Partition] = []
        if partitioned:
            counts = dict(
                conn.execute(
                    "SELECT tableoid::regclass::text, count(*) FROM failure_matches GROUP BY 1"
                ).fetchall()
            )
            for name, size in conn.execute(
                f"SELECT relid::regclass::text, pg_total_relation_size(relid) FROM {_TREE} "
                "WHERE isleaf ORDER BY 1"
            ).fetchall():
                partitions.append(Partition(name, int(counts.get(name, 0)), int(size)))
    return Sizes(
        failures=failures,
        patterns=patterns,
        matches_table_bytes=int(table or 0),
        matches_index_bytes=int(indexes or 0),
        patterns_bytes=patterns_bytes,
        genai_bytes=genai_bytes,
        partitioned=partitioned,
        partitions=partitions,
    )


def _count(conn: psycopg.Connection[Any], sql: str) -> int:
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def measure_prune(url: str) -> Prune:
    """``failcat db prune`` timed on the stored rows, if this ``failcat`` has it."""
    probe = subprocess.run(
        [FAILCAT, "db", "prune", "--help"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        return Prune(False, "not measured: this failcat has no 'db prune' command")
    with psycopg.connect(_dsn(url)) as conn:
        before = _count(conn, "SELECT count(*) FROM failure_matches")
    # What any ``failcat db`` command costs before it does anything: the interpreter, the
    # imports and a connection (the figure to read the prune's seconds against).
    started = time.perf_counter()
    subprocess.run(
        [FAILCAT, "db", "current", "--db", url],
        capture_output=True,
        check=True,
        env=ingest._receiver_env(),
    )
    startup = time.perf_counter() - started
    started = time.perf_counter()
    done = subprocess.run(
        [FAILCAT, "db", "prune", "--older-than", PRUNE_OLDER_THAN, "--db", url],
        capture_output=True,
        text=True,
        check=False,
        env=ingest._receiver_env(),
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return Prune(False, f"not measured: prune exited {done.returncode}: {done.stderr.strip()}")
    with psycopg.connect(_dsn(url)) as conn:
        deleted = before - _count(conn, "SELECT count(*) FROM failure_matches")
    if deleted <= 0:
        return Prune(False, f"not measured: prune deleted nothing ({done.stdout.strip()})")
    return Prune(
        True,
        done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "",
        rows_deleted=deleted,
        seconds=seconds,
        startup_seconds=startup,
        seconds_per_million=seconds * MILLION / deleted,
    )


def print_results(rows: Sequence[Row], sizes: Sizes | None, prune: Prune | None) -> None:
    print(
        f"{'receivers':>9} {'workers':>7} {'failures':>8} {'failures/s':>10} "
        f"{'per worker':>10} {'limit/s':>9} {'ratio':>6} {'recv CPU s':>10} {'db CPU s':>8}"
    )
    for r in rows:
        print(
            f"{r.receivers:>9} {r.workers:>7} {r.failures:>8} {r.failures_per_second:>10.0f} "
            f"{r.per_worker:>10.0f} {r.limit:>9.0f} {r.ratio:>6.3f} "
            f"{r.receiver_cpu_seconds:>10.1f} {r.database_cpu_seconds:>8.1f}"
        )
    if sizes is not None:
        mib = 1024 * 1024
        print(f"\nstorage, measured at {sizes.failures:,} failures, per million failures:")
        for label, value in (
            ("failure_matches heap + TOAST", sizes.matches_table_bytes),
            ("failure_matches indexes", sizes.matches_index_bytes),
            ("failure_patterns (one per failure here)", sizes.patterns_bytes),
        ):
            print(f"  {label:<42} {sizes.per_million(value) / mib:>9.0f} MiB")
        print(f"  {'failure_patterns rows':<42} {sizes.per_million(sizes.patterns):>9,.0f}")
        print(f"  GenAI tables (not per failure): {sizes.genai_bytes / 1024:.0f} KiB in all")
        if sizes.partitioned:
            print("partitions of failure_matches:")
            for p in sizes.partitions:
                print(f"  {p.name:<40} {p.rows:>9,} rows {p.bytes / mib:>9.1f} MiB")
        else:
            print("failure_matches is not partitioned in this schema")
    if prune is not None:
        if prune.measured:
            print(
                f"prune: {prune.rows_deleted:,} rows in {prune.seconds:.2f} s, of which "
                f"{prune.startup_seconds:.2f} s is any failcat db command's start "
                f"({prune.seconds_per_million:.1f} s per million rows; {prune.note})"
            )
        else:
            print(f"prune: {prune.note}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    positive = ingest._positive
    parser.add_argument("--receivers", type=positive, nargs="+", default=[1, 2])
    parser.add_argument("--workers", type=positive, nargs="+", default=[2], help="per receiver")
    parser.add_argument("--requests", type=positive, default=40)
    parser.add_argument("--spans", type=positive, default=500, help="per request, all failing")
    parser.add_argument("--clients", type=positive, default=4, help="sending threads in all")
    parser.add_argument("--connections", type=positive, default=16, help="per receiver")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--smoke", action="store_true", help="a few requests, for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.workers, args.requests, args.spans, args.connections = [1], 4, 50, 2
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workload = ingest.build_workload(1, args.requests, args.spans, 1.0)
    warmup = ingest.build_workload(2, 1, 20, 1.0)
    configurations = [(r, w) for r in args.receivers for w in args.workers]
    rows: list[Row] = []
    sizes: Sizes | None = None
    prune: Prune | None = None
    with tempfile.TemporaryDirectory() as log_dir:
        for index, (receivers, workers) in enumerate(configurations):
            last = index == len(configurations) - 1
            row, found_sizes, found_prune = run_configuration(
                receivers, workers, workload, warmup, args, Path(log_dir), last
            )
            rows.append(row)
            if last:
                sizes, prune = found_sizes, found_prune
    print_results(rows, sizes, prune)
    if args.json is not None:
        document = {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": {"nproc": _nproc(), "python": platform.python_version()},
            "rows": [asdict(row) for row in rows],
            "sizes": None if sizes is None else asdict(sizes),
            "prune": None if prune is None else asdict(prune),
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


def _nproc() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
