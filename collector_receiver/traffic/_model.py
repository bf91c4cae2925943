"""What ``run_traffic`` takes and gives back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from collector_receiver.traffic._export import ClientTls, normalize_endpoint
from collector_receiver.traffic._services import MAX_SERVICES

#: Most failures one run of ``failcat traffic`` sends.
MAX_COUNT = 1_000_000


class TrafficError(Exception):
    """Traffic could not be sent; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class TrafficSpec:
    """How much traffic, of which mix, to where. Invalid values raise ValueError (one line)."""

    endpoint: str | None = None
    protocol: Literal["grpc", "http"] = "grpc"
    count: int = 100
    services: int = 3
    #: Same seed, same mix: services, scenarios and their order (ids and times differ).
    seed: int | None = None
    uncataloged_share: float = 0.1
    #: Failures per second; 0 sends as fast as the SDK takes them.
    rate: float = 0.0
    #: Seconds each export may take (the SDK exporter's timeout, retries included).
    timeout: float = 10.0
    token: str | None = None
    environment: str = "demo"
    #: CA and client certificate for an ``https://`` endpoint; None = the SDK's defaults.
    tls: ClientTls | None = None

    def __post_init__(self) -> None:
        if self.protocol not in ("grpc", "http"):
            raise ValueError(f"--protocol: must be grpc or http, not {self.protocol!r}")
        try:
            normalize_endpoint(self.endpoint, self.protocol)
        except ValueError as exc:
            raise ValueError(f"--endpoint: {exc}") from None
        if not 1 <= self.count <= MAX_COUNT:
            raise ValueError(f"--count: must be from 1 to {MAX_COUNT}")
        if not 1 <= self.services <= MAX_SERVICES:
            raise ValueError(f"--services: must be from 1 to {MAX_SERVICES}")
        if not 0.0 <= self.uncataloged_share <= 1.0:
            raise ValueError("--uncataloged-share: must be from 0 to 1")
        if not self.rate >= 0.0:  # also refuses NaN
            raise ValueError("--rate: must be 0 (as fast as possible) or more")
        if not self.timeout > 0.0:
            raise ValueError("--timeout: must be more than 0 seconds")
        if self.tls is not None:
            _check_tls(self.tls, normalize_endpoint(self.endpoint, self.protocol))


def _check_tls(tls: ClientTls, endpoint: str) -> None:
    if not endpoint.startswith("https://"):
        raise ValueError("--ca, --client-cert and --client-key need an https:// endpoint")
    if (tls.cert_file is None) != (tls.key_file is None):
        raise ValueError("--client-cert and --client-key go together")
    for flag, path in (
        ("--ca", tls.ca_file),
        ("--client-cert", tls.cert_file),
        ("--client-key", tls.key_file),
    ):
        if path is not None and not Path(path).is_file():
            raise ValueError(f"{flag}: {path} is not a file")


@dataclass(frozen=True)
class SentFailure:
    """One failure that was sent: where it is (trace and span) and what it should be stored as."""

    service_name: str
    scenario: str
    expected_code: str
    #: The exception's qualified type, or the ``error.type`` of a status-only failure.
    exception_type: str
    trace_id: str
    span_id: str
    source: Literal["span_event", "span_status"]


@dataclass(frozen=True)
class TrafficResult:
    """What was delivered (every export acknowledged by the receiving end)."""

    endpoint: str
    protocol: str
    seed: int
    services: tuple[str, ...]
    failures: tuple[SentFailure, ...]
    runs: int
    #: GenAI operation spans sent (invoke_agent, chat, execute_tool), failing or not: what the
    #: receiver counts as the denominators of failure rates.
    operations: int
    spans_sent: int
    seconds: float

    @property
    def uncataloged(self) -> int:
        return sum(1 for f in self.failures if f.expected_code == "UNCATALOGED")

    def summary_line(self) -> str:
        failures = len(self.failures)
        return (
            f"sent {failures} failures ({failures - self.uncataloged} cataloged, "
            f"{self.uncataloged} uncataloged) in {self.spans_sent} spans of {self.runs} agent "
            f"runs ({self.operations} GenAI operations) from {len(self.services)} services to "
            f"{self.endpoint} over "
            f"{'OTLP/gRPC' if self.protocol == 'grpc' else 'OTLP/HTTP'} in "
            f"{self.seconds:.1f}s (seed {self.seed})"
        )
