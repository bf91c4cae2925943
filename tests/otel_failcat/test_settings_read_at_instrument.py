"""``instrument()`` reads the settings once and hands them to the recorder and the hooks; the
explicit API without ``instrument()`` reads them when it records, as it always has."""

from __future__ import annotations

import pytest

from otel_failcat import FailcatInstrumentor, record_failure
from tests.otel_failcat._helpers import Telemetry, global_providers, raise_and_catch

LONG = "x" * 10_000


def _message_lengths(telemetry: Telemetry) -> list[int]:
    return [len(str(attrs["exception.message"])) for _, attrs in telemetry.exception_events()]


def test_a_variable_changed_after_instrument_applies_from_the_next_instrument(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    instrumentor = FailcatInstrumentor()
    instrumentor.instrument(**telemetry.providers())
    try:
        monkeypatch.setenv("FAILCAT_MAX_MESSAGE_LENGTH", "64")
        record_failure(raise_and_catch(ValueError(LONG)))  # the cap read at instrument(): 4096
    finally:
        instrumentor.uninstrument()
    instrumentor.instrument(**telemetry.providers())
    try:
        record_failure(raise_and_catch(ValueError(LONG)))
    finally:
        instrumentor.uninstrument()
    first, second = _message_lengths(telemetry)
    assert 64 < first <= 4096
    assert second <= 64


def test_the_signal_opt_in_is_read_at_instrument(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs")
    instrumentor = FailcatInstrumentor()
    instrumentor.instrument(**telemetry.providers())
    try:
        monkeypatch.delenv("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN")
        record_failure(raise_and_catch(ValueError("as a log record")))
    finally:
        instrumentor.uninstrument()
    assert telemetry.exception_events() == []
    assert len(telemetry.log_records()) == 1


def test_without_instrument_the_variables_are_read_when_a_failure_is_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    telemetry = Telemetry.create()
    with global_providers(telemetry):
        monkeypatch.setenv("FAILCAT_MAX_MESSAGE_LENGTH", "64")
        record_failure(raise_and_catch(ValueError(LONG)))
        monkeypatch.setenv("FAILCAT_MAX_MESSAGE_LENGTH", "128")
        record_failure(raise_and_catch(ValueError(LONG)))
    first, second = _message_lengths(telemetry)
    assert first <= 64 < second <= 128
