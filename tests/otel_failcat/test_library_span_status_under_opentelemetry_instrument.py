"""End to end: a library that marks its own span failed by hand, no span of the application's
own open, and the exception escaping to ``sys.excepthook``; run under
``opentelemetry-instrument`` with the real OTLP/gRPC exporter.

The library code is shaped like the Anthropic SDK's and mcp 2.x's: a span started with
``record_exception=False, set_status_on_exception=False``, ``set_status(ERROR)`` and
``error.type`` in its ``except`` block, the exception re-raised. Before the ``set_status`` hook
recorded the exception in flight, the span arrived status-only and the excepthook's event on a
``failcat.unhandled_exception`` span of another trace: two failures at the receiver.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.otel_failcat._instrumented_run import run_instrumented
from tests.support.otlp_sink import OtlpSink, SinkSpan

AGENT = textwrap.dedent(
    """
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    tracer = trace.get_tracer("library")

    class OverloadedError(Exception):
        pass

    def create_message(attempts):
        # One span per attempt; a failed attempt is marked by hand and retried, the last
        # failure re-raised, as SDK clients with their own spans do.
        for attempt in range(attempts):
            with tracer.start_as_current_span(
                "messages.create", record_exception=False, set_status_on_exception=False,
                attributes={"attempt": attempt},
            ) as span:
                try:
                    raise OverloadedError(f"529 Overloaded (attempt {attempt})")
                except OverloadedError:
                    span.set_attribute("error.type", "overloaded_error")
                    span.set_status(Status(StatusCode.ERROR))
                    if attempt == attempts - 1:
                        raise

    create_message(attempts=2)
    """
)


@pytest.fixture(scope="module")
def sink() -> Iterator[OtlpSink]:
    with OtlpSink() as running:
        yield running


def test_one_event_per_exception_each_on_its_library_span(sink: OtlpSink, tmp_path: Path) -> None:
    env = {
        **sink.exporter_env("grpc"),
        "OTEL_SERVICE_NAME": "library-spans-agent",
        "OTEL_RESOURCE_ATTRIBUTES": "run=library-spans",
        "OTEL_BSP_SCHEDULE_DELAY": "60000",  # what arrives was flushed by the excepthook
        "OTEL_METRIC_EXPORT_INTERVAL": "60000",
    }
    result = run_instrumented(tmp_path, AGENT, env)
    assert result.returncode == 1, result.stderr
    assert "OverloadedError: 529 Overloaded (attempt 1)" in result.stderr  # the hook chain ran

    spans: list[SinkSpan] = [
        span for span in sink.spans() if span.resource.get("run") == "library-spans"
    ]
    # No failcat.unhandled_exception span: the excepthook found the exception recorded.
    assert sorted(span.name for span in spans) == ["messages.create", "messages.create"]
    by_attempt = {span.attributes["attempt"]: span for span in spans}
    for attempt, span in by_attempt.items():
        assert span.status_code == 2
        assert span.attributes["error.type"] == "overloaded_error"
        (event,) = span.events
        assert event.name == "exception"
        assert event.attributes["exception.type"] == "__main__.OverloadedError"
        assert event.attributes["exception.message"] == f"529 Overloaded (attempt {attempt})"
        assert event.attributes["failcat.mechanism"] == "track"
        assert event.attributes["failcat.handled"] is False
    # Each event is in its own span's trace, the trace the library's span belongs to.
    assert len({span.trace_id for span in spans}) == 2

    points = [
        p
        for p in sink.metric_points("failcat.agent.failures")
        if p.resource.get("run") == "library-spans"
    ]
    # Cumulative points, exported at the excepthook's flush and again at shutdown: the last
    # value of each attribute set is the count.
    counted = {
        (p.attributes["failcat.mechanism"], p.attributes["failcat.handled"]): p.value
        for p in points
    }
    assert counted == {("track", False): 2}
