"""The running service: bearer auth, SIGHUP catalog reload (good and bad file), SIGTERM drain,
and one-line startup errors."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.collector_receiver.otlp._helpers import exception_event, resource, span, trace_request
from tests.e2e._receiver import (
    FAILCAT,
    ReceiverProcess,
    free_ports,
    http_get,
    http_post,
    running_receiver,
)
from tests.e2e._support import stored_failures

pytestmark = pytest.mark.slow

TOKEN = "e2e-" + secrets.token_hex(8)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROTOBUF = {"Content-Type": "application/x-protobuf"}
TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _catalog(version: str, code: str) -> str:
    return f"""version: 2
catalog_version: "{version}"
entries:
  - code: {code}
    title: The acme tool failed
    category: tool
    severity: high
    remediation: Check the acme tool's credentials.
    match:
      exception_types: [acme.tools.ToolError]
"""


@pytest.fixture(scope="module")
def catalog_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("catalog") / "catalog.yaml"
    path.write_text(_catalog("v1", "ACME_TOOL_FAILED"))
    return path


@pytest.fixture(scope="module")
def receiver(
    tmp_path_factory: pytest.TempPathFactory, catalog_file: Path
) -> Iterator[ReceiverProcess]:
    directory = tmp_path_factory.mktemp("receiver")
    with running_receiver(
        f"sqlite:///{directory / 'failcat.db'}",
        directory / "receiver.log",
        extra_args=["--catalog", str(catalog_file)],
        env={"FAILCAT_AUTH_TOKEN": TOKEN},
    ) as process:
        yield process


def _acme_failure(service: str) -> bytes:
    spans = [
        span(
            "tool",
            trace_id=secrets.token_bytes(16),
            span_id=secrets.token_bytes(8),
            events=[exception_event("acme.tools.ToolError", "the tool broke")],
        )
    ]
    return trace_request(spans, res=resource(service)).SerializeToString()


def _codes(receiver: ReceiverProcess, service: str) -> list[tuple[str, str]]:
    return [
        (str(r["code"]), str(r["catalog_version"]))
        for r in stored_failures(receiver.db_url)
        if r["service_name"] == service
    ]


def test_otlp_http_needs_the_bearer_token(receiver: ReceiverProcess) -> None:
    url = f"{receiver.http_endpoint}/v1/traces"
    assert http_post(url, _acme_failure("svc-auth"), PROTOBUF)[0] == 401
    wrong = {**PROTOBUF, "Authorization": "Bearer nope"}
    assert http_post(url, _acme_failure("svc-auth"), wrong)[0] == 401
    assert http_post(url, _acme_failure("svc-auth"), {**PROTOBUF, **AUTH})[0] == 200
    assert len(_codes(receiver, "svc-auth")) == 1


def test_otlp_grpc_needs_the_bearer_token(receiver: ReceiverProcess) -> None:
    with grpc.insecure_channel(receiver.grpc_endpoint) as channel:
        export = channel.unary_unary(TRACE_EXPORT)
        with pytest.raises(grpc.RpcError) as denied:
            export(_acme_failure("svc-grpc-auth"), timeout=10)
        assert denied.value.code() == grpc.StatusCode.UNAUTHENTICATED
        export(
            _acme_failure("svc-grpc-auth"),
            timeout=10,
            metadata=[("authorization", f"Bearer {TOKEN}")],
        )
    assert len(_codes(receiver, "svc-grpc-auth")) == 1


def test_query_api_needs_the_token_and_health_and_metrics_do_not(
    receiver: ReceiverProcess,
) -> None:
    assert http_get(f"{receiver.api_url}/api/v1/failures")[0] == 401
    assert http_get(f"{receiver.api_url}/api/v1/failures", AUTH)[0] == 200
    for path in ("/metrics", "/healthz", "/readyz"):
        assert http_get(f"{receiver.api_url}{path}")[0] == 200, path


def test_sighup_reloads_a_good_catalog_and_refuses_a_bad_one(
    receiver: ReceiverProcess, catalog_file: Path
) -> None:
    url = f"{receiver.http_endpoint}/v1/traces"
    headers = {**PROTOBUF, **AUTH}
    assert http_post(url, _acme_failure("svc-reload"), headers)[0] == 200

    catalog_file.write_text(_catalog("v2", "ACME_TOOL_BROKEN"))
    receiver.process.send_signal(signal.SIGHUP)
    reloaded = receiver.wait_for_event("catalog_reloaded")
    assert reloaded["catalog_version"] == "v2"
    assert http_post(url, _acme_failure("svc-reload"), headers)[0] == 200

    catalog_file.write_text("version: 2\nentries: [ {code: lower_case} ]\n")
    receiver.process.send_signal(signal.SIGHUP)
    refused = receiver.wait_for_event("catalog_refused")
    assert "catalog.yaml" in str(refused["reason"])
    assert receiver.alive()
    assert http_post(url, _acme_failure("svc-reload"), headers)[0] == 200

    status, body = http_get(f"{receiver.api_url}/api/v1/catalog", AUTH)
    assert status == 200
    listed = [item["code"] for item in json.loads(body)["items"] if item["in_catalog"]]
    assert listed == ["ACME_TOOL_BROKEN"]  # the query API shows the catalog in use
    assert _codes(receiver, "svc-reload") == [
        ("ACME_TOOL_FAILED", "v1"),
        ("ACME_TOOL_BROKEN", "v2"),
        ("ACME_TOOL_BROKEN", "v2"),  # the refused file changed nothing
    ]


def test_a_grpc_port_another_receiver_holds_is_a_one_line_error(
    receiver: ReceiverProcess, tmp_path: Path
) -> None:
    # gRPC turns SO_REUSEPORT on by default: without turning it off, a second receiver would
    # start on the same port and silently take part of the first one's traffic.
    http_port, api_port = free_ports(2)
    done = _serve(
        "--db",
        f"sqlite:///{tmp_path / 'f.db'}",
        "--grpc-port",
        str(receiver.grpc_port),
        "--http-port",
        str(http_port),
        "--api-port",
        str(api_port),
    )
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert f"cannot listen on 127.0.0.1:{receiver.grpc_port} (gRPC)" in last
    assert receiver.alive()


def test_sigterm_finishes_what_it_acknowledged_and_exits_zero(receiver: ReceiverProcess) -> None:
    """Runs last in this module: it stops the receiver."""
    url = f"{receiver.http_endpoint}/v1/traces"
    headers = {**PROTOBUF, **AUTH}
    acknowledged: list[str] = []
    lock = threading.Lock()
    first_ack = threading.Event()

    def send(index: int) -> None:
        for round_ in range(50):
            service = f"svc-drain-{index}-{round_}"
            try:
                status = http_post(url, _acme_failure(service), headers)[0]
            except OSError:  # refused or reset once the listener closed: not acknowledged
                return
            if status == 200:
                with lock:
                    acknowledged.append(service)
                first_ack.set()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    assert first_ack.wait(30)
    receiver.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(60)
    assert receiver.process.wait(60) == 0
    stored = {r["service_name"] for r in stored_failures(receiver.db_url)}
    assert acknowledged, "nothing was acknowledged before the stop"
    assert set(acknowledged) <= stored
    receiver.wait_for_event("stopped")


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FAILCAT, "serve", *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )


def test_startup_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    bad_catalog = tmp_path / "bad.yaml"
    bad_catalog.write_text("version: 2\ncatalog_version: x\nentries: [ {code: lower} ]\n")
    db = f"sqlite:///{tmp_path / 'f.db'}"
    grpc_port, http_port, api_port = free_ports(3)
    ports = ["--grpc-port", str(grpc_port), "--http-port", str(http_port)]
    cases = [
        (["--db", db, *ports, "--api-port", "x"], "--api-port"),
        (
            ["--db", db, *ports, "--api-port", str(api_port), "--catalog", str(bad_catalog)],
            "bad.yaml",
        ),
        (["--db", "nosuchdriver://x", *ports, "--api-port", str(api_port)], "nosuchdriver"),
        (["--db", db, *ports, "--api-port", str(api_port), "--no-migrate"], "failcat db upgrade"),
        # --no-migrate only checks the schema, and says so when the database cannot be reached.
        (
            ["--db", "postgresql+psycopg://nobody@127.0.0.1:9/x", *ports, "--no-migrate"],
            "database check failed",
        ),
    ]
    for argv, expected in cases:
        done = _serve(*argv)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("failcat serve: ")
        assert expected in lines[0]


def test_a_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        grpc_port, api_port = free_ports(2)
        done = _serve(
            "--db",
            f"sqlite:///{tmp_path / 'f.db'}",
            "--grpc-port",
            str(grpc_port),
            "--http-port",
            str(port),
            "--api-port",
            str(api_port),
        )
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr.strip().splitlines()[-1]
