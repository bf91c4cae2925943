"""What ``run_traffic`` puts on the wire, read back from a real OTLP test server.

The span trees follow the GenAI conventions, each service has its own resource, every exception
event comes from ``otel_failcat`` (no unredacted event of the SDK's own), the fake key is
redacted before it leaves the process, and the counts in the result are what arrived.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from collector_receiver.traffic import SERVICE_NAMES, TrafficSpec, run_traffic
from tests.support.otlp_sink import OtlpSink, SinkSpan, running_sink


@pytest.fixture
def sink() -> Iterator[OtlpSink]:
    yield from running_sink()


def _error_status_failures(spans: list[SinkSpan]) -> list[SinkSpan]:
    return [
        s
        for s in spans
        if s.status_code == 2
        and "error.type" in s.attributes
        and not any(e.name == "exception" for e in s.events)
    ]


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_span_trees_resources_and_counts(sink: OtlpSink, protocol: str) -> None:
    endpoint = sink.grpc_endpoint if protocol == "grpc" else sink.http_endpoint
    result = run_traffic(
        TrafficSpec(endpoint=endpoint, protocol=protocol, count=120, services=6, seed=42)  # type: ignore[arg-type]
    )
    spans = sink.spans()
    assert len(spans) == result.spans_sent > len(result.failures)
    assert result.runs > len(result.failures)  # some runs succeed

    # One resource per service, with name, version and environment.
    resources = {s.resource["service.name"]: s.resource for s in spans}
    assert set(resources) == set(SERVICE_NAMES)
    for resource in resources.values():
        assert resource["service.version"]
        assert resource["deployment.environment.name"] == "demo"

    # Every trace is one agent run rooted at invoke_agent, with chat and tool spans inside.
    by_id = {s.span_id: s for s in spans}
    roots = [s for s in spans if not s.parent_span_id]
    assert len(roots) == result.runs
    assert all(r.name.startswith("invoke_agent ") for r in roots)
    assert all(r.attributes["gen_ai.operation.name"] == "invoke_agent" for r in roots)
    chats = [s for s in spans if s.name.startswith("chat ")]
    assert chats and all(c.attributes["gen_ai.operation.name"] == "chat" for c in chats)
    assert all(c.attributes["gen_ai.request.model"] in c.name for c in chats)
    assert any("gen_ai.usage.input_tokens" in c.attributes for c in chats)
    tools = [s for s in spans if s.name.startswith("execute_tool ")]
    assert tools and all(by_id[t.parent_span_id].name.startswith("invoke_agent") for t in tools)
    gets = [s for s in spans if s.name == "GET"]
    assert gets and all(by_id[g.parent_span_id].name.startswith("execute_tool") for g in gets)

    # Failures: every one sent is on its span, once; nothing else looks like a failure.
    events = sink.span_events("exception")
    sites = Counter((e.trace_id, e.span_id) for e in events)
    sites.update((s.trace_id, s.span_id) for s in _error_status_failures(spans))
    assert sites == Counter((f.trace_id, f.span_id) for f in result.failures)
    assert all("failcat.fingerprint" in e.attributes for e in events)  # none from the SDK itself
    mechanisms = Counter(e.attributes["failcat.mechanism"] for e in events)
    assert set(mechanisms) == {"explicit", "track"}
    assert any(e.attributes["failcat.cause_types"] for e in events)

    # A status-only failure carries error.type and no exception at all.
    status_only = [f for f in result.failures if f.source == "span_status"]
    assert status_only and all(f.exception_type for f in status_only)


def test_the_fake_key_is_redacted_before_it_is_sent(sink: OtlpSink) -> None:
    # support-agent is the only service whose mix has the leaky-proxy failure; send enough.
    result = run_traffic(TrafficSpec(endpoint=sink.grpc_endpoint, count=150, services=1, seed=1))
    assert "openai_bad_key" in {f.scenario for f in result.failures}
    assert b"sk-proj-" not in sink.raw_bodies()
    messages = [e.attributes["exception.message"] for e in sink.span_events("exception")]
    assert any("[REDACTED:openai_key]" in m for m in messages)


def test_the_seed_fixes_the_mix(sink: OtlpSink) -> None:
    spec = TrafficSpec(endpoint=sink.grpc_endpoint, count=40, services=3, seed=99)
    first, second = run_traffic(spec), run_traffic(spec)
    other = run_traffic(TrafficSpec(endpoint=sink.grpc_endpoint, count=40, services=3, seed=98))

    def mix(result: object) -> list[tuple[str, str]]:
        return [(f.service_name, f.scenario) for f in result.failures]  # type: ignore[attr-defined]

    assert mix(first) == mix(second) and first.runs == second.runs
    assert mix(other) != mix(first)
    assert {f.trace_id for f in first.failures}.isdisjoint(f.trace_id for f in second.failures)


def test_uncataloged_share_bounds(sink: OtlpSink) -> None:
    none = run_traffic(
        TrafficSpec(endpoint=sink.grpc_endpoint, count=60, seed=3, uncataloged_share=0.0)
    )
    every = run_traffic(
        TrafficSpec(endpoint=sink.grpc_endpoint, count=60, seed=3, uncataloged_share=1.0)
    )
    assert none.uncataloged == 0
    assert every.uncataloged == 60
