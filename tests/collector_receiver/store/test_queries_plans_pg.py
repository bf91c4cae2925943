"""Every query of the API, the CLI and the aggregation job is answered from an index.

PostgreSQL only (its planner is the one that meets production volumes). 30,000 failures spread
over 30 days, 20 services, 15 codes, 6,000 traces and 3,000 fingerprints are loaded with one
``INSERT ... SELECT generate_series``, the tables are ANALYZEd, and each real query method is run
while the SQL it sends is captured; that exact SQL and its parameters are then EXPLAINed. A
sequential scan of ``failure_matches`` or ``failure_patterns`` anywhere in a plan fails the test.
``FAILCAT_PLAN_ROWS=1000000`` runs the same checks on a million failures (they pass there too).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from collector_receiver.store import _partitions, upgrade
from collector_receiver.store.aggregates import AggregateQueries
from collector_receiver.store.queries import FailureQueries
from collector_receiver.timeparse import utc_now

#: ``FAILCAT_PLAN_ROWS=1000000`` re-runs the same checks at production size (about a minute).
ROWS = int(os.environ.get("FAILCAT_PLAN_ROWS", "30000"))
#: The rows span 30 days whatever their number.
_STEP_SECONDS = 30 * 86400 / ROWS

_LOAD = """
INSERT INTO failure_matches (
    event_key, trace_id, span_id, service_name, code, category, severity, catalog_version,
    exception_type, exception_message, stacktrace, fingerprint, source, occurred_at,
    received_at, attributes)
SELECT
    'k' || g,
    md5((g / 5)::text),
    substr(md5(g::text), 1, 16),
    'svc-' || (g % 20),
    'CODE_' || (g % 15),
    'cat_' || (g % 15 % 8),
    'medium',
    'plan-test',
    'agent.errors.E' || (g % 15),
    'failure number ' || g,
    'Traceback (most recent call last): ...',
    md5('fp' || (g::bigint * 3000 / :rows)),
    'span_event',
    now() - make_interval(secs => g * :step),
    now() - make_interval(secs => g * :step),
    '{}'::jsonb
FROM generate_series(1, :rows) AS g
"""

# Service and code spread over the patterns by a hash of the fingerprint, so that every service
# and code owns some of them (min() over a run of rows would pick only the first few).
_PATTERNS = """
INSERT INTO failure_patterns (fingerprint, code, service_name, exception_type, message_template,
                              first_seen, last_seen, occurrences)
SELECT fingerprint, 'CODE_' || (abs(hashtext(fingerprint)) % 15),
       'svc-' || (abs(hashtext(fingerprint || 's')) % 20), min(exception_type),
       'failure number <int>', min(occurred_at), max(occurred_at), count(*)
