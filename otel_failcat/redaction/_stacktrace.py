"""Redaction of a stacktrace frame by frame, the frames' results remembered.

A stacktrace is rarely seen twice whole (its last line carries the message with its variable
parts), but its frames are: the same code paths fail again and again with the same line numbers,
``  File "/app/agent.py", line 120, in run`` and its source line. So the text is cut into
*segments* — each well-formed frame chunk (the ``File`` line, at most one source line and the
caret line under it) and the text between them (the ``Traceback`` header, exception lines,
chained-exception separators, group margins, anything else) — and the redaction of a frame
chunk is looked up in a bounded memo; only the rest is redacted fresh. The frames missing from
the memo are redacted together, in one call.

The output is byte-identical to redacting the whole text, because no rule's match can reach
across a cut that is made (``tests/otel_failcat/test_redaction_equals_frozen_v1.py`` checks
it over thousands of tracebacks with secrets in every part). Why, for an ASCII text without
extra patterns (anything else is redacted whole):

1. Every cut is right after a ``\\n``. A rule that cannot match a line end (``spans_lines``
   false: the e-mail, URL and token rules, base64) never reaches across a cut; its look-behinds
   see the ``\\n`` in the whole text where a segment has nothing in front, and they treat the
   two alike (none of them accepts or refuses a ``\\n`` where it would not the text's start);
   its look-aheads are within the segment, before its final ``\\n``.
2. A match of a rule that can (``spans_lines``: the labelled credentials, ``Bearer``/``Basic``,
   SQL passwords, PEM blocks) holds one of that rule's needles on its first line (the label
   comes before any space of the match) and crosses line ends only through its runs of
   whitespace (and a PEM body). None of them can pass a ``File`` line: after a line end such a
   match continues with ``:``/``=``, a quote, a word and a space, or a value that stops at a
   space or ``"`` — so it ends inside ``  File "`` at the latest.
3. So a match that reaches a cut after segment ``S`` starts in ``S``, or — when ``S`` is not a
   frame — in the frame before it, and holds a needle there. The cut after ``S`` is made only if
   neither holds a needle of such a rule (``_needles``); otherwise the segments stay together
   and are redacted as one text.
4. Replacements keep all this true through the rules and passes: a replacement only removes
   needles or adds them inside its marker (``[REDACTED:api_key]``: a needle followed by ``]``
   or ``_``, where no such rule's label may end), and no rule rewrites ``  File "``.

ASCII only: there lower-casing keeps lengths (the engine's windows then stand where its needles
are) and a case-insensitive label is a lower-cased needle, which step 3 needs; a text with other
characters is redacted whole.

Memory: the memo holds at most ``max_entries`` frames and ``max_chars`` characters of frames and
their redactions; a frame longer than ``max_chars // 64`` is not remembered.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

#: How a frame line begins in ``traceback`` output (and ``"\n" +`` it, to find the next one).
_FILE = '  File "'
_NEXT_FILE = '\n  File "'
#: A frame chunk: its ``File`` line, the source line (``traceback`` indents it by four), and the
#: caret line Python 3.11+ prints under it (spaces, ``~`` and ``^`` only).
_FRAME = re.compile(r'  File "[^"\n]*", line \d+, in [^\n]*\n(?:    [^\n]*\n(?:    [ ~^]*\n)?)?')

#: What the memo holds for a frame in which a needle of a line-spanning rule occurs: it is
#: redacted with its neighbours, never alone.
_HOT = ""

#: Lines between frames longer than this are not remembered (a message, not a separator).
_MAX_LINE = 100

#: How many recent messages, each of at most this many characters, :meth:`remember_message`
#: keeps.
_MESSAGES = 64
_MAX_MESSAGE = 8192

MAX_ENTRIES = 2048
MAX_CHARS = 1 << 20


def split_frames(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into segments, each with whether it is a frame chunk; they join to ``text``.

    The text between frame chunks is cut into its lines.
    """
    segments: list[tuple[str, bool]] = []
    rest = 0
    start = 0 if text.startswith(_FILE) else _next_file_line(text, 0)
    while start != -1:
        match = _FRAME.match(text, start)
        if match is None:
            start = _next_file_line(text, start + 1)
            continue
        if start > rest:
            _add_lines(segments, text[rest:start])
        end = match.end()
        segments.append((match[0], True))
        rest = end
        start = end if text.startswith(_FILE, end) else _next_file_line(text, end)
    if rest < len(text):
        _add_lines(segments, text[rest:])
    return segments


