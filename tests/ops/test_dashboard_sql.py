"""Every SQL query of the PostgreSQL dashboard runs on a real, migrated, filled database.

A receiver on a fresh PostgreSQL database takes ``failcat traffic``; then each panel's
``rawSql`` (and each variable's query), with Grafana's macros and variables expanded as the
PostgreSQL datasource expands them, must run and return rows whose columns are the tables'.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from collector_receiver.store.queries import FailureQueries
from collector_receiver.store.tables import failure_matches, failure_patterns, gen_ai_operations
from tests.e2e._receiver import running_receiver
from tests.ops import _dashboards
from tests.ops._paths import POSTGRES_DASHBOARD
from tests.ops._traffic import send_traffic
from tests.support import databases

pytestmark = pytest.mark.slow

_DASHBOARD = _dashboards.load(POSTGRES_DASHBOARD)
_TARGETS = [
    pytest.param(panel, target, id=f"{panel['id']}-{panel['title']}")
    for panel, target in _dashboards.targets(_DASHBOARD)
]
_TABLES = {
    "failure_matches": failure_matches,
    "failure_patterns": failure_patterns,
    "gen_ai_operations": gen_ai_operations,
}
# Columns a query computes under a name of its own.
_ALIASES = {"time", "metric", "failures", "traces", "services", "new_patterns", "operations",
            "failure_rate"}  # fmt: skip


def expand_macros(sql: str, start: datetime, end: datetime) -> str:
    """Grafana's PostgreSQL macros, as its datasource expands them."""

    def time_filter(match: re.Match[str]) -> str:
        column = match.group(1).strip()
        return f"{column} BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'"

    def time_group_alias(match: re.Match[str]) -> str:
        column, interval = (part.strip() for part in match.group(1).split(","))
        seconds = {"1m": 60, "5m": 300, "1h": 3600}[interval.strip("'")]
        return f'floor(extract(epoch from {column})/{seconds})*{seconds} AS "time"'

    sql = re.sub(r"\$__timeFilter\(([^)]*)\)", time_filter, sql)
    return re.sub(r"\$__timeGroupAlias\(([^)]*)\)", time_group_alias, sql)


def quoted_list(values: list[str]) -> str:
    """A multi-value variable set to All, as the PostgreSQL datasource quotes it."""
    return ",".join("'" + value.replace("'", "''") + "'" for value in values)


def run(engine: sa.Engine, sql: str) -> tuple[list[str], list[Mapping[str, Any]]]:
    with engine.connect() as connection:
        result = connection.execute(sa.text(sql.replace(":", r"\:")))
        return list(result.keys()), [dict(row._mapping) for row in result]


@pytest.fixture(scope="module")
def filled_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not databases.postgres_available():
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (scripts/ensure-services.sh)")
    directory = tmp_path_factory.mktemp("ops-sql")
    with databases.fresh_postgres_database() as url:
        with running_receiver(url, directory / "receiver.log") as receiver:
            send_traffic(receiver, 30, 5)
        yield url


