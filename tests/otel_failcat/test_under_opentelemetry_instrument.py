"""End to end, as a user runs it: agent scripts under ``opentelemetry-instrument`` with the real
OTLP exporters (gRPC and HTTP/protobuf) sending to a real OTLP server in the test process."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.otel_failcat._helpers import needs_log_event_names
from tests.otel_failcat._instrumented_run import EXIT_WITHOUT_ATEXIT, run_instrumented
from tests.support.otlp_sink import OtlpSink

FAKE_KEY = "sk-proj-" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2H1g0"
SERVICE = "agent-under-test"

# A thread dies, an asyncio task fails unobserved, then the main thread crashes.
AGENT = EXIT_WITHOUT_ATEXIT + textwrap.dedent(
    f"""
    import asyncio, gc, threading

    def worker():
        raise ConnectionError("tool worker lost its connection")

    thread = threading.Thread(target=worker, name="tool-worker")
    thread.start()
    thread.join()

    async def background():
        raise LookupError("background task failed")

    async def main():
        asyncio.get_running_loop().create_task(background())
        await asyncio.sleep(0.01)

    asyncio.run(main())
    gc.collect()
    raise RuntimeError("agent crashed calling the model with key {FAKE_KEY}")
    """
)


@pytest.fixture(scope="module")
def sink() -> Iterator[OtlpSink]:
    with OtlpSink() as running:
        yield running


def _run_agent(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The crashing agent, ended by ``os._exit`` after the hook chain, with lazy exporters."""
    return run_instrumented(
        tmp_path,
        AGENT,
        {
            "OTEL_SERVICE_NAME": SERVICE,
            # Batches would wait a minute and atexit never runs: what arrives was flushed by
            # otel_failcat's excepthook.
            "OTEL_BSP_SCHEDULE_DELAY": "60000",
            "OTEL_BLRP_SCHEDULE_DELAY": "60000",
            "OTEL_METRIC_EXPORT_INTERVAL": "60000",
            "AGENT_EXIT_WITHOUT_ATEXIT": "1",
            **env,
        },
    )


def _failure_counts(sink: OtlpSink, marker: str) -> dict[str, object]:
    points = sink.metric_points("failcat.agent.failures")
    return {
        str(p.attributes["failcat.mechanism"]): p.value
        for p in points
        if p.resource.get("run") == marker
    }


def _events_of(sink: OtlpSink, marker: str) -> dict[str, dict[str, object]]:
    """The exception events of one run (told apart by the resource attribute), by mechanism."""
    return {
        str(event.attributes["failcat.mechanism"]): event.attributes
        for span in sink.spans()
        if span.resource.get("run") == marker
        for event in span.events
        if event.name == "exception" and "failcat.mechanism" in event.attributes
    }


def test_grpc_every_failure_arrives_before_the_process_dies(sink: OtlpSink, tmp_path: Path) -> None:
    result = _run_agent(
        tmp_path,
        {**sink.exporter_env("grpc"), "OTEL_RESOURCE_ATTRIBUTES": "run=grpc"},
    )
    assert result.returncode == 1, result.stderr
    assert "RuntimeError: agent crashed" in result.stderr  # the user still sees the traceback
    assert "ConnectionError: tool worker lost its connection" in result.stderr

    events = _events_of(sink, "grpc")  # already there: exported before exit
    assert set(events) == {"excepthook", "threading", "asyncio"}
    crash = events["excepthook"]
    assert crash["exception.type"] == "RuntimeError"
    assert crash["failcat.handled"] is False
    assert len(str(crash["failcat.fingerprint"])) == 32
    assert events["threading"]["exception.type"] == "ConnectionError"
    assert events["threading"]["thread.name"] == "tool-worker"
    assert events["asyncio"]["exception.type"] == "LookupError"
    grpc_spans = [s for s in sink.spans() if s.resource.get("run") == "grpc"]
    assert {s.resource["service.name"] for s in grpc_spans} == {SERVICE}

    assert _failure_counts(sink, "grpc") == {"excepthook": 1, "threading": 1, "asyncio": 1}
    assert sink.request_counts()["grpc"] >= 2

    wire = sink.raw_bodies()
    assert FAKE_KEY.encode() not in wire
    assert b"[REDACTED:" in wire
    assert FAKE_KEY in result.stderr  # only the local traceback, never the wire


@needs_log_event_names
def test_http_every_failure_arrives_before_the_process_dies_as_events_and_log_records(
    sink: OtlpSink, tmp_path: Path
) -> None:
    result = _run_agent(
        tmp_path,
        {
            **sink.exporter_env("http/protobuf"),
            "OTEL_RESOURCE_ATTRIBUTES": "run=http",
            "OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs/dup",
        },
    )
    assert result.returncode == 1, result.stderr
    assert "RuntimeError: agent crashed" in result.stderr

    # Already there (os._exit, no atexit): the tracer, logger and meter providers were flushed.
    events = _events_of(sink, "http")
    assert set(events) == {"excepthook", "threading", "asyncio"}
    records = [r for r in sink.log_records() if r.resource.get("run") == "http"]
    by_mechanism = {r.attributes["failcat.mechanism"]: r for r in records}
    assert len(records) == 3 and set(by_mechanism) == {"excepthook", "threading", "asyncio"}
    assert _failure_counts(sink, "http") == {"excepthook": 1, "threading": 1, "asyncio": 1}
    crash = by_mechanism["excepthook"]
    assert crash.event_name == "exception"
    assert crash.severity_text == "ERROR"
    assert crash.body == crash.attributes["exception.message"]
    assert crash.attributes == events["excepthook"]  # the same attributes as the event
    spans_by_mechanism = {
        str(e.attributes.get("failcat.mechanism")): s
        for s in sink.spans()
        if s.resource.get("run") == "http"
        for e in s.events
    }
    for mechanism, record in by_mechanism.items():  # each record carries its span's context
        span = spans_by_mechanism[mechanism]
        assert (record.trace_id, record.span_id) == (span.trace_id, span.span_id)
    wire = sink.raw_bodies()
    assert FAKE_KEY.encode() not in wire
    assert b"[REDACTED:" in wire


def test_disabled_by_name_through_the_standard_variable(sink: OtlpSink, tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from opentelemetry import trace
        print("hooked:", sys.excepthook is not sys.__excepthook__)
        with trace.get_tracer("agent").start_as_current_span("plain-span"):
            pass
        raise RuntimeError("nobody records this")
        """
    )
    env = {
        **sink.exporter_env("http/protobuf"),
        "OTEL_RESOURCE_ATTRIBUTES": "run=disabled",
        "OTEL_SERVICE_NAME": SERVICE,
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "failcat",
    }
    result = run_instrumented(tmp_path, script, env)
    assert result.returncode == 1
    assert "hooked: False" in result.stdout
    # The exporters work (the plain span arrives at shutdown) but failcat sent nothing.
    assert sink.wait_for(
        lambda s: any(
            sp.name == "plain-span" and sp.resource.get("run") == "disabled" for sp in s.spans()
        ),
        timeout=10,
    )
    mine = [s for s in sink.spans() if s.resource.get("run") == "disabled"]
    assert [s.name for s in mine] == ["plain-span"]
    assert all(not s.events for s in mine)
    assert not [
        p
        for p in sink.metric_points("failcat.agent.failures")
        if p.resource.get("run") == "disabled"
    ]
