"""``/api/v1/failures``'s GenAI filters and fields, and ``/api/v1/rates``, over HTTP on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from collector_receiver.events import GenAIContext, OperationCounts, OperationKey
from collector_receiver.server.query_api import ApiSettings, add_api_routes
from collector_receiver.store import FailureStore
from collector_receiver.store.queries import FailureQueries
from collector_receiver.timeparse import utc_now
from tests.collector_receiver.store._inspection_data import failure, seed

SEARCH = GenAIContext(operation="execute_tool", tool="web_search", agent="planner")
CHAT = GenAIContext(provider="openai", model="gpt-4o", operation="chat", agent="planner")


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """planner, this hour: 8 searches (2 failed), 10 chats (1 failed), 1 failure outside GenAI;
    two days ago: 4 searches, 4 failed."""
    now = utc_now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    old = hour - timedelta(days=2)
    seed(
        db_url,
        [
            replace(failure(now - timedelta(seconds=30)), gen_ai=SEARCH),
            replace(failure(now - timedelta(seconds=20)), gen_ai=SEARCH),
            replace(failure(now - timedelta(seconds=10), code="TIMEOUT"), gen_ai=CHAT),
            failure(now - timedelta(seconds=5), code="UNCATALOGED"),
            *(replace(failure(old + timedelta(minutes=i)), gen_ai=SEARCH) for i in range(4)),
        ],
    )
    store = FailureStore.from_url(db_url)
    store.write_batch(
        [],
        [
            OperationCounts(
                {
                    OperationKey(hour, "planner", SEARCH): 8,
                    OperationKey(hour, "planner", CHAT): 10,
                    OperationKey(old, "planner", SEARCH): 4,
                },
                delivery_key="d" * 32,
            )
        ],
    )
    store.close()
    queries = FailureQueries.from_url(db_url)
    app = web.Application()
    add_api_routes(app, queries, ApiSettings())
    async with TestClient(TestServer(app)) as test_client:
        yield test_client
    queries.close()


async def _get(client: Any, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    return await response.json()


async def test_failures_carry_the_genai_fields(client: Any) -> None:
    (chat,) = (await _get(client, "/api/v1/failures?model=gpt-4o"))["items"]

    assert {k: v for k, v in chat.items() if k.startswith("gen_ai_")} == {
        "gen_ai_provider": "openai",
        "gen_ai_model": "gpt-4o",
        "gen_ai_operation": "chat",
        "gen_ai_tool": None,
        "gen_ai_agent": "planner",
    }


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("tool=web_search", 6),
        ("tool=web_search&since=1h", 2),
        ("provider=openai", 1),
        ("agent=planner&service=planner", 7),
        ("agent=planner&code=TIMEOUT", 1),
        ("model=gpt-4o-mini", 0),
    ],
)
async def test_failures_filter_by_the_genai_columns(client: Any, query: str, count: int) -> None:
    body = await _get(client, f"/api/v1/failures?{query}")

    assert len(body["items"]) == count


async def test_rates_by_tool_in_the_last_hour(client: Any) -> None:
    body = await _get(client, "/api/v1/rates?by=tool&service=planner&since=1h")

    assert body == {
        # Tied on failures: more operations first.
        "items": [
            {"value": None, "failures": 2, "operations": 10, "failure_rate": 0.2},
            {"value": "web_search", "failures": 2, "operations": 8, "failure_rate": 0.25},
        ],
        "next_cursor": None,
        "by": "tool",
    }


async def test_rates_over_all_time_sorted_by_failures(client: Any) -> None:
    body = await _get(client, "/api/v1/rates?by=tool")

    assert [(i["value"], i["failures"], i["operations"]) for i in body["items"]] == [
        ("web_search", 6, 12),
        (None, 2, 10),
    ]
    assert body["items"][0]["failure_rate"] == 0.5


async def test_a_value_without_operations_has_a_null_rate(client: Any) -> None:
    body = await _get(client, "/api/v1/rates?by=provider&since=1h")

    assert {"value": None, "failures": 3, "operations": 8, "failure_rate": 0.375} in body["items"]
    until_two_days_ago = await _get(client, "/api/v1/rates?by=model&until=3d")
    assert until_two_days_ago["items"] == []
    empty_service = await _get(client, "/api/v1/rates?by=model&service=coder")
    assert empty_service["items"] == []


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("", "by: required, one of tool, model, provider, agent, operation"),
        ("by=span", "by: must be one of tool, model, provider, agent, operation, not 'span'"),
        ("by=tool&since=soon", "since: "),
        ("by=tool&limit=5", "limit: unknown parameter"),
        ("by=tool&since=1h&until=2h", "until: must be later than since"),
    ],
)
async def test_bad_rates_parameters_get_400_with_a_reason(
    client: Any, query: str, error: str
) -> None:
    body = await _get(client, f"/api/v1/rates?{query}", status=400)

    assert body["error"].startswith(error), body


async def test_an_unknown_failures_filter_is_still_refused(client: Any) -> None:
    body = await _get(client, "/api/v1/failures?gen_ai_tool=web_search", status=400)

    assert body["error"].startswith("gen_ai_tool: unknown parameter")
