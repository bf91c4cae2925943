"""The GenAI filters and the rates query are answered from indexes (PostgreSQL, as the planner
meets production volumes).

30,000 failures over 30 days in 20 services, a third of them tool failures (8 tools), a third
model failures (6 models over 3 providers), agents (5) on both: each filter case selects
500-1,000 rows of a service's 1,500; and 30 days of hourly operation
counts for 20 services and 12 contexts (172,800 rows). The real query methods run, the SQL
they send is EXPLAINed (as ``test_queries_plans_pg`` does), and a sequential scan of either
table fails the test; a service's page of one tool or model must read about a page of rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from collector_receiver.store import upgrade
from collector_receiver.store.queries import FailureQueries
from collector_receiver.timeparse import utc_now
from tests.collector_receiver.store.test_queries_plans_pg import (
    _assert_indexed,
    _plans_of,
    _rows_read,
)

ROWS = 30000
_STEP_SECONDS = 30 * 86400 / ROWS

_LOAD_FAILURES = """
INSERT INTO failure_matches (
    event_key, trace_id, span_id, service_name, code, category, severity, catalog_version,
    exception_type, exception_message, stacktrace, fingerprint, source, occurred_at,
    received_at, attributes, gen_ai_provider, gen_ai_model, gen_ai_operation, gen_ai_tool,
    gen_ai_agent)
SELECT
    'k' || g, md5((g / 5)::text), substr(md5(g::text), 1, 16), 'svc-' || (g % 20),
    'CODE_' || (g % 15), 'cat_' || (g % 8), 'medium', 'plan-test', 'E', 'failure ' || g, '',
    md5('fp' || (g % 3000)), 'span_event',
    now() - make_interval(secs => g * :step), now() - make_interval(secs => g * :step), '{}',
    CASE WHEN g % 3 = 1 THEN 'provider-' || (g % 20 % 3) END,
    CASE WHEN g % 3 = 1 THEN 'model-' || (g % 20 % 6) END,
    CASE g % 3 WHEN 0 THEN 'execute_tool' WHEN 1 THEN 'chat' END,
    CASE WHEN g % 3 = 0 THEN 'tool-' || (g % 20 % 8) END,
    CASE WHEN g % 3 <> 2 THEN 'agent-' || (g % 20 % 5) END
FROM generate_series(1, :rows) AS g
"""

_LOAD_OPERATIONS = """
INSERT INTO gen_ai_operations (bucket_start, service_name, gen_ai_operation, gen_ai_provider,
                               gen_ai_model, gen_ai_tool, gen_ai_agent, operations)
SELECT date_trunc('hour', now()) - make_interval(hours => h), 'svc-' || s,
       CASE WHEN c < 6 THEN 'chat' ELSE 'execute_tool' END,
       CASE WHEN c < 6 THEN 'provider-' || (c % 3) END,
       CASE WHEN c < 6 THEN 'model-' || c END,
       CASE WHEN c >= 6 THEN 'tool-' || (c * 7 % 40) END,
       'agent-' || s, 10 + c
FROM generate_series(0, 719) AS h, generate_series(0, 19) AS s, generate_series(0, 11) AS c
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
            connection.execute(sa.text(_LOAD_FAILURES), {"rows": ROWS, "step": _STEP_SECONDS})
            connection.execute(sa.text(_LOAD_OPERATIONS))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # Vacuumed as autovacuum keeps a live table: the visibility map lets the filtered
            # index answer a page's ids without visiting the heap.
            connection.execute(sa.text("VACUUM ANALYZE failure_matches"))
            connection.execute(sa.text("VACUUM ANALYZE gen_ai_operations"))
        engine.dispose()
        yield url


FILTER_CASES: dict[str, dict[str, str]] = {
    "service and tool": {"service": "svc-3", "tool": "tool-3"},
    "service and model": {"service": "svc-1", "model": "model-1"},
    "service and provider": {"service": "svc-1", "provider": "provider-1"},
    "service and agent": {"service": "svc-4", "agent": "agent-4"},
}


@pytest.mark.parametrize("case", FILTER_CASES)
def test_a_page_of_one_services_genai_failures_reads_about_a_page(
    loaded_url: str, case: str
) -> None:
    queries = FailureQueries.from_url(loaded_url)
    filters = FILTER_CASES[case]
    limit = 20
    first = queries.list_failures(**filters, limit=limit)
    assert len(first.items) == limit, "the case selects too little; it would prove nothing"
    assert first.next_cursor is not None
    calls = [
        lambda: queries.list_failures(**filters, limit=limit),
        lambda: queries.list_failures(**filters, limit=limit, cursor=first.next_cursor),
    ]
    for call in calls:
        plans = _plans_of(queries.engine, call, analyze=True)
        _assert_indexed(plans)
        for nodes in plans:
            used = {n.get("Index Name") for n in nodes} - {None}
            column = next(k for k in filters if k != "service")
            assert f"ix_failure_matches_service_name_gen_ai_{column}_occurred_at_id" in used, used
            assert _rows_read(nodes) <= 3 * (limit + 1), [
                {
                    k: n.get(k)
                    for k in ("Node Type", "Index Name", "Index Cond", "Filter", "Actual Rows")
                }
                for n in nodes
            ]
    queries.close()


@pytest.mark.parametrize("filters", [{"tool": "tool-3"}, {"model": "model-2"}])
def test_a_genai_filter_without_a_service_uses_an_index(
    loaded_url: str, filters: dict[str, str]
) -> None:
    queries = FailureQueries.from_url(loaded_url)
    assert queries.list_failures(**filters).items
    _assert_indexed(_plans_of(queries.engine, lambda: queries.list_failures(**filters)))
    queries.close()


RATE_CASES: dict[str, dict[str, Any]] = {
    "tool, last day": {"by": "tool", "since": timedelta(days=1)},
    "model, a service's last day": {"by": "model", "service": "svc-3", "since": timedelta(days=1)},
    "agent, a past hour": {
        "by": "agent",
        "since": timedelta(days=10, hours=1),
        "until": timedelta(days=10),
    },
}


@pytest.mark.parametrize("case", RATE_CASES)
def test_rates_read_both_tables_through_indexes(loaded_url: str, case: str) -> None:
    queries = FailureQueries.from_url(loaded_url)
    now = utc_now()
    kwargs: dict[str, Any] = {
        key: (now - value if isinstance(value, timedelta) else value)
        for key, value in RATE_CASES[case].items()
    }
    rates = queries.rates(**kwargs)
    assert any(r.operations for r in rates) and any(r.failures for r in rates)
    (plan,) = _plans_of(queries.engine, lambda: queries.rates(**kwargs))
    _assert_indexed([plan], "failure_matches")
    _assert_indexed([plan], "gen_ai_operations")
    # The database groups; one row per value crosses into Python.
    assert sum(1 for n in plan if n["Node Type"] == "Aggregate") >= 2, plan
    queries.close()
