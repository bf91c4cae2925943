"""The API's item shapes are built from the store's rows, and trace links from a template."""

from __future__ import annotations

from datetime import datetime, timezone

from collector_receiver.presentation import (
    failure_json,
    list_json,
    pattern_json,
    rate_json,
    render_trace_url,
)
from collector_receiver.store.queries import StoredFailure, StoredPattern
from collector_receiver.store.rates import RateRow

AT = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)
FAILURE = StoredFailure(
    id=7,
    event_key="k" * 64,
    trace_id="ab" * 16,
    span_id="cd" * 8,
    service_name="planner",
    code="RATE_LIMITED",
    category="rate_limit",
    severity="medium",
    catalog_version="v1",
    exception_type="openai.RateLimitError",
    exception_message="slow down",
    stacktrace="Traceback ...",
    fingerprint="f" * 32,
    source="span_event",
    occurred_at=AT,
    received_at=AT,
    attributes={"gen_ai.system": "openai"},
    gen_ai_provider="openai",
    gen_ai_model="gpt-4o",
    gen_ai_operation="chat",
)


def test_trace_url_template_keeps_foreign_braces_and_encodes_values() -> None:
    template = 'https://grafana/explore?left={"queries":[{"query":"{trace_id}"}]}&s={service_name}'
    url = render_trace_url(template, "ab" * 16, None, "my agent/1")
    assert url == (
        'https://grafana/explore?left={"queries":[{"query":"' + "ab" * 16 + '"}]}&s=my%20agent%2F1'
    )
    assert render_trace_url(None, "ab" * 16, None, "x") is None


def test_a_failure_item_has_every_column_and_its_trace_link() -> None:
    item = failure_json(FAILURE, "https://t/{trace_id}/{span_id}")

    assert item == {
        "id": 7,
        "event_key": "k" * 64,
        "trace_id": "ab" * 16,
        "span_id": "cd" * 8,
        "service_name": "planner",
        "code": "RATE_LIMITED",
        "category": "rate_limit",
        "severity": "medium",
        "catalog_version": "v1",
        "exception_type": "openai.RateLimitError",
        "exception_message": "slow down",
        "stacktrace": "Traceback ...",
        "fingerprint": "f" * 32,
        "source": "span_event",
        "occurred_at": "2026-11-28T10:00:00Z",
        "received_at": "2026-11-28T10:00:00Z",
        "attributes": {"gen_ai.system": "openai"},
        "gen_ai_provider": "openai",
        "gen_ai_model": "gpt-4o",
        "gen_ai_operation": "chat",
        "gen_ai_tool": None,
        "gen_ai_agent": None,
        "trace_url": f"https://t/{'ab' * 16}/{'cd' * 8}",
    }
    assert failure_json(FAILURE, None)["trace_url"] is None


def test_a_pattern_item_and_a_list() -> None:
    pattern = StoredPattern(
        fingerprint="f" * 32,
        code="TIMEOUT",
        service_name="coder",
        exception_type="TimeoutError",
        message_template="timed out after <num>s",
        first_seen=AT,
        last_seen=AT,
        occurrences=3,
    )

    assert list_json([pattern_json(pattern)], None) == {
        "items": [
            {
                "fingerprint": "f" * 32,
                "code": "TIMEOUT",
                "service_name": "coder",
                "exception_type": "TimeoutError",
                "message_template": "timed out after <num>s",
                "first_seen": "2026-11-28T10:00:00Z",
                "last_seen": "2026-11-28T10:00:00Z",
                "occurrences": 3,
            }
        ],
        "next_cursor": None,
    }


def test_a_rate_item_keeps_a_null_value_and_a_null_rate() -> None:
    assert rate_json(RateRow("web_search", 3, 12, 0.25)) == {
        "value": "web_search",
        "failures": 3,
        "operations": 12,
        "failure_rate": 0.25,
    }
    assert rate_json(RateRow(None, 2, 0, None)) == {
        "value": None,
        "failures": 2,
        "operations": 0,
        "failure_rate": None,
    }
