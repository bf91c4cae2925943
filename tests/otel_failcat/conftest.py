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
def agent_environment() -> dict[str, str]:
    """Variables set before ``instrumented`` instruments (which reads them once); a test changes
    them with ``@pytest.mark.parametrize("agent_environment", [{...}])``."""
    return {}


@pytest.fixture
def instrumented(
    telemetry: Telemetry, agent_environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Telemetry]:
    """``FailcatInstrumentor`` installed with ``telemetry``'s providers, removed afterwards."""
    for name, value in agent_environment.items():
        monkeypatch.setenv(name, value)
    instrumentor = FailcatInstrumentor()
    instrumentor.instrument(**telemetry.providers())
    try:
        yield telemetry
    finally:
        instrumentor.uninstrument()
