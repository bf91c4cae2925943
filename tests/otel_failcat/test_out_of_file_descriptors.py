"""A process out of file descriptors still exports the failure that says so.

An agent that leaks files or sockets until ``open`` fails with EMFILE dies of it, and its
exporter then needs a descriptor of its own to send that last failure: ``otel_failcat`` keeps a
few in reserve and frees them for its flush (``otel_failcat._reserve``). As a user runs it:
``opentelemetry-instrument`` with the real OTLP exporters, the descriptors really used up.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from tests.otel_failcat._instrumented_run import EXIT_WITHOUT_ATEXIT, run_instrumented
from tests.support.otlp_sink import OtlpSink

# Every descriptor the soft limit allows is taken (and held), then the next open fails.
AGENT = EXIT_WITHOUT_ATEXIT + textwrap.dedent(
    """
    import resource, tempfile

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    held = []
    while True:
        held.append(tempfile.TemporaryFile())  # the agent's leak: OSError [Errno 24] at the end
    """
)


@pytest.fixture(scope="module")
def sink() -> Iterator[OtlpSink]:
    with OtlpSink() as running:
        yield running


def _run(
    tmp_path: Path,
    sink: OtlpSink,
    protocol: Literal["grpc", "http/protobuf"],
    marker: str,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    return run_instrumented(
        tmp_path,
        AGENT,
        {
            **sink.exporter_env(protocol),
            "OTEL_SERVICE_NAME": "leaky-agent",
            "OTEL_RESOURCE_ATTRIBUTES": f"run={marker}",
            "OTEL_BSP_SCHEDULE_DELAY": "60000",
            "OTEL_BLRP_SCHEDULE_DELAY": "60000",
            "OTEL_METRIC_EXPORT_INTERVAL": "60000",
            **env,
        },
    )


def _crash_types(sink: OtlpSink, marker: str) -> list[str]:
    return [
        str(event.attributes["exception.type"])
        for span in sink.spans()
        if span.resource.get("run") == marker
        for event in span.events
        if event.name == "exception" and event.attributes.get("failcat.mechanism") == "excepthook"
    ]


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_the_failure_that_used_up_the_descriptors_is_exported_by_the_excepthook(
    sink: OtlpSink, tmp_path: Path, protocol: Literal["grpc", "http/protobuf"]
) -> None:
    # os._exit after the hook chain: no atexit, so only otel_failcat's own flush can deliver.
    marker = f"excepthook-{protocol}"
    result = _run(tmp_path, sink, protocol, marker, AGENT_EXIT_WITHOUT_ATEXIT="1")

    assert result.returncode == 1
    assert "Too many open files" in result.stderr  # the user's traceback, as without failcat
    assert _crash_types(sink, marker) == ["OSError"]


def test_the_exit_flush_gets_descriptors_too(sink: OtlpSink, tmp_path: Path) -> None:
    # The excepthook's flush disabled: the SDK's own shutdown at exit is what exports.
    marker = "atexit"
    result = _run(tmp_path, sink, "http/protobuf", marker, FAILCAT_FLUSH_TIMEOUT_MILLIS="0")

    assert result.returncode == 1
    assert _crash_types(sink, marker) == ["OSError"]
