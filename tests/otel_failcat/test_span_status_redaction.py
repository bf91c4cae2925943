"""ERROR statuses the SDK sets from an exception's message are redacted like the event itself."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.trace import Status, StatusCode

from otel_failcat import FailcatInstrumentor
from tests.otel_failcat._helpers import Telemetry

FAKE_KEY = "sk-proj-" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2H1g0"


def _fail_through_spans(telemetry: Telemetry) -> None:
    tracer = telemetry.tracer_provider.get_tracer("agent")
    with pytest.raises(RuntimeError):
        with tracer.start_as_current_span("outer"):
            with tracer.start_as_current_span("inner"):
                raise RuntimeError(f"upstream refused key {FAKE_KEY}")


def test_escaping_exception_leaves_no_secret_in_any_status(instrumented: Telemetry) -> None:
    _fail_through_spans(instrumented)
    spans = instrumented.finished_spans()
    assert [span.name for span in spans] == ["inner", "outer"]
    for span in spans:
        assert span.status.status_code is StatusCode.ERROR
        description = span.status.description or ""
        assert FAKE_KEY not in description
        assert description.startswith("RuntimeError: upstream refused key [REDACTED:")


def test_without_instrumentation_the_sdk_status_carries_the_raw_message(
    telemetry: Telemetry,
) -> None:
    # The control: what the hook exists to prevent.
    _fail_through_spans(telemetry)
    assert all(FAKE_KEY in (s.status.description or "") for s in telemetry.finished_spans())


@pytest.mark.parametrize("how", ["status_object", "code_and_description"])
def test_explicit_error_status_is_redacted(instrumented: Telemetry, how: str) -> None:
    tracer = instrumented.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("call") as span:
        if how == "status_object":
            span.set_status(Status(StatusCode.ERROR, f"auth failed for {FAKE_KEY}"))
        else:
            span.set_status(StatusCode.ERROR, f"auth failed for {FAKE_KEY}")
    (finished,) = instrumented.finished_spans()
    assert finished.status.status_code is StatusCode.ERROR
    assert finished.status.description is not None
    assert FAKE_KEY not in finished.status.description
    assert finished.status.description.startswith("auth failed for [REDACTED:")


def test_ok_and_plain_error_statuses_pass_untouched(instrumented: Telemetry) -> None:
    tracer = instrumented.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("ok") as span:
        span.set_status(Status(StatusCode.OK))
    with tracer.start_as_current_span("plain") as span:
        span.set_status(StatusCode.ERROR)
    ok, plain = instrumented.finished_spans()
    assert ok.status.status_code is StatusCode.OK
    assert plain.status.status_code is StatusCode.ERROR
    assert plain.status.description is None


def test_uninstrument_restores_set_status_by_identity(telemetry: Telemetry) -> None:
    original = SdkSpan.__dict__["set_status"]
    instrumentor = FailcatInstrumentor()
    instrumentor.instrument(**telemetry.providers())
    assert SdkSpan.__dict__["set_status"] is not original
    instrumentor.uninstrument()
    assert SdkSpan.__dict__["set_status"] is original


def test_disabled_by_name(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAILCAT_DISABLED_HOOKS", "set_status")
    original = SdkSpan.__dict__["set_status"]
    instrumentor = FailcatInstrumentor()
    instrumentor.instrument(**telemetry.providers())
    try:
        assert SdkSpan.__dict__["set_status"] is original
    finally:
        instrumentor.uninstrument()


def test_a_changed_redaction_setting_applies_to_a_description_seen_before(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    instrumentor = FailcatInstrumentor()
    tracer = telemetry.tracer_provider.get_tracer("agent")
    description = "tool failed for customer ACME-4711"
    instrumentor.instrument(**telemetry.providers())
    try:
        with tracer.start_as_current_span("first") as span:
            span.set_status(StatusCode.ERROR, description)
    finally:
        instrumentor.uninstrument()
    # Settings are read by instrument(): the changed one applies from the next one on.
    monkeypatch.setenv("FAILCAT_REDACTION_EXTRA_PATTERNS", r"ACME-\d+")
    instrumentor.instrument(**telemetry.providers())
    try:
        with tracer.start_as_current_span("second") as span:
            span.set_status(StatusCode.ERROR, description)
    finally:
        instrumentor.uninstrument()
    first, second = telemetry.finished_spans()
    assert first.status.description == description
    assert second.status.description is not None
    assert "ACME-4711" not in second.status.description


@pytest.mark.parametrize(
    ("description", "secret"),
    [
        ("stripe refused sk_live_FAKE0123456789abcdefABCDEF", "FAKE0123456789abcdefABCDEF"),
        ("ProgrammingError: ALTER ROLE a PASSWORD 'FAKEsql0123'", "FAKEsql0123"),
        ("403 for https://b.example/k?X-Amz-Signature=FAKEsig0123456789", "FAKEsig0123456789"),
        ('{"key": "-----BEGIN PRIVATE KEY-----\\nMIIEvFAKEfake0123\\n"}', "MIIEvFAKEfake0123"),
    ],
)
def test_newer_kinds_are_redacted_from_error_statuses(
    instrumented: Telemetry, description: str, secret: str
) -> None:
    tracer = instrumented.tracer_provider.get_tracer("agent")
    with tracer.start_as_current_span("call") as span:
        span.set_status(StatusCode.ERROR, description)
    (finished,) = instrumented.finished_spans()
    assert finished.status.description is not None
    assert secret not in finished.status.description
    assert "[REDACTED:" in finished.status.description
