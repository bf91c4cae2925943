"""``/api/v1/openapi.json`` describes every route the API registers, and nothing it does not."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from collector_receiver.server.query_api import ApiSettings, add_api_routes, openapi_document
from collector_receiver.store.queries import FailureQueries


def _app() -> web.Application:
    app = web.Application()
    # Route registration needs no connection; the engine is never used here.
    add_api_routes(app, FailureQueries.from_url("sqlite://"), ApiSettings())
    return app


def _registered() -> set[tuple[str, str]]:
    routes = set()
    for route in _app().router.routes():
        if route.method == "HEAD":
            continue
        path = route.resource.canonical if route.resource is not None else ""
        routes.add((route.method.lower(), path))
    return routes


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                found.add(value)
            else:
                found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    document = openapi_document()
    documented = {
        (method, path) for path, operations in document["paths"].items() for method in operations
    }
    assert documented == _registered()
    assert {path for _, path in documented} == {
        "/api/v1/failures",
        "/api/v1/failures/{id}",
        "/api/v1/traces/{trace_id}/failures",
        "/api/v1/patterns",
        "/api/v1/catalog",
        "/api/v1/rates",
        "/api/v1/openapi.json",
    }


def test_document_is_openapi_31_with_resolvable_refs_and_declared_path_parameters() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] and document["info"]["version"]
    for ref in _refs(document):
        assert ref.startswith("#/"), ref
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part]
    operation_ids = []
    for path, operations in document["paths"].items():
        for operation in operations.values():
            operation_ids.append(operation["operationId"])
            assert "200" in operation["responses"]
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), path
    assert len(operation_ids) == len(set(operation_ids))


def test_failures_parameters_are_the_contract_filters() -> None:
    operation = openapi_document()["paths"]["/api/v1/failures"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "service",
        "code",
        "category",
        "trace_id",
        "provider",
        "model",
        "tool",
        "agent",
        "since",
        "until",
        "limit",
        "cursor",
    }


def test_rates_parameters_are_the_contract_ones() -> None:
    operation = openapi_document()["paths"]["/api/v1/rates"]["get"]
    by = next(p for p in operation["parameters"] if p["name"] == "by")
    assert {p["name"] for p in operation["parameters"]} == {"by", "service", "since", "until"}
    assert by["required"] is True
    assert by["schema"]["enum"] == ["tool", "model", "provider", "agent", "operation"]


async def test_document_is_served_as_json() -> None:
    async with TestClient(TestServer(_app())) as client:
        response = await client.get("/api/v1/openapi.json")
        assert response.status == 200
        assert response.content_type == "application/json"
        assert json.loads(await response.text()) == openapi_document()


def test_document_passes_an_openapi_31_validator() -> None:
    from openapi_spec_validator import OpenAPIV31SpecValidator

    errors = [error.message for error in OpenAPIV31SpecValidator(openapi_document()).iter_errors()]
    assert errors == []
