"""Environment settings of the agent side: defaults, parsing, one-line errors."""

from __future__ import annotations

import pytest

from otel_failcat._settings import (
    AgentSettings,
    disabled_hooks,
    flush_timeout_millis,
    signal_mode,
)


def test_flush_timeout() -> None:
    assert flush_timeout_millis({}) == 2000
    assert flush_timeout_millis({"FAILCAT_FLUSH_TIMEOUT_MILLIS": " 250 "}) == 250
    assert flush_timeout_millis({"FAILCAT_FLUSH_TIMEOUT_MILLIS": "0"}) == 0
    with pytest.raises(ValueError, match="FAILCAT_FLUSH_TIMEOUT_MILLIS='soon' is not an integer"):
        flush_timeout_millis({"FAILCAT_FLUSH_TIMEOUT_MILLIS": "soon"})
    with pytest.raises(ValueError, match="must not be negative"):
        flush_timeout_millis({"FAILCAT_FLUSH_TIMEOUT_MILLIS": "-1"})


def test_signal_mode() -> None:
    assert signal_mode({}) == "span"
    assert signal_mode({"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs"}) == "logs"
    assert signal_mode({"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "LOGS/dup"}) == "dup"
    assert signal_mode({"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "other, logs"}) == "logs"
    assert signal_mode({"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "nope"}) == "span"


def test_disabled_hooks() -> None:
    assert disabled_hooks({}) == frozenset()
    assert disabled_hooks({"FAILCAT_DISABLED_HOOKS": "Logging, threading,"}) == {
        "logging",
        "threading",
    }
    with pytest.raises(ValueError) as info:
        disabled_hooks({"FAILCAT_DISABLED_HOOKS": "logging,stdout"})
    assert str(info.value) == (
        "FAILCAT_DISABLED_HOOKS names unknown hooks stdout; "
        "known: excepthook, threading, asyncio, logging, record_exception, set_status"
    )


def test_a_bad_setting_does_not_stop_instrumenting(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import sys

    from otel_failcat import FailcatInstrumentor

    monkeypatch.setenv("FAILCAT_FLUSH_TIMEOUT_MILLIS", "soon")
    monkeypatch.setenv("FAILCAT_DISABLED_HOOKS", "bogus")
    before = sys.excepthook
    FailcatInstrumentor().instrument()
    try:
        assert sys.excepthook is not before
    finally:
        FailcatInstrumentor().uninstrument()
    messages = [r.getMessage() for r in caplog.records if r.name == "otel_failcat"]
    assert any("is not an integer" in m for m in messages)
    assert any("unknown hooks bogus" in m for m in messages)


def test_agent_settings_parse_every_variable_once() -> None:
    settings = AgentSettings.from_env(
        {
            "FAILCAT_MAX_MESSAGE_LENGTH": "64",
            "FAILCAT_REDACTION_ENABLED": "false",
            "FAILCAT_FLUSH_TIMEOUT_MILLIS": "250",
            "FAILCAT_DISABLED_HOOKS": "logging",
            "OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs/dup",
        }
    )
    assert settings.redactor.settings.max_message_length == 64
    assert settings.redactor.settings.enabled is False
    assert (settings.flush_timeout_millis, settings.disabled_hooks) == (250, {"logging"})
    assert settings.signal_mode == "dup"


def test_agent_settings_fall_back_one_setting_at_a_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = AgentSettings.from_env(
        {"FAILCAT_REDACTION_ENABLED": "maybe", "FAILCAT_FLUSH_TIMEOUT_MILLIS": "250"}
    )
    assert settings.redactor.settings.enabled is True  # a typo never turns redaction off
    assert settings.flush_timeout_millis == 250
    (message,) = [r.getMessage() for r in caplog.records if r.name == "otel_failcat"]
    assert "FAILCAT_REDACTION_ENABLED" in message and "redacting with the defaults" in message
