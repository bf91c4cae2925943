"""``failcat serve`` refuses bad TLS files and unsafe auth settings with one line and exit
status 2, before it listens or touches the database, and never prints the key.

Every variant of a bad file is in tests/collector_receiver/server/test_tls_files_checked.py and
every settings rule in test_settings_tls_and_token.py; here one of each kind, end to end."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e._receiver import FAILCAT, free_ports
from tests.support.tls_certificates import Certificates, make_certificates


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


def _serve(
    tmp_path: Path, args: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    ports = [str(port) for port in free_ports(3)]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("FAILCAT_", "OTEL_"))}
    environ.update(env)
    argv = [FAILCAT, "serve", "--db", f"sqlite:///{tmp_path / 'failcat.db'}"]
    argv += ["--grpc-port", ports[0], "--http-port", ports[1], "--api-port", ports[2], *args]
    # A receiver that started instead of refusing fails at the timeout rather than hanging.
    return subprocess.run(argv, capture_output=True, text=True, env=environ, timeout=60)


def _is_log_event(line: str) -> bool:
    try:
        return "event" in json.loads(line)
    except (ValueError, TypeError):
        return False


def _tls(cert: Path | str, key: Path | str) -> list[str]:
    return ["--tls-cert", str(cert), "--tls-key", str(key)]


CASES = {
    "missing cert file": (
        lambda c, d: (_tls(d / "nope.pem", c.server_key), {}),
        "--tls-cert: cannot read {d}/nope.pem: No such file or directory",
    ),
    "unreadable key": (
        lambda c, d: (_tls(c.server_cert, d), {}),
        "--tls-key: cannot read {d}: Is a directory",
    ),
    "cert not PEM": (
        lambda c, d: (_tls(d / "junk.txt", c.server_key), {}),
        "--tls-cert: {d}/junk.txt holds no PEM certificate",
    ),
    "key of another certificate": (
        lambda c, d: (_tls(c.server_cert, c.client_key), {}),
        "--tls-key: {client_key} is not the key of the certificate in {server_cert}",
    ),
    "cert without key": (
        lambda c, d: (["--tls-cert", str(c.server_cert)], {}),
        "--tls-cert needs --tls-key too",
    ),
    "empty token": (
        lambda c, d: ([], {"FAILCAT_AUTH_TOKEN": ""}),
        "FAILCAT_AUTH_TOKEN is set but empty",
    ),
    "blank token": (
        lambda c, d: ([], {"FAILCAT_AUTH_TOKEN": "   "}),
        "FAILCAT_AUTH_TOKEN is set but empty",
    ),
    "metrics auth without token": (
        lambda c, d: (["--metrics-auth"], {}),
        "--metrics-auth needs FAILCAT_AUTH_TOKEN to be set",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refused_with_one_line_and_status_2(certs: Certificates, tmp_path: Path, case: str) -> None:
    (tmp_path / "junk.txt").write_text("not a certificate\n")
    build, expected = CASES[case]
    args, env = build(certs, tmp_path)
    result = _serve(tmp_path, args, env)
    assert result.returncode == 2, result.stderr
    # The receiver's JSON log (e.g. its open-file limit) may come first; the refusal is one line.
    lines = [line for line in result.stderr.strip().splitlines() if not _is_log_event(line)]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("failcat serve: ")
    assert (
        expected.format(
            d=tmp_path,
            client_key=certs.client_key,
            server_cert=certs.server_cert,
            server_key=certs.server_key,
        )
        in lines[0]
    )
    for key in (certs.server_key, certs.client_key):
        assert key.read_text().splitlines()[1] not in result.stderr + result.stdout
    assert not (tmp_path / "failcat.db").exists()  # refused before touching the database