FROM failure_matches GROUP BY fingerprint
"""


@pytest.fixture(scope="module")
def loaded_url() -> Iterator[str]:
    from tests.support import databases

    if not databases.postgres_available():
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432")
    with databases.fresh_postgres_database() as url:
        upgrade(url)
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text(_LOAD), {"rows": ROWS, "step": _STEP_SECONDS})
            connection.execute(sa.text(_PATTERNS))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("ANALYZE failure_matches"))
            connection.execute(sa.text("ANALYZE failure_patterns"))
        engine.dispose()
        yield url


def _plan_nodes(node: dict[str, Any], participants: float = 1.0) -> Iterator[dict[str, Any]]:
    """Every node of a plan; a parallel-aware one is marked with the processes sharing it."""
    if node["Node Type"] in ("Gather", "Gather Merge"):
        # PostgreSQL's own divisor of a parallel plan's rows (costsize.c, get_parallel_divisor):
        # each worker, and the leader for the part of its time it is not gathering.
        workers = int(node["Workers Planned"])
        participants = workers + max(0.0, 1.0 - 0.3 * workers)
    if node.get("Parallel Aware"):
        node[_PARTICIPANTS] = participants
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child, participants)


def _plans_of(
    engine: sa.Engine, call: Callable[[], object], analyze: bool = False
) -> list[list[dict[str, Any]]]:
    """Run ``call``, capture every SELECT it sends, and EXPLAIN each with its parameters (and
    runs it, with ``analyze``, so that each node tells how many rows it really read)."""
    captured: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", grab)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", grab)
    assert captured, "the call sent no SELECT"
    plans = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(_PARTITION_INDEXES)
        parent_index = dict(cursor.fetchall())
        cursor.execute(_PARTITION_ROWS)
        partition_rows = {name: float(rows) for name, rows in cursor.fetchall()}
        for statement, parameters in captured:
            options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
            cursor.execute(f"EXPLAIN ({options}) " + statement, parameters)
            row = cursor.fetchone()
            assert row is not None
            document = row[0]
            nodes = list(_plan_nodes(document[0]["Plan"]))
            for node in nodes:
                # A partition's index stands for the index of failure_matches it was made from.
                if node.get("Index Name") in parent_index:
                    node["Index Name"] = parent_index[node["Index Name"]]
                if node.get("Relation Name") in partition_rows:
                    node[_PARTITION_SIZE] = partition_rows[node["Relation Name"]]
            plans.append(nodes)
    finally:
        raw.close()
    return plans


# The monthly partitions of failure_matches (migration 0006): each index of a partition is
# attached to the parent's index it was created for, and each partition's planner row count.
_PARTITION_INDEXES = """
SELECT c.relname, p.relname FROM pg_inherits AS i
JOIN pg_class AS c ON c.oid = i.inhrelid JOIN pg_class AS p ON p.oid = i.inhparent
WHERE c.relkind = 'i'
"""
_PARTITION_ROWS = """
SELECT c.relname, greatest(c.reltuples, 0) FROM pg_inherits AS i
JOIN pg_class AS c ON c.oid = i.inhrelid WHERE i.inhparent = 'failure_matches'::regclass
"""
_PARTITION_SIZE = "failcat: partition rows"
#: A parallel-aware node's "Plan Rows" are those of one process: this many share the node.
_PARTICIPANTS = "failcat: parallel participants"
#: A sequential scan of a partition is the right plan when the query wants this share of its
#: rows or more (a time window covering much of the month): an index would visit most pages.
_LARGE_SHARE = 0.2


def _reads(node: dict[str, Any], table: str) -> bool:
    """Whether ``node`` reads ``table`` or, for failure_matches, one of its monthly partitions."""
    name = node.get("Relation Name")
    return name == table or (
        table == _partitions.PARENT and name is not None and _partitions.is_partition_name(name)
    )


def _costs_nothing(node: dict[str, Any]) -> bool:
    """A sequential scan of a partition that is right: one the planner knows to be empty (no
    page to read; PostgreSQL plans every partition a query cannot prune, and an empty one is
    scanned, not indexed), or one of which the query wants a large share (a time window that
    covers much of a month: partition pruning already left out every month outside it). A
    parallel scan's rows are counted over all the processes that share it (at 10 M rows, early
    in a month, the aggregation's 24 hours are a parallel scan of that month's partition)."""
    if node["Node Type"] != "Seq Scan" or _PARTITION_SIZE not in node:
        return False
    wanted = float(node["Plan Rows"]) * float(node.get(_PARTICIPANTS, 1.0))
    return float(node["Total Cost"]) == 0.0 or wanted >= _LARGE_SHARE * node[_PARTITION_SIZE]


def _assert_indexed(plans: list[list[dict[str, Any]]], table: str = "failure_matches") -> None:
    for nodes in plans:
        on_table = [n for n in nodes if _reads(n, table)]
        assert on_table, f"plan does not read {table}: {nodes}"
        kinds = {n["Node Type"] for n in on_table if not _costs_nothing(n)}
        assert "Seq Scan" not in kinds, f"sequential scan of {table}: {nodes}"
        assert kinds <= {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}, kinds


LIST_CASES: dict[str, dict[str, Any]] = {
    "newest": {},
    "service": {"service": "svc-3"},
    "code": {"code": "CODE_7"},
    "category": {"category": "cat_2"},
    "trace": {"trace_id": "c4ca4238a0b923820dcc509a6f75849b"},
    "last hour": {"since": timedelta(hours=1)},
    "service in last day": {"service": "svc-3", "since": timedelta(days=1)},
    "code in a past day": {
        "code": "CODE_7",
        "since": timedelta(days=10),
        "until": timedelta(days=9),
    },
}


@pytest.mark.parametrize("case", LIST_CASES)
def test_list_failures_uses_an_index(loaded_url: str, case: str) -> None:
    queries = FailureQueries.from_url(loaded_url)
    now = utc_now()
    kwargs: dict[str, Any] = {
        key: (now - value if isinstance(value, timedelta) else value)
        for key, value in LIST_CASES[case].items()
    }
    first = queries.list_failures(**kwargs)
    assert first.items, "the case selects nothing; it would prove nothing"
    _assert_indexed(_plans_of(queries.engine, lambda: queries.list_failures(**kwargs)))
    if first.next_cursor is not None:
        page2 = lambda: queries.list_failures(**kwargs, cursor=first.next_cursor)  # noqa: E731
        _assert_indexed(_plans_of(queries.engine, page2))
    queries.close()


def _rows_read(nodes: list[dict[str, Any]], table: str = "failure_matches") -> int:
    """Rows the scans of ``table`` fetched over every loop: those they passed on and those a
    filter or a recheck threw away."""
    fetched = ("Actual Rows", "Rows Removed by Filter", "Rows Removed by Index Recheck")
    return sum(
        sum(int(n.get(key, 0)) for key in fetched) * int(n["Actual Loops"])
        for n in nodes
        if _reads(n, table)
    )


#: The lists whose pages must come off an index in order. A code or a category is left to the
#: planner: with a few dozen values, each spread over all of time, it may rightly judge walking
#: the time index and filtering (about 1 / share rows a hit) cheaper than the filtered index.
PAGE_CASES = ("newest", "service", "trace", "last hour", "service in last day")


@pytest.mark.parametrize("case", PAGE_CASES)
def test_a_page_of_failures_reads_about_a_page_of_rows(loaded_url: str, case: str) -> None:
    """A first page and the page after it read their rows in order off an index and stop.

    With an index that only narrows by service but does not hold the order (migration 0003),
    the planner walks the time index newest first and filters by service instead: that reads
    every newer row of every other service first, a whole table's worth for a service quiet
    lately (``benchmarks/bench_query_latency.py`` times the first pages at a million rows).
    """
    queries = FailureQueries.from_url(loaded_url)
    now = utc_now()
    kwargs: dict[str, Any] = {
        key: (now - value if isinstance(value, timedelta) else value)
        for key, value in LIST_CASES[case].items()
    }
    limit = 20
    first = queries.list_failures(**kwargs, limit=limit)
    assert first.items
    calls = [lambda: queries.list_failures(**kwargs, limit=limit)]
    if first.next_cursor is not None:
        calls.append(lambda: queries.list_failures(**kwargs, limit=limit, cursor=first.next_cursor))
    for call in calls:
        for nodes in _plans_of(queries.engine, call, analyze=True):
            # The page's ids and its one extra (an index-only scan), then their rows by id, and
            # a few entries of the cursor's own instant.
            assert _rows_read(nodes) <= 3 * (limit + 1), [
                {k: n.get(k) for k in ("Node Type", "Index Name", "Index Cond", "Filter")}
                for n in nodes
            ]
    queries.close()


def _generic_plan(
    engine: sa.Engine, call: Callable[[], object]
) -> tuple[str, list[dict[str, Any]]]:
    """The SQL ``call`` sends and the plan PostgreSQL keeps for it once it is a prepared
    statement with a generic plan (psycopg prepares after five runs on one connection; the
    server may then plan once for every value), run with ``call``'s values under EXPLAIN
    ANALYZE."""
    captured: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", grab)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", grab)
    ((statement, parameters),) = captured
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    numbered = statement
    for n, name in enumerate(names, start=1):
        numbered = numbered.replace(f"%({name})s", f"${n}")
    values = [parameters[name] for name in names]
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        assert dbapi is not None
        dbapi.autocommit = True
        dbapi.execute("SET plan_cache_mode = force_generic_plan")
        dbapi.execute(f"PREPARE page AS {numbered}")
        cursor = psycopg.ClientCursor(dbapi)
        arguments = ", ".join(["%s"] * len(values))
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE page({arguments})", values)
        row = cursor.fetchone()
        assert row is not None
        dbapi.execute("DEALLOCATE page")
        dbapi.execute("RESET plan_cache_mode")
    finally:
        raw.close()
    return statement, list(_plan_nodes(row[0][0]["Plan"]))


@pytest.mark.parametrize("case", ["service", "trace"])
def test_a_prepared_page_knows_its_limit_and_reads_about_a_page(loaded_url: str, case: str) -> None:
    """The LIMIT is a number in the SQL, not a parameter, so a generic plan still plans a page.

    A generic plan that does not know the LIMIT is made for a tenth of the rows it expects.
    (This test's evenly spread services get a good generic plan either way; the number in the
    SQL is what the first assertion holds.)
    """
    queries = FailureQueries.from_url(loaded_url)
    limit = 20
    some = queries.list_failures(limit=1).items[0]
    calls: dict[str, Callable[[], object]] = {
        "service": lambda: queries.list_failures(service="svc-3", limit=limit),
        "trace": lambda: queries.failures_for_trace(str(some.trace_id), limit=limit),
    }
    statement, nodes = _generic_plan(queries.engine, calls[case])
    expected = limit + 1 if case == "service" else limit
    assert re.search(rf"\bLIMIT {expected}\b", statement), statement
    assert _rows_read(nodes) <= 2 * (limit + 1), [
        {k: n.get(k) for k in ("Node Type", "Index Name", "Index Cond", "Filter")} for n in nodes
    ]
    queries.close()


def test_single_failure_trace_and_catalog_counts_use_indexes(loaded_url: str) -> None:
    queries = FailureQueries.from_url(loaded_url)
    some = queries.list_failures(limit=1).items[0]
    now = utc_now()
    _assert_indexed(_plans_of(queries.engine, lambda: queries.get_failure(some.id)))
    trace_id = some.trace_id
    assert trace_id is not None
    _assert_indexed(_plans_of(queries.engine, lambda: queries.failures_for_trace(trace_id)))
    _assert_indexed(
        _plans_of(queries.engine, lambda: queries.catalog_counts(now - timedelta(hours=24), now))
    )
    queries.close()


def test_aggregation_counts_use_the_time_index(loaded_url: str) -> None:
    aggregates = AggregateQueries.from_url(loaded_url)
    now = utc_now()
    start = now - timedelta(hours=1)
    counts = aggregates.window_counts(start, now, start - timedelta(hours=24), start)
    assert sum(c.count for c in counts.baseline_codes) > 0
    plans = _plans_of(
        aggregates.engine,
        lambda: aggregates.window_counts(start, now, start - timedelta(hours=24), start),
    )
    matches_plans = [p for p in plans if any(_reads(n, "failure_matches") for n in p)]
    assert len(matches_plans) == 3  # window codes, baseline codes, window services
    _assert_indexed(matches_plans)
    # The database aggregates; only one row per group crosses into Python.
    for nodes in matches_plans:
        assert any(n["Node Type"] == "Aggregate" for n in nodes), nodes
    aggregates.close()


PATTERN_CASES: dict[str, dict[str, Any]] = {
    "newest": {},
    "seen in the last day": {"since": timedelta(days=1)},
    "service": {"service": "svc-3"},
    "service and code": {"service": "svc-3", "code": "CODE_3"},
    "code": {"code": "CODE_7"},
}


@pytest.mark.parametrize("case", PATTERN_CASES)
def test_list_patterns_uses_an_index(loaded_url: str, case: str) -> None:
    queries = FailureQueries.from_url(loaded_url)
    now = utc_now()
    kwargs: dict[str, Any] = {
        key: (now - value if isinstance(value, timedelta) else value)
        for key, value in PATTERN_CASES[case].items()
    }
    first = queries.list_patterns(**kwargs)
    assert first.items, "the case selects nothing; it would prove nothing"
    _assert_indexed(
        _plans_of(queries.engine, lambda: queries.list_patterns(**kwargs)), "failure_patterns"
    )
    if first.next_cursor is not None:
        page2 = lambda: queries.list_patterns(**kwargs, cursor=first.next_cursor)  # noqa: E731
        _assert_indexed(_plans_of(queries.engine, page2), "failure_patterns")
    queries.close()


def test_new_patterns_of_the_aggregation_use_the_first_seen_index(loaded_url: str) -> None:
    aggregates = AggregateQueries.from_url(loaded_url)
    # Each fingerprint is a run of consecutive rows, so one is first seen every 14.4 minutes.
    end = utc_now() - timedelta(days=10)
    start = end - timedelta(hours=1)
    assert aggregates.window_counts(start, end, start - timedelta(hours=24), start).new_patterns
    plans = _plans_of(
        aggregates.engine,
        lambda: aggregates.window_counts(start, end, start - timedelta(hours=24), start),
    )
    on_patterns = [p for p in plans if any(n.get("Relation Name") == "failure_patterns" for n in p)]
    assert len(on_patterns) == 1
    _assert_indexed(on_patterns, "failure_patterns")
    aggregates.close()
