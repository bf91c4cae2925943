"""``failcat traffic`` as a user runs it: the console script in a fresh process."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e._receiver import FAILCAT, free_ports, running_receiver
from tests.e2e._support import stored_failures


def _failcat(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAILCAT_", "OTEL_"))}
    return subprocess.run(
        [FAILCAT, *args], capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.mark.slow
def test_sends_to_a_receiver_and_prints_one_summary_line(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'failcat.db'}"
    with running_receiver(db_url, tmp_path / "receiver.log") as receiver:
        done = _failcat(
            "traffic", "--endpoint", receiver.http_endpoint, "--protocol", "http",
            "--count", "40", "--services", "2", "--seed", "4", "--rate", "400",
        )  # fmt: skip
        rows = stored_failures(db_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("sent 40 failures (")
    assert f"to {receiver.http_endpoint} over OTLP/HTTP" in lines[0] and "(seed 4)" in lines[0]
    assert " spans of " in lines[0] and "from 2 services" in lines[0]
    assert "[" not in done.stderr  # no progress bar when stderr is not a terminal
    assert len(rows) == 40
    assert {r["service_name"] for r in rows} == {"support-agent", "research-agent"}


def test_unreachable_endpoint_exits_1_with_one_line() -> None:
    (closed,) = free_ports(1)  # nothing listens there
    done = _failcat(
        "traffic", "--endpoint", f"127.0.0.1:{closed}", "--count", "20", "--timeout", "1"
    )
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(
        f"failcat traffic: could not deliver spans to http://127.0.0.1:{closed} over OTLP/gRPC: "
    )
    assert "UNAVAILABLE" in lines[0]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--count", "ten"], "--count: 'ten' is not an integer"),
        (["--count", "0"], "--count: must be from 1"),
        (["--services", "7"], "--services: must be from 1 to 6"),
        (["--uncataloged-share", "2"], "--uncataloged-share: must be from 0 to 1"),
        (["--rate", "fast"], "--rate: 'fast' is not a number"),
        (["--endpoint", "ftp://example:21"], "--endpoint: 'ftp://example:21' must be"),
    ],
)
def test_bad_flags_exit_2_with_one_line(args: list[str], reason: str) -> None:
    done = _failcat("traffic", *args)
    assert done.returncode == 2
    assert done.stderr.strip() == f"failcat traffic: {reason}" or (
        done.stderr.startswith(f"failcat traffic: {reason}") and done.stderr.count("\n") == 1
    )
