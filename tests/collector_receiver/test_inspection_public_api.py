"""The names the inspection modules promise (``__all__``) stay put, and each of them exists."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "collector_receiver.store.queries": {
        "DEFAULT_LIMIT",
        "MAX_LIMIT",
        "EngineReader",
        "FailureQueries",
        "Page",
        "StoredFailure",
        "StoredPattern",
    },
    "collector_receiver.store.errors": {
        "DATABASE_ERRORS",
        "SchemaMissing",
        "StoreConfigError",
        "StoreError",
        "StoreUnavailable",
        "driver_message",
        "is_transient",
        "translate",
        "translate_errors",
    },
    "collector_receiver.store._cursor": {"decode_cursor", "encode_cursor"},
    "collector_receiver.presentation": {
        "failure_json",
        "list_json",
        "pattern_json",
        "rate_json",
        "rate_percent",
        "rates_json",
        "render_trace_url",
    },
    "collector_receiver.store.rates": {
        "RATE_DIMENSIONS",
        "RateDimension",
        "RateRow",
        "check_dimension",
        "rate_rows",
        "rates_statement",
    },
    "collector_receiver.store.aggregates": {
        "MAX_NEW_PATTERNS",
        "AggregateQueries",
        "AggregateRecord",
        "CodeCount",
        "NewPatternRow",
        "ServiceCount",
        "UncatalogedPattern",
        "WindowCounts",
        "failure_aggregates",
    },
    "collector_receiver.aggregate": {
        "DEFAULT_DRIFT_THRESHOLD",
        "DEFAULT_MIN_FAILURES",
        "DRIFT_METHOD",
        "AggregateSpec",
        "compute_aggregate",
        "jensen_shannon_divergence",
        "summarize",
        "to_record",
    },
    "collector_receiver.server.query_api": {
        "API_PREFIX",
        "ApiSettings",
        "BadParameter",
        "GENAI_FILTERS",
        "QueryParams",
        "add_api_routes",
        "catalog_body",
        "openapi_document",
        "query_window",
    },
    "collector_receiver.timeparse": {"format_time", "parse_duration", "parse_time", "utc_now"},
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_all_is_pinned_and_every_name_exists(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) == PUBLIC[module_name]
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name}"
