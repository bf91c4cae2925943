"""Loading millions of generated failures into the newest (partitioned) schema, fast and honestly.

``bench_query_latency.py`` needs up to 10 M rows of its realistic shape. One ``INSERT ...
SELECT ... ORDER BY`` into ``failure_matches`` as it stands sorts the wide rows (23 GB of
temporary files at 10 M) and updates eleven indexes of every partition row by row. This module
loads the same rows in three steps instead:

1. **A plan of the rows** (an unlogged table of narrow rows: trace, service, start, position in
   the trace, global number ``g`` and the id ``seq`` in time order), drawn with the same
   ``setseed`` and the same expressions as before, so a ``--rows`` load holds the same rows on
   every run.
2. **Each month's partition on its own**: the partition the migrations and
   :func:`collector_receiver.store._partitions.ensure_partitions` made is detached, its indexes
   and key constraints are read back from PostgreSQL's catalog (``pg_get_indexdef``,
   ``pg_get_constraintdef``) and dropped, the month's rows are written in time order (the plan
   is sorted, not the wide rows; the stacktraces and attributes are built after the sort), the
   indexes and constraints are created again from the definitions read back, under the same
   names, and the partition is attached again with its own bound. ``ATTACH PARTITION`` adopts
   an index that matches the parent's instead of building one, and checks every row against the
   bound.
3. ``VACUUM ANALYZE`` of the whole table, as a store that has been running has its statistics
   and visibility map.

:func:`verify_schema` then checks that the result is the schema Alembic and PostgreSQL make:
the revision is the head (so ``failcat db upgrade`` has nothing to do), Alembic's comparison of
the models with the database finds no difference, and every partition has exactly the indexes
and constraints, by name and definition, it had before it was detached, each attached to its
index of the parent.

The ids are the rows' numbers in time order (as a receiver that appends them in the order they
happened gives them), and ``failure_matches_id_seq`` is moved past them. One ``failure_patterns``
row per fingerprint is made from the plan (first and last seen, occurrences), as a receiver's
write path would have folded them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from collector_receiver.store import current_revision, head_revision
from collector_receiver.store._partitions import (
    PARENT,
    PartitionInfo,
    ensure_partitions,
    month_of,
    next_month,
    partitions,
)
from collector_receiver.store.migrate import comparison_options, schema_metadata

PLAN = "bench_load_plan"
#: The memory an index build may sort in (session only); the machine's default is 64 MB.
INDEX_MEMORY = "512MB"

#: The traces (service, start, size) and their failures (``g`` numbers them), drawn from
#: ``random()`` after a ``setseed``: both loaders share them, so both load the same rows.
TRACES_AND_FAILURES = """
WITH traces AS (
    SELECT t,
           CASE WHEN t % 4 = 0 THEN 'svc-retired'
                ELSE 'svc-' || floor(:services * power(random(), 4))::int END AS service,
           -- svc-retired sent its last failure 20 days ago.
           now() - make_interval(secs => CASE WHEN t % 4 = 0 THEN 20 + random() * 10
                                              ELSE random() * 30 END * 86400) AS started,
           1 + floor(20 * power(random(), 2))::int AS size
    FROM generate_series(1, :traces) AS t
), failures AS (
    SELECT t, service, started, n, row_number() OVER () AS g
    FROM traces, LATERAL generate_series(1, size) AS n
)
"""

# The rows to load, narrow: everything of a failure that random() decides. The same draws, in
# the same order, as the benchmark's single INSERT drew them; ``seq`` numbers them in the order
# they happened (their ids).
_PLAN = f"""
CREATE UNLOGGED TABLE {PLAN} AS
{TRACES_AND_FAILURES.strip()}
SELECT t, service, started, n, g, started + make_interval(secs => n * 1.5) AS occurred_at,
       row_number() OVER (ORDER BY started, n) AS seq
FROM failures
WHERE g <= :rows
"""

# One partition's rows, wide, built from its part of the plan after that part is sorted: the
# sort stays in the subquery (PostgreSQL does not flatten a subquery with an ORDER BY), so the
# heap follows occurred_at as a receiver's appends make it.
#: The generated failure of row ``g`` of trace ``t``: its columns from ``event_key`` to
#: ``source``, and its ``attributes``; the loaders of both schemas share them, so both load
#: the same rows.
ROW_VALUES = """
    md5('event' || g),
    md5('trace' || t),
    substr(md5('span' || g), 1, 16),
    service,
    'AGENT_' || (g * 7 % 40),
    'cat_' || (g * 7 % 40 % 9),
    (ARRAY['low', 'medium', 'high', 'critical'])[1 + g % 4],
    '2026.11',
    'agent.errors.E' || (g * 7 % 40),
    'upstream answered 503 for call call_' || substr(md5('call' || g), 1, 12)
        || ' after ' || (g % 5 + 1) || ' attempts in org-' || substr(md5('org' || t), 1, 16)
        || repeat('.', (g % 60)::int),
    'Traceback (most recent call last):' || E'\\n' || (
        SELECT string_agg(
            format(E'  File "/srv/app/agent/mod%s.py", line %s, in step_%s\\n'
                   || E'    result = self._dispatch(step, context=context, retry=%s)\\n',
                   (g + i) % 37, (g * i) % 1997 + 3, i, i % 3), '')
        FROM generate_series(1, 12) AS i
    ) || 'agent.errors.E' || (g * 7 % 40) || ': upstream answered 503',
    md5('fp' || (g % 20000)),
    'span_event',
