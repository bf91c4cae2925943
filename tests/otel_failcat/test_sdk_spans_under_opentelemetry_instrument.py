"""End to end: an agent that uses plain OpenTelemetry spans (``start_as_current_span`` with its
defaults), run under ``opentelemetry-instrument`` with the real OTLP/gRPC exporter. Each
exception arrives as one failcat event on the innermost span, redacted, and nothing else about
it arrives as an ``exception`` event."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.otel_failcat._instrumented_run import EXIT_WITHOUT_ATEXIT, run_instrumented
from tests.support.otlp_sink import OtlpSink, SinkSpan

FAKE_KEY = "sk-proj-" + "M1n2B3v4C5x6Z7l8K9j0H1g2F3d4S5a6P7o8I9u0"

# A tool error handled and recorded by the code, then a crash through three nested spans. The
# process ends with os._exit right after the hook chain: no atexit, so no SDK shutdown flush;
# only otel_failcat's flush in sys.excepthook can deliver the spans.
AGENT = EXIT_WITHOUT_ATEXIT + textwrap.dedent(
    f"""
    from opentelemetry import trace

    tracer = trace.get_tracer("agent")

    with tracer.start_as_current_span("tool-call") as span:
        try:
            raise ConnectionError("upstream refused Authorization: Bearer {FAKE_KEY}")
        except ConnectionError as exc:
            span.record_exception(exc, {{"gen_ai.tool.name": "web_search"}})

    with tracer.start_as_current_span("agent.run"):
        with tracer.start_as_current_span("agent.step"):
            with tracer.start_as_current_span("model.call"):
                raise RuntimeError("model call failed with key {FAKE_KEY}")
    """
)


@pytest.fixture(scope="module")
def sink() -> Iterator[OtlpSink]:
    with OtlpSink() as running:
        yield running


def test_each_exception_is_one_redacted_event_on_its_innermost_span(
    sink: OtlpSink, tmp_path: Path
) -> None:
    env = {
        **sink.exporter_env("grpc"),
        "OTEL_SERVICE_NAME": "sdk-spans-agent",
        "OTEL_RESOURCE_ATTRIBUTES": "run=sdk-spans",
        # Batches would wait a minute: what arrives was flushed by the crash.
        "OTEL_BSP_SCHEDULE_DELAY": "60000",
        "OTEL_METRIC_EXPORT_INTERVAL": "60000",
        "AGENT_EXIT_WITHOUT_ATEXIT": "1",
    }
    result = run_instrumented(tmp_path, AGENT, env)
    assert result.returncode == 1, result.stderr
    assert "RuntimeError: model call failed" in result.stderr
    assert FAKE_KEY in result.stderr  # only the local traceback, never an event

    spans: dict[str, SinkSpan] = {
        span.name: span for span in sink.spans() if span.resource.get("run") == "sdk-spans"
    }
    assert set(spans) == {"tool-call", "agent.run", "agent.step", "model.call"}
    events = [(span.name, event) for span in spans.values() for event in span.events]
    # Exactly two events in all, one per exception: no per-span copies, no excepthook span.
    assert sorted((name, event.name) for name, event in events) == [
        ("model.call", "exception"),
        ("tool-call", "exception"),
    ]
    by_span = {name: event.attributes for name, event in events}

    crash = by_span["model.call"]
    assert crash["exception.type"] == "RuntimeError"
    assert crash["failcat.mechanism"] == "track"
    assert crash["failcat.handled"] is False
    assert len(str(crash["failcat.fingerprint"])) == 32
    assert "[REDACTED:" in str(crash["exception.message"])
    for name in ("model.call", "agent.step", "agent.run"):
        assert spans[name].status_code == 2  # ERROR, set by the SDK as always
    assert not spans["agent.step"].events and not spans["agent.run"].events

    handled = by_span["tool-call"]
    assert handled["exception.type"] == "ConnectionError"
    assert handled["failcat.mechanism"] == "explicit"
    assert handled["failcat.handled"] is True
    assert handled["gen_ai.tool.name"] == "web_search"

    for _, event in events:
        assert FAKE_KEY not in str(event.attributes)
    # The SDK's ERROR status descriptions ("RuntimeError: <message>") are redacted too: the key
    # is nowhere in what went over the wire.
    for name in ("model.call", "agent.step", "agent.run"):
        assert spans[name].status_message.startswith("RuntimeError: model call failed with key ")
        assert "[REDACTED:" in spans[name].status_message
    assert FAKE_KEY.encode() not in sink.raw_bodies()

    points = [
        p
        for p in sink.metric_points("failcat.agent.failures")
        if p.resource.get("run") == "sdk-spans"
    ]
    counted = {
        (p.attributes["failcat.mechanism"], p.attributes["failcat.handled"]): p.value
        for p in points
    }
    assert counted == {("track", False): 1, ("explicit", True): 1}
