"""Every panel query of the overview dashboard answers on a real Prometheus.

One stack for the module: ``failcat serve`` on an embedded SQLite database, fed by ``failcat
traffic`` (the real OTel SDK and OTLP exporters) and by one OTLP/HTTP request with a malformed
span (a rejected item), scraped every second by a real Prometheus that also loads the alert
rules. Each panel target's ``expr``, with the template variables substituted as Grafana would,
must come back ``success`` and non-empty — for "All" and for a single service. The GenAI rate
panels must also agree with what the database holds (``failure_matches``' GenAI columns divided
by ``gen_ai_operations``), and honour the minimum of calls.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.e2e._receiver import ReceiverProcess, http_post, running_receiver
from tests.ops import _dashboards
from tests.ops._paths import OVERVIEW_DASHBOARD, RULES
from tests.ops._prometheus import PrometheusProcess, running_prometheus
from tests.ops._traffic import send_traffic

pytestmark = pytest.mark.slow

_DASHBOARD = _dashboards.load(OVERVIEW_DASHBOARD)
_TARGETS = [
    pytest.param(panel, target, id=f"{panel['id']}-{panel['title']}-{target['refId']}")
    for panel, target in _dashboards.targets(_DASHBOARD)
]
_ALL = {
    "service_name": ".*",
    "code": ".*",
    "category": ".*",
    "datasource": "ignored",
    "min_calls": "5",
}
_ONE_SERVICE = {**_ALL, "service_name": "support-agent"}
_TRAFFIC_ARGS = ("--services", "3", "--uncataloged-share", "0.25")


@dataclass
class Stack:
    receiver: ReceiverProcess
    prometheus: PrometheusProcess
    stored: int
    db_url: str


def _export_failure_span(
    receiver: ReceiverProcess, trace_id: bytes, exception_type: str, message: str
) -> ExportTraceServiceResponse:
    """One OTLP/HTTP protobuf request: a span of ``support-agent`` with an exception event."""
    attributes = [
        KeyValue(key="exception.type", value=AnyValue(string_value=exception_type)),
        KeyValue(key="exception.message", value=AnyValue(string_value=message)),
    ]
    span = Span(
        trace_id=trace_id,
        span_id=b"\x02" * 8,
        name="chat gpt-4o",
        start_time_unix_nano=time.time_ns() - 1_000_000,
        end_time_unix_nano=time.time_ns(),
        events=[Span.Event(name="exception", time_unix_nano=time.time_ns(), attributes=attributes)],
    )
    resource = Resource(
        attributes=[KeyValue(key="service.name", value=AnyValue(string_value="support-agent"))]
    )
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=[span])])]
    )
    status, _, body = http_post(
        f"{receiver.http_endpoint}/v1/traces",
        request.SerializeToString(),
        {"Content-Type": "application/x-protobuf"},
    )
    assert status == 200, body
    return ExportTraceServiceResponse.FromString(body)


def _send_malformed_span(receiver: ReceiverProcess) -> None:
    """A failure span with a 5-byte trace id: rejected inside a good request."""
    answer = _export_failure_span(receiver, b"\x01" * 5, "ValueError", "bad ids")
    assert answer.partial_success.rejected_spans == 1, answer


def _send_critical_failure(receiver: ReceiverProcess) -> None:
    """One failure the default catalog rates critical (OPENAI_INSUFFICIENT_QUOTA)."""
    answer = _export_failure_span(
        receiver,
        bytes(range(1, 17)),
        "openai.RateLimitError",
        "Error code: 429 - You exceeded your current quota (insufficient_quota)",
    )
    assert answer.partial_success.rejected_spans == 0, answer


def _scalar(db_url: str, sql: str) -> int:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text(sql)).scalar_one())
    finally:
        engine.dispose()


def _critical_codes(db_url: str) -> set[tuple[str, str]]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT DISTINCT service_name, code FROM failure_matches"
                    " WHERE severity = 'critical'"
                )
            ).all()
    finally:
        engine.dispose()
    return {(str(service), str(code)) for service, code in rows}


def _stored_rows(db_url: str) -> int:
    return _scalar(db_url, "SELECT count(*) FROM failure_matches")


def _per_value(db_url: str, column: str) -> dict[str, tuple[int, int]]:
    """(failures, operations) per value of a GenAI column, straight from the two tables."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            failures = dict(
                connection.execute(
                    sa.text(
                        f"SELECT {column}, count(*) FROM failure_matches"
                        f" WHERE {column} IS NOT NULL GROUP BY {column}"
                    )
                ).all()
            )
            operations = dict(
                connection.execute(
                    sa.text(
                        f"SELECT {column}, sum(operations) FROM gen_ai_operations"
                        f" WHERE {column} IS NOT NULL GROUP BY {column}"
                    )
                ).all()
            )
    finally:
        engine.dispose()
    return {
        str(value): (int(failures.get(value, 0)), int(count)) for value, count in operations.items()
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("ops-live")
    db_url = f"sqlite:///{directory / 'failcat.db'}"
    with running_receiver(db_url, directory / "receiver.log") as receiver:
        with running_prometheus(
            directory, [f"127.0.0.1:{receiver.api_port}"], rule_files=[RULES]
        ) as prometheus:
            prometheus.wait_until('sum(up{job="failcat"})', 1)
            # Two rounds with scrapes in between, so every counter has samples that rise.
            send_traffic(receiver, 40, 11, *_TRAFFIC_ARGS)
            _send_malformed_span(receiver)
            prometheus.wait_until("sum(failcat_failures_total)", _stored_rows(db_url))
            send_traffic(receiver, 40, 12, *_TRAFFIC_ARGS)
            # Last, so its counter series first appears with value 1 (the alert's edge case).
            _send_critical_failure(receiver)
            stored = _stored_rows(db_url)
            prometheus.wait_until("sum(failcat_failures_total)", stored)
            prometheus.wait_until("min(count_over_time(failcat_failures_total[1m]))", 3)
            prometheus.wait_until(
                'min(count_over_time(failcat_otlp_items_total{outcome="rejected"}[1m]))', 3
            )
            operations = _scalar(db_url, "SELECT sum(operations) FROM gen_ai_operations")
            prometheus.wait_until("sum(failcat_genai_operations_total)", operations)
            prometheus.wait_until("min(count_over_time(failcat_genai_operations_total[1m]))", 3)
            yield Stack(receiver, prometheus, stored, db_url)


def _assert_answers(prometheus: PrometheusProcess, expr: str) -> list[dict[str, Any]]:
    answer = prometheus.query(expr)
    assert answer["status"] == "success", f"{expr}\n{answer}"
    result: list[dict[str, Any]] = answer["data"]["result"]
    assert result, f"empty result for:\n{expr}"
    return result


@pytest.mark.parametrize(("panel", "target"), _TARGETS)
def test_panel_query_answers_for_all_services(
    stack: Stack, panel: dict[str, Any], target: dict[str, Any]
) -> None:
    _assert_answers(stack.prometheus, _dashboards.substitute(target["expr"], _ALL))


@pytest.mark.parametrize(("panel", "target"), _TARGETS)
def test_panel_query_answers_for_one_service(
    stack: Stack, panel: dict[str, Any], target: dict[str, Any]
) -> None:
    _assert_answers(stack.prometheus, _dashboards.substitute(target["expr"], _ONE_SERVICE))


def _variable_values(prometheus: PrometheusProcess, name: str, chosen: dict[str, str]) -> list[str]:
    """Run the dashboard's ``label_values(selector, label)`` for ``name`` as Grafana does."""
    query = _dashboards.variables(_DASHBOARD)[name]["query"]["query"]
    match = re.fullmatch(r"label_values\((.+), (\w+)\)", _dashboards.substitute(query, chosen))
    assert match, query
    selector, label = match.groups()
    return prometheus.label_values(label, selector)


def _grouped(prometheus: PrometheusProcess, label: str, service_regex: str) -> set[str]:
    expr = f'group by ({label}) (failcat_failures_total{{service_name=~"{service_regex}"}})'
    return {sample["metric"][label] for sample in _assert_answers(prometheus, expr)}


def test_variable_queries_list_the_services_codes_and_categories(stack: Stack) -> None:
    """Each variable's label_values(...) lists exactly the label values of the chosen services."""
    services = _variable_values(stack.prometheus, "service_name", _ALL)
    assert sorted(services) == ["coding-agent", "research-agent", "support-agent"]
    for chosen in (_ALL, _ONE_SERVICE):
        for name in ("code", "category"):
            listed = _variable_values(stack.prometheus, name, chosen)
            assert set(listed) == _grouped(stack.prometheus, name, chosen["service_name"])
    all_codes = _variable_values(stack.prometheus, "code", _ALL)
    assert "UNCATALOGED" in all_codes and len(all_codes) > 3
    # Narrowed to one service, the list is that service's codes only.
    one = _variable_values(stack.prometheus, "code", _ONE_SERVICE)
    assert set(one) < set(all_codes)


def _panel_target(title: str) -> dict[str, Any]:
    return next(t for p, t in _dashboards.targets(_DASHBOARD) if p["title"] == title)


def test_failures_stored_panel_agrees_with_the_database(stack: Stack) -> None:
    expr = _dashboards.substitute(_panel_target("Failures stored")["expr"], _ALL)
    (sample,) = _assert_answers(stack.prometheus, expr)
    # Every series was born inside the 5m range: the panel counts them whole, exactly.
    assert float(sample["value"][1]) == stack.stored
    assert stack.prometheus.scalar("sum(failcat_failures_total)") == stack.stored
    critical = _dashboards.substitute(_panel_target("Critical failures")["expr"], _ALL)
    # The injected one, and any the traffic raised (a revoked key is critical too).
    stored_critical = _scalar(
        stack.db_url, "SELECT count(*) FROM failure_matches WHERE severity = 'critical'"
    )
    assert stored_critical >= 1
    assert stack.prometheus.scalar(critical) == stored_critical


def test_health_panels_show_the_rejected_item_and_zero_persist_errors(stack: Stack) -> None:
    rejected = stack.prometheus.scalar('sum(failcat_otlp_items_total{outcome="rejected"})')
    assert rejected == 1
    expr = _dashboards.substitute(_panel_target("Persist errors")["expr"], _ALL)
    # One series per reason the receiver exports at 0 (or a single "none" at 0 if it exports
    # none yet): zero everywhere, never "No data".
    samples = _assert_answers(stack.prometheus, expr)
    assert all(float(sample["value"][1]) == 0 for sample in samples), samples
    # The receiver is ready: failcat_ready reads 1, and so does the panel's "ready" count.
    assert stack.prometheus.scalar('failcat_ready{job="failcat"}') == 1
    receivers = [t for p, t in _dashboards.targets(_DASHBOARD) if p["title"] == "Receivers up"]
    counts = {t["legendFormat"]: stack.prometheus.scalar(t["expr"]) for t in receivers}
    assert counts == {"up": 1, "ready": 1, "known": 1}


def test_catalog_match_ratio_and_uncataloged_share_add_up_to_one(stack: Stack) -> None:
    match = _dashboards.substitute(_panel_target("Catalog match ratio")["expr"], _ALL)
    share = _dashboards.substitute(_panel_target("Uncataloged share")["expr"], _ALL)
    value = stack.prometheus.scalar(f"({match}) + ({share})")
    assert value == pytest.approx(1.0)
    uncataloged = stack.prometheus.scalar("sum(failcat_uncataloged_total)")
    assert uncataloged is not None and 0 < uncataloged < stack.stored


def test_the_alert_rules_load_and_the_recording_rules_record(stack: Stack) -> None:
    rules = stack.prometheus.rules()
    assert rules and all(rule["health"] == "ok" for rule in rules), [
        (rule["name"], rule.get("lastError")) for rule in rules if rule["health"] != "ok"
    ]
    stack.prometheus.wait_until("count(failcat:failures:rate5m)", 1)
    stack.prometheus.wait_until("count(failcat:uncataloged_share:ratio15m)", 1)
    # A fresh Prometheus has no history a day back: the day-over-day alerts must stay quiet.
    firing = {rule["name"] for rule in rules if rule.get("state") == "firing"}
    assert not firing & {"FailcatFailureRateSpike", "FailcatCodeMixDrift", "FailcatReceiverDown"}


def test_a_healthy_receiver_raises_no_health_alert(stack: Stack) -> None:
    """Counters exported at 0 and a ready receiver leave the health alerts not even pending."""
    # The alert group has evaluated the data once the critical alert shows up.
    stack.prometheus.wait_until('count(ALERTS{alertname="FailcatCriticalFailure"})', 1)
    answer = stack.prometheus.query(
        'ALERTS{alertname=~"FailcatPersistErrors|FailcatReceiverNotReady|FailcatReceiverDown"}'
    )
    assert answer["status"] == "success" and answer["data"]["result"] == [], answer


def test_a_single_critical_failure_raises_the_critical_alert(stack: Stack) -> None:
    """On the receiver's real exposition, the one critical failure (a counter born at 1) alerts."""
    deadline = time.monotonic() + 20
    alerts: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not alerts:
        alerts = stack.prometheus.query('ALERTS{alertname="FailcatCriticalFailure"}')["data"][
            "result"
        ]
        time.sleep(0.25)
    expected = _critical_codes(stack.db_url)
    assert ("support-agent", "OPENAI_INSUFFICIENT_QUOTA") in expected  # the one sent last
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(alerts) < len(expected):
        alerts = stack.prometheus.query('ALERTS{alertname="FailcatCriticalFailure"}')["data"][
            "result"
        ]
        time.sleep(0.25)
    assert {(a["metric"]["service_name"], a["metric"]["code"]) for a in alerts} == expected
    assert all(alert["metric"]["severity"] == "critical" for alert in alerts)


@pytest.mark.parametrize(
    ("title", "label", "column"),
    [
        ("Failure rate by tool", "gen_ai_tool", "gen_ai_tool"),
        ("Failure rate by model", "gen_ai_model", "gen_ai_model"),
    ],
)
def test_genai_rate_panels_divide_the_databases_failures_by_its_operations(
    stack: Stack, title: str, label: str, column: str
) -> None:
    """Every series was born inside the 5m range: the panel's ratio is the database's, exactly,
    for each value with at least $min_calls operations, and no other."""
    expr = _dashboards.substitute(_panel_target(title)["expr"], _ALL)
    shown = {
        sample["metric"][label]: float(sample["value"][1])
        for sample in _assert_answers(stack.prometheus, expr)
    }
    stored = _per_value(stack.db_url, column)
    minimum = int(_ALL["min_calls"])
    expected = {
        value: failures / operations
        for value, (failures, operations) in stored.items()
        if operations >= minimum
    }
    assert shown.keys() == expected.keys()
    for value, rate in expected.items():
        assert shown[value] == pytest.approx(rate), value


def test_the_worst_tool_of_the_traffic_tops_the_tool_panel(stack: Stack) -> None:
    expr = _dashboards.substitute(_panel_target("Failure rate by tool")["expr"], _ALL)
    rates = {
        sample["metric"]["gen_ai_tool"]: float(sample["value"][1])
        for sample in _assert_answers(stack.prometheus, expr)
    }
    assert max(rates, key=rates.__getitem__) == "fetch_page", rates


def test_a_tool_under_the_minimum_of_calls_shows_no_rate(stack: Stack) -> None:
    calls = _per_value(stack.db_url, "gen_ai_tool")
    fewest = min(operations for _, operations in calls.values())
    chosen = {**_ALL, "min_calls": str(fewest + 1)}
    expr = _dashboards.substitute(_panel_target("Failure rate by tool")["expr"], chosen)
    answer = stack.prometheus.query(expr)
    assert answer["status"] == "success", answer
    shown = {sample["metric"]["gen_ai_tool"] for sample in answer["data"]["result"]}
    assert shown == {tool for tool, (_, operations) in calls.items() if operations > fewest}
    everything = {**_ALL, "min_calls": str(10**9)}
    expr = _dashboards.substitute(_panel_target("Failure rate by tool")["expr"], everything)
    assert stack.prometheus.query(expr)["data"]["result"] == []


def test_failures_by_provider_names_the_providers_of_the_services(stack: Stack) -> None:
    expr = 'sum by (gen_ai_provider) (failcat_genai_failures_total{gen_ai_provider!=""})'
    providers = {s["metric"]["gen_ai_provider"] for s in _assert_answers(stack.prometheus, expr)}
    # support-agent and coding-agent call OpenAI, research-agent Anthropic.
    assert providers == {"openai", "anthropic"}
    stored = _per_value(stack.db_url, "gen_ai_provider")
    for provider in providers:
        failures = stack.prometheus.scalar(
            f'sum(failcat_genai_failures_total{{gen_ai_provider="{provider}"}})'
        )
        assert failures == stored[provider][0]
