"""``logs/dup`` and ``logs``: a failure is one row whatever signals carry it.

An agent run as a user runs it (``opentelemetry-instrument python agent.py`` with
``OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN=logs/dup``, the SDK's OTLP/HTTP exporters for traces and
logs) records each failure twice, on two signals that reach the receiver in two requests. Both
carry one ``failcat.recording_id`` and one time, so the receiver keys them alike and stores each
failure once, whichever arrives first (CONTRACT §4, one failure one row), on SQLite and
PostgreSQL (its partitioned table's key includes the time). In ``logs`` mode the span a failure
was recorded on carries a ``failcat.logged_exception`` event instead of the exception event, so
a library's span marked failed by hand, or one below it, is not a second row.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e._receiver import ReceiverProcess, running_receiver
from tests.e2e._support import (
    database,
    instrument_environment,
    metric_sum,
    scrape,
    stored_failures,
)

OPENTELEMETRY_INSTRUMENT = Path(sys.executable).with_name("opentelemetry-instrument")

# Four failures: one caught and logged inside a span, one recorded by hand, one escaping a span,
# one escaping a track block.
AGENT = textwrap.dedent(
    """
    import json, logging
    from opentelemetry import trace
    from otel_failcat import record_failure, track

    tracer = trace.get_tracer("dup-agent")
    traces = []
    with tracer.start_as_current_span("plan") as span:
        traces.append(format(span.get_span_context().trace_id, "032x"))
        try:
            {"model": "m"}["temperature"]
        except KeyError:
            logging.getLogger("agent").exception("planning failed")
    with tracer.start_as_current_span("tool") as span:
        traces.append(format(span.get_span_context().trace_id, "032x"))
        try:
            int("forty-two")
        except ValueError as error:
            record_failure(error)
    try:
        with tracer.start_as_current_span("answer") as span:
            traces.append(format(span.get_span_context().trace_id, "032x"))
            raise TimeoutError("the model did not answer in 30 s")
    except TimeoutError:
        pass
    # track marks its span ERROR with error.type: in logs mode that span has no event, and its
    # status must not become a second row beside the log record.
    try:
        with track("summarize") as span:
            traces.append(format(span.get_span_context().trace_id, "032x"))
            [][0]
    except IndexError:
        pass
    print(json.dumps(traces))
    """
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def receiver(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ReceiverProcess, str]]:
    directory = tmp_path_factory.mktemp("dup")
    with (
        database(request.param, directory) as url,
        running_receiver(url, directory / "receiver.log") as process,
    ):
        yield process, url


def _run_agent(
    receiver: ReceiverProcess, directory: Path, mode: str, source: str = AGENT
) -> list[str]:
    script = directory / "agent.py"
    script.write_text(source, "utf-8")
    environment = instrument_environment(
        receiver.http_endpoint,
        f"dup-agent-{mode.replace('/', '-')}-{directory.name}",
        OTEL_LOGS_EXPORTER="otlp",
        OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED="false",
    )
    if mode != "default":
        environment["OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN"] = mode
    completed = subprocess.run(
        [str(OPENTELEMETRY_INSTRUMENT), sys.executable, str(script)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    traces: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return traces


@pytest.mark.parametrize("mode", ["logs/dup", "logs", "default"])
def test_each_failure_is_one_row_whatever_signals_carry_it(
    receiver: tuple[ReceiverProcess, str], tmp_path: Path, mode: str
) -> None:
    process, url = receiver
    traces = _run_agent(process, tmp_path, mode)
    service = f"dup-agent-{mode.replace('/', '-')}-{tmp_path.name}"

    rows = [row for row in stored_failures(url) if row["service_name"] == service]

    assert sorted(row["trace_id"] for row in rows) == sorted(traces)  # one row per failure
    assert sorted(row["exception_type"] for row in rows) == [
        "IndexError",
        "KeyError",
        "TimeoutError",
        "ValueError",
    ]
    if mode == "logs/dup":
        # Both signals arrived: the receiver saw eight failures and stored four.
        assert {row["source"] for row in rows} <= {"span_event", "log_record"}
    counted = metric_sum(scrape(process.api_url), "failcat_failures_total", service_name=service)
    assert counted == 4


# The Anthropic SDK instruments itself: its span, a root here (no span of the agent's open), is
# marked ERROR with error.type by hand and records no event; the agent's set_status hook records
# the exception in flight on it. In logs mode that is a log record, and the span's status must
# not be a second row.
ANTHROPIC_AGENT = textwrap.dedent(
    """
    import json
    import anthropic, httpx2
    from opentelemetry import trace

    def refuse(request):
        body = {"type": "error", "error": {"type": "permission_error",
                "message": "Your API key does not have permission to use the specified resource."}}
        return httpx2.Response(403, json=body, headers={"request-id": "req_011CUpTnWXm8d3bK"})

    seen = []
    from opentelemetry.sdk.trace import SpanProcessor
    class Collect(SpanProcessor):
        def on_end(self, span):
            seen.append(format(span.context.trace_id, "032x"))
    trace.get_tracer_provider().add_span_processor(Collect())
    client = anthropic.Anthropic(api_key="sk-ant-test", max_retries=0,
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(refuse)))
    try:
        client.messages.create(model="claude-sonnet-4-5", max_tokens=64,
                               messages=[{"role": "user", "content": "hello"}])
    except anthropic.PermissionDeniedError:
        pass
    print(json.dumps(sorted(set(seen))))
    """
)


@pytest.mark.parametrize("mode", ["logs", "logs/dup", "default"])
def test_a_library_span_marked_failed_by_hand_is_one_row_with_its_log_record(
    receiver: tuple[ReceiverProcess, str], tmp_path: Path, mode: str
) -> None:
    pytest.importorskip("anthropic")
    pytest.importorskip("httpx2")
    process, url = receiver
    traces = _run_agent(process, tmp_path, mode, ANTHROPIC_AGENT)
    service = f"dup-agent-{mode.replace('/', '-')}-{tmp_path.name}"

    rows = [row for row in stored_failures(url) if row["service_name"] == service]

    assert len(traces) == 1  # the SDK's span, its own trace
    assert [(row["trace_id"], row["exception_type"]) for row in rows] == [
        (traces[0], "anthropic.PermissionDeniedError")
    ]
    assert rows[0]["category"] == "auth"
