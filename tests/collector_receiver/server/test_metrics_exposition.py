"""The /metrics exposition carries exactly the names and labels of CONTRACT §6.

Scraped over real HTTP from the API app and parsed with prometheus_client's own parser.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timezone

import aiohttp
import prometheus_client
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from collector_receiver.events import GenAIContext, OperationCounts, OperationKey
from collector_receiver.server.metrics import ReceiverMetrics
from collector_receiver.server.ops_http import build_api_app
from tests.collector_receiver.server._helpers import matched_failure

CONTRACT_COUNTERS = {
    "failcat_failures": {"service_name", "code", "category", "severity"},
    "failcat_uncataloged": {"service_name", "exception_type"},
    "failcat_otlp_items": {"signal", "outcome"},
    "failcat_persist_errors": {"reason"},
    "failcat_new_patterns": {"service_name", "code"},
    "failcat_genai_failures": {
        "service_name", "category", "gen_ai_provider", "gen_ai_model", "gen_ai_tool",
    },
    "failcat_genai_operations": {
        "service_name", "gen_ai_operation", "gen_ai_provider", "gen_ai_model", "gen_ai_tool",
    },
}  # fmt: skip
HISTOGRAMS = {
    "failcat_request_duration_seconds": {"signal"},
    "failcat_match_duration_seconds": set(),
    "failcat_persist_duration_seconds": set(),
}
GAUGES = {"failcat_ready": set()}


async def _not_checked() -> str | None:
    return None


def _sample(families: dict[str, prometheus_client.Metric], name: str, **labels: str) -> float:
    for family in families.values():
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    raise AssertionError(f"no sample {name}{labels}")


@pytest.fixture
async def served_metrics(unused_tcp_port: int) -> AsyncIterator[tuple[ReceiverMetrics, str]]:
    metrics = ReceiverMetrics()
    runner = web.AppRunner(build_api_app(metrics, _not_checked))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        yield metrics, f"http://127.0.0.1:{unused_tcp_port}/metrics"
    finally:
        await runner.cleanup()
        metrics.shutdown()


async def _scrape(url: str) -> dict[str, prometheus_client.Metric]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    return {family.name: family for family in text_string_to_metric_families(text)}


def _record_everything(metrics: ReceiverMetrics) -> None:
    chat = GenAIContext(provider="openai", model="gpt-4o", operation="chat")
    hour = datetime(2026, 1, 2, 3, tzinfo=timezone.utc)
    metrics.record_committed(
        [
            matched_failure("a1", code="UNCATALOGED", exception_type="acme.Boom"),
            replace(matched_failure("a2", code="LLM_RATE_LIMITED"), gen_ai=chat),
            matched_failure("a3", code="LLM_RATE_LIMITED"),
        ],
        [("svc", "UNCATALOGED")],
        [OperationCounts({OperationKey(hour, "svc", chat): 5}, "0" * 32)],
    )
    metrics.record_items("traces", accepted=7, rejected=2)
    metrics.record_persist_error("unavailable")
    metrics.record_request_duration("traces", 0.003)
    metrics.record_match_duration(0.0004)
    metrics.record_persist_duration(0.02)


async def test_exposition_names_and_labels_are_exactly_the_contract(
    served_metrics: tuple[ReceiverMetrics, str],
) -> None:
    metrics, url = served_metrics
    _record_everything(metrics)
    families = await _scrape(url)

    assert set(families) == set(CONTRACT_COUNTERS) | set(HISTOGRAMS) | set(GAUGES)
    for name, labels in CONTRACT_COUNTERS.items():
        family = families[name]
        assert family.type == "counter"
        samples = [s for s in family.samples if s.name == f"{name}_total"]
        assert samples, f"{name}_total missing"
        for sample in samples:
            assert set(sample.labels) == labels
    for name, labels in HISTOGRAMS.items():
        family = families[name]
        assert family.type == "histogram"
        for sample in family.samples:
            assert set(sample.labels) - {"le"} == labels
    assert families["failcat_ready"].type == "gauge"


async def test_fixed_label_sets_are_exposed_at_zero_before_anything_happens(
    served_metrics: tuple[ReceiverMetrics, str],
) -> None:
    _, url = served_metrics
    families = await _scrape(url)

    items = {
        (s.labels["signal"], s.labels["outcome"]): s.value
        for s in families["failcat_otlp_items"].samples
        if s.name == "failcat_otlp_items_total"
    }
    assert items == {
        (signal, outcome): 0.0
        for signal in ("traces", "logs", "metrics")
        for outcome in ("accepted", "rejected")
    }
    reasons = {
        s.labels["reason"]: s.value
        for s in families["failcat_persist_errors"].samples
        if s.name == "failcat_persist_errors_total"
    }
    assert reasons == {"unavailable": 0, "store_error": 0, "queue_full": 0, "overloaded": 0}
    # free-form label sets (service, code, exception type) cannot be known in advance
    assert "failcat_failures" not in families
    assert "failcat_uncataloged" not in families
    assert "failcat_genai_failures" not in families
    assert "failcat_genai_operations" not in families


async def test_failcat_ready_follows_the_readiness_check_at_each_scrape(
    unused_tcp_port: int,
) -> None:
    reasons: list[str | None] = [None, "the database is unreachable: gone", None]

    async def readiness() -> str | None:
        return reasons.pop(0)

    metrics = ReceiverMetrics()
    runner = web.AppRunner(build_api_app(metrics, readiness))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    base = f"http://127.0.0.1:{unused_tcp_port}"
    try:
        assert _sample(await _scrape(f"{base}/metrics"), "failcat_ready") == 1
        async with aiohttp.ClientSession() as session, session.get(f"{base}/readyz") as answer:
            assert answer.status == 503
        assert metrics.exposition().count(b"failcat_ready 0.0") == 1  # /readyz set it too
        assert _sample(await _scrape(f"{base}/metrics"), "failcat_ready") == 1
    finally:
        await runner.cleanup()
        metrics.shutdown()


async def test_values_count_what_was_recorded(served_metrics: tuple[ReceiverMetrics, str]) -> None:
    metrics, url = served_metrics
    _record_everything(metrics)
    _record_everything(metrics)
    families = await _scrape(url)

    def value(name: str, **labels: str) -> float:
        for sample in families[name].samples:
            if sample.name == f"{name}_total" and all(
                sample.labels.get(k) == v for k, v in labels.items()
            ):
                return sample.value
        raise AssertionError(f"no sample {name}{labels}")

    assert value("failcat_failures", code="LLM_RATE_LIMITED", service_name="svc") == 4
    assert value("failcat_failures", code="UNCATALOGED", category="uncataloged") == 2
    assert value("failcat_uncataloged", exception_type="acme.Boom") == 2
    assert value("failcat_otlp_items", signal="traces", outcome="accepted") == 14
    assert value("failcat_otlp_items", signal="traces", outcome="rejected") == 4
    assert value("failcat_persist_errors", reason="unavailable") == 2
    assert value("failcat_new_patterns", code="UNCATALOGED") == 2
    assert value("failcat_genai_failures", gen_ai_model="gpt-4o", category="rate_limit") == 2
    assert value("failcat_genai_operations", gen_ai_operation="chat", gen_ai_tool="") == 10
    counts = {
        s.labels.get("signal", ""): s.value
        for s in families["failcat_request_duration_seconds"].samples
        if s.name.endswith("_count")
    }
    assert counts == {"traces": 2}


async def test_two_receivers_in_one_process_do_not_share_numbers(
    served_metrics: tuple[ReceiverMetrics, str],
) -> None:
    _, url = served_metrics
    other = ReceiverMetrics()
    try:
        other.record_items("logs", accepted=5, rejected=0)
        families = await _scrape(url)
        assert _sample(families, "failcat_otlp_items_total", signal="logs", outcome="accepted") == 0
        global_names = {f.name for f in prometheus_client.REGISTRY.collect()}
        assert not any(name.startswith("failcat") for name in global_names)
    finally:
        other.shutdown()
