"""``failcat serve --tls-cert --tls-key``: the real OTel SDK exporters deliver over TLS on gRPC
and HTTP and the rows are stored; plain-text clients, clients that do not trust the CA and
TLS 1.1 clients are refused on every listener; the 9464 port answers over TLS; a client that
never completes its handshake is disconnected after ``--idle-timeout``."""

from __future__ import annotations

import socket
import ssl
import threading
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e._receiver import ReceiverProcess, ReceiverTls, http_get, running_receiver
from tests.e2e._support import run_agent, stored_failures
from tests.support.tls_certificates import (
    Certificates,
    client_context,
    exporter_env,
    make_certificates,
)

pytestmark = pytest.mark.slow

IDLE_TIMEOUT = 2


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def receiver(
    certs: Certificates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReceiverProcess]:
    directory = tmp_path_factory.mktemp("receiver")
    tls = ReceiverTls(certs.server_cert, certs.server_key)
    with running_receiver(
        f"sqlite:///{directory / 'failcat.db'}",
        directory / "receiver.log",
        tls=tls,
        extra_args=["--idle-timeout", str(IDLE_TIMEOUT)],
    ) as process:
        yield process


def _services(receiver: ReceiverProcess) -> set[str]:
    return {row["service_name"] for row in stored_failures(receiver.db_url)}


def test_sdk_exporters_deliver_over_tls_on_both_protocols(
    receiver: ReceiverProcess, certs: Certificates
) -> None:
    assert receiver.wait_for_event("started")["tls"] == "on"
    report = run_agent(
        ["grpc:traces:tls-grpc:3", "http:logs:tls-http:2"],
        grpc_endpoint=receiver.grpc_endpoint,
        http_endpoint=receiver.http_endpoint,
        env=exporter_env(certs),
    )
    assert report["ok"], report["stderr"]
    rows = stored_failures(receiver.db_url)
    stored = {(r["service_name"], r["trace_id"], r["span_id"]) for r in rows}
    exported = {(f["service"], f["trace_id"], f["span_id"]) for f in report["failures"]}
    assert exported <= stored
    assert {"tls-grpc", "tls-http"} <= _services(receiver)


def test_plain_text_exporters_cannot_deliver(receiver: ReceiverProcess) -> None:
    report = run_agent(
        ["grpc:traces:plain-grpc:1", "http:traces:plain-http:1"],
        grpc_endpoint=f"127.0.0.1:{receiver.grpc_port}",
        http_endpoint=f"http://127.0.0.1:{receiver.http_port}",
        extra=["--timeout", "2"],
    )
    assert not report["ok"]
    assert report["delivered"] == {"traces": 0, "logs": 0}
    assert not {"plain-grpc", "plain-http"} & _services(receiver)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/api/v1/failures"])
def test_the_api_port_answers_over_tls(
    receiver: ReceiverProcess, certs: Certificates, path: str
) -> None:
    status, body = http_get(f"{receiver.api_url}{path}", context=client_context(certs))
    assert status == 200, body


def test_plain_http_to_the_api_port_gets_no_answer(receiver: ReceiverProcess) -> None:
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        http_get(f"http://127.0.0.1:{receiver.api_port}/healthz")


def test_a_client_that_does_not_trust_the_ca_is_refused(receiver: ReceiverProcess) -> None:
    system_roots = ssl.create_default_context()
    for url in (f"{receiver.api_url}/healthz", f"{receiver.http_endpoint}/v1/traces"):
        with pytest.raises(urllib.error.URLError) as info:
            http_get(url, context=system_roots)
        assert isinstance(info.value.reason, ssl.SSLCertVerificationError)


def _tls_1_1_client(certs: Certificates) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(certs.ca)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 offers TLS 1.1 only at level 0
    context.minimum_version = ssl.TLSVersion.TLSv1_1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    return context


def _handshake(port: int, context: ssl.SSLContext) -> str | None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with context.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            return tls.version()


def _permissive_server(certs: Certificates) -> tuple[socket.socket, threading.Thread]:
    """A server that does accept TLS 1.1: proof that the client really offers it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.server_cert, certs.server_key)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.TLSv1_1
    listener = socket.create_server(("127.0.0.1", 0))

    def accept_one() -> None:
        connection, _ = listener.accept()
        with context.wrap_socket(connection, server_side=True) as tls:
            tls.recv(1)

    thread = threading.Thread(target=accept_one, daemon=True)
    thread.start()
    return listener, thread


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_1_1_is_refused_on_every_listener(
    receiver: ReceiverProcess, certs: Certificates, tmp_path: Path
) -> None:
    client = _tls_1_1_client(certs)
    listener, thread = _permissive_server(certs)
    with listener:
        assert _handshake(listener.getsockname()[1], client) == "TLSv1.1"
        thread.join(10)
    for port in (receiver.grpc_port, receiver.http_port, receiver.api_port):
        with pytest.raises(ssl.SSLError):
            _handshake(port, client)


def test_a_client_that_never_starts_its_handshake_is_disconnected(
    receiver: ReceiverProcess,
) -> None:
    # asyncio alone would wait 60 s for the ClientHello; the receiver waits --idle-timeout.
    for port in (receiver.http_port, receiver.api_port):
        with socket.create_connection(("127.0.0.1", port)) as silent:
            silent.settimeout(IDLE_TIMEOUT + 20)
            try:
                assert silent.recv(1) == b""
            except ConnectionResetError:
                pass