"""
ROW_ATTRIBUTES = """
    jsonb_build_object(
        'gen_ai.operation.name', 'chat',
        'gen_ai.provider.name', 'openai',
        'gen_ai.request.model', 'gpt-4o-mini',
        'gen_ai.usage.input_tokens', g % 8000,
        'gen_ai.usage.output_tokens', g % 900,
        'http.request.method', 'POST',
        'url.full', 'https://api.internal.example/v1/items/' || g,
        'server.address', 'api.internal.example',
        'service.version', '2.4.1',
        'deployment.environment.name', 'prod',
        'agent.step', 'step ' || (g % 40) || ' of plan ' || substr(md5('plan' || t), 1, 20),
        'agent.note', repeat('x', (g % 300)::int))
"""

_FILL_TEMPLATE = """
INSERT INTO {partition} (
    id, event_key, trace_id, span_id, service_name, code, category, severity, catalog_version,
    exception_type, exception_message, stacktrace, fingerprint, source, occurred_at,
    received_at, attributes)
SELECT
    seq,
{values}    occurred_at,
    occurred_at + interval '2 seconds',
{attributes}FROM (
    SELECT t, service, g, seq, occurred_at FROM {plan}
    WHERE occurred_at >= :lower AND occurred_at < :upper
    ORDER BY seq
) AS month
"""
_FILL = _FILL_TEMPLATE.replace("{values}", ROW_VALUES.strip("\n") + "\n").replace(
    "{attributes}", ROW_ATTRIBUTES.strip("\n") + "\n"
)

# The write path folds every occurrence of a fingerprint into one pattern.
_PATTERNS = f"""
INSERT INTO failure_patterns (fingerprint, code, service_name, exception_type, message_template,
                              first_seen, last_seen, occurrences)
SELECT md5('fp' || (g % 20000)), 'AGENT_' || min(g * 7 % 40), min(service),
       'agent.errors.E' || min(g * 7 % 40),
       'upstream answered <int> for call <str> after <int> attempts in <str>',
       min(occurred_at), max(occurred_at), count(*)
