"""load_server_tls: good files give contexts and credentials; every bad file is one line that
names the flag and the path and never carries the key."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest

from collector_receiver.server._tls import TlsError, load_server_tls
from tests.support.tls_certificates import Certificates, make_certificates


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


def test_good_files_give_tls_1_2_contexts_and_grpc_credentials(certs: Certificates) -> None:
    tls = load_server_tls(str(certs.server_cert), str(certs.server_key))
    assert not tls.mutual
    for context in (tls.otlp_http_context, tls.api_context):
        assert context.minimum_version == ssl.TLSVersion.TLSv1_2
        assert context.verify_mode == ssl.CERT_NONE
    assert tls.grpc_credentials() is not None


def test_client_ca_requires_certificates_on_otlp_and_asks_for_them_on_the_api(
    certs: Certificates,
) -> None:
    tls = load_server_tls(str(certs.server_cert), str(certs.server_key), str(certs.ca))
    assert tls.mutual
    assert tls.otlp_http_context.verify_mode == ssl.CERT_REQUIRED
    assert tls.api_context.verify_mode == ssl.CERT_OPTIONAL
    # Only the CA given signs client certificates, not the system's trust store.
    assert len(tls.otlp_http_context.get_ca_certs()) == 1


def test_the_key_never_shows_in_repr(certs: Certificates) -> None:
    tls = load_server_tls(str(certs.server_cert), str(certs.server_key))
    assert b"PRIVATE KEY" in tls.private_key
    key_line = certs.server_key.read_text().splitlines()[1]  # base64 of the key itself
    assert key_line not in repr(tls)
    assert "PRIVATE KEY" not in repr(tls)


def _encrypted_key(certs: Certificates, path: Path) -> Path:
    subprocess.run(
        ["openssl", "pkey", "-in", str(certs.server_key), "-aes256", "-passout", "pass:x"],
        check=True,
        stdout=path.open("wb"),
    )
    return path


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing cert", "--tls-cert: cannot read {cert}: No such file or directory"),
        ("missing key", "--tls-key: cannot read {key}: No such file or directory"),
        ("key is a directory", "--tls-key: cannot read {key}: Is a directory"),
        ("cert not PEM", "--tls-cert: {cert} holds no PEM certificate"),
        ("cert is a key", "--tls-cert: {cert} holds no PEM certificate"),
        ("key not PEM", "--tls-key: {key} holds no PEM private key"),
        ("key is a cert", "--tls-key: {key} holds no PEM private key"),
        ("key of another cert", "--tls-key: {key} is not the key of the certificate in {cert}"),
        ("encrypted key", "--tls-key: {key} is encrypted; give the key unencrypted"),
        ("client CA not PEM", "--tls-client-ca: {ca} holds no PEM certificate"),
        ("missing client CA", "--tls-client-ca: cannot read {ca}: No such file or directory"),
    ],
)
def test_bad_files_are_refused_with_one_line(
    certs: Certificates, tmp_path: Path, case: str, expected: str
) -> None:
    cert, key, ca = certs.server_cert, certs.server_key, certs.ca
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"not a certificate\n\xff\xfe")
    match case:
        case "missing cert":
            cert = tmp_path / "nope.pem"
        case "missing key":
            key = tmp_path / "nope.key"
        case "key is a directory":
            key = tmp_path
        case "cert not PEM":
            cert = junk
        case "cert is a key":
            cert = certs.server_key
        case "key not PEM":
            key = junk
        case "key is a cert":
            key = certs.server_cert
        case "key of another cert":
            key = certs.client_key
        case "encrypted key":
            key = _encrypted_key(certs, tmp_path / "encrypted.key")
        case "client CA not PEM":
            ca = junk
        case "missing client CA":
            ca = tmp_path / "nope-ca.pem"
    with pytest.raises(TlsError) as info:
        load_server_tls(str(cert), str(key), str(ca))
    message = str(info.value)
    assert message == expected.format(cert=cert, key=key, ca=ca)
    assert "\n" not in message
    assert "PRIVATE KEY" not in message