def _add_lines(segments: list[tuple[str, bool]], text: str) -> None:
    # Only at "\n": ``str.splitlines`` also cuts at "\r", "\x0b" ... where a rule's ``\\s``
    # may match inside one line's worth of text, and the proof wants cuts after "\n" alone.
    lines = text.split("\n")
    last = lines.pop()
    segments.extend((line + "\n", False) for line in lines)
    if last:
        segments.append((last, False))


def _next_file_line(text: str, position: int) -> int:
    found = text.find(_NEXT_FILE, position)
    return -1 if found == -1 else found + 1


class _Memo:
    """A bounded LRU map of frame chunk → its redaction (or ``_HOT``); safe between threads."""

    def __init__(self, max_entries: int, max_chars: int) -> None:
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._chars = 0
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._lock = threading.Lock()

    def get(self, chunk: str) -> str | None:
        # Without the lock: each OrderedDict call is atomic, and an entry evicted between the
        # two is still a good answer. Only ``put`` keeps the count of characters.
        value = self._entries.get(chunk)
        if value is not None:
            try:
                self._entries.move_to_end(chunk)
            except KeyError:
                pass
        return value

    def put(self, chunk: str, value: str) -> None:
        size = len(chunk) + len(value)
        if size > self._max_chars // 64:
            return  # one odd frame must not push out the common ones
        with self._lock:
            old = self._entries.pop(chunk, None)
            if old is not None:
                self._chars -= len(chunk) + len(old)
            self._entries[chunk] = value
            self._chars += size
            while len(self._entries) > self._max_entries or self._chars > self._max_chars:
                oldest, dropped = self._entries.popitem(last=False)
                self._chars -= len(oldest) + len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0

    @property
    def size(self) -> tuple[int, int]:
        """(entries, characters) held now."""
        with self._lock:
            return len(self._entries), self._chars


