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

from tests.otel_failcat._frozen_redaction_v1._engine import Runs, redaction_marker, token_runs

_MARKER = redaction_marker("base64_secret")
_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_MAX_RUN = 8192
# A whole base64 run that holds 16 letters and digits in a row (``+`` and ``/`` in the base64
# of text stand only for ``>``, ``?``, ``~``: text encodes to long alphanumeric stretches).
_PATTERN = re.compile(
    r"(?<![A-Za-z0-9+/])(?=(?:[A-Za-z0-9]{0,15}[+/]){0,512}[A-Za-z0-9]{16})"
    r"[A-Za-z0-9+/]{16,8192}={0,2}(?![A-Za-z0-9+/])"
)
_ALNUM_STRETCH = re.compile(r"[A-Za-z0-9]{16}")
_RUN_END = re.compile(r"[A-Za-z0-9+/]{0,8193}")
# Base64 of bytes below 0x80: the first character of each group of four encodes the top six
# bits of a byte below 0x80, so it is one of the first 32 letters of the alphabet.
_TEXTUAL = re.compile(r"(?:[A-Za-f][A-Za-z0-9+/]{3}){4,2048}(?:[A-Za-f][A-Za-z0-9+/]{1,2})?")
_QUAD_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef")
_ALNUM_END = re.compile(r"[A-Za-z0-9]{0,8192}")
_PRINTABLE = re.compile(r"[\t\n\r\x20-\x7e]{12,6144}")
_USER_PASSWORD = re.compile(r"[!-9;-~]{1,128}:[!-~]{1,256}")


def _textual_spans(body: str, escaped: bool) -> list[tuple[int, int]]:
    """Where in ``body`` (a run of base64 characters) the base64 of some text may be.

    The whole run; without its first letter if that is the ``n`` of an escaped ``\\n``; else
    each part between ``/`` (a base64 value in a URL path, ``/v1/<base64>/items``).
    """
    if _TEXTUAL.fullmatch(body) is not None:
        return [(0, len(body))]
    if escaped and _TEXTUAL.fullmatch(body, 1) is not None:
        return [(1, len(body))]
    if "/" not in body:
        return []
    spans, start = [], 0
    for part in body.split("/"):
        end = start + len(part)
        if len(part) >= 16 and _TEXTUAL.fullmatch(part) is not None:
            spans.append((start, end))
        start = end + 1
    return spans


def _alone_and_not_text(text: str, start: int, end: int) -> bool:
    """Whether the letters and digits ``text[start:end]`` are a base64 run of their own (no
    ``+``, ``/`` or escape around them) whose first four groups cannot all begin the base64 of
    text — an identifier, an id, a hash: ``replace`` would give it back unchanged."""
    return (
        (start == 0 or text[start - 1] not in "+/\\")
        and text[end : end + 1] not in ("+", "/")
        and not (
            text[start] in _QUAD_FIRST
            and text[start + 4] in _QUAD_FIRST
            and text[start + 8] in _QUAD_FIRST
            and text[start + 12] in _QUAD_FIRST
        )
    )


class Base64Rule:
    """The rule; ``holds_secret(decoded)`` says whether the other rules find a secret in it.

    Looks only at the base64 runs around the 16-character alphanumeric stretches of the token
    runs the redactor found anyway, so a text without such a stretch costs nothing more.
    """

    kind = "base64_secret"
    pattern = _PATTERN

    def __init__(self, holds_secret: Callable[[str], bool]) -> None:
        self._holds_secret = holds_secret

    def replace(self, match: re.Match[str]) -> str:
        run = match[0]
        body = run.rstrip("=")
        start = match.start()
        escaped = start > 0 and run[0] in "nrt" and match.string[start - 1] == "\\"
        pieces, done = [], 0
        for span_start, span_end in _textual_spans(body, escaped):
            if self._secret_in(body[span_start:span_end]):
                pieces += [run[done:span_start], _MARKER]
                done = span_end
        if not pieces:
            return run
        # the padding of a run that goes whole goes with it
        rest = run[done:]
        return "".join(pieces) + ("" if done == len(body) and len(pieces) == 2 else rest)

    def _secret_in(self, run: str) -> bool:
        body = run.rstrip("=")
        if _TEXTUAL.fullmatch(body) is None:
            return False
        try:
            decoded = binascii.a2b_base64(body + "=" * (-len(body) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if _PRINTABLE.fullmatch(decoded) is None:
            return False
        return _USER_PASSWORD.fullmatch(decoded) is not None or self._holds_secret(decoded)

    def apply(
        self,
        text: str,
        lowered: str = "",
        hits: object = None,
        runs: Runs | None = None,
    ) -> str:
        """``text`` with the base64 runs that hold a secret replaced (as ``pattern.sub`` would)."""
        if runs is None:
            runs = token_runs(text)
        pieces: list[str] = []
        done = scanned = 0
        for run_start, run_end in runs:
            # A base64 run may span several token runs (joined by ``+`` or ``/``): each is
            # looked at once.
            position = max(run_start, done, scanned)
            if (
                position == run_start
                and not (
                    text[run_start] in _QUAD_FIRST
                    and text[run_start + 4] in _QUAD_FIRST
                    and text[run_start + 8] in _QUAD_FIRST
                    and text[run_start + 12] in _QUAD_FIRST
                )
                and (run_start == 0 or text[run_start - 1] not in "+/\\")
                and text[run_end : run_end + 1] not in ("+", "/")
                and text.find("_", run_start, run_end) == -1
                and text.find("-", run_start, run_end) == -1
            ):
                # A run of letters and digits alone, a base64 run of its own, whose first four
                # groups cannot all begin the base64 of text (an exception name, an id): nothing
                # to decode here.
                continue
            while position < run_end:
                stretch = _ALNUM_STRETCH.search(text, position, run_end)
                if stretch is None:
                    break
                start = stretch.start()
                segment = _ALNUM_END.match(text, stretch.end())
                segment_end = segment.end() if segment is not None else stretch.end()
                if _alone_and_not_text(text, start, segment_end):
                    position = segment_end
                    continue
                limit = max(done, start - _MAX_RUN)
                while start > limit and text[start - 1] in _B64:
                    start -= 1
                run = _RUN_END.match(text, stretch.end())
                position = scanned = run.end() if run is not None else stretch.end()
                # Most runs (identifiers, hex digests, other tokens) cannot be the base64 of
                # text: ``replace`` would give them back unchanged, so skip the match.
                escaped = start > 0 and text[start - 1] == "\\" and text[start] in "nrt"
                if (
                    text[start] not in _QUAD_FIRST
                    and not escaped
                    and text.find("/", start, scanned) == -1
                ) or not _textual_spans(text[start:scanned], escaped):
                    continue
                match = _PATTERN.match(text, start)
                if match is None:
                    continue
                replaced = self.replace(match)
                if replaced != match[0]:
                    pieces.append(text[done : match.start()])
                    pieces.append(replaced)
                    done = match.end()
        if not pieces:
            return text
        pieces.append(text[done:])
        return "".join(pieces)
