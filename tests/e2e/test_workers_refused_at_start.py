"""``--workers``: a bad value, and a worker that cannot listen, end ``failcat serve`` with one
line and status 2, and no worker is left behind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.e2e._receiver import FAILCAT, free_ports

pytestmark = pytest.mark.slow


def _serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    grpc, http, api = free_ports(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAILCAT_", "OTEL_"))}
    return subprocess.run(
        [
            FAILCAT,
            "serve",
            "--db",
            f"sqlite:///{tmp_path / 'failcat.db'}",
            "--grpc-port",
            str(grpc),
            "--http-port",
            str(http),  # a later --http-port wins (argparse keeps the last)
            "--api-port",
            str(api),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def _refusal(stderr: str) -> list[str]:
    def is_log_event(line: str) -> bool:
        try:
            return "event" in json.loads(line)
        except ValueError:
            return False

    return [line for line in stderr.strip().splitlines() if not is_log_event(line)]


@pytest.mark.parametrize(("value", "expected"), [("0", "out of range"), ("two", "not an integer")])
def test_a_bad_worker_count_is_one_line(tmp_path: Path, value: str, expected: str) -> None:
    result = _serve(tmp_path, "--workers", value)
    assert result.returncode == 2, result.stderr
    lines = _refusal(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("failcat serve: --workers"), result.stderr
    assert expected in lines[0]


def test_a_worker_that_cannot_listen_is_one_line(tmp_path: Path) -> None:
    # A socket without SO_REUSEPORT on the OTLP/HTTP port: no worker can share it.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve(tmp_path, "--workers", "2", "--http-port", str(port))
    assert result.returncode == 2, result.stderr
    lines = _refusal(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("failcat serve: worker ")
    assert f"cannot listen on 127.0.0.1:{port} (OTLP/HTTP)" in lines[0]
