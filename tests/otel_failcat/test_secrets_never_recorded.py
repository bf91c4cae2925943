"""Secrets are redacted from message and stacktrace before anything is attached."""

from __future__ import annotations

import pytest

from otel_failcat import record_failure, track
from tests.otel_failcat._helpers import Telemetry, raise_and_catch

FAKE_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0"


def test_an_api_key_in_the_message_never_reaches_the_event(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(PermissionError(f"401: invalid api key {FAKE_KEY}")))
    ((_, attrs),) = instrumented.exception_events()
    assert FAKE_KEY not in attrs["exception.message"]
    assert FAKE_KEY not in attrs["exception.stacktrace"]
    assert "[REDACTED:" in attrs["exception.message"]


def test_an_api_key_in_a_local_line_of_the_traceback_is_redacted(
    instrumented: Telemetry,
) -> None:
    with pytest.raises(RuntimeError):
        with track("call"):
            raise RuntimeError("auth with Bearer " + FAKE_KEY)
    ((_, attrs),) = instrumented.exception_events()
    for value in attrs.values():
        assert FAKE_KEY not in str(value)


@pytest.mark.parametrize("agent_environment", [{"FAILCAT_MAX_MESSAGE_LENGTH": "64"}])
def test_messages_are_capped(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(ValueError("x" * 10_000)))
    ((_, attrs),) = instrumented.exception_events()
    assert len(attrs["exception.message"]) <= 64


@pytest.mark.parametrize("agent_environment", [{"FAILCAT_REDACTION_ENABLED": "maybe"}])
def test_invalid_redaction_settings_keep_redaction_on(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(ValueError(f"key {FAKE_KEY}")))
    ((_, attrs),) = instrumented.exception_events()
    assert FAKE_KEY not in attrs["exception.message"]
