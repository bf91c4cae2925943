"""Times and durations as users type them, shared by the query API and the ``failcat`` command.

A *time* is either an RFC 3339 timestamp (``2026-11-28T10:00:00Z``, ``2026-11-28T11:00:00+01:00``)
or a duration back from now (``15m``, ``24h``, ``7d``). A *duration* is a positive whole number
followed by one unit: ``s`` (seconds), ``m`` (minutes), ``h`` (hours), ``d`` (days) or ``w``
(weeks). Timestamps without an offset are refused rather than guessed: a failure store spans time
zones and a silent local-time assumption would shift every window.

Every parser raises :class:`ValueError` whose message is one line fit to show a user, so callers can
prefix it with the name of the parameter or flag (``since: ...``). Every time returned is a
timezone-aware UTC :class:`~datetime.datetime`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["format_time", "parse_duration", "parse_time", "utc_now"]

_DURATION = re.compile(r"^([0-9]{1,9})([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# RFC 3339 section 5.6: full-date "T" full-time with a mandatory offset ("Z" or +hh:mm).
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
# timedelta cannot go beyond ~2.7 million years; refuse absurd durations with a clear reason.
_MAX_DURATION = timedelta(days=36500)


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def parse_duration(text: str) -> timedelta:
    """``"15m"`` -> 15 minutes. Zero, negative, unit-less or unknown units are refused."""
    value = text.strip()
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration (use a whole number and a unit s, m, h, d or w, e.g. 15m)"
        )
    amount = int(match.group(1))
    if amount == 0:
        raise ValueError(f"{text!r} is not a positive duration")
    seconds = amount * _UNIT_SECONDS[match.group(2)]
    # Compared as a number first: a timedelta of 999999999 weeks would overflow.
    if seconds > _MAX_DURATION.total_seconds():
        raise ValueError(f"{text!r} is longer than 100 years")
    return timedelta(seconds=seconds)


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """An RFC 3339 timestamp, or a duration meaning that long before ``now``; returned in UTC."""
    value = text.strip()
    if not value:
        raise ValueError("empty time (use an RFC 3339 timestamp or a duration such as 24h)")
    if _DURATION.match(value):
        reference = now if now is not None else utc_now()
        return (reference - parse_duration(value)).astimezone(timezone.utc)
    match = _RFC3339.match(value)
    if match is None:
        raise ValueError(
            f"{text!r} is neither an RFC 3339 time with an offset "
            "(e.g. 2026-11-28T10:00:00Z) nor a duration (e.g. 24h)"
        )
    fraction = match.group(7) or ""
    # datetime.fromisoformat before 3.11 accepts only 3 or 6 fractional digits and no "Z".
    micros = (fraction[1:] + "000000")[:6] if fraction else "000000"
    offset = match.group(8)
    try:
        if offset in ("Z", "z"):
            tz = timezone.utc
        else:
            sign = 1 if offset[0] == "+" else -1
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError("offset out of range")
            tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        parsed = datetime(
            int(match.group(1)),
            int(match.group(2)),
            int(match.group(3)),
            int(match.group(4)),
            int(match.group(5)),
            # RFC 3339 allows a leap second (60); Python cannot represent it, so clamp.
            min(int(match.group(6)), 59),
            int(micros),
            tzinfo=tz,
        )
        # At the ends of the calendar (year 1 or 9999) the shift to UTC can overflow.
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{text!r} is not a valid time: {exc}") from None


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix, e.g. ``2026-11-28T10:00:00.250000Z``.

    Naive datetimes are taken to be UTC already (that is how the store hands them back on
    backends without time zones).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
