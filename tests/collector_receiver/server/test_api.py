"""The query API over HTTP (aiohttp's test server) on a real SQLite and PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from collector_receiver.catalog import parse_catalog
from collector_receiver.server.query_api import ApiSettings, add_api_routes
from collector_receiver.store.queries import FailureQueries
from collector_receiver.timeparse import format_time, utc_now
from tests.collector_receiver.store._inspection_data import failure, seed

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER_TRACE = "0af7651916cd43dd8448eb211c80319c"
TEMPLATE = "https://tempo.example/explore?trace={trace_id}&span={span_id}&svc={service_name}"
ITEM_KEYS = {
    "id",
    "event_key",
    "trace_id",
    "span_id",
    "service_name",
    "code",
    "category",
    "severity",
    "catalog_version",
    "exception_type",
    "exception_message",
    "stacktrace",
    "fingerprint",
    "source",
    "occurred_at",
    "received_at",
    "attributes",
    "gen_ai_provider",
    "gen_ai_model",
    "gen_ai_operation",
    "gen_ai_tool",
    "gen_ai_agent",
    "trace_url",
}

CATALOG = parse_catalog(
    """
version: 2
catalog_version: "api-test-1"
entries:
  - code: RATE_LIMITED
    title: Rate limited by the provider
    category: rate_limit
    severity: medium
    match: {exception_types: [openai.RateLimitError]}
    remediation: Back off.
    runbook_url: https://runbooks.example/rate-limited
  - code: TIMEOUT
    title: The request timed out
    category: timeout
    severity: medium
    match: {exception_types: [TimeoutError]}
    remediation: Retry with a longer timeout.
  - code: CONTEXT_LENGTH_EXCEEDED
    title: Prompt too long
    category: context_length
    severity: high
    match: {message_patterns: ["maximum context length"]}
    remediation: Trim the prompt.
