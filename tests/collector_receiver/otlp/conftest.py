"""Fixtures of the OTLP extraction tests."""

from __future__ import annotations

import pytest

from tests.otel_failcat._helpers import Telemetry

# The agent-side fixtures: fresh in-memory providers, instrumented by FailcatInstrumentor.
from tests.otel_failcat.conftest import agent_environment, instrumented, telemetry

__all__ = ["agent", "agent_environment", "instrumented", "telemetry"]


@pytest.fixture
def agent(instrumented: Telemetry) -> Telemetry:
    """A real SDK with the failcat instrumentor installed: events carry the ``failcat.*``
    attributes (cause types, bases) the one-row rules read."""
    return instrumented
