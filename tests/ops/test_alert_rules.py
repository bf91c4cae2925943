"""alerts/failcat.rules.yml: valid for promtool, unit-tested, and every alert proven both ways."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.ops._exposition import exposed_sample_names
from tests.ops._paths import OPERATIONS_DOC, RULE_TESTS, RULES, promtool

_SEVERITIES = {"critical", "warning"}
_DOCS_URL = "https://github.com/otel-failcat/otel-failcat/blob/main/docs/operations.md"


def _rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text("utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def _alerts() -> list[dict[str, Any]]:
    return [rule for rule in _rules() if "alert" in rule]


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_promtool_check_rules_passes() -> None:
    result = promtool("check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_pass() -> None:
    assert len(RULE_TESTS) == 2, RULE_TESTS
    result = promtool("test", "rules", *RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_TESTS), result.stdout


def test_at_least_nine_alerts_each_with_for_severity_and_annotations() -> None:
    alerts = _alerts()
    names = [alert["alert"] for alert in alerts]
    assert len(alerts) >= 9
    assert len(set(names)) == len(names), "alert names must be unique"
    for alert in alerts:
        assert alert.get("for"), f"{alert['alert']} has no for:"
        assert alert["labels"]["severity"] in _SEVERITIES, alert["alert"]
        annotations = alert["annotations"]
        assert {"summary", "description", "runbook_url"} <= set(annotations), alert["alert"]


def test_every_runbook_url_is_a_section_of_the_operations_doc() -> None:
    headings = [
        line.lstrip("#").strip()
        for line in OPERATIONS_DOC.read_text("utf-8").splitlines()
        if line.startswith("#")
    ]
    anchors = {_anchor(heading) for heading in headings}
    for alert in _alerts():
        url = alert["annotations"]["runbook_url"]
        path, _, fragment = url.partition("#")
        assert path == _DOCS_URL, url
        assert fragment in anchors, f"{alert['alert']}: no heading for #{fragment}"


def test_rules_use_only_metrics_the_receiver_exposes() -> None:
    for rule in _rules():
        for name in re.findall(r"\bfailcat_[a-z_]+", rule["expr"]):
            assert name in exposed_sample_names(), (
                f"{rule.get('alert') or rule.get('record')}: {name}"
            )


def test_recording_rules_follow_the_level_metric_operation_convention() -> None:
    records = [rule["record"] for rule in _rules() if "record" in rule]
    assert records
    for name in records:
        assert re.fullmatch(r"failcat:[a-z_]+:[a-z0-9_]+", name), name


def test_every_alert_has_a_firing_and_a_silent_unit_test() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    groups = [
        group for path in RULE_TESTS for group in yaml.safe_load(path.read_text("utf-8"))["tests"]
    ]
    for group in groups:
        for case in group.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    names = {alert["alert"] for alert in _alerts()}
    assert names - firing == set(), "alerts never shown firing"
    assert names - silent == set(), "alerts never shown silent"
    assert firing | silent <= names, "tests name alerts the rules do not define"


def test_promtool_refuses_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "broken.rules.yml"
    broken.write_text(
        "groups:\n  - name: x\n    rules:\n"
        "      - alert: Broken\n        expr: sum by (code (rate(failcat_failures_total[5m]))\n",
        "utf-8",
    )
    result = promtool("check", "rules", broken)
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


def test_a_wrong_expectation_fails_the_unit_tests(tmp_path: Path) -> None:
    """The unit tests can fail: a critical failure expected to stay silent is caught."""
    tests = tmp_path / "wrong.test.yml"
    tests.write_text(
        yaml.safe_dump(
            {
                "rule_files": [str(RULES)],
                "evaluation_interval": "1m",
                "tests": [
                    {
                        "interval": "1m",
                        "input_series": [
                            {
                                "series": 'failcat_failures_total{service_name="a",code="X",'
                                'category="auth",severity="critical"}',
                                "values": "0+1x20",
                            }
                        ],
                        "alert_rule_test": [
                            {"eval_time": "10m", "alertname": "FailcatCriticalFailure"}
                        ],
                    }
                ],
            }
        ),
        "utf-8",
    )
    result = promtool("test", "rules", tests)
    assert result.returncode != 0
    assert "FailcatCriticalFailure" in result.stdout + result.stderr


def test_operations_guide_lists_every_alert_in_its_table() -> None:
    rows = {
        line.split("|")[1].strip()
        for line in OPERATIONS_DOC.read_text("utf-8").splitlines()
        if line.startswith("| Failcat")
    }
    assert rows == {alert["alert"] for alert in _alerts()}
