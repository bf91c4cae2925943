"""``--workers`` / ``FAILCAT_WORKERS``: default 1, the flag wins over the variable, and a count
out of range or not a number is refused with one line."""

from __future__ import annotations

import pytest

from collector_receiver.settings import MAX_WORKERS, ReceiverSettings, SettingsError


def test_default_is_one_process() -> None:
    assert ReceiverSettings.from_sources({}, {}).workers == 1


def test_flag_wins_over_the_variable() -> None:
    assert ReceiverSettings.from_sources({}, {"FAILCAT_WORKERS": "3"}).workers == 3
    assert ReceiverSettings.from_sources({"workers": "2"}, {"FAILCAT_WORKERS": "3"}).workers == 2


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({"workers": "0"}, {}, f"--workers: 0 is out of range (1 to {MAX_WORKERS})"),
        ({"workers": str(MAX_WORKERS + 1)}, {}, "--workers: 65 is out of range"),
        ({}, {"FAILCAT_WORKERS": "many"}, "FAILCAT_WORKERS: 'many' is not an integer"),
    ],
)
def test_bad_counts_are_refused_with_one_line(
    flags: dict[str, str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        ReceiverSettings.from_sources(flags, env)
    assert message in str(refused.value) and "\n" not in str(refused.value)
