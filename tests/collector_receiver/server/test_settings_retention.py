"""``--retention`` / ``--retention-interval`` (and their variables): off by default, durations of
the shared parser, an interval of at most an hour and only with a retention; one line otherwise."""

from __future__ import annotations

from datetime import timedelta

import pytest

from collector_receiver.settings import ReceiverSettings, SettingsError


def test_default_keeps_everything_and_would_prune_hourly() -> None:
    settings = ReceiverSettings.from_sources({}, {})

    assert settings.retention is None
    assert settings.retention_interval == timedelta(hours=1)


def test_flags_win_over_the_variables() -> None:
    env = {"FAILCAT_RETENTION": "90d", "FAILCAT_RETENTION_INTERVAL": "30m"}

    from_env = ReceiverSettings.from_sources({}, env)
    from_flags = ReceiverSettings.from_sources(
        {"retention": "2w", "retention_interval": "10m"}, env
    )

    assert (from_env.retention, from_env.retention_interval) == (
        timedelta(days=90),
        timedelta(minutes=30),
    )
    assert (from_flags.retention, from_flags.retention_interval) == (
        timedelta(weeks=2),
        timedelta(minutes=10),
    )


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({"retention": "30"}, {}, "--retention: '30' is not a duration"),
        ({"retention": "0d"}, {}, "--retention: '0d' is not a positive duration"),
        ({}, {"FAILCAT_RETENTION": "1 month"}, "FAILCAT_RETENTION: '1 month' is not a duration"),
        (
            {"retention": "30d", "retention_interval": "2h"},
            {},
            "--retention-interval: longer than 1h",
        ),
        (
            {"retention": "30d"},
            {"FAILCAT_RETENTION_INTERVAL": "1d"},
            "FAILCAT_RETENTION_INTERVAL: longer than 1h",
        ),
        ({"retention": "30d", "retention_interval": "-5m"}, {}, "--retention-interval: '-5m'"),
        ({"retention_interval": "10m"}, {}, "--retention-interval needs --retention"),
    ],
)
def test_bad_values_are_refused_with_one_line(
    flags: dict[str, str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        ReceiverSettings.from_sources(flags, env)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_built_directly_the_same_bounds_hold() -> None:
    with pytest.raises(SettingsError, match="at least hourly"):
        ReceiverSettings(retention=timedelta(days=1), retention_interval=timedelta(hours=2))
    with pytest.raises(SettingsError, match="positive"):
        ReceiverSettings(retention=timedelta(0))


def test_failcat_serve_refuses_a_bad_retention_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from collector_receiver.cli import main

    status = main(["serve", "--retention", "forever"])

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("failcat serve: --retention: 'forever' is not a duration")
    assert err.count("\n") == 1
