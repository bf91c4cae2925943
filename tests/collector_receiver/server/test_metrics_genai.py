"""The GenAI counters (CONTRACT §6 r2): failures with GenAI context and operations counted.

Read back from the real Prometheus exposition with prometheus_client's own parser.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from prometheus_client.parser import text_string_to_metric_families

from collector_receiver.events import GenAIContext, OperationCounts, OperationKey
from collector_receiver.server.metrics import OTHER_LABEL_VALUE, ReceiverMetrics
from tests.collector_receiver.server._helpers import matched_failure

_HOUR = datetime(2026, 1, 2, 3, tzinfo=timezone.utc)
_CHAT = GenAIContext(provider="openai", model="gpt-4o", operation="chat", agent="support")


@pytest.fixture
def metrics() -> Iterator[ReceiverMetrics]:
    receiver_metrics = ReceiverMetrics()
    yield receiver_metrics
    receiver_metrics.shutdown()


def _samples(metrics: ReceiverMetrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """``name``'s samples, keyed by their sorted labels."""
    text = metrics.exposition().decode("utf-8")
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def _labels(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _operations(*counts: tuple[str, GenAIContext, int], key: str = "0" * 32) -> OperationCounts:
    return OperationCounts({OperationKey(_HOUR, svc, ctx): n for svc, ctx, n in counts}, key)


def test_failures_with_genai_context_are_counted_by_provider_model_and_tool(
    metrics: ReceiverMetrics,
) -> None:
    tool = GenAIContext(operation="execute_tool", tool="web_search", agent="support")
    metrics.record_committed(
        [
            replace(matched_failure("a1", code="OPENAI_RATE_LIMIT"), gen_ai=_CHAT),
            replace(matched_failure("a2", code="OPENAI_RATE_LIMIT"), gen_ai=_CHAT),
            replace(matched_failure("a3"), gen_ai=tool),
            # Only the agent is known: a GenAI failure, with provider, model and tool empty.
            replace(matched_failure("a4"), gen_ai=GenAIContext(agent="support")),
            matched_failure("a5"),  # no GenAI column: not a GenAI failure
        ],
        [],
    )
    assert _samples(metrics, "failcat_genai_failures_total") == {
        _labels(
            service_name="svc",
            category="rate_limit",
            gen_ai_provider="openai",
            gen_ai_model="gpt-4o",
            gen_ai_tool="",
        ): 2,
        _labels(
            service_name="svc",
            category="uncataloged",
            gen_ai_provider="",
            gen_ai_model="",
            gen_ai_tool="web_search",
        ): 1,
        _labels(
            service_name="svc",
            category="uncataloged",
            gen_ai_provider="",
            gen_ai_model="",
            gen_ai_tool="",
        ): 1,
    }
    # Every failure is still a failure.
    assert sum(_samples(metrics, "failcat_failures_total").values()) == 5


def test_operations_add_their_counts_by_operation_provider_model_and_tool(
    metrics: ReceiverMetrics,
) -> None:
    tool = GenAIContext(operation="execute_tool", tool="web_search", agent="support")
    other_agent = _CHAT._replace(agent="research")
    metrics.record_committed(
        [],
        [],
        [
            _operations(("svc", _CHAT, 3), ("svc", tool, 2)),
            # Another request: the agent is not a label, so its chat calls add to the same series;
            # another hour too.
            _operations(("svc", other_agent, 4), key="1" * 32),
            OperationCounts({OperationKey(_HOUR.replace(hour=4), "svc", _CHAT): 1}, "2" * 32),
            _operations(("other-svc", tool, 7), key="3" * 32),
        ],
    )
    assert _samples(metrics, "failcat_genai_operations_total") == {
        _labels(
            service_name="svc",
            gen_ai_operation="chat",
            gen_ai_provider="openai",
            gen_ai_model="gpt-4o",
            gen_ai_tool="",
        ): 8,
        _labels(
            service_name="svc",
            gen_ai_operation="execute_tool",
            gen_ai_provider="",
            gen_ai_model="",
            gen_ai_tool="web_search",
        ): 2,
        _labels(
            service_name="other-svc",
            gen_ai_operation="execute_tool",
            gen_ai_provider="",
            gen_ai_model="",
            gen_ai_tool="web_search",
        ): 7,
    }
    assert _samples(metrics, "failcat_genai_failures_total") == {}  # operations are no failures


def test_nothing_newly_counted_moves_nothing(metrics: ReceiverMetrics) -> None:
    """A transaction that inserted nothing and counted no new request leaves both at nothing."""
    metrics.record_committed([], [], [])
    metrics.record_committed([], [])
    assert _samples(metrics, "failcat_genai_operations_total") == {}
    assert _samples(metrics, "failcat_genai_failures_total") == {}


def _per(samples: dict[tuple[tuple[str, str], ...], float], label: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for labels, value in samples.items():
        key = dict(labels)[label]
        totals[key] = totals.get(key, 0.0) + value
    return totals


def test_each_genai_label_is_capped_on_its_own_and_the_rest_counts_under_other() -> None:
    metrics = ReceiverMetrics(max_label_values=3)
    try:
        tools = [f"tool-{index}" for index in range(6)]
        # Calls without a tool ("") do not use up the cap.
        no_tool = ("svc", GenAIContext(operation="chat", provider="openai", model="m-0"), 10)
        metrics.record_committed(
            [
                replace(
                    matched_failure(f"f{index}"),
                    gen_ai=GenAIContext(operation="execute_tool", tool=tool, model=f"m-{index}"),
                )
                for index, tool in enumerate(tools)
            ],
            [],
            [
                _operations(
                    no_tool,
                    *(("svc", GenAIContext(operation="execute_tool", tool=t), 2) for t in tools),
                )
            ],
        )
        operations = _samples(metrics, "failcat_genai_operations_total")
        assert _per(operations, "gen_ai_tool") == {
            "": 10,
            "tool-0": 2,
            "tool-1": 2,
            "tool-2": 2,
            OTHER_LABEL_VALUE: 6,
        }
        failures = _samples(metrics, "failcat_genai_failures_total")
        assert _per(failures, "gen_ai_tool") == {
            "tool-0": 1,
            "tool-1": 1,
            "tool-2": 1,
            OTHER_LABEL_VALUE: 3,
        }
        # The model label has a cap of its own: m-0 .. m-2 kept, the rest _other.
        assert _per(failures, "gen_ai_model") == {
            "m-0": 1,
            "m-1": 1,
            "m-2": 1,
            OTHER_LABEL_VALUE: 3,
        }
        # Each counter has its own cap: the operations' model label saw only m-0 (and "").
        assert _per(operations, "gen_ai_model") == {"m-0": 10, "": 12}
    finally:
        metrics.shutdown()
