"""Both Grafana dashboards are import-ready and well-formed (checked without a Grafana)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.ops import _dashboards
from tests.ops._exposition import exposed_sample_names
from tests.ops._paths import OPERATIONS_DOC, OVERVIEW_DASHBOARD, POSTGRES_DASHBOARD

#: Grafana's dashboard schema version (DASHBOARD_SCHEMA_VERSION) as of Grafana 12/13.
CURRENT_SCHEMA_VERSION = 42
_PANEL_TYPES = {"timeseries", "stat", "table", "bargauge", "piechart"}
_DATASOURCE_TYPES = {
    OVERVIEW_DASHBOARD: "prometheus",
    POSTGRES_DASHBOARD: "grafana-postgresql-datasource",
}


@pytest.fixture(params=[OVERVIEW_DASHBOARD, POSTGRES_DASHBOARD], ids=lambda p: p.stem)
def dashboard_path(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


def test_identity_and_import_fields(dashboard_path: Path) -> None:
    dashboard = _dashboards.load(dashboard_path)
    assert dashboard["uid"] == dashboard_path.stem
    assert len(dashboard["uid"]) <= 40
    assert dashboard["id"] is None, "an exported id would clash on import"
    assert dashboard["schemaVersion"] == CURRENT_SCHEMA_VERSION
    assert "failcat" in dashboard["tags"]
    assert dashboard["title"]
    assert dashboard["time"]["from"].startswith("now-")
    assert dashboard["timepicker"]["refresh_intervals"]
    required = {(r["type"], r["id"]) for r in dashboard["__requires"]}
    assert ("datasource", _DATASOURCE_TYPES[dashboard_path]) in required
    for panel in _dashboards.panels(dashboard):
        assert ("panel", panel["type"]) in required, panel["type"]


def test_already_in_the_shape_of_the_latest_schema_migrations(dashboard_path: Path) -> None:
    """What Grafana's migrations 40-42 rewrite is absent, so an import changes nothing."""
    dashboard = _dashboards.load(dashboard_path)
    assert isinstance(dashboard["refresh"], str)  # v40: refresh is a string
    assert "time_options" not in dashboard["timepicker"]  # v41: time_options removed
    for panel in _dashboards.panels(dashboard):  # v42: hidden from the viz, hidden from tooltips
        for override in panel.get("fieldConfig", {}).get("overrides", []):
            for prop in override["properties"]:
                if prop["id"] == "custom.hideFrom" and prop["value"].get("viz"):
                    assert prop["value"].get("tooltip"), panel["title"]


def test_datasource_is_a_template_variable_used_by_every_panel_and_target(
    dashboard_path: Path,
) -> None:
    dashboard = _dashboards.load(dashboard_path)
    variable = _dashboards.variables(dashboard)["datasource"]
    assert variable["type"] == "datasource"
    assert variable["query"] == _DATASOURCE_TYPES[dashboard_path]
    expected = {"type": _DATASOURCE_TYPES[dashboard_path], "uid": "${datasource}"}
    for panel, target in _dashboards.targets(dashboard):
        assert panel["datasource"] == expected, panel["title"]
        assert target["datasource"] == expected, panel["title"]
    for other in _dashboards.variables(dashboard).values():
        if other["type"] == "query":
            assert other["datasource"] == expected, other["name"]


def test_panels_have_unique_ids_and_fit_the_grid_without_overlap(dashboard_path: Path) -> None:
    dashboard = _dashboards.load(dashboard_path)
    panels = list(_dashboards.panels(dashboard))
    ids = [panel["id"] for panel in panels]
    assert len(set(ids)) == len(ids)
    cells: dict[tuple[int, int], str] = {}
    for panel in panels:
        grid = panel["gridPos"]
        assert all(isinstance(grid[key], int) for key in "hwxy"), panel["title"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]
        assert panel["type"] in _PANEL_TYPES
        assert panel["title"] and panel["description"]
        assert panel["targets"], f"{panel['title']} has no query"


def test_stat_thresholds_colour_the_value(dashboard_path: Path) -> None:
    """Grafana colours a stat by its thresholds only in colour mode ``thresholds``."""
    for panel in _dashboards.panels(_dashboards.load(dashboard_path)):
        defaults = panel["fieldConfig"]["defaults"]
        if panel["type"] == "stat":
            assert defaults["thresholds"]["steps"][0]["value"] is None, panel["title"]
            assert defaults["color"] == {"mode": "thresholds"}, panel["title"]
        # Failures and OTLP items are counts per second, not requests.
        if defaults.get("unit") == "reqps":
            assert panel["title"] == "Persist errors", panel["title"]


