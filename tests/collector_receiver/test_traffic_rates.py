"""``run_traffic`` fails calls at per-tool and per-model rates, read back from a real OTLP sink.

The receiver divides failures by GenAI operations; these tests do the same division on what
arrived at a real OTLP server (the SDK's own exporters sent it): the operations follow the GenAI
span conventions, most runs succeed, research-agent's ``fetch_page`` is clearly the worst tool,
and the models fail at rates that differ (Anthropic's overloaded model the most).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from collector_receiver.traffic import TrafficResult, TrafficSpec, run_traffic
from tests.support.otlp_sink import SinkSpan, running_sink

_OPERATIONS = ("invoke_agent", "chat", "execute_tool")


@dataclass(frozen=True)
class Sent:
    result: TrafficResult
    spans: list[SinkSpan]

    def by_id(self) -> dict[str, SinkSpan]:
        return {span.span_id: span for span in self.spans}

    def failed_spans(self) -> list[SinkSpan]:
        """The span of each failure sent (exception event or ERROR with error.type)."""
        by_id = self.by_id()
        return [by_id[failure.span_id] for failure in self.result.failures]


@pytest.fixture(scope="module")
def sent() -> Iterator[Sent]:
    for sink in running_sink():
        result = run_traffic(
            TrafficSpec(endpoint=sink.grpc_endpoint, count=240, services=6, seed=13)
        )
        yield Sent(result, sink.spans())


def _tool_of(span: SinkSpan, by_id: dict[str, SinkSpan]) -> str | None:
    """The tool a failure belongs to: its span's or the nearest ancestor's gen_ai.tool.name."""
    current: SinkSpan | None = span
    while current is not None:
        if "gen_ai.tool.name" in current.attributes:
            return str(current.attributes["gen_ai.tool.name"])
        current = by_id.get(current.parent_span_id)
    return None


def _rates(failures: Counter[str], calls: Counter[str]) -> dict[str, float]:
    return {name: failures[name] / count for name, count in calls.items()}


def test_operations_follow_the_genai_span_conventions(sent: Sent) -> None:
    operations = [s for s in sent.spans if "gen_ai.operation.name" in s.attributes]
    assert len(operations) == sent.result.operations
    for span in operations:
        operation = span.attributes["gen_ai.operation.name"]
        assert operation in _OPERATIONS
        assert span.name.split(" ", 1)[0] == operation and " " in span.name
        if operation == "chat":
            assert span.attributes["gen_ai.provider.name"]
            assert span.name == f"chat {span.attributes['gen_ai.request.model']}"
        elif operation == "execute_tool":
            assert span.name == f"execute_tool {span.attributes['gen_ai.tool.name']}"
        else:
            assert span.name == f"invoke_agent {span.attributes['gen_ai.agent.name']}"
    assert {s.attributes["gen_ai.operation.name"] for s in operations} == set(_OPERATIONS)


def test_most_runs_succeed(sent: Sent) -> None:
    """Several healthy runs per failed one: rates, not a wall of failures."""
    assert sent.result.runs > 2.5 * len(sent.result.failures)
    assert sent.result.operations > 10 * len(sent.result.failures)


def test_one_tool_fails_clearly_more_often_than_the_others(sent: Sent) -> None:
    by_id = sent.by_id()
    calls = Counter(
        str(s.attributes["gen_ai.tool.name"])
        for s in sent.spans
        if s.attributes.get("gen_ai.operation.name") == "execute_tool"
    )
    failures = Counter(
        tool for span in sent.failed_spans() if (tool := _tool_of(span, by_id)) is not None
    )
    assert set(failures) <= set(calls)
    rates = _rates(failures, calls)
    worst = max(rates, key=rates.__getitem__)
    assert worst == "fetch_page", rates
    others = [rate for tool, rate in rates.items() if tool != worst]
    assert rates[worst] > 0.2 and rates[worst] > 2.5 * max(others), rates
    assert all(rate < 0.15 for rate in others), rates
    assert sum(1 for rate in others if rate > 0) >= 6, rates  # the others fail now and then


def test_models_fail_at_rates_that_differ(sent: Sent) -> None:
    chats = [s for s in sent.spans if s.attributes.get("gen_ai.operation.name") == "chat"]
    calls = Counter(str(s.attributes["gen_ai.request.model"]) for s in chats)
    failures = Counter(
        str(span.attributes["gen_ai.request.model"])
        for span in sent.failed_spans()
        if span.attributes.get("gen_ai.operation.name") == "chat"
    )
    rates = _rates(failures, calls)
    assert set(rates) == {"gpt-4o", "claude-sonnet-4-5", "gpt-4.1", "gemini-2.5-flash",
                          "gpt-4o-mini"}  # fmt: skip
    assert max(rates, key=rates.__getitem__) == "claude-sonnet-4-5", rates
    assert min(rates, key=rates.__getitem__) == "gpt-4o-mini", rates
    assert all(0 < rate < 0.2 for rate in rates.values()), rates
