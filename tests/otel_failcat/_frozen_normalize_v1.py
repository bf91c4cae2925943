"""FROZEN copy of otel_failcat.normalize of the failcat.fp.v1 recipe, from before its speed-ups.

Kept only to prove that the package still gives byte-identical results
(test_template_and_fingerprint_equal_frozen_v1.py); never edit it to follow the package.
"""

from __future__ import annotations

import functools
import re

__all__ = ["MAX_TEMPLATE_INPUT", "PLACEHOLDERS", "message_template"]

#: Characters of a message considered by :func:`message_template`; the rest is dropped.
MAX_TEMPLATE_INPUT = 16384

_MAX_PASSES = 4

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_H16 = r"[0-9a-fA-F]{1,4}"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
# A relative path must end in a file extension; the extension is checked by fixed-width
# lookbehinds (Python needs fixed width) right after the last segment.
_EXT_END = "(?:" + "|".join(rf"(?<=\.[A-Za-z][A-Za-z0-9]{{{n}}})" for n in range(6)) + ")"
_WIN_SEG_SPACED = r"[^\\/:*?\"<>|\r\n]{1,255}"
_WIN_SEG = r"[^\\/:*?\"<>|\s]{1,255}"

# (placeholder, pattern); the order is the priority among matches starting at the same place.
_RULES: tuple[tuple[str, str], ...] = (
    (
        "str",
        r"(?<![A-Za-z0-9>])'[^'\n]{0,512}'(?![A-Za-z0-9<])"
        r"|(?<![A-Za-z0-9>])\"[^\"\\\n]{0,512}(?:\\.[^\"\\\n]{0,512}){0,8}\"(?![A-Za-z0-9<])",
    ),
    (
        "url",
        r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s'\"<>`]{0,2047}[^\s'\"<>`.,;:!?)\]}]",
    ),
    (
        "timestamp",
        r"(?<![A-Za-z0-9])\d{4}-[01]\d-[0-3]\d[Tt ][0-2]\d:[0-5]\d(?::[0-5]\d(?:[.,]\d{1,9})?)?"
        r"(?:[Zz]|[+-][0-2]\d:?[0-5]\d)?(?!\d)"
        rf"|(?<![A-Za-z0-9]){_DAY}, [0-3]?\d {_MONTH} \d{{4}} [0-2]\d:[0-5]\d:[0-5]\d"
        r" (?:GMT|UTC|[+-]\d{4})",
    ),
    ("date", r"(?<![A-Za-z0-9])\d{4}-[01]\d-[0-3]\d(?!\d)"),
    ("time", r"(?<![\d:])[0-2]\d:[0-5]\d:[0-5]\d(?:[.,]\d{1,9})?(?![\d:])"),
    (
        "uuid",
        r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
        r"-[0-9a-fA-F]{12}(?![0-9A-Za-z])",
    ),
    (
        "email",
        r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}"
        r"(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])",
    ),
    (
        "ip",
        rf"(?<![A-Za-z0-9.]){_OCTET}(?:\.{_OCTET}){{3}}(?![A-Za-z0-9]|\.\d)"
        rf"|(?<![A-Za-z0-9:]){_H16}(?::{_H16}){{7}}(?![A-Za-z0-9:])"
        rf"|(?<![A-Za-z0-9:]){_H16}(?::{_H16}){{0,6}}::(?:{_H16}(?::{_H16}){{0,6}})?"
        rf"(?:\.{_OCTET}){{0,3}}(?![A-Za-z0-9:])"
        rf"|(?<![A-Za-z0-9:])::{_H16}(?::{_H16}){{0,6}}(?:\.{_OCTET}){{0,3}}(?![A-Za-z0-9:])",
    ),
    (
        "path",
        # POSIX absolute (or ~ ./ ../ relative)
        r"(?<![A-Za-z0-9_.~/\\:-])(?:~|\.{1,2})?(?:/[A-Za-z0-9_.@+%~-]{1,255}){1,64}/?"
        # relative with an extension: src/app/main.py
        r"|(?<![A-Za-z0-9_.~/\\:-])[A-Za-z0-9_-][A-Za-z0-9_.-]{0,254}(?:/[A-Za-z0-9_.-]{1,255}){1,63}"
        + _EXT_END
        + r"(?![A-Za-z0-9_./-])"
        # Windows drive or UNC; segments may hold spaces only when another segment follows
        + r"|(?<![A-Za-z0-9\\])(?:[A-Za-z]:(?=\\)|\\\\[A-Za-z0-9_.$-]{1,255})"
        + rf"(?:\\{_WIN_SEG_SPACED}(?=\\))*(?:\\{_WIN_SEG})?\\?",
    ),
    (
        "hex",
        r"(?<![0-9A-Za-z])0[xX][0-9a-fA-F]{1,64}(?![0-9A-Za-z])"
        r"|(?<![0-9A-Za-z])(?=[0-9a-fA-F]{0,127}[a-fA-F])(?=[0-9a-fA-F]{0,127}\d)"
        r"[0-9a-fA-F]{8,128}(?![0-9A-Za-z])",
    ),
    ("version", r"(?<![A-Za-z0-9.])[vV]?\d+(?:\.\d+){2,}(?![0-9]|\.\d)"),
    ("float", r"(?<![A-Za-z0-9.])-?\d+\.\d+(?:[eE][+-]?\d+)?(?![0-9]|\.\d)"),
    ("int", r"(?<![A-Za-z0-9.])-?\d+(?![0-9]|\.\d)"),
)

#: Every placeholder :func:`message_template` can produce.
PLACEHOLDERS: tuple[str, ...] = tuple(f"<{name}>" for name, _ in _RULES)

# No rule starts on whitespace, and every rule that can start on a letter or digit requires a word
# start there, so whitespace and positions inside a word are rejected by one cheap guard instead
# of by each of the alternatives in turn (several times faster on ordinary text).
_WORD_START_OR_SYMBOL = r"(?=\S)(?:(?<![A-Za-z0-9])|(?![A-Za-z0-9]))"
_COMBINED = re.compile(
    _WORD_START_OR_SYMBOL
    + "(?:"
    + "|".join(f"(?P<{name}>{pattern})" for name, pattern in _RULES)
    + ")"
)
_WHITESPACE = re.compile(r"\s+")


def _placeholder(match: re.Match[str]) -> str:
    return f"<{match.lastgroup}>"


# Templates are pure and messages repeat (the receiver templates a message for its row and again
# for its fingerprint; one failure kind recurs), so recent results are kept, keyed by the exact
# message. Only short messages are cached, which bounds the memory held.
_CACHE_SIZE = 512
_MAX_CACHED_CHARS = 4096


def message_template(message: str) -> str:
    """Return ``message`` with its variable parts replaced by typed placeholders.

    Deterministic and idempotent; never raises on a ``str`` argument.
    """
    # Exactly str: a subclass may define equality or hashing differently from its text.
    if type(message) is str and len(message) <= _MAX_CACHED_CHARS:
        return _cached_template(message)
    return _template(message)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _cached_template(message: str) -> str:
    return _template(message)


def _template(message: str) -> str:
    text = _WHITESPACE.sub(" ", message[:MAX_TEMPLATE_INPUT]).strip()
    for _ in range(_MAX_PASSES):
        templated = _COMBINED.sub(_placeholder, text)
        if templated == text:
            break
        text = templated
    return text
