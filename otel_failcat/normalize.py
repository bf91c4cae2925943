"""Message templates: an error message with its variable parts replaced by typed placeholders.

``message_template("Timeout after 30s calling https://api.example.com/v1 for 'alice'")`` gives
``"Timeout after <num>s calling <url> for <str>"``. Two occurrences of the same failure that differ
only in ids, numbers, hosts, paths or quoted values get the same template, so the template (and the
fingerprint built from it, see :mod:`otel_failcat.fingerprint`) groups them into one pattern.
One kind of variable part gives one placeholder whatever its shape: ``in 3s`` and ``in 1.4s`` are
both ``in <num>s``; ``req_0123456789`` and ``req_8f3a9c1d2e`` are both ``req_<id>``.

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
``<hex>``           ``0x``-prefixed hex (memory addresses, flags).
``<id>``            an id, whatever its alphabet. With a prefix, which is kept because it says what
                    the id is: one to four name segments joined by ``_`` or ``-``, then a body of
                    ≥ 6 letters and digits holding a digit (``req_<id>``, ``call_<id>``,
                    ``msg_<id>``, ``chatcmpl-<id>``, ``toolu_<id>``, ``org-<id>``), or of ≥ 12
                    letters with a lowercase letter before an uppercase one (base62 without a
                    digit). Without a prefix: ≥ 8 hex digits, or ≥ 16 letters and digits holding two
                    digits; either with a digit right after a letter somewhere (trace ids, hashes,
                    ULIDs, base62 ids), so ``12345678d`` stays a number with its unit.
``<num>``           a number whatever its shape: ``429``, ``-5``, ``1.4``, ``6.02e23``, ``1.2.3``,
                    ``v2.0.1``. Letters written after it stay (its unit): ``3s`` and ``1.4s`` are
                    both ``<num>s``, ``250ms`` is ``<num>ms``.
==================  ==============================================================================

What stays as written: words with digits (``gpt4``, ``v2``, ``utf8``, ``http2``, ``base64``,
``sha256``, ``python3.11``, ``T5ForConditionalGeneration``), and names joined by hyphens or
underscores, digits and all (``utf-8``, ``x86_64``, ``max_tokens``, ``worker-17``). Model names are
such names and are kept whole, snapshot date included: ``gpt-4o-2024-08-06``,
``claude-3-5-sonnet-20241022``, ``gemini-1.5-pro-002``. A quota, an outage or a context limit is
per model, so a failure on another model is another pattern; and a date read out of a model name
would make ``gpt-4o-2024-08-06`` and ``gpt-4o`` look like different shapes of one thing. The
price: an instance name such as ``worker-17`` keeps its number, so each worker is its own pattern.

Runs of whitespace become one space and the ends are stripped. The input is cut to
:data:`MAX_TEMPLATE_INPUT` characters first, which bounds the time spent on pathological input.
All patterns are written so that Python's backtracking engine stays linear on them (bounded
repetitions, no nested quantifiers over overlapping classes).

The function is idempotent: ``message_template(message_template(m)) == message_template(m)``.
Replacing a value can make its neighbours look different (a quote that followed a digit now
follows ``>``), so the substitution is repeated until nothing changes (at most
:data:`_MAX_PASSES` passes; two in practice).

Each placeholder's match holds at least one character of a cheap needle (a quote, ``://``, a
digit, ``-``, ``_``, ``@``, ``:``, ``/`` or ``\\``), and replacing values never creates a needle,
so the rules whose needles the text lacks are left out of each pass: most messages hold no path,
URL, email or quote, the second pass rarely meets a digit, and a text without any needle is not
scanned at all. The result is the same as with every rule.

The template is part of the fingerprint recipe (CONTRACT §5): changing these rules changes
fingerprints, so they are versioned with :data:`otel_failcat.fingerprint.FINGERPRINT_VERSION`.
``failcat.fp.v2`` brought ``<num>`` (for fp.v1's ``<int>``, ``<float>`` and ``<version>``),
``<id>``, ``<hex>`` for ``0x`` values only, and names kept whole.
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
# Not inside a word, and not a word's part after a hyphen or underscore: the digits of
# ``gpt-4o-2024-08-06``, ``claude-3-5-sonnet-20241022``, ``utf-8`` or ``x86_64`` belong to a name.
_NOT_GLUED = r"(?<![A-Za-z0-9_])(?<![A-Za-z_][-_])"

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
        _NOT_GLUED + r"\d{4}-[01]\d-[0-3]\d[Tt ][0-2]\d:[0-5]\d(?::[0-5]\d(?:[.,]\d{1,9})?)?"
        r"(?:[Zz]|[+-][0-2]\d:?[0-5]\d)?(?!\d)"
        rf"|(?<![A-Za-z0-9]){_DAY}, [0-3]?\d {_MONTH} \d{{4}} [0-2]\d:[0-5]\d:[0-5]\d"
        r" (?:GMT|UTC|[+-]\d{4})",
    ),
    ("date", _NOT_GLUED + r"\d{4}-[01]\d-[0-3]\d(?!\d)"),
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
        r"(?<![0-9A-Za-z])0[xX][0-9a-fA-F]{1,64}(?![0-9A-Za-z])",
    ),
    (
        "id",
        # Bare ids: 8 or more hex digits with a digit after a letter (trace ids, hashes), or 16
        # or more letters and digits, two digits at least and one after a letter (ULIDs, base62
        # ids). "A digit after a letter" keeps a number with its unit (``12345678d``,
        # ``100000000000000ms``) a number. The first lookahead turns a short word away after a
        # few characters. Prefixed ids (``req_…``) are read from the name rule's match, below.
        r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9]{8})"
        r"(?:(?=\d{0,127}[a-fA-F]{1,127}\d)[0-9a-fA-F]{8,128}"
        r"|(?=[A-Za-z0-9]{16})(?=(?:[A-Za-z]{0,127}\d){2})(?=\d{0,127}[A-Za-z]{1,127}\d)"
        r"[A-Za-z0-9]{16,128})"
        r"(?![A-Za-z0-9_-])",
    ),
    (
        # A name joined by hyphens or underscores: a model (``gpt-4o-2024-08-06``,
        # ``claude-3-5-sonnet-20241022``), an encoding (``utf-8``), an instance (``worker-17``),
        # or a prefixed id (``req_0123456789``, see _prefixed_id). It is matched whole so that no
        # number inside it is read as one; a segment that starts a UUID is left to that rule.
        "name",
        r"(?<![A-Za-z0-9_-])[A-Za-z][A-Za-z0-9]{0,127}"
        r"(?:[-_](?![0-9a-fA-F]{8}-[0-9a-fA-F]{4}-)[A-Za-z0-9]{1,128}(?:\.[A-Za-z0-9]{1,128}){0,8})"
        r"{1,32}",
    ),
    (
        "num",
        _NOT_GLUED
        # a sign only where a sign is written (not the hyphen of ``1-5`` or of ``<num>-5``)
        + r"(?<![.])(?:(?<![^\s(\[{=:,;])-|[vV](?=\d+\.\d))?\d+(?:\.\d+)*"
        r"(?:[eE][+-]?\d{1,4})?(?![0-9]|\.\d)",
    ),
)

#: Every placeholder :func:`message_template` can produce.
PLACEHOLDERS: tuple[str, ...] = tuple(f"<{name}>" for name, _ in _RULES if name != "name")

# No rule starts on whitespace, and every rule that can start on a letter or digit requires a word
# start there, so whitespace and positions inside a word are rejected by one cheap guard instead
# of by each of the alternatives in turn (several times faster on ordinary text).
_WORD_START_OR_SYMBOL = r"(?=\S)(?:(?<![A-Za-z0-9])|(?![A-Za-z0-9]))"
_WHITESPACE = re.compile(r"\s+")

# What each rule's match must hold (a match is a substring of the text, so a rule whose needle
# the text lacks cannot match anywhere). ``\d`` as in the rules: Unicode digits count.
_DIGIT = re.compile(r"\d")
_NEEDS_DIGIT = frozenset({"timestamp", "date", "time", "hex", "id", "num"})


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
        # an id holds a digit, or follows a prefix's separator
        "id": digit,
        "name": "_" in text or "-" in text,
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


# A prefixed id, read from a name's match: one to four name segments (each starting with a
# letter) and their separators, kept because they say what kind of id it is (``req_``,
# ``chatcmpl-``, ``toolu_``), then a body of 6 or more letters and digits holding a digit, or of
# 12 or more letters with a lowercase letter before an uppercase one (base62 without a digit),
# then nothing but dotted extensions (``file-abc123def.jsonl``).
_PREFIXED_ID = re.compile(
    r"(?P<prefix>(?:[A-Za-z][A-Za-z0-9]{0,15}[-_]){1,4})"
    r"(?:(?=[A-Za-z]{0,127}\d)[A-Za-z0-9]{6,128}|(?=[A-Za-z]{0,127}[a-z][A-Z])[A-Za-z]{12,128})"
    r"(?P<rest>(?:\.[A-Za-z0-9]{1,128}){0,8})"
)


def _placeholder(match: re.Match[str]) -> str:
    name = match.lastgroup
    if name == "name":
        prefixed = _PREFIXED_ID.fullmatch(match.group())
        if prefixed is None:
            return match.group()
        return f"{prefixed['prefix']}<id>{prefixed['rest']}"
    return f"<{name}>"


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
