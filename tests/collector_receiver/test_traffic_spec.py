"""``TrafficSpec`` refuses bad values with one line; endpoints are normalised; every scenario
is stored under the code it claims, according to the packaged default catalog."""

from __future__ import annotations

import random

import pytest

from collector_receiver.catalog import load_catalog
from collector_receiver.events import FailureEvent
from collector_receiver.traffic import MAX_SERVICES, TrafficSpec
from collector_receiver.traffic._export import normalize_endpoint
from collector_receiver.traffic._scenarios import (
    SCENARIOS,
    UNCATALOGED_SCENARIOS,
    FailureContext,
    Scenario,
    scenarios_for,
)
from collector_receiver.traffic._services import SERVICES
from otel_failcat.fingerprint import in_app_frames
from otel_failcat.redaction import Redactor


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("count", 0, "--count: must be from 1"),
        ("services", MAX_SERVICES + 1, f"--services: must be from 1 to {MAX_SERVICES}"),
        ("services", 0, "--services"),
        ("uncataloged_share", 1.5, "--uncataloged-share"),
        ("uncataloged_share", -0.1, "--uncataloged-share"),
        ("rate", -1.0, "--rate"),
        ("rate", float("nan"), "--rate"),
        ("timeout", 0.0, "--timeout"),
        ("protocol", "udp", "--protocol"),
        ("endpoint", "ftp://host:1", "--endpoint"),
        ("endpoint", "127.0.0.1", "has no port"),
        ("endpoint", "http://127.0.0.1:99999", "invalid port"),
    ],
)
def test_bad_values_are_refused_with_one_line(field: str, value: object, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        TrafficSpec(**{field: value})  # type: ignore[arg-type]
    message = str(caught.value)
    assert reason in message and "\n" not in message


@pytest.mark.parametrize(
    ("endpoint", "protocol", "expected"),
    [
        (None, "grpc", "http://127.0.0.1:4317"),
        (None, "http", "http://127.0.0.1:4318"),
        ("localhost:4317", "grpc", "http://localhost:4317"),
        ("https://otel.example:443", "grpc", "https://otel.example:443"),
        ("http://127.0.0.1:4318/v1/traces", "http", "http://127.0.0.1:4318"),
        ("http://collector:4318/otlp/", "http", "http://collector:4318/otlp"),
    ],
)
def test_endpoints_are_normalised(endpoint: str | None, protocol: str, expected: str) -> None:
    assert normalize_endpoint(endpoint, protocol) == expected  # type: ignore[arg-type]


def test_grpc_endpoint_with_a_path_is_refused() -> None:
    with pytest.raises(ValueError, match="no path"):
        normalize_endpoint("http://127.0.0.1:4317/v1/traces", "grpc")


def _event(scenario: Scenario) -> tuple[FailureEvent, BaseException | None]:
    if scenario.raise_failure is None:
        assert scenario.error_type is not None
        event = FailureEvent(
            "span_status", "svc", scenario.error_type, "", "", 1, None, None,
            attributes=dict(scenario.span_attributes), error_type=scenario.error_type,
        )  # fmt: skip
        return event, None
    context = FailureContext(
        SERVICES[0], "web_search", "https://api.example/v1/q", random.Random(5)
    )
    with pytest.raises(Exception) as caught:
        scenario.raise_failure(context)
    exc = caught.value
    from otel_failcat._exception_info import cause_types, format_stacktrace, qualified_type_name

    redactor = Redactor()
    event = FailureEvent(
        "span_event", "svc", qualified_type_name(type(exc)), redactor.message(str(exc)),
        redactor.stacktrace(format_stacktrace(exc, exc.__traceback__)), 1, None, None,
        attributes=dict(scenario.span_attributes), cause_types=tuple(cause_types(exc)),
    )  # fmt: skip
    return event, exc


@pytest.mark.parametrize("scenario", SCENARIOS + UNCATALOGED_SCENARIOS, ids=lambda s: s.name)
def test_each_scenario_matches_its_expected_code(scenario: Scenario) -> None:
    event, _ = _event(scenario)
    match = load_catalog().match(event)
    assert match.code == scenario.expected_code, match.reasons


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.raise_failure is not None], ids=lambda s: s.name
)
def test_library_frames_are_real_traceback_lines_left_out_of_the_fingerprint(
    scenario: Scenario,
) -> None:
    event, _ = _event(scenario)
    frames = in_app_frames(event.stacktrace)
    if "site-packages/" in event.stacktrace:
        assert not any("site-packages" in frame for frame in frames)
        assert "    raise error" in event.stacktrace  # linecache serves the library's lines
    assert any(frame.startswith("_scenarios.py:") for frame in frames)


def test_every_service_has_cataloged_scenarios_of_its_own_stack() -> None:
    for service in SERVICES:
        own = [s for s in scenarios_for(service) if s.family is not None]
        assert len(own) >= 4, service.name
        assert {s.family for s in own} <= set(service.families)
