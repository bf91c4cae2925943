"""``type=`` converters for the ``failcat`` flags: argparse refuses a value that does not parse.

Each converter raises :class:`argparse.ArgumentTypeError` with a reason fit to follow the flag's
name (``--count: 'ten' is not an integer``); :class:`~collector_receiver.cli._errors.CommandParser`
prints it as one line with exit status 2. Durations and times are
:mod:`collector_receiver.timeparse`'s, so the command and the query API accept the same words.
Ranges that belong to what a command builds (``TrafficSpec``'s counts, the store's page size) stay
with it, so the rule has one home.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from collector_receiver.timeparse import parse_duration, parse_time

__all__ = [
    "duration",
    "fraction",
    "integer",
    "number",
    "refusing",
    "time",
    "time_before",
    "whole_number",
]

T = TypeVar("T")


def refusing(parse: Callable[[str], T], name: str) -> Callable[[str], T]:
    """``parse`` as a converter: its :class:`ValueError` (a one-line reason) refuses the value.

    ``name`` is what argparse calls the converter in ``--help`` and error texts.
    """

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name
    return convert


def integer(text: str) -> int:
    """Any whole number, written in decimal (``-3``, ``0``, ``42``)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def whole_number(text: str) -> int:
    """Zero or more, digits only: ``-3`` and ``+3`` are refused."""
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(text)


def number(text: str) -> float:
    """A decimal number (``0.25``, ``50``)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def fraction(text: str) -> float:
    """A number from 0 to 1, both included."""
    value = number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be within [0, 1]")
    return value


#: A positive duration: ``30s``, ``15m``, ``24h``, ``7d``, ``2w``.
duration: Callable[[str], timedelta] = refusing(parse_duration, "duration")

#: An RFC 3339 time with an offset, or a duration back from the moment the value is read.
time: Callable[[str], datetime] = refusing(parse_time, "time")


def time_before(now: datetime) -> Callable[[str], datetime]:
    """:data:`time` with durations counted back from ``now``, one moment for several flags."""
    return refusing(lambda text: parse_time(text, now), "time")
