"""Throwaway certificates for TLS tests, made with the ``openssl`` command line.

:func:`make_certificates` writes, into a directory of the test's own:

* a CA (``ca.pem``) and a server certificate it signed for ``127.0.0.1`` and ``localhost``;
* a client certificate the same CA signed (what mutual TLS accepts);
* a client certificate signed by another CA (``stranger``: a well-formed certificate that mutual
  TLS must refuse).

Keys are unencrypted P-256 (fast to make); the certificates are valid for two days.
:func:`client_context` gives an ``ssl.SSLContext`` for urllib, :func:`exporter_env` the variables
the OTel SDK's OTLP exporters read.
"""

from __future__ import annotations

import secrets
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

_DAYS = "2"

#: Which client certificate to present: the CA's own client, the stranger, or none.
Client = Literal["client", "stranger"] | None


@dataclass(frozen=True)
class Certificates:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    stranger_cert: Path
    stranger_key: Path

    def client_pair(self, client: Literal["client", "stranger"]) -> tuple[Path, Path]:
        """Certificate and key of the trusted client or of the stranger."""
        if client == "client":
            return self.client_cert, self.client_key
        return self.stranger_cert, self.stranger_key


def make_certificates(directory: Path) -> Certificates:
    """A CA, a server and two client certificates in ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = _authority(directory, "ca", "failcat test CA")
    other_ca, other_key = _authority(directory, "other-ca", "some other CA")
    server = _leaf(
        directory,
        "server",
        "localhost",
        (ca, ca_key),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    client = _leaf(directory, "client", "agent", (ca, ca_key), "extendedKeyUsage=clientAuth\n")
    stranger = _leaf(
        directory, "stranger", "agent", (other_ca, other_key), "extendedKeyUsage=clientAuth\n"
    )
    return Certificates(ca, *server, *client, *stranger)


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _authority(directory: Path, name: str, common_name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", cert, "-days", _DAYS, "-subj", f"/CN={common_name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return cert, key


def _leaf(
    directory: Path, name: str, common_name: str, issuer: tuple[Path, Path], extensions: str
) -> tuple[Path, Path]:
    cert, key, request = (directory / f"{name}{ext}" for ext in (".pem", ".key", ".csr"))
    extfile = directory / f"{name}.ext"
    extfile.write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n" + extensions
    )
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", request, "-subj", f"/CN={common_name}",
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", request, "-CA", issuer[0], "-CAkey", issuer[1],
        "-set_serial", str(secrets.randbits(63)), "-days", _DAYS,
        "-extfile", extfile, "-out", cert,
    )  # fmt: skip
    return cert, key


def client_context(certificates: Certificates, client: Client = None) -> ssl.SSLContext:
    """A client context trusting the test CA, presenting ``client``'s certificate if given."""
    context = ssl.create_default_context(cafile=str(certificates.ca))
    if client is not None:
        context.load_cert_chain(*certificates.client_pair(client))
    return context


def exporter_env(certificates: Certificates, client: Client = None) -> dict[str, str]:
    """The OTel SDK variables an OTLP exporter needs to trust the receiver (and to present
    ``client``'s certificate)."""
    env = {
        "OTEL_EXPORTER_OTLP_CERTIFICATE": str(certificates.ca),
        # requests lets these win over the CA the HTTP exporter sets on its session (psf/requests
        # #4650); empty, they are ignored. An agent host that sets them needs the same.
        "REQUESTS_CA_BUNDLE": "",
        "CURL_CA_BUNDLE": "",
    }
    if client is not None:
        cert, key = certificates.client_pair(client)
        env["OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"] = str(cert)
        env["OTEL_EXPORTER_OTLP_CLIENT_KEY"] = str(key)
    return env
