"""agent → a real OTLP collector (rotel, batching disabled) → ``failcat serve``: the failures
arrive with the trace and span ids the agent's SDK exported."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import rotel

from tests.e2e._receiver import ReceiverProcess, free_ports, running_receiver
from tests.e2e._support import run_agent, stored_failures

pytestmark = pytest.mark.slow

ROTEL = Path(rotel.__file__).with_name("rotel-agent")


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverProcess]:
    directory = tmp_path_factory.mktemp("receiver")
    with running_receiver(f"sqlite:///{directory / 'failcat.db'}", directory / "r.log") as r:
        yield r


@pytest.fixture(scope="module")
def collector(
    receiver: ReceiverProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """A rotel collector forwarding to the receiver over OTLP/gRPC; yields its endpoints."""
    directory = tmp_path_factory.mktemp("rotel")
    grpc_port, http_port = free_ports(2)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROTEL_", "OTEL_"))}
    process = subprocess.Popen(
        [
            str(ROTEL),
            "start",
            "--pid-file", str(directory / "rotel.pid"),
            "--log-file", str(directory / "rotel.log"),
            "--otlp-grpc-endpoint", f"127.0.0.1:{grpc_port}",
            "--otlp-http-endpoint", f"127.0.0.1:{http_port}",
            "--disable-batching",
            "--exporter", "otlp",
            "--otlp-exporter-endpoint", f"http://{receiver.grpc_endpoint}",
            "--otlp-exporter-protocol", "grpc",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(directory / "stderr.log").open("wb"),
        env=env,
    )  # fmt: skip
    try:
        _wait_listening(http_port, process)
        yield f"127.0.0.1:{grpc_port}", f"http://127.0.0.1:{http_port}"
    finally:
        process.terminate()
        process.wait(30)


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "rotel exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("rotel did not start listening")


def test_failures_pass_through_the_collector_with_their_ids(
    receiver: ReceiverProcess, collector: tuple[str, str]
) -> None:
    grpc_endpoint, http_endpoint = collector
    report = run_agent(
        ["http:traces:svc-via-rotel-http:3", "grpc:traces:svc-via-rotel-grpc:3",
         "grpc:logs:svc-via-rotel-logs:2"],
        grpc_endpoint=grpc_endpoint,
        http_endpoint=http_endpoint,
    )  # fmt: skip
    assert report["ok"], report["stderr"]
    exported = {(f["service"], f["trace_id"], f["span_id"]) for f in report["failures"]}
    deadline = time.monotonic() + 30
    stored: set[tuple[str, str, str]] = set()
    while time.monotonic() < deadline:
        rows = stored_failures(receiver.db_url)
        stored = {(r["service_name"], r["trace_id"], r["span_id"]) for r in rows}
        if stored >= exported:
            break
        time.sleep(0.2)
    assert stored == exported
