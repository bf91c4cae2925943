"""``--read-timeout`` and ``--idle-timeout`` (env ``FAILCAT_READ_TIMEOUT``,
``FAILCAT_IDLE_TIMEOUT``): seconds, default 30 and 60 (CONTRACT §4 r2), fractions allowed, flags
over the environment, and anything but a positive finite number refused with one line naming the
flag or variable."""

from __future__ import annotations

import pytest

from collector_receiver.settings import ReceiverSettings, SettingsError


def test_defaults_follow_the_contract() -> None:
    settings = ReceiverSettings.from_sources({}, {})
    assert (settings.read_timeout, settings.idle_timeout) == (30.0, 60.0)


def test_environment_is_read_and_flags_win() -> None:
    env = {"FAILCAT_READ_TIMEOUT": "2.5", "FAILCAT_IDLE_TIMEOUT": "7"}
    assert ReceiverSettings.from_sources({}, env).read_timeout == 2.5
    assert ReceiverSettings.from_sources({}, env).idle_timeout == 7.0
    flagged = ReceiverSettings.from_sources({"read_timeout": "0.5", "idle_timeout": "1"}, env)
    assert (flagged.read_timeout, flagged.idle_timeout) == (0.5, 1.0)


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({"read_timeout": "0"}, {}, "--read-timeout: '0' is not a positive number of seconds"),
        ({"idle_timeout": "-1"}, {}, "--idle-timeout: '-1' is not a positive number of seconds"),
        ({}, {"FAILCAT_IDLE_TIMEOUT": "1m"}, "FAILCAT_IDLE_TIMEOUT: '1m' is not a number of"),
        ({}, {"FAILCAT_READ_TIMEOUT": "nan"}, "FAILCAT_READ_TIMEOUT: 'nan' is not a positive"),
        ({"read_timeout": "inf"}, {}, "--read-timeout: 'inf' is not a positive number"),
    ],
)
def test_bad_values_are_refused_with_one_line(
    flags: dict[str, str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        ReceiverSettings.from_sources(flags, env)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


def test_the_dataclass_refuses_them_too() -> None:
    with pytest.raises(SettingsError, match="--idle-timeout: 0"):
        ReceiverSettings(idle_timeout=0)
