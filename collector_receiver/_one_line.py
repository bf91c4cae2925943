"""Folding text onto one line, for the one-line reasons the receiver and its CLI print.

Every refusal of the receiver (a startup error, a store error, a catalog or YAML problem, an
OTLP decode error) is one line, fit for a log field, a CLI error or an HTTP body. Library
messages often are not (drivers, PyYAML and RE2 span several lines), so their whitespace runs,
newlines included, are folded into single spaces here. This module imports nothing of the
receiver, so the catalog, the store, the OTLP edge and the server can all use it.
"""

from __future__ import annotations


def one_line(text: object) -> str:
    """``str(text)`` with every run of whitespace (newlines too) folded into one space."""
    return " ".join(str(text).split())


__all__ = ["one_line"]
