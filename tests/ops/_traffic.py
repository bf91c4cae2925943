"""Feeding a receiver under test with ``failcat traffic`` (real OTel SDK, real OTLP exporters)."""

from __future__ import annotations

import subprocess

from tests.e2e._receiver import FAILCAT, ReceiverProcess


def send_traffic(receiver: ReceiverProcess, count: int, seed: int, *extra_args: str) -> None:
    """``count`` synthetic failures over OTLP/gRPC; fails the test unless all were sent."""
    result = subprocess.run(
        [
            FAILCAT,
            "traffic",
            "--endpoint",
            f"http://{receiver.grpc_endpoint}",
            "--count",
            str(count),
            "--seed",
            str(seed),
            *extra_args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"sent {count} failures" in result.stdout, result.stdout
