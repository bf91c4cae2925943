"""Seconds of ``failcat aggregate`` over one million failures on PostgreSQL.

Creates a fresh database, migrates it, loads ``--rows`` failures (default 1,000,000) with one
``INSERT ... SELECT generate_series`` spread evenly over the last 25 hours — so the default
window (1h) plus baseline (24h) covers every row, the worst case for the job — with 20
services, 40 codes and 5,000 fingerprints (their ``failure_patterns`` rows built by one
``GROUP BY``), and ANALYZEs it. Then it times, best of ``--repeat``:

  (a) baseline: ``SELECT count(*)`` over the same 25 hours — the least any aggregation over
      those rows can cost;
  (b) the job: :func:`collector_receiver.aggregate.compute_aggregate` (window and baseline
      counts per code, counts per service, new fingerprints, drift) through the real
      ``AggregateQueries``;

and prints both and the ratio (b)/(a). The database is dropped afterwards.

    python benchmarks/bench_aggregate.py [--rows 1000000] [--repeat 3] [--admin-url URL]
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import psycopg
import sqlalchemy as sa

from collector_receiver.aggregate import AggregateSpec, compute_aggregate
from collector_receiver.store import upgrade
from collector_receiver.store.aggregates import AggregateQueries

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

_LOAD = """
INSERT INTO failure_matches (
    event_key, trace_id, span_id, service_name, code, category, severity, catalog_version,
    exception_type, exception_message, stacktrace, fingerprint, source, occurred_at,
    received_at, attributes)
SELECT
    'k' || g,
    md5((g / 4)::text),
    substr(md5(g::text), 1, 16),
    'svc-' || (g % 20),
    CASE WHEN g % 17 = 0 THEN 'UNCATALOGED' ELSE 'CODE_' || (g % 40) END,
    'cat_' || (g % 40 % 15),
    (ARRAY['critical', 'high', 'medium', 'low', 'info'])[1 + g % 5],
    'bench-1',
    'agent.errors.E' || (g % 40),
    'failure number ' || g || ' while calling tool t' || (g % 7),
    'Traceback (most recent call last):\n  File "agent.py", line 1, in run\nE: boom',
    md5('fp' || (g % 5000)),
    'span_event',
    :now - make_interval(secs => g * :step),
    :now - make_interval(secs => g * :step),
    '{"gen_ai.system": "openai"}'::jsonb
FROM generate_series(1, :rows) AS g
"""

_PATTERNS = """
INSERT INTO failure_patterns (fingerprint, code, service_name, exception_type, message_template,
                              first_seen, last_seen, occurrences)
SELECT fingerprint, min(code), min(service_name), min(exception_type),
       'failure number <int> while calling tool <str>', min(occurred_at), max(occurred_at),
       count(*)
FROM failure_matches GROUP BY fingerprint
"""


def _best(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--admin-url", default=os.environ.get("FAILCAT_TEST_PG_URL", DEFAULT_ADMIN_URL)
    )
    args = parser.parse_args()

    admin = args.admin_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"failcat_bench_aggregate_{os.getpid()}_{secrets.token_hex(2)}"
    url = f"{admin.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+psycopg://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        upgrade(url)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        span = timedelta(hours=25)
        engine = sa.create_engine(url)
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(
                sa.text(_LOAD),
                {"rows": args.rows, "now": now, "step": span.total_seconds() / args.rows},
            )
            connection.execute(sa.text(_PATTERNS))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE failure_matches"))
            connection.execute(sa.text("VACUUM ANALYZE failure_patterns"))
        print(f"loaded {args.rows:,} failures in {time.perf_counter() - started:.1f} s")

        spec = AggregateSpec(now=now)
        count_sql = sa.text(
            "SELECT count(*) FROM failure_matches"
            " WHERE occurred_at >= :start AND occurred_at < :end"
        )

        def plain_count() -> object:
            with engine.connect() as connection:
                return connection.execute(
                    count_sql, {"start": spec.baseline_start, "end": spec.window_end}
                ).scalar()

        queries = AggregateQueries(engine)
        result = compute_aggregate(queries, spec)
        covered = int(str(plain_count()))
        seconds_count = _best(args.repeat, plain_count)
        seconds_job = _best(args.repeat, lambda: compute_aggregate(queries, spec))
        engine.dispose()

        totals = result["totals"]
        verdict = "drifted" if result["drift"]["drifted"] else "stable"
        print(
            f"window {totals['failures']:,} failures, {totals['codes']} codes, "
            f"{totals['services']} services; {len(result['new_patterns'])} new patterns; "
            f"drift {result['drift']['score']} ({verdict})"
        )
        print(f"rows in window + baseline: {covered:,}")
        print(f"(a) SELECT count(*) over window + baseline: {seconds_count:.3f} s")
        print(f"(b) failcat aggregate (all its queries):     {seconds_job:.3f} s")
        print(f"ratio (b)/(a): {seconds_job / seconds_count:.2f}")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