def test_every_variable_a_query_uses_is_defined(dashboard_path: Path) -> None:
    dashboard = _dashboards.load(dashboard_path)
    defined = set(_dashboards.variables(dashboard))
    for panel, target in _dashboards.targets(dashboard):
        text = target.get("expr") or target["rawSql"]
        text = re.sub(r"\$__\w+\([^)]*\)", "", text)  # SQL macros
        assert _dashboards.referenced_variables(text) <= defined, panel["title"]


# Every panel issue #6 names, with the visualisation it needs.
_PROMISED = {
    "Failure rate by code": "timeseries",
    "Failure rate by category": "timeseries",
    "Severity breakdown": "piechart",
    "Uncataloged share": "stat",
    "New patterns": "stat",
    "Top codes": "table",
    "Failure rate per service": "timeseries",
    "OTLP items accepted vs rejected": "timeseries",
    "Persist errors": "timeseries",
    "Request latency": "timeseries",
    "Match latency": "timeseries",
    "Persist latency": "timeseries",
    "Catalog match ratio": "stat",
    # Issue #13: GenAI failure rates (failures ÷ operations) and failures by provider.
    "Failure rate by tool": "bargauge",
    "Failure rate by model": "bargauge",
    "Failures by provider": "timeseries",
    "GenAI operations": "timeseries",
}


def test_overview_has_the_promised_panels() -> None:
    dashboard = _dashboards.load(OVERVIEW_DASHBOARD)
    panels = list(_dashboards.panels(dashboard))
    assert len(panels) >= 10
    types = {panel["title"]: panel["type"] for panel in panels}
    assert {title: types.get(title) for title in _PROMISED} == _PROMISED
    assert {panel["type"] for panel in panels} == _PANEL_TYPES
    exprs = [target["expr"] for _, target in _dashboards.targets(dashboard)]
    joined = "\n".join(exprs)
    for grouping in ("code", "category", "severity", "service_name"):
        assert re.search(
            rf"sum by \({grouping}\) \(+(rate|increase)\(failcat_failures_total", joined
        ), grouping
    for histogram in ("request", "match", "persist"):
        assert f"histogram_quantile(0.99, sum by (le) (rate(failcat_{histogram}_duration" in joined
    assert "outcome" in joined and "failcat_persist_errors_total" in joined
    assert "failcat_uncataloged_total" in joined and "failcat_new_patterns_total" in joined
    used = set(re.findall(r"\bfailcat_[a-z_]+", joined))
    assert used <= exposed_sample_names(), used - exposed_sample_names()


def _expr(title: str) -> str:
    dashboard = _dashboards.load(OVERVIEW_DASHBOARD)
    (target,) = next(p for p in _dashboards.panels(dashboard) if p["title"] == title)["targets"]
    expr: str = target["expr"]
    return expr


@pytest.mark.parametrize(
    ("title", "label"),
    [("Failure rate by tool", "gen_ai_tool"), ("Failure rate by model", "gen_ai_model")],
)
def test_genai_rates_divide_failures_by_operations_from_a_minimum_of_calls(
    title: str, label: str
) -> None:
    """failures ÷ operations over the range, shown only where the calls reach $min_calls."""
    expr = _expr(title)
    compact = re.sub(r"\s+", " ", expr)
    failures = "increase(failcat_genai_failures_total{"
    operations = "increase(failcat_genai_operations_total{"
    assert failures in compact and operations in compact
    # The denominator, grouped by the panel's label, carries the threshold ...
    assert re.search(
        rf"/ \(sum by \({label}\) \(.*failcat_genai_operations_total.*\) >= \$min_calls\)",
        compact,
    ), expr
    # ... the numerator falls back to 0 for a tool or model with calls and no failure, and
    # series born inside the range count whole, as in the other range counts.
    assert f"or sum by ({label}) (" in compact and ") * 0)" in compact
    assert "unless failcat_genai_failures_total" in compact
    assert "unless failcat_genai_operations_total" in compact
    assert f'{label}!=""' in compact  # calls with no tool (model) are no tool's (model's)
    dashboard = _dashboards.load(OVERVIEW_DASHBOARD)
    panel = next(p for p in _dashboards.panels(dashboard) if p["title"] == title)
    assert panel["fieldConfig"]["defaults"]["unit"] == "percentunit"


def test_min_calls_is_a_dashboard_variable_with_a_default_above_one() -> None:
    variable = _dashboards.variables(_dashboards.load(OVERVIEW_DASHBOARD))["min_calls"]
    assert variable["type"] == "custom"
    choices = [int(value) for value in variable["query"].split(",")]
    assert choices == sorted(choices) and 1 in choices
    assert int(variable["current"]["value"]) > 1  # one failed call is never 100 % by default
    assert variable["current"]["value"] in variable["query"].split(",")


