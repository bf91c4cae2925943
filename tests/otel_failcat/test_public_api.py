"""The package's public surface is exactly what the contract promises."""

from __future__ import annotations

from importlib.metadata import entry_points

import otel_failcat
from otel_failcat import FailcatInstrumentor


def test_all_is_pinned() -> None:
    assert sorted(otel_failcat.__all__) == [
        "FailcatInstrumentor",
        "__version__",
        "record_failure",
        "track",
    ]
    for name in otel_failcat.__all__:
        assert getattr(otel_failcat, name) is not None


def test_entry_point_failcat_loads_the_instrumentor() -> None:
    (entry_point,) = [
        ep for ep in entry_points(group="opentelemetry_instrumentor") if ep.name == "failcat"
    ]
    assert entry_point.value == "otel_failcat:FailcatInstrumentor"
    assert entry_point.load() is FailcatInstrumentor


def test_it_instruments_the_interpreter_not_a_library() -> None:
    assert tuple(FailcatInstrumentor().instrumentation_dependencies()) == ()