""",
    "api-test.yaml",
)


def _stored_now() -> Any:
    # The API resolves "15m" against the real clock, so the data is placed around it.
    return utc_now()


async def _client(
    queries: FailureQueries, settings: ApiSettings
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    add_api_routes(app, queries, settings)
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    now = _stored_now()
    seed(
        db_url,
        [
            failure(now - timedelta(hours=30), "TIMEOUT", "planner", OTHER_TRACE, "9" * 16),
            failure(now - timedelta(minutes=50), "RATE_LIMITED", "planner", TRACE, "1" * 16),
            failure(now - timedelta(minutes=40), "TIMEOUT", "coder", TRACE, "2" * 16),
            failure(now - timedelta(minutes=10), "UNCATALOGED", "planner", TRACE, "3" * 16),
            failure(now - timedelta(minutes=5), "RATE_LIMITED", "coder", None, None),
            failure(now - timedelta(minutes=1), "OLD_CODE", "coder", None, None),
        ],
    )
    queries = FailureQueries.from_url(db_url)
    settings = ApiSettings(trace_url_template=TEMPLATE, catalog_provider=lambda: CATALOG)
    async for test_client in _client(queries, settings):
        yield test_client
    queries.close()


async def _get(client: TestClient[web.Request, web.Application], path: str) -> Any:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_list_newest_first_with_the_stored_fields_and_trace_url(client: Any) -> None:
    body = await _get(client, "/api/v1/failures")
    assert set(body) == {"items", "next_cursor"}
    assert body["next_cursor"] is None
    items = body["items"]
    assert [i["code"] for i in items] == [
        "OLD_CODE",
        "RATE_LIMITED",
        "UNCATALOGED",
        "TIMEOUT",
        "RATE_LIMITED",
        "TIMEOUT",
    ]
    assert all(set(i) == ITEM_KEYS for i in items)
    traced = items[2]
    assert traced["trace_url"] == (
        f"https://tempo.example/explore?trace={TRACE}&span={'3' * 16}&svc=planner"
    )
    assert items[0]["trace_url"] is None  # no trace id: no link
    assert traced["attributes"] == {"gen_ai.system": "openai"}
    assert traced["occurred_at"].endswith("Z")


FILTER_CASES: list[tuple[str, list[str]]] = [
    ("service=coder", ["OLD_CODE", "RATE_LIMITED", "TIMEOUT"]),
    ("code=TIMEOUT", ["TIMEOUT", "TIMEOUT"]),
    ("category=rate_limit", ["RATE_LIMITED", "RATE_LIMITED"]),
    (f"trace_id={TRACE.upper()}", ["UNCATALOGED", "TIMEOUT", "RATE_LIMITED"]),
    ("since=15m", ["OLD_CODE", "RATE_LIMITED", "UNCATALOGED"]),
    ("since=24h&until=30m", ["TIMEOUT", "RATE_LIMITED"]),
    ("service=planner&since=1h&code=RATE_LIMITED", ["RATE_LIMITED"]),
    (
        "service=",
        ["OLD_CODE", "RATE_LIMITED", "UNCATALOGED", "TIMEOUT", "RATE_LIMITED", "TIMEOUT"],
    ),
    ("service=nobody", []),
]


async def test_filters(client: Any) -> None:
    for query, codes in FILTER_CASES:
        body = await _get(client, f"/api/v1/failures?{query}")
        assert [i["code"] for i in body["items"]] == codes, query


async def test_since_and_until_accept_rfc3339(client: Any) -> None:
    now = utc_now()
    since = format_time(now - timedelta(minutes=45))
    until = (now - timedelta(minutes=7)).isoformat()  # "+00:00" offset, URL-encoded below
    response = await client.get("/api/v1/failures", params={"since": since, "until": until})
    assert response.status == 200
    assert [i["code"] for i in (await response.json())["items"]] == ["UNCATALOGED", "TIMEOUT"]


async def test_cursor_pages_through_everything_once(client: Any) -> None:
    everything = [i["id"] for i in (await _get(client, "/api/v1/failures"))["items"]]
    seen: list[int] = []
    url = "/api/v1/failures?limit=4"
    while True:
        body = await _get(client, url)
        seen.extend(i["id"] for i in body["items"])
        if body["next_cursor"] is None:
            break
        url = f"/api/v1/failures?limit=4&cursor={body['next_cursor']}"
    assert seen == everything


BAD_CASES: list[tuple[str, str]] = [
    ("limit=0", "limit"),
    ("limit=1001", "limit"),
    ("limit=ten", "limit"),
    ("limit=-5", "limit"),
    ("since=yesterday", "since"),
    ("since=999999999w", "since"),
    ("until=9999-12-31T23:59:59-01:00", "until"),
    ("until=2026-11-28T10:00:00", "until"),
    ("since=1h&until=2h", "until"),
    ("trace_id=xyz", "trace_id"),
    ("trace_id=" + "0" * 32, "trace_id"),
    ("cursor=not-a-cursor", "cursor"),
    ("servce=planner", "servce"),
    ("service=plan%00ner", "service"),
    ("code=" + "X" * 513, "code"),
    ("code=A&code=B", "code"),
]


async def test_bad_parameters_get_400_naming_the_parameter(client: Any) -> None:
    for query, parameter in BAD_CASES:
        response = await client.get(f"/api/v1/failures?{query}")
        assert response.status == 400, query
        error = (await response.json())["error"]
        assert error.startswith(f"{parameter}: "), (query, error)
        assert "\n" not in error


async def test_one_failure_by_id(client: Any) -> None:
    first = (await _get(client, "/api/v1/failures?limit=1"))["items"][0]
    assert await _get(client, f"/api/v1/failures/{first['id']}") == first
    missing = await client.get("/api/v1/failures/987654321")
    assert missing.status == 404
    assert (await missing.json())["error"].startswith("id: ")
    bad = await client.get("/api/v1/failures/abc")
    assert bad.status == 400
    assert (await bad.json())["error"].startswith("id: ")


async def test_trace_failures_oldest_first(client: Any) -> None:
    body = await _get(client, f"/api/v1/traces/{TRACE.upper()}/failures")
    assert body["next_cursor"] is None
    assert [i["code"] for i in body["items"]] == ["RATE_LIMITED", "TIMEOUT", "UNCATALOGED"]
    assert {i["trace_id"] for i in body["items"]} == {TRACE}
    assert (await _get(client, f"/api/v1/traces/{'e' * 32}/failures"))["items"] == []
    bad = await client.get("/api/v1/traces/nothex/failures")
    assert bad.status == 400
    assert (await bad.json())["error"].startswith("trace_id: ")


async def test_patterns_grouped_and_filtered(client: Any) -> None:
    body = await _get(client, "/api/v1/patterns")
    assert set(body) == {"items", "next_cursor"}
    assert {(p["service_name"], p["code"], p["occurrences"]) for p in body["items"]} == {
        ("planner", "TIMEOUT", 1),
        ("planner", "RATE_LIMITED", 1),
        ("coder", "TIMEOUT", 1),
        ("planner", "UNCATALOGED", 1),
        ("coder", "RATE_LIMITED", 1),
        ("coder", "OLD_CODE", 1),
    }
    assert set(body["items"][0]) == {
        "fingerprint",
        "code",
        "service_name",
        "exception_type",
        "message_template",
        "first_seen",
        "last_seen",
        "occurrences",
    }
    coder = await _get(client, "/api/v1/patterns?service=coder&since=30m")
    assert {p["code"] for p in coder["items"]} == {"RATE_LIMITED", "OLD_CODE"}
    paged = await _get(client, "/api/v1/patterns?limit=4")
    rest = await _get(client, f"/api/v1/patterns?limit=4&cursor={paged['next_cursor']}")
    assert len(paged["items"]) + len(rest["items"]) == 6
    bad = await client.get("/api/v1/patterns?since=soon")
    assert bad.status == 400
    assert (await bad.json())["error"].startswith("since: ")
    wrong = await client.get("/api/v1/patterns?category=x")
    assert wrong.status == 400


async def test_catalog_entries_with_counts(client: Any) -> None:
    body = await _get(client, "/api/v1/catalog")
    assert body["catalog_version"] == "api-test-1"
    assert body["next_cursor"] is None
    counts = {i["code"]: i["count"] for i in body["items"]}
    # Default window: the last 24 hours (the 30-hour-old TIMEOUT is outside it).
    assert counts == {
        "RATE_LIMITED": 2,
        "TIMEOUT": 1,
        "CONTEXT_LENGTH_EXCEEDED": 0,
        "UNCATALOGED": 1,
        "OLD_CODE": 1,
    }
    assert [i["code"] for i in body["items"]][3:] == ["UNCATALOGED", "OLD_CODE"]
    first = body["items"][0]
    assert first["title"] == "Rate limited by the provider"
    assert first["runbook_url"] == "https://runbooks.example/rate-limited"
    assert first["in_catalog"] is True
    old = next(i for i in body["items"] if i["code"] == "OLD_CODE")
    assert old["in_catalog"] is False
    wide = await _get(client, "/api/v1/catalog?since=7d")
    assert {i["code"]: i["count"] for i in wide["items"]}["TIMEOUT"] == 2
    bad = await client.get("/api/v1/catalog?since=1h&until=2h")
    assert bad.status == 400


async def test_no_template_means_null_trace_urls(db_url: str) -> None:
    seed(db_url, [failure(utc_now() - timedelta(minutes=1), trace_id=TRACE, span_id="1" * 16)])
    queries = FailureQueries.from_url(db_url)
    async for client in _client(queries, ApiSettings()):
        body = await _get(client, "/api/v1/failures")
        assert body["items"][0]["trace_id"] == TRACE
        assert body["items"][0]["trace_url"] is None
        catalog = await _get(client, "/api/v1/catalog")
        assert catalog["catalog_version"] is None
        assert [i["code"] for i in catalog["items"]] == ["UNCATALOGED", "RATE_LIMITED"]
    queries.close()


async def test_unreachable_database_gets_503_with_retry_after() -> None:
    queries = FailureQueries.from_url("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    async for client in _client(queries, ApiSettings()):
        for path in (
            "/api/v1/failures",
            "/api/v1/failures/1",
            f"/api/v1/traces/{TRACE}/failures",
            "/api/v1/patterns",
            "/api/v1/catalog",
        ):
            response = await client.get(path)
            assert response.status == 503, path
            assert response.headers["Retry-After"].isdigit()
            error = (await response.json())["error"]
            assert "connection" in error.lower() and "\n" not in error
        # Parameters are still checked first: a bad request stays a 400.
        assert (await client.get("/api/v1/failures?limit=0")).status == 400


async def test_unmigrated_database_gets_503_saying_to_upgrade(sqlite_url: str) -> None:
    queries = FailureQueries.from_url(sqlite_url)
    async for client in _client(queries, ApiSettings()):
        response = await client.get("/api/v1/failures")
        assert response.status == 503
        assert "failcat db upgrade" in (await response.json())["error"]


def test_settings_refuse_limits_beyond_the_store_bound() -> None:
    with pytest.raises(ValueError):
        ApiSettings(max_limit=5000)
    with pytest.raises(ValueError):
        ApiSettings(default_limit=0)


async def test_patterns_count_occurrences_and_filter_by_code_and_since(
    client: Any, db_url: str
) -> None:
    now = utc_now()
    # Three more of planner's RATE_LIMITED (same service and type: the same fingerprint).
    seed(db_url, [failure(now - timedelta(minutes=m), "RATE_LIMITED") for m in (20, 3, 2)])
    body = await _get(client, "/api/v1/patterns?code=RATE_LIMITED")
    grouped = {p["service_name"]: p for p in body["items"]}
    assert {s: p["occurrences"] for s, p in grouped.items()} == {"planner": 4, "coder": 1}
    stored = await _get(client, "/api/v1/failures?service=planner&code=RATE_LIMITED")
    times = [i["occurred_at"] for i in stored["items"]]
    assert len(times) == 4
    assert (grouped["planner"]["first_seen"], grouped["planner"]["last_seen"]) == (
        times[-1],
        times[0],
    )
    # since= keeps patterns seen at or after it: planner's TIMEOUT was last seen 30 hours ago.
    recent = await _get(client, "/api/v1/patterns?code=TIMEOUT&since=1h")
    assert [(p["service_name"], p["code"]) for p in recent["items"]] == [("coder", "TIMEOUT")]
    since = format_time(now - timedelta(minutes=6))
    response = await client.get("/api/v1/patterns", params={"since": since})
    assert {(p["service_name"], p["code"]) for p in (await response.json())["items"]} == {
        ("planner", "RATE_LIMITED"),
        ("coder", "RATE_LIMITED"),
        ("coder", "OLD_CODE"),
    }


async def test_patterns_page_through_every_fingerprint_once_newest_first(client: Any) -> None:
    everything = (await _get(client, "/api/v1/patterns"))["items"]
    seen: list[dict[str, Any]] = []
    url = "/api/v1/patterns?limit=1"
    while True:
        body = await _get(client, url)
        seen.extend(body["items"])
        if body["next_cursor"] is None:
            break
        url = f"/api/v1/patterns?limit=1&cursor={body['next_cursor']}"
    assert seen == everything and len(seen) == 6
    first_seen = [p["first_seen"] for p in seen]
    assert first_seen == sorted(first_seen, reverse=True)
    failures_cursor = (await _get(client, "/api/v1/failures?limit=1"))["next_cursor"]
    wrong = await client.get(f"/api/v1/patterns?cursor={failures_cursor}")
    assert wrong.status == 400
    assert (await wrong.json())["error"].startswith("cursor: ")


async def test_catalog_counts_in_an_explicit_window(client: Any) -> None:
    now = utc_now()
    since = format_time(now - timedelta(minutes=45))
    until = format_time(now - timedelta(minutes=7))
    response = await client.get("/api/v1/catalog", params={"since": since, "until": until})
    assert response.status == 200
    body = await response.json()
    assert body["window"] == {"start": since, "end": until}
    # In [now-45m, now-7m): coder's TIMEOUT (40 min ago) and planner's UNCATALOGED (10 min ago).
    assert {i["code"]: i["count"] for i in body["items"]} == {
        "RATE_LIMITED": 0,
        "TIMEOUT": 1,
        "CONTEXT_LENGTH_EXCEEDED": 0,
        "UNCATALOGED": 1,
    }
    unknown = await client.get("/api/v1/catalog?service=planner")
    assert unknown.status == 400
    assert (await unknown.json())["error"].startswith("service: ")


def _documented_schema(document: dict[str, Any], path: str, status: int) -> dict[str, Any]:
    """The JSON schema the OpenAPI document promises for ``path`` answering ``status``."""
    response = document["paths"][path]["get"]["responses"][str(status)]
    while "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    # Keep the components beside the schema so its "#/components/..." references resolve.
    return {**schema, "components": document["components"]}


async def test_every_answer_matches_its_documented_schema(client: Any) -> None:
    from openapi_schema_validator import OAS31Validator, oas31_format_checker

    from collector_receiver.server.query_api import openapi_document

    document = openapi_document()
    some = (await _get(client, "/api/v1/failures?limit=1"))["items"][0]
    requests = [
        ("/api/v1/failures", "/api/v1/failures?limit=2", 200),
        ("/api/v1/failures", "/api/v1/failures?since=2h&code=TIMEOUT", 200),
        ("/api/v1/failures", "/api/v1/failures?limit=0", 400),
        ("/api/v1/failures/{id}", f"/api/v1/failures/{some['id']}", 200),
        ("/api/v1/failures/{id}", "/api/v1/failures/987654321", 404),
        ("/api/v1/traces/{trace_id}/failures", f"/api/v1/traces/{TRACE}/failures", 200),
        ("/api/v1/patterns", "/api/v1/patterns?limit=2", 200),
        ("/api/v1/patterns", "/api/v1/patterns?since=later", 400),
        ("/api/v1/catalog", "/api/v1/catalog", 200),
        ("/api/v1/catalog", "/api/v1/catalog?until=tomorrow", 400),
        ("/api/v1/rates", "/api/v1/rates?by=model&since=2h", 200),
        ("/api/v1/rates", "/api/v1/rates?by=span", 400),
        ("/api/v1/openapi.json", "/api/v1/openapi.json", 200),
    ]
    for path, url, status in requests:
        response = await client.get(url)
        assert response.status == status, url
        validator = OAS31Validator(
            _documented_schema(document, path, status), format_checker=oas31_format_checker
        )
        errors = [e.message for e in validator.iter_errors(await response.json())]
        assert errors == [], (url, errors)