def test_failures_by_provider_groups_the_genai_counter_by_provider() -> None:
    expr = _expr("Failures by provider")
    assert expr.startswith("sum by (gen_ai_provider) (rate(failcat_genai_failures_total{")
    assert 'gen_ai_provider!=""' in expr


def test_overview_variables_come_from_failure_labels() -> None:
    variables = _dashboards.variables(_dashboards.load(OVERVIEW_DASHBOARD))
    for name in ("service_name", "code", "category"):
        variable = variables[name]
        assert variable["type"] == "query"
        assert variable["multi"] and variable["includeAll"]
        assert variable["allValue"] == ".*"
        assert re.fullmatch(
            rf"label_values\(failcat_failures_total(\{{[^}}]*\}})?, {name}\)",
            variable["query"]["query"],
        ), variable["query"]
    # Each selector is a regex match so "All" and several values work.
    for _, target in _dashboards.targets(_dashboards.load(OVERVIEW_DASHBOARD)):
        for name in ("service_name", "code", "category"):
            assert f'{name}="${name}"' not in target["expr"]


def _link_urls(panel: dict[str, Any], field: str) -> list[str]:
    return [
        link["url"]
        for override in panel["fieldConfig"]["overrides"]
        if override["matcher"] == {"id": "byName", "options": field}
        for prop in override["properties"]
        if prop["id"] == "links"
        for link in prop["value"]
    ]


def _trace_link(prefix: str, suffix: str, trace_id: str) -> str:
    """The Newest failures table's trace-id link, as Grafana renders it for one cell."""
    newest = next(
        p for p in _dashboards.load(POSTGRES_DASHBOARD)["panels"] if p["title"] == "Newest failures"
    )
    (url,) = _link_urls(newest, "trace_id")
    url = url.replace("${__value.raw}", trace_id)
    return _dashboards.substitute(url, {"trace_url": prefix, "trace_url_suffix": suffix})


def test_postgres_newest_failures_link_trace_ids_through_the_trace_url_variables() -> None:
    dashboard = _dashboards.load(POSTGRES_DASHBOARD)
    variables = _dashboards.variables(dashboard)
    prefix, suffix = variables["trace_url"], variables["trace_url_suffix"]
    assert prefix["type"] == suffix["type"] == "textbox"
    assert prefix["query"] == "http://localhost:16686/trace/" and suffix["query"] == ""
    newest = next(p for p in dashboard["panels"] if p["title"] == "Newest failures")
    assert newest["type"] == "table"
    assert "trace_id" in newest["targets"][0]["rawSql"]
    trace_id = "5b8efff798038103d269b633813fc60c"
    # The defaults open the trace in Jaeger ...
    assert _trace_link(prefix["query"], "", trace_id) == f"http://localhost:16686/trace/{trace_id}"
    # ... and a URL with the id in the middle (Grafana Explore on Tempo) splits around it,
    # like FAILCAT_TRACE_URL_TEMPLATE split at {trace_id}.
    explore = (
        'https://grafana/explore?left={"datasource":"tempo","queries":[{"query":"',
        '"}]}',
    )
    assert _trace_link(*explore, trace_id) == explore[0] + trace_id + explore[1]
    patterns = next(p for p in dashboard["panels"] if p["title"] == "Top patterns")
    sql = patterns["targets"][0]["rawSql"]
    assert "first_seen" in sql and "last_seen" in sql and "failure_patterns" in sql
    assert len(list(_dashboards.panels(dashboard))) >= 6


def test_operations_guide_describes_every_panel(dashboard_path: Path) -> None:
    guide = OPERATIONS_DOC.read_text("utf-8")
    for panel in _dashboards.panels(_dashboards.load(dashboard_path)):
        assert panel["title"] in guide, f"docs/operations.md does not describe {panel['title']}"


def test_postgres_newest_failures_link_ids_to_the_failure_page_of_the_ui() -> None:
    """A failure's id opens ``${failcat_url}/failures/<id>``, the UI's page of that failure."""
    dashboard = _dashboards.load(POSTGRES_DASHBOARD)
    variable = _dashboards.variables(dashboard)["failcat_url"]
    assert variable["type"] == "textbox"
    assert variable["query"] == "http://localhost:9464"  # the receiver's API/UI port
    newest = next(p for p in dashboard["panels"] if p["title"] == "Newest failures")
    assert re.search(r"SELECT occurred_at AS \"time\", id,", newest["targets"][0]["rawSql"])
    (url,) = _link_urls(newest, "id")
    rendered = _dashboards.substitute(
        url.replace("${__value.raw}", "4711"), {"failcat_url": variable["query"]}
    )
    assert rendered == "http://localhost:9464/failures/4711"