class FrameMemoRedaction:
    """``redact`` of a stacktrace, segment by segment (see the module docstring).

    ``redact``: the whole-text redaction (every rule, in passes); ``tails``: each needle of a
    rule whose matches can hold a line end, with what such a match may hold from it to that
    line end (:attr:`~._engine.Rule.line_tail`).
    """

    def __init__(
        self,
        redact: Callable[[str], str],
        tails: Iterable[tuple[str, re.Pattern[str]]],
        max_entries: int = MAX_ENTRIES,
        max_chars: int = MAX_CHARS,
    ) -> None:
        self._redact = redact
        by_needle: dict[str, list[re.Pattern[str]]] = {}
        for needle, tail in tails:
            by_needle.setdefault(needle, []).append(tail)
        self._tails = tuple((needle, tuple(found)) for needle, found in sorted(by_needle.items()))
        self._needles = tuple(by_needle)
        self.memo = _Memo(max_entries, max_chars)
        # The messages just redacted on their own, which the exception line repeats.
        self._messages = _Memo(_MESSAGES, _MESSAGES * _MAX_MESSAGE * 64)

    def remember_message(self, message: str, redacted: str) -> None:
        """``redacted`` is the whole-text redaction of ``message`` (as :meth:`Redactor.message`
        has just found): the exception line ``Type: message`` at the end of the stacktrace that
        comes next will not redact it again (see :meth:`_last`)."""
        if len(message) <= _MAX_MESSAGE:
            self._messages.put(message, redacted)

    def _needle_in(self, text: str) -> bool:
        lowered = text.lower()
        return any(needle in lowered for needle in self._needles)

    def hot(self, text: str) -> bool:
        """Whether a match of a line-spanning rule may begin in ``text`` and run past a line end:
        a needle of such a rule followed, to the end of its line, only by what that rule's match
        may hold there (``password=`` and ``Authorization: Bearer`` are; ``key {KEY}")``,
        ``token.py", line 3`` and ``key sk-…`` are not)."""
        lowered = text.lower()
        for needle, tails in self._tails:
            at = lowered.find(needle)
            while at != -1:
                end = lowered.find("\n", at)
                end = len(lowered) if end == -1 else end
                if any(tail.fullmatch(lowered, at, end) for tail in tails):
                    return True
                at = lowered.find(needle, at + 1)
        return False

    def __call__(self, text: str) -> str:
        if not text.isascii():
            return self._redact(text)
        segments = split_frames(text)
        if len(segments) < 2:
            return self._redact(text)
        last = len(segments) - 1
        # Remembered: the frames, and the short lines between them but for the last (the
        # message, seen once): "Traceback (most recent call last):", "[Previous line repeated
        # 7 more times]", the chained-exception separators.
        kept = [
            is_frame or (i < last and len(s) <= _MAX_LINE)
            for i, (s, is_frame) in enumerate(segments)
        ]
        get = self.memo.get
        values = [get(s) if k else None for (s, _), k in zip(segments, kept, strict=True)]
        missing = {
            s: None for (s, _), k, v in zip(segments, kept, values, strict=True) if k and v is None
        }
        if missing:
            self._learn(list(missing))
            values = [
                get(s) if k and v is None else v
                for (s, _), k, v in zip(segments, kept, values, strict=True)
            ]
        pieces: list[str] = []
        together: list[str] = []  # segments not yet cut from the ones after them
        hot_run = False  # a hot segment since the last frame chunk (inclusive)
        for index, ((segment, is_frame), value) in enumerate(zip(segments, values, strict=True)):
            if index == last:  # nothing after it to cut from
                together.append(segment)
                break
            hot = (value == _HOT) if value is not None else self.hot(segment)
            hot_run = hot if is_frame else hot_run or hot
            if hot_run:
                together.append(segment)
            elif value and not together:
                pieces.append(value)
            else:
                together.append(segment)
                pieces.append(self._redact("".join(together)))
                together.clear()
        if together:
            pieces.append(self._last("".join(together)))
        return "".join(pieces)

    def _last(self, text: str) -> str:
        """The redaction of the text after the last cut: most often the exception line
        ``Type: message`` alone, whose message was redacted a moment ago.

        It is cut after ``Type: `` and before its final ``\\n`` when no match can reach across
        either cut: ``Type: `` is one line without a needle of a line-spanning rule (no rule
        that cannot span a line matches a space, and the space in front of the message is
        what its start would see in the whole text too), and the message holds no needle such
        a match could run on from to its end (:meth:`hot`), where ``\\Z`` and the ``\\n``
        would differ.
        """
        head, separator, rest = text.partition(": ")
        end = "\n" if rest.endswith("\n") else ""
        message = rest[: len(rest) - len(end)]
        known = self._messages.get(message) if separator and message else None
        if known is None or "\n" in head or self._needle_in(head) or self.hot(message):
            return self._redact(text)
        prefix = head + separator
        redacted = self.memo.get(prefix)
        if redacted is None:
            redacted = self._redact(prefix)
            self.memo.put(prefix, redacted)
        return redacted + known + end

    def _learn(self, segments: list[str]) -> None:
        """Redact ``segments`` (frames and lines not in the memo) and remember them.

        The cold ones are redacted together, as one text: every cut between them would be made
        (see the module docstring), and no match in a cold segment holds a line end, so each
        segment's redaction has as many lines as the segment and the joined result is cut back
        at the same line ends.
        """
        cold = []
        for segment in segments:
            if self.hot(segment):
                self.memo.put(segment, _HOT)
            else:
                cold.append(segment)
        if not cold:
            return
        joined = "".join(cold)
        redacted = self._redact(joined)
        if redacted == joined:
            for segment in cold:
                self.memo.put(segment, segment)
            return
        lines = redacted.split("\n")
        at = 0
        for segment in cold:
            count = segment.count("\n")
            self.memo.put(segment, "\n".join(lines[at : at + count]) + "\n")
            at += count
