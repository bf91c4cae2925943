"""Rows per second of ``FailureStore.write_batch``: executemany against COPY on PostgreSQL.

Two ways to put a batch of failures into PostgreSQL idempotently, both inside the real
``write_batch`` (same transaction, same pattern upsert), differing only in how the rows of
``failure_matches`` travel:

  (a) executemany — the baseline: ``INSERT ... ON CONFLICT (event_key) DO NOTHING RETURNING``
      sent through SQLAlchemy's "insertmanyvalues" (multi-row VALUES pages of up to 1000 rows);
  (b) COPY — rows streamed with psycopg's ``cursor.copy`` into a session temp table, then one
      ``INSERT ... SELECT ... ORDER BY event_key ON CONFLICT DO NOTHING RETURNING event_key``.

It prints rows/s of both at batch sizes 100, 1000 and 5000 and the ratio (b)/(a), plus SQLite's
rows/s for reference. A fresh PostgreSQL database is created for the run and dropped after it;
each measurement starts from empty tables and writes the same failures (half of each batch's
fingerprints already known, as in steady state). Best of ``--repeat`` runs, alternating the
order of (a) and (b).

    python benchmarks/bench_store_write.py [--rows 20000] [--repeat 3] [--admin-url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy import Connection

from collector_receiver.events import MatchedFailure
from collector_receiver.store import FailureStore, upgrade
from collector_receiver.store.tables import failure_matches, failure_patterns

BATCH_SIZES = (100, 1000, 5000)
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class ExecutemanyFailureStore(FailureStore):
    """``FailureStore`` with the portable executemany path on PostgreSQL too (the baseline)."""

    def _insert_matches(self, conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
        return self._insert_matches_executemany(conn, rows)


def make_failures(count: int, seed: int = 11) -> list[MatchedFailure]:
    rng = random.Random(seed)
    base = datetime(2026, 3, 1, tzinfo=timezone.utc)
    stack = "".join(
        f'  File "/srv/agent/tools/step_{i}.py", line {10 + i}, in run_{i}\n    result = call()\n'
        for i in range(12)
    )
    failures = []
    for n in range(count):
        fingerprint = f"{rng.randrange(400):032x}"
        failures.append(
            MatchedFailure(
                event_key=secrets.token_hex(20),
                trace_id=secrets.token_hex(16),
                span_id=secrets.token_hex(8),
                service_name=f"agent-{rng.randrange(8)}",
                code=rng.choice(["LLM_RATE_LIMIT", "TOOL_TIMEOUT", "UNCATALOGED"]),
                category="rate_limit",
                severity="high",
                catalog_version="2026.03",
                exception_type="openai.RateLimitError",
                exception_message=f"Rate limit reached for gpt-4o in org-{n}: 429 tokens per min",
                stacktrace="Traceback (most recent call last):\n" + stack,
                fingerprint=fingerprint,
                message_template="Rate limit reached for <str> in <str>: <int> tokens per min",
                source="span_event",
                occurred_at=base + timedelta(milliseconds=n * 37),
                attributes={
                    "http.response.status_code": 429,
                    "gen_ai.request.model": "gpt-4o",
                    "failcat.mechanism": "explicit",
                    "retry": {"attempt": n % 5, "max": 5},
                },
            )
        )
    return failures


def _reset(store: FailureStore) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.delete(failure_matches))
        conn.execute(sa.delete(failure_patterns))
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM failure_matches, failure_patterns"
            )


def rows_per_second(store: FailureStore, failures: Sequence[MatchedFailure], size: int) -> float:
    _reset(store)
    store.write_batch(failures[: len(failures) // 2 : 50])  # half the patterns exist already
    started = time.perf_counter()
    for offset in range(0, len(failures), size):
        store.write_batch(failures[offset : offset + size])
    return len(failures) / (time.perf_counter() - started)


def best_of(repeat: int, measure: Callable[[], float]) -> float:
    return max(measure() for _ in range(repeat))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows per measurement")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("FAILCAT_TEST_PG_URL", DEFAULT_ADMIN_URL),
        help="libpq URL of a maintenance database on the PostgreSQL server to use",
    )
    args = parser.parse_args(argv)
    admin = args.admin_url.replace("postgresql+psycopg://", "postgresql://")
    failures = make_failures(args.rows)

    name = f"failcat_bench_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    try:
        upgrade(url)
        baseline = ExecutemanyFailureStore.from_url(url)
        copying = FailureStore.from_url(url)  # the store's own PostgreSQL path: COPY
        print(f"PostgreSQL, {args.rows} rows per run, best of {args.repeat}")
        print(
            f"{'batch':>6} {'executemany rows/s':>19} {'COPY rows/s':>12} {'COPY/executemany':>17}"
        )
        for size in BATCH_SIZES:
            a = b = 0.0
            for i in range(args.repeat):
                # Alternate which runs first so neither profits from a warmer cache.
                if i % 2 == 0:
                    a = max(a, rows_per_second(baseline, failures, size))
                    b = max(b, rows_per_second(copying, failures, size))
                else:
                    b = max(b, rows_per_second(copying, failures, size))
                    a = max(a, rows_per_second(baseline, failures, size))
            print(f"{size:>6} {a:>19,.0f} {b:>12,.0f} {b / a:>17.2f}")
        baseline.close()
        copying.close()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{tmp}/bench.db"
        upgrade(sqlite_url)
        store = FailureStore.from_url(sqlite_url)
        print(f"\nSQLite, {args.rows} rows per run, best of {args.repeat}")
        print(f"{'batch':>6} {'rows/s':>10}")
        for size in BATCH_SIZES:
            rate = best_of(args.repeat, lambda s=size: rows_per_second(store, failures, s))
            print(f"{size:>6} {rate:>10,.0f}")
        store.close()


if __name__ == "__main__":
    main()
