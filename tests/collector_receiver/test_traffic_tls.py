"""``failcat traffic`` to a receiver under mutual TLS: ``--ca``, ``--client-cert`` and
``--client-key`` deliver over gRPC and HTTP (also where ``REQUESTS_CA_BUNDLE`` points
elsewhere); without a client certificate nothing is delivered; bad combinations are refused."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector_receiver.traffic import ClientTls, TrafficError, TrafficSpec, run_traffic
from tests.e2e._receiver import FAILCAT, ReceiverProcess, ReceiverTls, running_receiver
from tests.e2e._support import stored_failures
from tests.support.tls_certificates import Certificates, make_certificates

pytestmark = pytest.mark.slow


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
    ) as process:
        yield process


def _failcat_traffic(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAILCAT_", "OTEL_"))}
    # What a host with its own CA bundle sets; --ca must win over it.
    env["REQUESTS_CA_BUNDLE"] = env["CURL_CA_BUNDLE"] = "/etc/ssl/certs/ca-certificates.crt"
    return subprocess.run(
        [FAILCAT, "traffic", "--count", "6", "--services", "1", "--timeout", "3", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_traffic_delivers_under_mutual_tls(
    receiver: ReceiverProcess, certs: Certificates, protocol: str
) -> None:
    port = receiver.grpc_port if protocol == "grpc" else receiver.http_port
    before = len(stored_failures(receiver.db_url))
    done = _failcat_traffic(
        "--protocol", protocol, "--endpoint", f"https://127.0.0.1:{port}",
        "--ca", str(certs.ca),
        "--client-cert", str(certs.client_cert), "--client-key", str(certs.client_key),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("sent 6 failures")
    assert len(stored_failures(receiver.db_url)) == before + 6


def test_traffic_without_a_client_certificate_delivers_nothing(
    receiver: ReceiverProcess, certs: Certificates
) -> None:
    spec = TrafficSpec(
        endpoint=f"https://127.0.0.1:{receiver.http_port}",
        protocol="http",
        count=3,
        services=1,
        timeout=2,
        tls=ClientTls(ca_file=str(certs.ca)),
    )
    with pytest.raises(TrafficError, match="could not deliver spans"):
        run_traffic(spec)


@pytest.mark.parametrize(
    ("endpoint", "tls", "reason"),
    [
        ("http://127.0.0.1:4318", ClientTls(ca_file="ca.pem"), "need an https:// endpoint"),
        ("https://127.0.0.1:4318", ClientTls(cert_file="c.pem"), "go together"),
        ("https://127.0.0.1:4318", ClientTls(ca_file="/nonexistent.pem"), "is not a file"),
    ],
)
def test_bad_tls_options_are_refused(endpoint: str, tls: ClientTls, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        TrafficSpec(endpoint=endpoint, protocol="http", tls=tls)


def test_traffic_cli_refuses_ca_for_plain_http(tmp_path: Path) -> None:
    done = _failcat_traffic("--endpoint", "http://127.0.0.1:4318", "--ca", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "failcat traffic: --ca, --client-cert and --client-key need an https:// endpoint"
    )