FROM {PLAN} GROUP BY g % 20000
"""

# A partition's indexes: name, definition, and the key constraint it backs (if any).
_INDEXES = """
SELECT c.relname, pg_get_indexdef(i.indexrelid), con.conname, pg_get_constraintdef(con.oid),
       EXISTS (SELECT 1 FROM pg_inherits AS h WHERE h.inhrelid = i.indexrelid) AS attached
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
LEFT JOIN pg_constraint AS con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
WHERE i.indrelid = to_regclass(:partition)
ORDER BY c.relname
"""


@dataclass(frozen=True)
class IndexDefinition:
    """One index of a partition as PostgreSQL prints it, and the constraint it backs."""

    name: str
    definition: str
    constraint: str | None
    constraint_definition: str | None


@dataclass
class LoadReport:
    """What a load did and how long each step took (seconds)."""

    rows: int = 0
    plan_seconds: float = 0.0
    patterns_seconds: float = 0.0
    vacuum_analyze_seconds: float = 0.0
    total_seconds: float = 0.0
    #: Per partition loaded: its name, rows, and seconds to write, index and attach it.
    partitions: list[dict[str, object]] = field(default_factory=list)


def _indexes(connection: sa.Connection, partition: str) -> list[tuple[IndexDefinition, bool]]:
    rows = connection.execute(sa.text(_INDEXES), {"partition": partition}).all()
    return [
        (IndexDefinition(str(name), str(definition), constraint, constraint_definition), attached)
        for name, definition, constraint, constraint_definition, attached in rows
    ]


def _bound(connection: sa.Connection, partition: str) -> str:
    bound = connection.execute(
        sa.text("SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = to_regclass(:p)"),
        {"p": partition},
    ).scalar()
    if not bound:
        raise RuntimeError(f"{partition} is not a partition")
    return str(bound)


@contextmanager
def _autocommit(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def load(url: str, rows: int, services: int) -> tuple[LoadReport, dict[str, list[IndexDefinition]]]:
    """Load ``rows`` failures into the migrated (head) database at ``url``; see the module doc.

    Returns the report and, per partition loaded, the indexes it had before it was detached
    (for :func:`verify_schema`).
    """
    report = LoadReport(rows=rows)
    started = time.perf_counter()
    engine = sa.create_engine(url)
    before: dict[str, list[IndexDefinition]] = {}
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("SET LOCAL work_mem = '256MB'"))
            connection.execute(sa.text("SELECT setseed(0.42)"))
            # Seven failures a trace on average; a few more traces than needed, cut at ``rows``.
            params = {"rows": rows, "traces": rows // 6 + 10, "services": services}
            connection.execute(sa.text(_PLAN), params)
            low, high = connection.execute(
                sa.text(f"SELECT min(occurred_at), max(occurred_at) FROM {PLAN}")
            ).one()
            months = _months(low, high)
            ensure_partitions(connection, months)  # as the write path would before a batch
        report.plan_seconds = time.perf_counter() - started
        with engine.connect() as connection:
            wanted = [p for p in partitions(connection) if p.lower < high and p.upper > low]
        for partition in wanted:
            before[partition.name] = _load_partition(engine, partition, report)
        step = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(
                sa.text(f"SELECT setval('failure_matches_id_seq', (SELECT max(seq) FROM {PLAN}))")
            )
            connection.execute(sa.text(_PATTERNS))
            connection.execute(sa.text(f"DROP TABLE {PLAN}"))
        report.patterns_seconds = time.perf_counter() - step
        step = time.perf_counter()
        with _autocommit(engine) as connection:
            connection.execute(sa.text(f"VACUUM ANALYZE {PARENT}"))
            connection.execute(sa.text("VACUUM ANALYZE failure_patterns"))
        report.vacuum_analyze_seconds = time.perf_counter() - step
    finally:
        engine.dispose()
    report.total_seconds = time.perf_counter() - started
    return report, before


def _months(low: datetime, high: datetime) -> list[date]:
    months, month = [], month_of(low)
    while month <= month_of(high):
        months.append(month)
        month = next_month(month)
    return months


def _load_partition(
    engine: sa.Engine, partition: PartitionInfo, report: LoadReport
) -> list[IndexDefinition]:
    name = partition.name
    with engine.connect() as connection:
        bound = _bound(connection, name)
        indexes = [index for index, _ in _indexes(connection, name)]
    timings: dict[str, object] = {"partition": name}
    step = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(sa.text(f"ALTER TABLE {PARENT} DETACH PARTITION {name}"))
        for index in indexes:
            if index.constraint is not None:
                connection.execute(
                    sa.text(f"ALTER TABLE {name} DROP CONSTRAINT {index.constraint}")
                )
            else:
                connection.execute(sa.text(f"DROP INDEX {index.name}"))
        connection.execute(sa.text("SET LOCAL work_mem = '256MB'"))
        written = connection.execute(
            sa.text(_FILL.format(partition=name, plan=PLAN)),
            {"lower": partition.lower, "upper": partition.upper},
        ).rowcount
    timings["rows"] = written
    timings["write_seconds"] = time.perf_counter() - step
    step = time.perf_counter()
    with _autocommit(engine) as connection:
        connection.execute(sa.text(f"SET maintenance_work_mem = '{INDEX_MEMORY}'"))
        for index in indexes:
            if index.constraint is not None:
                connection.execute(
                    sa.text(
                        f"ALTER TABLE {name} ADD CONSTRAINT {index.constraint} "
                        f"{index.constraint_definition}"
                    )
                )
            else:
                connection.execute(sa.text(index.definition))
    timings["index_seconds"] = time.perf_counter() - step
    step = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(sa.text(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} {bound}"))
    timings["attach_seconds"] = time.perf_counter() - step
    report.partitions.append(timings)
    print(
        f"  {name}: {written:,} rows written in {timings['write_seconds']:.0f}s, "
        f"indexed in {timings['index_seconds']:.0f}s, attached in {timings['attach_seconds']:.0f}s",
        flush=True,
    )
    return indexes


def verify_schema(url: str, before: dict[str, list[IndexDefinition]]) -> None:
    """Raise ``RuntimeError`` unless the loaded database has the schema the migrations make."""
    head, current = head_revision(), current_revision(url)
    if current != head:
        raise RuntimeError(f"the schema is at {current}, not the head revision {head}")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            options = {"compare_type": True, **comparison_options(connection.dialect.name)}
            context = MigrationContext.configure(connection, opts=options)
            differences = compare_metadata(context, schema_metadata())
            if differences:
                raise RuntimeError(f"the schema differs from the models: {differences}")
            for name, indexes in before.items():
                now = _indexes(connection, name)
                if [index for index, _ in now] != indexes:
                    raise RuntimeError(f"{name}'s indexes differ after the load: {now} {indexes}")
                loose = [index.name for index, attached in now if not attached]
                if loose:
                    raise RuntimeError(f"{name}'s indexes {loose} are not attached to the parent's")
    finally:
        engine.dispose()