@pytest.fixture(scope="module")
def engine(filled_database: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(filled_database)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def variable_values(engine: sa.Engine) -> dict[str, str]:
    """Each variable at its default: the query variables at All, trace_url at its default."""
    variables = _dashboards.variables(_DASHBOARD)
    values = {
        "trace_url": variables["trace_url"]["query"],
        "datasource": "ignored",
        "min_calls": "5",
    }
    for name in ("service_name", "code"):  # in dependency order
        sql = _dashboards.substitute(variables[name]["query"], values)
        _, rows = run(engine, sql)
        found = [str(next(iter(row.values()))) for row in rows]
        assert found, f"variable {name} lists nothing"
        values[name] = quoted_list(found)
    return values


def _now_window() -> tuple[datetime, datetime]:
    now = datetime.now(timezone.utc)
    return now - timedelta(hours=1), now + timedelta(minutes=1)


def _panel_rows(
    engine: sa.Engine,
    variable_values: dict[str, str],
    title: str,
    window: tuple[datetime, datetime] | None = None,
) -> list[Mapping[str, Any]]:
    """The rows the panel ``title`` shows for ``window`` (default: the last hour)."""
    panel = next(p for p in _DASHBOARD["panels"] if p["title"] == title)
    start, end = window or _now_window()
    sql = _dashboards.substitute(
        expand_macros(panel["targets"][0]["rawSql"], start, end), variable_values
    )
    return run(engine, sql)[1]


@pytest.mark.parametrize(("panel", "target"), _TARGETS)
def test_panel_sql_runs_and_returns_rows(
    engine: sa.Engine,
    variable_values: dict[str, str],
    panel: dict[str, Any],
    target: dict[str, Any],
) -> None:
    start, end = _now_window()
    sql = _dashboards.substitute(expand_macros(target["rawSql"], start, end), variable_values)
    columns, rows = run(engine, sql)
    assert rows, f"{panel['title']}: no rows"
    table = _TABLES[re.search(r"FROM (\w+)", sql).group(1)]  # type: ignore[union-attr]
    assert set(columns) - _ALIASES <= set(table.c.keys()), panel["title"]
    if panel["type"] == "stat":
        assert all(value > 0 for value in rows[0].values()), panel["title"]


def test_newest_failures_are_newest_first_with_trace_ids_to_link(
    engine: sa.Engine, variable_values: dict[str, str]
) -> None:
    rows = _panel_rows(engine, variable_values, "Newest failures")
    times = [row["time"] for row in rows]
    assert times == sorted(times, reverse=True)
    assert all(re.fullmatch(r"[0-9a-f]{32}", row["trace_id"]) for row in rows)
    _, stored = run(engine, "SELECT count(*) AS n FROM failure_matches")
    assert len(rows) == min(200, stored[0]["n"])


@pytest.mark.parametrize("by", ["tool", "model"])
def test_rate_tables_agree_with_the_stores_rates_query(
    engine: sa.Engine, filled_database: str, variable_values: dict[str, str], by: str
) -> None:
    """Per tool (model): the failures, operations and rate the store's rates query gives for
    the same window, for the values with at least $min_calls operations, worst first."""
    window = _now_window()
    rows = _panel_rows(engine, variable_values, f"Failure rates by {by}", window)
    assert rows
    queries = FailureQueries.from_url(filled_database)
    try:
        # The panel's window is closed ($__timeFilter is BETWEEN); nothing sits on its end.
        expected = {
            row.value: (row.failures, row.operations, row.failure_rate)
            for row in queries.rates(by, since=window[0], until=window[1])
            if row.value is not None and row.operations >= int(variable_values["min_calls"])
        }
    finally:
        queries.close()
    shown = {
        row[f"gen_ai_{by}"]: (row["failures"], row["operations"], row["failure_rate"])
        for row in rows
    }
    assert shown.keys() == expected.keys()
    for value, (failures, operations, rate) in shown.items():
        assert (failures, operations) == expected[value][:2], value
        assert rate == pytest.approx(expected[value][2]), value
    rates = [row["failure_rate"] for row in rows]
    assert rates == sorted(rates, reverse=True)


def test_newest_failures_carry_the_genai_columns(
    engine: sa.Engine, variable_values: dict[str, str]
) -> None:
    rows = _panel_rows(engine, variable_values, "Newest failures")
    assert {"gen_ai_provider", "gen_ai_model", "gen_ai_tool", "gen_ai_agent"} <= set(rows[0])
    assert any(row["gen_ai_model"] for row in rows) and any(row["gen_ai_tool"] for row in rows)
    assert all(isinstance(row["id"], int) for row in rows)  # what the UI link opens


def test_a_window_before_any_failure_returns_nothing(
    engine: sa.Engine, variable_values: dict[str, str]
) -> None:
    """The time filter really filters (the panels above are not non-empty by accident)."""
    start = datetime(2001, 1, 1, tzinfo=timezone.utc)
    window = (start, start + timedelta(hours=1))
    assert _panel_rows(engine, variable_values, "Newest failures", window) == []


def test_top_patterns_order_by_occurrences_with_first_and_last_seen(
    engine: sa.Engine, variable_values: dict[str, str]
) -> None:
    rows = _panel_rows(engine, variable_values, "Top patterns")
    counts = [row["occurrences"] for row in rows]
    assert counts == sorted(counts, reverse=True)
    assert all(row["first_seen"] <= row["last_seen"] for row in rows)


def test_macro_expansion_matches_grafana_forms() -> None:
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    end = start + timedelta(hours=1)
    sql = expand_macros(
        "SELECT $__timeGroupAlias(occurred_at, '1m') FROM t WHERE $__timeFilter(occurred_at)",
        start,
        end,
    )
    assert sql == (
        'SELECT floor(extract(epoch from occurred_at)/60)*60 AS "time" FROM t WHERE '
        "occurred_at BETWEEN '2026-01-02T03:04:05+00:00' AND '2026-01-02T04:04:05+00:00'"
    )


def test_unknown_variable_is_an_error() -> None:
    with pytest.raises(KeyError, match="unknown template variable"):
        _dashboards.substitute("SELECT 1 WHERE x IN ($nope)", {})
