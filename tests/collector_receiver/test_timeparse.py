"""Times and durations as users type them (``since=24h``, ``--now 2026-11-28T12:00:00Z``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from collector_receiver.timeparse import format_time, parse_duration, parse_time

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        (" 5m ", timedelta(minutes=5)),
    ],
)
def test_durations_in_every_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "m", "15", "15 m", "-5m", "0h", "1.5h", "5y", "h15", "1e3s"])
def test_malformed_durations_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    message = str(caught.value)
    assert "\n" not in message
    assert "duration" in message


@pytest.mark.parametrize("text", ["999999999d", "999999999w", "5300w"])
def test_absurdly_long_duration_is_refused(text: str) -> None:
    # 999999999 weeks is past what a timedelta holds: still the one-line ValueError.
    with pytest.raises(ValueError, match="100 years"):
        parse_duration(text)
    with pytest.raises(ValueError, match="100 years"):
        parse_time(text, NOW)


def test_duration_as_time_counts_back_from_now() -> None:
    assert parse_time("15m", NOW) == datetime(2026, 11, 28, 11, 45, tzinfo=timezone.utc)
    assert parse_time("7d", NOW) == datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28T10:00:00Z", datetime(2026, 11, 28, 10, tzinfo=timezone.utc)),
        ("2026-11-28t10:00:00z", datetime(2026, 11, 28, 10, tzinfo=timezone.utc)),
        ("2026-11-28T11:30:00+01:30", datetime(2026, 11, 28, 10, tzinfo=timezone.utc)),
        ("2026-11-28T05:00:00-05:00", datetime(2026, 11, 28, 10, tzinfo=timezone.utc)),
        (
            "2026-11-28T10:00:00.123456789Z",
            datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=timezone.utc),
        ),
        ("2026-11-28T10:00:00.5Z", datetime(2026, 11, 28, 10, 0, 0, 500000, tzinfo=timezone.utc)),
        ("2026-11-28 10:00:00Z", datetime(2026, 11, 28, 10, tzinfo=timezone.utc)),
    ],
)
def test_rfc3339_times_are_normalised_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_time(text, NOW)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-28T10:00:00",  # no offset: refused, never guessed as local time
        "2026-11-28",
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-28T25:00:00Z",
        "2026-11-28T10:00:00+24:00",
        "0001-01-01T00:00:00+01:00",  # before the first representable UTC instant
        "9999-12-31T23:59:59-01:00",  # after the last
        "",
    ],
)
def test_bad_times_are_refused_with_one_line(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_time(text, NOW)
    assert "\n" not in str(caught.value)


def test_format_time_is_rfc3339_utc_with_z() -> None:
    moment = datetime(2026, 11, 28, 11, 30, tzinfo=timezone(timedelta(hours=1)))
    assert format_time(moment) == "2026-11-28T10:30:00Z"
    assert format_time(datetime(2026, 11, 28, 10, 30)) == "2026-11-28T10:30:00Z"
    assert parse_time(format_time(NOW)) == NOW
