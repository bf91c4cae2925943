"""``logging``: ERROR+ records that carry an exception are recorded on the current span; the
package's own and OpenTelemetry's loggers are ignored."""

from __future__ import annotations

import logging

from otel_failcat._internal_errors import INTERNAL_LOGGER_NAME
from tests.otel_failcat._helpers import Telemetry

log = logging.getLogger("tests.agent.logging")


def test_logger_exception_inside_a_span_is_recorded_there(instrumented: Telemetry) -> None:
    tracer = instrumented.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("agent.step"):
        try:
            raise TimeoutError("model call timed out")
        except TimeoutError:
            log.exception("step failed")

    ((span, attrs),) = instrumented.exception_events()
    assert span.name == "agent.step"
    assert attrs["exception.type"] == "TimeoutError"
    assert attrs["failcat.mechanism"] == "logging"
    assert attrs["failcat.handled"] is True


def test_critical_with_exc_info_counts_error_without_exc_info_does_not(
    instrumented: Telemetry,
) -> None:
    log.error("no exception here")
    try:
        raise ValueError("x")
    except ValueError:
        log.warning("below ERROR", exc_info=True)
        log.critical("critical with exc_info", exc_info=True)
    assert [a["exception.type"] for _, a in instrumented.exception_events()] == ["ValueError"]


def test_own_and_opentelemetry_loggers_are_ignored(instrumented: Telemetry) -> None:
    for name in (INTERNAL_LOGGER_NAME, "otel_failcat", "opentelemetry.sdk.trace.export"):
        try:
            raise RuntimeError(name)
        except RuntimeError:
            logging.getLogger(name).exception("exporter trouble")
    try:
        raise RuntimeError("a user logger whose name merely starts alike")
    except RuntimeError:
        logging.getLogger("opentelemetry_user_app").exception("counted")
    assert len(instrumented.exception_events()) == 1


def test_exc_info_given_as_an_exception_object(instrumented: Telemetry) -> None:
    exc = ValueError("passed directly")
    log.error("failed", exc_info=exc)
    ((_, attrs),) = instrumented.exception_events()
    assert attrs["exception.message"] == "passed directly"
