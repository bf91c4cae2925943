"""``failcat serve --tls-client-ca`` with a token and ``--metrics-auth``: exporters without a
client certificate the CA signed are refused and store nothing, exporters with one deliver;
on the 9464 port ``/healthz`` and ``/readyz`` need neither certificate nor token, ``/metrics``
and ``/api/v1/`` need both."""

from __future__ import annotations

import ssl
import urllib.error
from collections.abc import Iterator

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from tests.e2e._receiver import ReceiverProcess, ReceiverTls, http_get, running_receiver
from tests.e2e._support import run_agent, stored_failures
from tests.support.tls_certificates import (
    Certificates,
    Client,
    client_context,
    exporter_env,
    make_certificates,
)

pytestmark = pytest.mark.slow

TOKEN = "mtls-s3cret"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def receiver(
    certs: Certificates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReceiverProcess]:
    directory = tmp_path_factory.mktemp("receiver")
    with running_receiver(
        f"sqlite:///{directory / 'failcat.db'}",
        directory / "receiver.log",
        tls=ReceiverTls(certs.server_cert, certs.server_key, certs.ca),
        extra_args=["--metrics-auth"],
        env={"FAILCAT_AUTH_TOKEN": TOKEN},
    ) as process:
        yield process


def _services(receiver: ReceiverProcess) -> set[str]:
    return {row["service_name"] for row in stored_failures(receiver.db_url)}


def test_exporters_without_a_client_certificate_are_refused(
    receiver: ReceiverProcess, certs: Certificates
) -> None:
    assert receiver.wait_for_event("started")["tls"] == "mutual"
    report = run_agent(
        ["grpc:traces:no-cert-grpc:1", "http:logs:no-cert-http:1"],
        grpc_endpoint=receiver.grpc_endpoint,
        http_endpoint=receiver.http_endpoint,
        extra=["--timeout", "2", "--token", TOKEN],
        env=exporter_env(certs),
    )
    assert not report["ok"]
    assert report["delivered"] == {"traces": 0, "logs": 0}
    assert not {"no-cert-grpc", "no-cert-http"} & _services(receiver)


def test_exporters_with_a_client_certificate_deliver(
    receiver: ReceiverProcess, certs: Certificates
) -> None:
    report = run_agent(
        ["grpc:traces:mtls-grpc:2", "http:traces:mtls-http:2"],
        grpc_endpoint=receiver.grpc_endpoint,
        http_endpoint=receiver.http_endpoint,
        extra=["--token", TOKEN],
        env=exporter_env(certs, "client"),
    )
    assert report["ok"], report["stderr"]
    rows = stored_failures(receiver.db_url)
    stored = {(r["service_name"], r["trace_id"], r["span_id"]) for r in rows}
    assert {(f["service"], f["trace_id"], f["span_id"]) for f in report["failures"]} <= stored


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_need_neither_certificate_nor_token(
    receiver: ReceiverProcess, certs: Certificates, path: str
) -> None:
    status, body = http_get(f"{receiver.api_url}{path}", context=client_context(certs))
    assert status == 200, body


@pytest.mark.parametrize("path", ["/metrics", "/api/v1/failures"])
def test_metrics_and_api_refuse_a_connection_without_a_client_certificate(
    receiver: ReceiverProcess, certs: Certificates, path: str
) -> None:
    status, body = http_get(f"{receiver.api_url}{path}", BEARER, context=client_context(certs))
    assert status == 403
    assert b"client certificate" in body


@pytest.mark.parametrize("path", ["/metrics", "/api/v1/failures"])
def test_metrics_and_api_need_the_token_besides_the_certificate(
    receiver: ReceiverProcess, certs: Certificates, path: str
) -> None:
    context = client_context(certs, "client")
    assert http_get(f"{receiver.api_url}{path}", context=context)[0] == 401
    status, body = http_get(f"{receiver.api_url}{path}", BEARER, context=context)
    assert status == 200, body


def test_metrics_answer_with_certificate_and_token(
    receiver: ReceiverProcess, certs: Certificates
) -> None:
    status, body = http_get(
        f"{receiver.api_url}/metrics", BEARER, context=client_context(certs, "client")
    )
    assert status == 200
    assert b"failcat_otlp_items_total" in body


def _grpc_export(receiver: ReceiverProcess, certs: Certificates, client: Client) -> grpc.StatusCode:
    """One empty Export through grpcio presenting ``client``'s certificate; its status."""
    cert, key = certs.client_pair(client)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=certs.ca.read_bytes(),
        private_key=key.read_bytes(),
        certificate_chain=cert.read_bytes(),
    )
    with grpc.secure_channel(f"127.0.0.1:{receiver.grpc_port}", credentials) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        try:
            stub.Export(
                trace_service_pb2.ExportTraceServiceRequest(),
                metadata=[("authorization", f"Bearer {TOKEN}")],
                timeout=5,
            )
        except grpc.RpcError as error:
            return error.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def test_a_certificate_another_ca_signed_fails_the_handshake_everywhere(
    receiver: ReceiverProcess, certs: Certificates
) -> None:
    context = client_context(certs, "stranger")
    for url in (f"{receiver.api_url}/healthz", f"{receiver.http_endpoint}/v1/traces"):
        with pytest.raises((urllib.error.URLError, ConnectionError, ssl.SSLError)):
            http_get(url, BEARER, context=context)
    assert _grpc_export(receiver, certs, "stranger") == grpc.StatusCode.UNAVAILABLE
    assert _grpc_export(receiver, certs, "client") == grpc.StatusCode.OK
