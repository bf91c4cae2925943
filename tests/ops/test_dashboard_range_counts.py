"""The overview's "in the time range" counts are exact, checked with promtool's PromQL tests.

``increase()`` ignores a counter's first sample and the receiver exports a counter only from its
first increment, so a plain ``increase(x[$__range])`` would show 0 for a single critical failure.
The panels add the whole value of series born inside the range; these tests pin that down on a
series that existed before the range and one born inside it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.ops import _dashboards
from tests.ops._paths import OVERVIEW_DASHBOARD, promtool

_ALL = {"service_name": ".*", "code": ".*", "category": ".*"}
_SERIES = (
    'failcat_failures_total{{service_name="{service}",code="{code}",'
    'category="auth",severity="{severity}"}}'
)


_OPERATIONS = (
    'failcat_genai_operations_total{{service_name="s",gen_ai_operation="{operation}",'
    'gen_ai_provider="{provider}",gen_ai_model="{model}",gen_ai_tool="{tool}"}}'
)
_GENAI_FAILURES = (
    'failcat_genai_failures_total{{service_name="s",category="tool_error",'
    'gen_ai_provider="{provider}",gen_ai_model="{model}",gen_ai_tool="{tool}"}}'
)


def _panel_expr(title: str, **values: str) -> str:
    dashboard = _dashboards.load(OVERVIEW_DASHBOARD)
    (target,) = [t for p, t in _dashboards.targets(dashboard) if p["title"] == title]
    return _dashboards.substitute(target["expr"], {**_ALL, **values})  # $__range -> 5m


def _promtool_expr_test(
    tmp_path: Path,
    series: dict[str, str],
    expr: str,
    eval_time: str,
    expected: list[dict[str, object]],
) -> subprocess.CompletedProcess[str]:
    rules = tmp_path / "empty.rules.yml"
    rules.write_text("groups: []\n", "utf-8")
    tests = tmp_path / "expr.test.yml"
    tests.write_text(
        yaml.safe_dump(
            {
                "rule_files": [str(rules)],
                "evaluation_interval": "1m",
                "tests": [
                    {
                        "interval": "1m",
                        "input_series": [{"series": s, "values": v} for s, v in series.items()],
                        "promql_expr_test": [
                            {"expr": expr, "eval_time": eval_time, "exp_samples": expected}
                        ],
                    }
                ],
            }
        ),
        "utf-8",
    )
    return promtool("test", "rules", tests)


def test_failures_stored_counts_old_and_newborn_series_exactly(tmp_path: Path) -> None:
    series = {
        # One a minute for 20 minutes: 5 in the last 5 minutes.
        _SERIES.format(service="a", code="X", severity="high"): "0+1x20",
        # Born at 17m with value 1, then one a minute: 4 in the last 5 minutes.
        _SERIES.format(service="b", code="Y", severity="high"): "_x17 1+1x3",
    }
    result = _promtool_expr_test(
        tmp_path, series, _panel_expr("Failures stored"), "20m", [{"labels": "{}", "value": 9}]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_single_critical_failure_counts_one(tmp_path: Path) -> None:
    series = {
        _SERIES.format(service="a", code="X", severity="high"): "0+1x20",
        _SERIES.format(service="a", code="Q", severity="critical"): "_x18 1 1 1",
    }
    result = _promtool_expr_test(
        tmp_path, series, _panel_expr("Critical failures"), "20m", [{"labels": "{}", "value": 1}]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_critical_failure_counts_zero(tmp_path: Path) -> None:
    series = {_SERIES.format(service="a", code="X", severity="high"): "0+1x20"}
    result = _promtool_expr_test(
        tmp_path, series, _panel_expr("Critical failures"), "20m", [{"labels": "{}", "value": 0}]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_severity_breakdown_splits_by_severity(tmp_path: Path) -> None:
    series = {
        _SERIES.format(service="a", code="X", severity="high"): "0+1x20",
        _SERIES.format(service="a", code="Q", severity="critical"): "_x18 1 1 1",
    }
    result = _promtool_expr_test(
        tmp_path,
        series,
        _panel_expr("Severity breakdown"),
        "20m",
        [
            {"labels": '{severity="high"}', "value": 5},
            {"labels": '{severity="critical"}', "value": 1},
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_count_fails(tmp_path: Path) -> None:
    """The check above can fail: promtool rejects a wrong expected value."""
    series = {_SERIES.format(service="a", code="X", severity="high"): "0+1x20"}
    result = _promtool_expr_test(
        tmp_path, series, _panel_expr("Failures stored"), "20m", [{"labels": "{}", "value": 6}]
    )
    assert result.returncode != 0


def _tool_series(tool: str, calls: str, failures: str | None) -> dict[str, str]:
    series = {_OPERATIONS.format(operation="execute_tool", provider="", model="", tool=tool): calls}
    if failures is not None:
        series[_GENAI_FAILURES.format(provider="", model="", tool=tool)] = failures
    return series


def test_tool_failure_rate_divides_by_calls_from_the_minimum_on(tmp_path: Path) -> None:
    """In the last 5 minutes: bad 15 of 50 calls (30 %), clean 50 calls and no failure (0),
    rare born 2 minutes ago with 3 of 3 calls failed (under the 20-call minimum: not shown),
    and chat calls, which have no tool, left out however they fail."""
    series = {
        **_tool_series("bad", "0+10x20", "0+3x20"),
        **_tool_series("clean", "0+10x20", None),
        **_tool_series("rare", "_x18 1 3", "_x18 1 3"),
        _OPERATIONS.format(operation="chat", provider="openai", model="gpt-4o", tool=""): "0+9x20",
        _GENAI_FAILURES.format(provider="openai", model="gpt-4o", tool=""): "0+9x20",
    }
    expr = _panel_expr("Failure rate by tool", min_calls="20")
    expected = [
        {"labels": '{gen_ai_tool="bad"}', "value": 0.3},
        {"labels": '{gen_ai_tool="clean"}', "value": 0},
    ]
    result = _promtool_expr_test(tmp_path, series, expr, "20m", expected)
    assert result.returncode == 0, result.stdout + result.stderr
    # With a minimum of 1, the tool born inside the range shows, counted whole: 3 of 3.
    expr = _panel_expr("Failure rate by tool", min_calls="1")
    expected.insert(0, {"labels": '{gen_ai_tool="rare"}', "value": 1})
    result = _promtool_expr_test(tmp_path, series, expr, "20m", expected)
    assert result.returncode == 0, result.stdout + result.stderr


def test_model_failure_rate_divides_by_the_models_operations(tmp_path: Path) -> None:
    chat = _OPERATIONS.format(operation="chat", provider="anthropic", model="claude", tool="")
    series = {
        chat: "0+20x20",
        _GENAI_FAILURES.format(provider="anthropic", model="claude", tool=""): "0+2x20",
        # Tool calls without a model are no model's.
        **_tool_series("bad", "0+10x20", "0+10x20"),
    }
    expr = _panel_expr("Failure rate by model", min_calls="20")
    expected = [{"labels": '{gen_ai_model="claude"}', "value": 0.1}]
    result = _promtool_expr_test(tmp_path, series, expr, "20m", expected)
    assert result.returncode == 0, result.stdout + result.stderr
