"""otel-collector.yaml is a coherent OpenTelemetry Collector (contrib) configuration.

No collector binary runs here, so this checks what the collector itself checks at start-up
(every component referenced by a pipeline is defined, extensions used are enabled, each
component fits its pipeline's signal), plus what failcat relies on: the failcat exporter aims
at the receiver's OTLP/gRPC port with a persistent, never-giving-up queue, the filter keeps
exactly failures and the GenAI operation spans the receiver counts (the denominators of failure
rates), and every trace also goes to the trace backend.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from collector_receiver.otlp._genai import OPERATION_NAMES
from collector_receiver.settings import DEFAULT_GRPC_PORT
from tests.ops._paths import COLLECTOR_CONFIG

# Components whose config decides which signals they can serve.
_SIGNAL_SECTIONS = {"traces": ("traces", "trace_statements"), "logs": ("logs", "log_statements")}
_ENV = re.compile(r"\$\{env:(\w+)(?::-([^}]*))?\}")


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COLLECTOR_CONFIG.read_text("utf-8"))
    return document


def _kind(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def _signal(pipeline_id: str) -> str:
    return pipeline_id.split("/", 1)[0]


def _with_defaults(value: str) -> str:
    """A ``${env:NAME:-default}`` value with every variable unset."""
    return _ENV.sub(lambda m: m.group(2) or "", value)


def test_every_component_a_pipeline_names_is_defined(config: dict[str, Any]) -> None:
    pipelines = config["service"]["pipelines"]
    assert set(pipelines) == {"traces/failcat", "logs/failcat", "traces/backend"}
    for pipeline_id, pipeline in pipelines.items():
        assert pipeline["receivers"] and pipeline["exporters"], pipeline_id
        for section in ("receivers", "processors", "exporters"):
            for component_id in pipeline.get(section, []):
                assert component_id in config[section], f"{pipeline_id}: {component_id}"


def test_every_defined_component_is_used(config: dict[str, Any]) -> None:
    pipelines = config["service"]["pipelines"].values()
    for section in ("receivers", "processors", "exporters"):
        used = {c for p in pipelines for c in p.get(section, [])}
        assert set(config[section]) == used, section


def test_extensions_used_are_enabled_and_defined(config: dict[str, Any]) -> None:
    enabled = config["service"]["extensions"]
    assert set(enabled) == set(config["extensions"])
    storage = config["exporters"]["otlp/failcat"]["sending_queue"]["storage"]
    assert _kind(storage) == "file_storage" and storage in enabled
    assert config["extensions"][storage]["directory"]


def test_components_fit_their_pipelines_signal(config: dict[str, Any]) -> None:
    for pipeline_id, pipeline in config["service"]["pipelines"].items():
        signal = _signal(pipeline_id)
        assert signal in _SIGNAL_SECTIONS, pipeline_id
        for component_id in pipeline.get("processors", []):
            component = config["processors"][component_id] or {}
            kind = _kind(component_id)
            if kind in {"filter", "transform"}:
                sections = [s for s in _SIGNAL_SECTIONS[signal] if s in component]
                assert sections, f"{component_id} has nothing for {signal} in {pipeline_id}"
        if signal != "traces":
            assert "otlp/traces" not in pipeline["exporters"]


def test_memory_limiter_first_and_batch_last(config: dict[str, Any]) -> None:
    for pipeline_id, pipeline in config["service"]["pipelines"].items():
        processors = pipeline["processors"]
        assert processors[0] == "memory_limiter", pipeline_id
        assert processors[-1] == "batch", pipeline_id


def test_otlp_receiver_listens_on_4317_and_4318_from_env(config: dict[str, Any]) -> None:
    protocols = config["receivers"]["otlp"]["protocols"]
    grpc, http = protocols["grpc"]["endpoint"], protocols["http"]["endpoint"]
    assert _ENV.fullmatch(grpc) and _ENV.fullmatch(http)
    assert _with_defaults(grpc).endswith(":4317")
    assert _with_defaults(http).endswith(":4318")


def test_failcat_exporter_aims_at_the_receiver_and_never_drops(config: dict[str, Any]) -> None:
    exporter = config["exporters"]["otlp/failcat"]
    endpoint = exporter["endpoint"]
    match = _ENV.fullmatch(endpoint)
    assert match and match.group(1) == "FAILCAT_RECEIVER_ENDPOINT"
    # The receiver's own default OTLP/gRPC port (what `failcat serve` listens on unless told).
    assert _with_defaults(endpoint) == f"localhost:{DEFAULT_GRPC_PORT}"
    assert exporter["tls"]["insecure"] is True
    retry = exporter["retry_on_failure"]
    assert retry["enabled"] is True
    assert retry["max_elapsed_time"] in (0, "0", "0s")
    queue = exporter["sending_queue"]
    assert queue["enabled"] is True and queue["storage"] == "file_storage"
    pipelines = config["service"]["pipelines"]
    assert pipelines["traces/failcat"]["exporters"] == ["otlp/failcat"]
    assert pipelines["logs/failcat"]["exporters"] == ["otlp/failcat"]


def test_trace_backend_gets_every_trace_unfiltered(config: dict[str, Any]) -> None:
    exporter = config["exporters"]["otlp/traces"]
    match = _ENV.fullmatch(exporter["endpoint"])
    assert match and match.group(1) == "TRACE_BACKEND_ENDPOINT"
    assert _with_defaults(exporter["endpoint"]) == "localhost:4327"
    backend = config["service"]["pipelines"]["traces/backend"]
    assert backend["exporters"] == ["otlp/traces"]
    assert not any(_kind(p) in {"filter", "transform"} for p in backend["processors"])


def test_filter_keeps_exactly_failures(config: dict[str, Any]) -> None:
    failcat_filter = config["processors"]["filter/failures"]
    assert failcat_filter["error_mode"] == "ignore"
    (span_condition,) = failcat_filter["traces"]["span"]
    # A span is dropped only when all three hold: no ERROR, no exception event, no GenAI call.
    ok, no_exception, not_genai = span_condition.split(" and ", 2)
    assert ok == "status.code != STATUS_CODE_ERROR"
    assert no_exception == 'attributes["failcat.has_exception"] == nil'
    assert not_genai.startswith('(attributes["gen_ai.operation.name"] == nil or not IsMatch(name, ')
    (log_condition,) = failcat_filter["logs"]["log_record"]
    assert 'attributes["exception.type"] == nil' in log_condition
    assert 'attributes["exception.message"] == nil' in log_condition
    assert " and " in log_condition  # a record with either attribute is kept

    (mark,) = config["processors"]["transform/mark_failures"]["trace_statements"]
    assert mark["context"] == "spanevent"
    (statement,) = mark["statements"]
    assert statement.startswith('set(span.attributes["failcat.has_exception"], true) where ')
    assert 'name == "exception"' in statement and r"\\.exception$" in statement
    (unmark,) = config["processors"]["transform/unmark"]["trace_statements"]
    assert unmark["statements"] == ['delete_key(attributes, "failcat.has_exception")']

    order = config["service"]["pipelines"]["traces/failcat"]["processors"]
    assert order.index("transform/mark_failures") < order.index("filter/failures")
    assert order.index("filter/failures") < order.index("transform/unmark")


def test_every_env_reference_has_a_default(config: dict[str, Any]) -> None:
    text = COLLECTOR_CONFIG.read_text("utf-8")
    references = [
        m
        for line in text.splitlines()
        if not line.lstrip().startswith("#")
        for m in _ENV.finditer(line)
    ]
    assert references
    for match in references:
        assert match.group(2), f"${{env:{match.group(1)}}} has no default"


def _genai_name_pattern(config: dict[str, Any]) -> re.Pattern[str]:
    """The span-name regex of the filter's GenAI clause, compiled as Python reads it.

    The Collector's OTTL ``IsMatch`` takes Go RE2 syntax; this pattern uses only what RE2 and
    Python's ``re`` read alike (anchors, alternation, a group), so Python's verdict is the
    Collector's.
    """
    (span_condition,) = config["processors"]["filter/failures"]["traces"]["span"]
    match = re.search(r'IsMatch\(name, "([^"]+)"\)', span_condition)
    assert match, span_condition
    return re.compile(match.group(1))


@pytest.mark.parametrize(
    ("span_name", "is_operation"),
    [
        ("chat gpt-4o", True),
        ("chat", True),
        ("execute_tool web_search", True),
        ("invoke_agent support-agent", True),
        ("embeddings text-embedding-3-small", True),
        ("invoke_workflow nightly", True),
        ("chatbot.reply", False),
        ("chat_gpt-4o", False),
        ("execute_tools web_search", False),
        ("GET", False),
        ("my chat gpt-4o", False),
    ],
)
def test_genai_clause_keeps_exactly_the_operation_spans_the_receiver_counts(
    config: dict[str, Any], span_name: str, is_operation: bool
) -> None:
    """The name rule of CONTRACT §5: an operation name alone or followed by a space."""
    assert bool(_genai_name_pattern(config).match(span_name)) is is_operation


def test_genai_clause_names_the_operations_the_receiver_counts(config: dict[str, Any]) -> None:
    """The Collector forwards exactly the operation names the receiver's walk counts."""
    pattern = _genai_name_pattern(config)
    names = re.fullmatch(r"\^\(([a-z_|]+)\)\( \|\$\)", pattern.pattern)
    assert names, pattern.pattern
    assert set(names.group(1).split("|")) == OPERATION_NAMES
