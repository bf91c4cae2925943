"""The names other modules and areas import from the receiver's service modules stay put,
and each of them exists (a typo in ``__all__`` would only show at ``import *``)."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "collector_receiver.server.ops_http": {
        "ReadinessCheck",
        "build_api_app",
    },
    "collector_receiver.server.ingest": {
        "Admission",
        "ExportOutcome",
        "OtlpIngest",
        "RetryLater",
    },
    "collector_receiver.server.metrics": {
        "EXPOSITION_CONTENT_TYPE",
        "LabelValueCap",
        "OTHER_LABEL_VALUE",
        "PersistErrorReason",
        "ReceiverMetrics",
        "SIGNALS",
    },
    "collector_receiver.server.otlp_grpc": {
        "CONCURRENT_READS",
        "YIELD_AFTER_SECONDS",
        "build_grpc_server",
    },
    "collector_receiver.server.otlp_http": {
        "build_otlp_http_app",
    },
    "collector_receiver.prepare": {
        "FailurePreparer",
        "MAX_NAME_LENGTH",
        "occurred_at",
    },
    "collector_receiver.attribute_limits": {
        "AttributeLimits",
        "DEFAULT_MAX_ATTRIBUTES",
        "DEFAULT_MAX_ATTRIBUTES_BYTES",
        "DEFAULT_MAX_ATTRIBUTE_KEY_LENGTH",
        "DEFAULT_MAX_ATTRIBUTE_LIST_LENGTH",
        "DROPPED_ATTRIBUTES",
        "MAX_DEPTH",
        "MIN_ATTRIBUTES_BYTES",
        "TOO_DEEP",
        "store_attributes",
    },
    "collector_receiver.events": {
        "FailureEvent",
        "FailureSource",
        "GenAIContext",
        "GroupLeaf",
        "MAX_CAUSE_LEAVES",
        "MAX_GROUP_LEAVES",
        "MatchedFailure",
        "NO_GENAI_CONTEXT",
        "OperationCounts",
        "OperationKey",
        "UNCATALOGED",
    },
    "collector_receiver.settings": {
        "DEFAULT_API_PORT",
        "DEFAULT_DATABASE_URL",
        "DEFAULT_GRPC_PORT",
        "DEFAULT_HOST",
        "DEFAULT_HTTP_PORT",
        "DEFAULT_IDLE_TIMEOUT",
        "DEFAULT_MAX_INFLIGHT_BYTES",
        "DEFAULT_MAX_LABEL_VALUES",
        "DEFAULT_MAX_REQUEST_BYTES",
        "DEFAULT_READ_TIMEOUT",
        "DEFAULT_RETENTION_INTERVAL",
        "DEFAULT_WORKERS",
        "DEFAULT_WRITE_BATCH_SIZE",
        "DEFAULT_WRITE_QUEUE_SIZE",
        "MAX_WORKERS",
        "ReceiverSettings",
        "SettingsError",
    },
    "collector_receiver.environment_variables": {
        "DEFAULT_DATABASE_URL",
        "FAILCAT_API_PORT",
        "FAILCAT_AUTH_TOKEN",
        "FAILCAT_CATALOG",
        "FAILCAT_DATABASE_URL",
        "FAILCAT_GRPC_PORT",
        "FAILCAT_HOST",
        "FAILCAT_HTTP_PORT",
        "FAILCAT_IDLE_TIMEOUT",
        "FAILCAT_MAX_ATTRIBUTES",
        "FAILCAT_MAX_ATTRIBUTES_BYTES",
        "FAILCAT_MAX_ATTRIBUTE_KEY_LENGTH",
        "FAILCAT_MAX_ATTRIBUTE_LIST_LENGTH",
        "FAILCAT_MAX_INFLIGHT_BYTES",
        "FAILCAT_MAX_LABEL_VALUES",
        "FAILCAT_MAX_REQUEST_BYTES",
        "FAILCAT_METRICS_AUTH",
        "FAILCAT_NO_MIGRATE",
        "FAILCAT_READ_TIMEOUT",
        "FAILCAT_RETENTION",
        "FAILCAT_RETENTION_INTERVAL",
        "FAILCAT_TLS_CERT",
        "FAILCAT_TLS_CLIENT_CA",
        "FAILCAT_TLS_KEY",
        "FAILCAT_TRACE_URL_TEMPLATE",
        "FAILCAT_WORKERS",
        "FAILCAT_WRITE_BATCH_SIZE",
        "FAILCAT_WRITE_QUEUE_SIZE",
    },
    "collector_receiver.server.workers": {
        "SummedMetrics",
        "WorkerPool",
        "serve_workers",
        "summed_exposition",
    },
    "collector_receiver.store.retention": {
        "BATCH_SIZE",
        "PruneProgress",
        "PruneResult",
        "PruneStage",
        "Transaction",
        "WAITING",
        "count",
        "one_at_a_time",
        "prune",
    },
    "collector_receiver._one_line": {"one_line"},
    "collector_receiver.storable": {
        "finite_or_text",
        "storable_json",
        "storable_text",
        "without_nul",
    },
    "collector_receiver.demo": {
        "DemoError",
        "DemoSpec",
        "Ports",
        "READY_TIMEOUT_SECONDS",
        "SETTLE_TIMEOUT_SECONDS",
        "STOP_TIMEOUT_SECONDS",
        "StoredSummary",
        "choose_ports",
        "display_url",
        "free_ports",
        "read_window",
        "run_demo",
    },
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_public_names_are_pinned_and_exist(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) == PUBLIC[module_name]
    assert len(module.__all__) == len(set(module.__all__))
    for name in module.__all__:
        assert hasattr(module, name), name
