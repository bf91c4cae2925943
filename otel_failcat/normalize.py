"""Message templates: an error message with its variable parts replaced by typed placeholders.

``message_template("Timeout after 30s calling https://api.example.com/v1 for 'alice'")`` gives
``"Timeout after <int>s calling <url> for <str>"``. Two occurrences of the same failure that differ
only in ids, numbers, hosts, paths or quoted values get the same template, so the template (and the
fingerprint built from it, see :mod:`otel_failcat.fingerprint`) groups them into one pattern.

Placeholders, in the order they are tried where two could start at the same character:

==================  ==============================================================================
``<str>``           a quoted string: ``'...'`` or ``"..."`` (≤ 512 characters, one line). An opening
                    quote must not follow a letter or digit, so apostrophes (``can't``) are kept.
``<url>``           ``scheme://...`` up to whitespace or a quote; trailing punctuation stays.
``<timestamp>``     ISO 8601 / RFC 3339 date-times (``2024-05-01T12:00:00.123Z``, with a space
                    instead of ``T``, with offsets) and HTTP dates
                    (``Sat, 28 Nov 2026 10:55:37 GMT``).
``<date>``          an ISO 8601 calendar date alone (``2024-05-01``).
``<time>``          a time of day alone (``10:55:37``, ``10:55:37.123``).
``<uuid>``          ``8-4-4-4-12`` hex digits.
``<email>``         ``local@domain.tld``.
``<ip>``            IPv4 (each octet ≤ 255) and IPv6 (full or ``::``-compressed) addresses.
``<path>``          absolute POSIX paths (``/var/log/x``, ``~/x``, ``./x``, ``../x``), relative
                    paths with a file extension (``src/app/main.py``) and Windows paths (``C:\\x``,
                    ``\\\\server\\share``).
``<hex>``           ``0x``-prefixed hex, or ≥ 8 hex digits holding both a digit and a letter a-f
                    (trace ids, hashes, memory addresses); all-digit runs are ``<int>``.
``<version>``       three or more dot-separated numbers (``1.2.3``, ``v2.0.1``).
``<float>``         ``1.5``, ``-0.25``, ``6.02e23``.
``<int>``           a run of digits (with a leading ``-``) not glued to a letter before it: ``HTTP
                    429`` → ``HTTP <int>``, ``30s`` → ``<int>s``, but ``gpt4`` and ``v2`` stay.
==================  ==============================================================================

Runs of whitespace become one space and the ends are stripped. The input is cut to
:data:`MAX_TEMPLATE_INPUT` characters first, which bounds the time spent on pathological input.
All patterns are written so that Python's backtracking engine stays linear on them (bounded
repetitions, no nested quantifiers over overlapping classes).

The function is idempotent: ``message_template(message_template(m)) == message_template(m)``.
Replacing a value can make its neighbours look different (a quote that followed a digit now
follows ``>``), so the substitution is repeated until nothing changes (at most
:data:`_MAX_PASSES` passes; two in practice).

Each placeholder's match holds at least one character of a cheap needle (a quote, ``://``, a
digit, ``-``, ``@``, ``:``, ``/`` or ``\\``), and replacing values never creates a needle, so the
rules whose needles the text lacks are left out of each pass: most messages hold no path, URL,
email or quote, the second pass rarely meets a digit, and a text without any needle is not
scanned at all. The result is the same as with every rule.

The template is part of the fingerprint recipe (CONTRACT §5): changing these rules changes
fingerprints, so they are versioned with :data:`otel_failcat.fingerprint.FINGERPRINT_VERSION`.
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
_WHITESPACE = re.compile(r"\s+")

# What each rule's match must hold (a match is a substring of the text, so a rule whose needle
# the text lacks cannot match anywhere). ``\d`` as in the rules: Unicode digits count.
_DIGIT = re.compile(r"\d")
_NEEDS_DIGIT = frozenset({"timestamp", "date", "time", "hex", "version", "float", "int"})


def _needed_rules(text: str) -> tuple[str, ...]:
    """The names of the rules that can match somewhere in ``text``, in priority order."""
    digit = _DIGIT.search(text) is not None
    present = {
        "str": "'" in text or '"' in text,
        "url": "://" in text,
        "uuid": "-" in text,
        "email": "@" in text,
        "ip": digit or ":" in text,
        "path": "/" in text or "\\" in text,
    }
    return tuple(name for name, _ in _RULES if (digit if name in _NEEDS_DIGIT else present[name]))


# One compiled scan per set of rules met; at most 2**7 sets exist (one per combination of the
# needles above), a handful in practice.
@functools.cache
def _combined(names: tuple[str, ...]) -> re.Pattern[str]:
    patterns = dict(_RULES)
    return re.compile(
        _WORD_START_OR_SYMBOL
        + "(?:"
        + "|".join(f"(?P<{name}>{patterns[name]})" for name in names)
        + ")"
    )


def _placeholder(match: re.Match[str]) -> str:
    return f"<{match.lastgroup}>"


# Templates are pure and messages without variable parts repeat (one failure kind recurs:
# "Connection error."), so recent results are kept, keyed by the exact message. Only short
# messages are cached, which bounds the memory held.
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
        # Chosen again each pass: the values replaced took their needles with them, so a later
        # pass usually scans with fewer rules (often none).
        names = _needed_rules(text)
        if not names:
            break
        templated = _combined(names).sub(_placeholder, text)
        if templated == text:
            break
        text = templated
    return text
