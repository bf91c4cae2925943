"""Recording a failure never recurses, whatever fails while it records."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from otel_failcat import _internal_errors, record_failure
from otel_failcat._guard import is_recording
from otel_failcat._internal_errors import INTERNAL_LOGGER_NAME, internal_error_count
from otel_failcat.redaction import Redactor
from tests.otel_failcat._helpers import Telemetry, raise_and_catch


class LoudExporterProcessor(SpanProcessor):
    """A processor that, like a flaky exporter, logs a fresh exception at ERROR on every span."""

    def __init__(self) -> None:
        self.calls = 0
        self.guarded: list[bool] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.calls += 1
        self.guarded.append(is_recording())
        try:
            raise ConnectionError(f"export failed #{self.calls}")
        except ConnectionError:
            logging.getLogger("vendor.exporter").exception("could not export")


def test_an_exporter_logging_errors_while_recording_does_not_recurse(
    instrumented: Telemetry,
) -> None:
    processor = LoudExporterProcessor()
    instrumented.tracer_provider.add_span_processor(processor)

    record_failure(raise_and_catch(ValueError("the real failure")))

    events = instrumented.exception_events()
    # The failure itself, once. The exporter's own error, raised while recording, is not
    # recorded (that would recurse without end): only its span's on_end ran, inside the guard.
    assert [a["exception.message"] for _, a in events] == ["the real failure"]
    assert processor.calls == 1
    assert processor.guarded == [True]
    assert not is_recording()


def test_a_redaction_bug_is_swallowed_logged_once_and_counted(
    instrumented: Telemetry, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: Any, text: str) -> str:
        raise RuntimeError("redactor bug")

    monkeypatch.setattr(Redactor, "message", broken)
    monkeypatch.setattr(_internal_errors, "_logged_places", set())  # as in a fresh process
    before = internal_error_count()
    with caplog.at_level(logging.WARNING, logger=INTERNAL_LOGGER_NAME):
        record_failure(raise_and_catch(ValueError("one")))
        record_failure(raise_and_catch(ValueError("two")))

    assert internal_error_count() == before + 2
    assert instrumented.exception_events() == []
    assert not is_recording()
    (logged,) = [r for r in caplog.records if r.name == INTERNAL_LOGGER_NAME]  # once
    assert logged.levelno == logging.WARNING
    assert "recording a failure (explicit)" in logged.getMessage()
    assert logged.exc_info is not None and "redactor bug" in str(logged.exc_info[1])
