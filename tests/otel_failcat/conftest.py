"""Fixtures of the agent-side tests: fresh in-memory providers, and an instrumented process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otel_failcat import FailcatInstrumentor
from tests.otel_failcat._helpers import Telemetry


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry.create()


@pytest.fixture
def instrumented(telemetry: Telemetry) -> Iterator[Telemetry]:
    """``FailcatInstrumentor`` installed with ``telemetry``'s providers, removed afterwards."""
    instrumentor = FailcatInstrumentor()
    instrumentor.instrument(**telemetry.providers())
    try:
        yield telemetry
    finally:
        instrumentor.uninstrument()
