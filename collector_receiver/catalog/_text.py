"""Quoting user text (patterns, type names, values) inside one-line messages and reasons."""

from __future__ import annotations


def quote(value: object, limit: int = 120) -> str:
    """``'text'`` for printable strings (backslashes of regexes stay single), ``repr`` for other
    strings and values, cut to about ``limit`` characters so a line stays readable."""
    text = f"'{value}'" if isinstance(value, str) and value.isprintable() else repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"
