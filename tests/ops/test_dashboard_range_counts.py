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


def _panel_expr(title: str) -> str:
    dashboard = _dashboards.load(OVERVIEW_DASHBOARD)
    (target,) = [t for p, t in _dashboards.targets(dashboard) if p["title"] == title]
    return _dashboards.substitute(target["expr"], _ALL)  # $__range -> 5m


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
