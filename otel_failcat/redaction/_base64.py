"""Secrets wrapped in base64: a Kubernetes secret value, ``Basic`` credentials without their
label, a base64 of an API key.

A candidate is a whole run of 16 to 8192 base64 characters (``A-Za-z0-9+/``, then up to two
``=``), one that begins at a letter of an escaped ``\\n`` also without that letter. It is
decoded only if it can be the base64 of ASCII text — the first character of every group of four
is then one of ``A-Za-f``, a test that rejects words, identifiers, hex digests and paths after a
character or a few — and the decoded text must be printable. The run is replaced whole by
``[REDACTED:base64_secret]`` when the decoded text is ``user:password`` (no spaces) or when the
other rules would redact something in it. Nested base64 is not unwrapped.

Cost: one ``bytes.translate`` for a text without a run of 16 such characters (most messages);
for the runs there are, a regular-expression test each, and a decoding for the few that pass it.
Every character is decoded at most twice, so the work stays linear in the length of the text.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable

from otel_failcat.redaction._engine import ALNUM, RunRule, redaction_marker

_MARKER = redaction_marker("base64_secret")
_PATTERN = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{16,8192}={0,2}(?![A-Za-z0-9+/=])")
# Base64 of bytes below 0x80: the first character of each group of four encodes the top six
# bits of a byte below 0x80, so it is one of the first 32 letters of the alphabet.
_TEXTUAL = re.compile(r"(?:[A-Za-f][A-Za-z0-9+/]{3}){4,2048}(?:[A-Za-f][A-Za-z0-9+/]{1,2})?")
_PRINTABLE = re.compile(r"[\t\n\r\x20-\x7e]{12,6144}")
_USER_PASSWORD = re.compile(r"[!-9;-~]{1,128}:[!-~]{1,256}")


def base64_rule(holds_secret: Callable[[str], bool]) -> RunRule:
    """The rule; ``holds_secret(decoded)`` says whether the other rules find a secret in it."""

    def secret_at(run: str) -> bool:
        body = run.rstrip("=")
        if _TEXTUAL.fullmatch(body) is None:
            return False
        try:
            decoded = binascii.a2b_base64(body + "=" * (-len(body) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if _PRINTABLE.fullmatch(decoded) is None:
            return False
        return _USER_PASSWORD.fullmatch(decoded) is not None or holds_secret(decoded)

    def replace(match: re.Match[str]) -> str:
        run = match[0]
        if secret_at(run):
            return _MARKER
        start = match.start()
        escaped = start > 0 and run[0] in "nrt" and match.string[start - 1] == "\\"
        if escaped and secret_at(run[1:]):
            return run[0] + _MARKER
        return run

    return RunRule("base64_secret", _PATTERN, replace, members=ALNUM + "+/", min_run=16)
