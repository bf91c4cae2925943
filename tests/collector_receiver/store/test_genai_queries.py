"""The GenAI filters of ``list_failures`` and the arithmetic of ``rates``, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from collector_receiver.events import GenAIContext, MatchedFailure, OperationCounts, OperationKey
from collector_receiver.store import FailureStore, upgrade
from collector_receiver.store.queries import FailureQueries
from collector_receiver.store.rates import RateRow
from tests.collector_receiver.store._helpers import BASE_TIME
from tests.collector_receiver.store._helpers import failure as a_failure

HOUR = BASE_TIME.replace(minute=0)
SEARCH = GenAIContext(operation="execute_tool", tool="web_search", agent="research-agent")
FETCH = GenAIContext(operation="execute_tool", tool="fetch_page", agent="research-agent")
CHAT = GenAIContext(provider="openai", model="gpt-4o", operation="chat", agent="research-agent")
CLAUDE = GenAIContext(provider="anthropic", model="claude-sonnet-4", operation="chat")


def _ops(
    key: str, service: str, *entries: tuple[GenAIContext, int], hour: int = 0
) -> OperationCounts:
    bucket = HOUR + timedelta(hours=hour)
    return OperationCounts(
        counts={OperationKey(bucket, service, context): n for context, n in entries},
        delivery_key=key.ljust(32, "0"),
    )


@pytest.fixture
def queries(db_url: str) -> Iterator[FailureQueries]:
    """research-agent: 10 searches (2 failed), 4 fetches (3 failed), 20 chats (1 failed), one
    failure outside GenAI; billing-agent: 5 Claude chats (none failed), 1 search failure with no
    searches counted. An hour later: 6 more searches of research-agent, 1 failed."""
    upgrade(db_url)
    store = FailureStore.from_url(db_url)
    at = HOUR + timedelta(minutes=5)
    later = at + timedelta(hours=1)

    def failure(n: int, service_name: str = "research-agent", **fields: Any) -> MatchedFailure:
        return a_failure(n, service_name=service_name, **fields)

    failures = [
        *(replace(failure(n, occurred_at=at), gen_ai=SEARCH) for n in (1, 2)),
        *(replace(failure(n, occurred_at=at), gen_ai=FETCH) for n in (3, 4, 5)),
        replace(failure(6, occurred_at=at), gen_ai=CHAT),
        failure(7, occurred_at=at),
        replace(failure(8, occurred_at=at, service_name="billing-agent"), gen_ai=SEARCH),
        replace(failure(9, occurred_at=later), gen_ai=SEARCH),
    ]
    store.write_batch(
        failures,
        [
            _ops("a", "research-agent", (SEARCH, 10), (FETCH, 4), (CHAT, 20)),
            _ops("b", "billing-agent", (CLAUDE, 5)),
            _ops("c", "research-agent", (SEARCH, 6), hour=1),
        ],
    )
    store.close()
    queries = FailureQueries.from_url(db_url)
    yield queries
    queries.close()


def test_rates_by_tool_divide_failures_by_operations(queries: FailureQueries) -> None:
    rates = queries.rates("tool", service="research-agent")

    assert rates == [
        RateRow("web_search", failures=3, operations=16, failure_rate=3 / 16),
        RateRow("fetch_page", failures=3, operations=4, failure_rate=0.75),
        # The chat failure and the failure outside GenAI name no tool; 20 chats were counted.
        RateRow(None, failures=2, operations=20, failure_rate=0.1),
    ]


def test_rates_take_the_window_of_failures_and_of_buckets(queries: FailureQueries) -> None:
    rates = queries.rates(
        "tool", service="research-agent", since=HOUR, until=HOUR + timedelta(hours=1)
    )

    assert rates[0] == RateRow("fetch_page", failures=3, operations=4, failure_rate=0.75)
    assert RateRow("web_search", failures=2, operations=10, failure_rate=0.2) in rates


def test_a_value_only_failures_name_has_no_rate(queries: FailureQueries) -> None:
    rates = queries.rates("tool", service="billing-agent")

    assert rates == [
        RateRow("web_search", failures=1, operations=0, failure_rate=None),
        RateRow(None, failures=0, operations=5, failure_rate=0.0),
    ]


def test_rates_by_model_across_services(queries: FailureQueries) -> None:
    rates = {row.value: row for row in queries.rates("model")}

    assert rates["gpt-4o"] == RateRow("gpt-4o", failures=1, operations=20, failure_rate=0.05)
    assert rates["claude-sonnet-4"] == RateRow(
        "claude-sonnet-4", failures=0, operations=5, failure_rate=0.0
    )
    assert rates[None].failures == 8
    assert rates[None].operations == 20  # the tool calls name no model


def test_rates_by_provider_agent_and_operation(queries: FailureQueries) -> None:
    by_provider = {r.value: (r.failures, r.operations) for r in queries.rates("provider")}
    by_agent = {r.value: (r.failures, r.operations) for r in queries.rates("agent")}
    by_operation = {r.value: (r.failures, r.operations) for r in queries.rates("operation")}

    assert by_provider == {"openai": (1, 20), "anthropic": (0, 5), None: (8, 20)}
    assert by_agent == {"research-agent": (8, 40), None: (1, 5)}
    assert by_operation == {"execute_tool": (7, 20), "chat": (1, 25), None: (1, 0)}


def test_an_unknown_dimension_is_refused(queries: FailureQueries) -> None:
    with pytest.raises(ValueError, match="must be one of tool, model, provider, agent, operation"):
        queries.rates("exception_type")


def test_failures_filter_by_each_genai_column(queries: FailureQueries) -> None:
    def keys(**filters: str) -> list[int]:
        return sorted(int(f.event_key, 16) for f in queries.list_failures(**filters).items)

    assert keys(tool="web_search") == [1, 2, 8, 9]
    assert keys(tool="web_search", service="research-agent") == [1, 2, 9]
    assert keys(model="gpt-4o") == [6]
    assert keys(provider="openai", agent="research-agent") == [6]
    assert keys(agent="research-agent") == [1, 2, 3, 4, 5, 6, 8, 9]
    assert keys(agent="research-agent", service="billing-agent") == [8]
    assert keys(tool="nothing-by-this-name") == []


def test_listed_failures_carry_their_genai_fields(queries: FailureQueries) -> None:
    (chat,) = queries.list_failures(model="gpt-4o").items

    assert (chat.gen_ai_provider, chat.gen_ai_model, chat.gen_ai_operation) == (
        "openai",
        "gpt-4o",
        "chat",
    )
    assert (chat.gen_ai_tool, chat.gen_ai_agent) == (None, "research-agent")
