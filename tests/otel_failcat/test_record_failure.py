"""``record_failure``: one span event with the contract's attributes, where the failure happened."""

from __future__ import annotations

import pytest

from otel_failcat import record_failure
from otel_failcat._internal_errors import internal_error_count
from otel_failcat.fingerprint import compute_fingerprint
from tests.otel_failcat._helpers import SERVICE_NAME, Telemetry, global_providers, raise_and_catch


class ToolFailedError(RuntimeError):
    pass


def test_event_on_the_current_span_carries_every_attribute(instrumented: Telemetry) -> None:
    tracer = instrumented.tracer_provider.get_tracer("agent")
    exc = raise_and_catch(ToolFailedError("search tool returned 502"))
    with tracer.start_as_current_span("agent.step") as step:
        record_failure(exc, {"gen_ai.tool.name": "search", "agent.step": 3})

    ((span, attrs),) = instrumented.exception_events()
    assert span.name == "agent.step"
    assert span.context.span_id == step.get_span_context().span_id
    expected_type = f"{__name__}.ToolFailedError"
    assert attrs["exception.type"] == expected_type
    assert attrs["exception.message"] == "search tool returned 502"
    assert "ToolFailedError: search tool returned 502" in attrs["exception.stacktrace"]
    assert "raise_and_catch" in attrs["exception.stacktrace"]
    assert attrs["failcat.mechanism"] == "explicit"
    assert attrs["failcat.handled"] is True
    assert tuple(attrs["failcat.cause_types"]) == ()
    assert attrs["gen_ai.tool.name"] == "search"
    assert attrs["agent.step"] == 3
    assert attrs["failcat.fingerprint"] == compute_fingerprint(
        SERVICE_NAME, expected_type, attrs["exception.message"], attrs["exception.stacktrace"]
    )


def test_caller_attributes_cannot_overwrite_the_exception_attributes(
    instrumented: Telemetry,
) -> None:
    record_failure(raise_and_catch(ValueError("real")), {"exception.type": "Forged"})
    ((_, attrs),) = instrumented.exception_events()
    assert attrs["exception.type"] == "ValueError"


def test_without_a_current_span_a_failcat_span_is_made(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(ValueError("lonely")))
    ((span, attrs),) = instrumented.exception_events()
    assert span.name == "failcat.unhandled_exception"
    assert span.end_time is not None
    assert span.status.is_ok is False
    assert span.attributes is not None and span.attributes["error.type"] == "ValueError"
    assert attrs["exception.message"] == "lonely"


def test_an_exception_never_raised_has_no_traceback_but_is_recorded(
    instrumented: Telemetry,
) -> None:
    record_failure(KeyError("never raised"))
    ((_, attrs),) = instrumented.exception_events()
    assert attrs["exception.type"] == "KeyError"
    assert attrs["exception.stacktrace"].startswith("KeyError")


def test_the_cause_chain_is_recorded(instrumented: Telemetry) -> None:
    try:
        try:
            raise TimeoutError("upstream")
        except TimeoutError as cause:
            raise ToolFailedError("tool") from cause
    except ToolFailedError as exc:
        record_failure(exc)
    ((_, attrs),) = instrumented.exception_events()
    assert list(attrs["failcat.cause_types"]) == ["TimeoutError"]


def test_works_without_instrument_through_the_global_providers() -> None:
    telemetry = Telemetry.create()
    with global_providers(telemetry):
        record_failure(raise_and_catch(ValueError("global")))
    ((span, attrs),) = telemetry.exception_events()
    assert attrs["exception.message"] == "global"
    assert span.resource.attributes["service.name"] == SERVICE_NAME


def test_a_provider_without_service_name_fingerprints_as_unknown_service(
    instrumented: Telemetry,
) -> None:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from otel_failcat._recorder import FailureRecorder

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.get_empty())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    FailureRecorder(tracer_provider=provider).record(
        raise_and_catch(ValueError("x")), "explicit", handled=True
    )
    (span,) = exporter.get_finished_spans()
    attrs = dict(span.events[0].attributes or {})
    assert attrs["failcat.fingerprint"] == compute_fingerprint(
        "unknown_service", "ValueError", "x", attrs["exception.stacktrace"]
    )


@pytest.mark.parametrize("not_an_exception", [None, "boom", 42])
def test_a_wrong_argument_never_raises_and_is_counted(
    instrumented: Telemetry, not_an_exception: object
) -> None:
    before = internal_error_count()
    record_failure(not_an_exception)  # type: ignore[arg-type]
    assert internal_error_count() == before + 1
    assert instrumented.exception_events() == []
