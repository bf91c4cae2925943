"""Redaction of a stacktrace frame by frame, the frames' results remembered.

A stacktrace is rarely seen twice whole (its last line carries the message with its variable
parts), but its frames are: the same code paths fail again and again at the same lines,
``  File "/app/agent.py", line 120, in run`` and its source line. So the text is cut into
*segments* — each well-formed frame chunk (the ``File`` line, at most one source line and the
caret line under it) and each line of the text between them (the ``Traceback`` header,
exception lines, chained-exception separators, group margins, anything else) — and the
redaction of a frame, or of a short line that is not the last, is looked up in a bounded memo;
the frames and lines missing from it are redacted together, in one call, and remembered. The
exception line at the end, ``Type: message``, takes the message's redaction from
:meth:`FrameMemoRedaction.remember_message` (the redactor has just redacted that message on its
own); what is left is redacted fresh.

The output is byte-identical to redacting the whole text, because no rule's match can reach
across a cut that is made (``tests/otel_failcat/test_redaction_stacktrace_frames.py`` checks it
against the frozen engine over thousands of tracebacks with secrets in every part, and checks
which rules can match a line end). Why, for an ASCII text without extra patterns (anything else
is redacted whole):

1. Every cut between segments is right after a ``\\n``. A rule without a ``line_tail`` (the
   e-mail, URL and token rules, base64) cannot match a line end, so it never reaches across a
   cut; its look-behinds see the ``\\n`` in the whole text where a segment has nothing in front
   and treat the two alike (none accepts or refuses a ``\\n`` where it would not the text's
   start); its look-aheads stay within the segment, before its final ``\\n``.
2. A match of a rule with a ``line_tail`` (labelled credentials, ``Authorization``, cookies,
   ``Bearer``/``Basic``, SQL passwords, PEM blocks) holds one of the rule's needles on its first
   line (its label comes before any line end of the match), and from that needle to the first
   line end it crosses it holds only what ``line_tail`` allows (the label's rest, a quote,
   spaces, ``:``/``=``; a scheme; SQL words; a PEM body). And none can pass a ``File`` line:
   after a line end such a match goes on with ``:``/``=``, a quote, a word and a space, or a
   value that stops at a space or ``"`` — it ends inside ``  File "`` at the latest.
3. So a match that reaches past segment ``S`` started in ``S`` or in a segment between the
   last frame chunk before ``S`` (inclusive) and ``S``, at a needle followed so to its line's
   end: such a segment is *hot* (:meth:`FrameMemoRedaction.hot`). The cut after ``S`` is made
   only if no segment from that frame chunk to ``S`` is hot; otherwise they stay together and
   are redacted as one text.
4. The exception line is cut after ``Type: `` and before its final ``\\n`` only when ``Type: ``
   holds no needle of a rule with a ``line_tail`` (no other rule matches a space, and the
   message's start then sees a space, which no look-behind treats unlike the text's start) and
   the message is not hot (so no match runs into the ``\\n``, where ``\\Z`` would differ).
5. All this stays true through the rules and passes: a replacement only removes needles or
   puts them inside its marker (``[REDACTED:api_key]``: a needle followed by ``]``, which no
   ``line_tail`` allows), and where it changes the text after a needle it leaves a marker's
   ``[``, which no ``line_tail`` allows either; no rule rewrites ``  File "``.
6. A segment that is not hot holds no match with a line end (by 2), so its redaction has as
   many lines as it has: redacted together, the cold frames are cut back at the same line ends.

7. Rules that take every match in a needle's window (:attr:`~._engine.Rule.scans_windows`:
   PEM blocks, e-mail addresses) cut a match at the window's end, and where it ends depends on
   needles far ahead, across cuts; so a text that holds one of their needles (``@``,
   ``private key``) is redacted whole. For every other rule the windows only save work: a match
   starts at most ``before`` ahead of its needle and ends within ``after`` of it.

ASCII only: there lower-casing keeps lengths (the engine's windows then stand where its needles
are) and a case-insensitive label is its lower-cased needle, which step 3 needs; a text with
other characters is redacted whole.

Memory: the memo holds at most ``max_entries`` segments and ``max_chars`` characters of segments
and their redactions (a segment longer than a sixty-fourth of that is not remembered); the
messages, at most 64 of up to 8,192 characters each.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable

#: A frame chunk: its ``File`` line, the source line (``traceback`` indents it by four), and the
#: caret line Python 3.11+ prints under it (spaces, ``~`` and ``^`` only).
_FRAME = r'  File "[^"\n]*", line \d+, in [^\n]*\n(?:    [^\n]*\n(?:    [ ~^]*\n)?)?'
#: A segment: a frame chunk (group 1) or else one line (group 2), each from a line's start.
_SEGMENTS = re.compile(f"({_FRAME})|([^\n]*\n|[^\n]+)")


#: After a text of whose segments the memo held under a quarter, this many are redacted whole.
_SKIP = 7
#: Past this length a text's needles are found by the finder, not one by one.
_LONG = 512
#: Up to this many segments not found in the memo are tested for hot one by one.
_FEW = 4
#: Lines between frames longer than this are not remembered (a message, not a separator).
_MAX_LINE = 100

#: How many recent messages, each of at most this many characters, :meth:`remember_message`
#: keeps.
_MESSAGES = 64
_MAX_MESSAGE = 8192

MAX_ENTRIES = 4096
MAX_CHARS = 1 << 20


def split_frames(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into segments, each with whether it is a frame chunk; they join to ``text``.

    The text between frame chunks is cut into its lines (at ``\\n`` only: ``str.splitlines``
    also cuts at ``\\r``, ``\\x0b`` …, where the proof wants none). One ``findall``: every match
    ends a line, so the next begins one, where a frame chunk is tried first.
    """
    return [(frame, True) if frame else (line, False) for frame, line in _SEGMENTS.findall(text)]


class _Memo:
    """A bounded map of segment → its redaction, the least recently used going first; safe
    between threads.

    Two generations rather than an ordered LRU: what is used lands in the young dict; when it
    is full, the young become the old and the old are dropped whole, and an old entry used again
    is moved up. O(1) however the entries come and go, where evicting from the front of an
    ``OrderedDict`` (or a dict) under constant churn was measured at tens of µs an entry (the
    holes its deletions leave are walked again on each ``popitem``). Each generation holds at
    most half the entries and half the characters.
    """

    def __init__(self, max_entries: int, max_chars: int) -> None:
        self._young: dict[str, str] = {}
        self._old: dict[str, str] = {}
        self._chars = 0  # of the young
        self._old_chars = 0
        self._max_entries = max_entries // 2
        self._max_chars = max_chars // 2
        self._lock = threading.Lock()

    def get(self, chunk: str) -> str | None:
        value = self._young.get(chunk)
        if value is None:
            value = self._old.get(chunk)
            if value is not None:
                self.put_all({chunk: value})
        return value

    def put_all(self, items: dict[str, str]) -> None:
        limit = self._max_chars // 32  # one odd segment must not push out the common ones
        with self._lock:
            for chunk, value in items.items():
                size = len(chunk) + len(value)
                if size > limit or chunk in self._young:
                    continue
                if len(self._young) >= self._max_entries or self._chars + size > self._max_chars:
                    self._old, self._old_chars = self._young, self._chars
                    self._young, self._chars = {}, 0
                self._young[chunk] = value
                self._chars += size

    def clear(self) -> None:
        with self._lock:
            self._young, self._old = {}, {}
            self._chars = self._old_chars = 0

    @property
    def size(self) -> tuple[int, int]:
        """(entries, characters) held now."""
        with self._lock:
            young, old = self._young, self._old
            return len(young) + len(old), self._chars + self._old_chars


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
        finder: Callable[[tuple[str, ...]], Callable[[str], set[str]]],
        whole: Iterable[str] = (),
        max_entries: int = MAX_ENTRIES,
        max_chars: int = MAX_CHARS,
    ) -> None:
        self._redact = redact
        self._skip = 0  # texts to redact whole before trying the memo again
        self._whole = tuple(whole)
        by_needle: dict[str, list[re.Pattern[str]]] = {}
        for needle, tail in tails:
            by_needle.setdefault(needle, []).append(tail)
        self._tails = tuple((needle, tuple(found)) for needle, found in sorted(by_needle.items()))
        self._needles = tuple(by_needle)
        # Which needles a long text holds, in one pass (RE2's automaton): a ``str.find`` per
        # needle costs some 4 µs on a 7 kB stacktrace, 14 of them more than the redaction saves.
        self._present = finder(self._needles)
        self.memo = _Memo(max_entries, max_chars)
        # The messages just redacted on their own, which the exception line repeats. A plain
        # dict, emptied when full: ``remember_message`` runs for every message and attribute
        # value, so it must cost next to nothing.
        self._messages: dict[str, str] = {}

    def clear(self) -> None:
        self.memo.clear()
        self._messages.clear()

    def remember_message(self, message: str, redacted: str) -> None:
        """``redacted`` is the whole-text redaction of ``message`` (as :meth:`Redactor.message`
        has just found): the exception line ``Type: message`` at the end of the stacktrace that
        comes next will not redact it again (see :meth:`_last`)."""
        if len(message) <= _MAX_MESSAGE:
            messages = self._messages
            if len(messages) >= _MESSAGES:
                messages.clear()
            messages[message] = redacted

    def _live(self, lowered: str) -> list[int]:
        """Where in ``lowered`` a match of a line-spanning rule may begin and run past a line
        end: at a needle of such a rule followed, to the end of its line, only by what that
        rule's match may hold there (``password=`` and ``Authorization: Bearer`` are; ``key
        {KEY}")``, ``token.py", line 3`` and ``key sk-…`` are not). Ascending."""
        found: list[int] = []
        present = self._present(lowered) if len(lowered) > _LONG else None
        if present is not None and not present:
            return found
        for needle, tails in self._tails:
            if present is not None and needle not in present:
                continue
            at = lowered.find(needle)
            while at != -1:
                end = lowered.find("\n", at)
                end = len(lowered) if end == -1 else end
                if any(tail.fullmatch(lowered, at, end) for tail in tails):
                    found.append(at)
                at = lowered.find(needle, at + 1)
        found.sort()
        return found

    def hot(self, text: str) -> bool:
        """Whether ``text`` holds a place :meth:`_live` finds (see the module docstring)."""
        return bool(self._live(text.lower()))

    def __call__(self, text: str) -> str:
        if not text.isascii():
            return self._redact(text)
        if self._whole:
            lowered = text.lower()
            if any(needle in lowered for needle in self._whole):
                return self._redact(text)  # see step 7 of the module docstring
        if self._skip > 0:
            # The memo has been missing most frames (they do not repeat, or not yet): cutting
            # costs more than it saves then. The output is the same either way.
            self._skip -= 1
            return self._redact(text)
        segments = split_frames(text)
        count = len(segments)
        if count < 2:
            return self._redact(text)
        # Remembered: the frames, and the short lines between them but for the last (the
        # message, seen once): "Traceback (most recent call last):", "[Previous line repeated
        # 7 more times]", the chained-exception separators. Only segments that are not hot
        # are put in the memo, so one found there is not hot.
        last = count - 1
        get = self.memo.get
        values: list[str | None] = [
            get(segment) if is_frame or (index < last and len(segment) <= _MAX_LINE) else None
            for index, (segment, is_frame) in enumerate(segments)
        ]
        # The last segment's heat does not matter: no cut follows it.
        unknown = [index for index, value in enumerate(values[:last]) if value is None]
        if len(unknown) <= _FEW:
            hot = [False] * count
            for index in unknown:
                hot[index] = self.hot(segments[index][0])
        else:  # many: the whole text's live places at once cost less than each one's
            hot = self._hot_segments(text, segments)
        missing = {
            segments[index][0]: None
            for index in unknown
            if not hot[index]
            and (segments[index][1] or (index < last and len(segments[index][0]) <= _MAX_LINE))
        }
        found = count - len(unknown) - 1
        if found * 3 < len(missing):
            self._skip = _SKIP
        if missing:
            learned = self._learn(list(missing))
            values = [
                learned.get(segment, value) if value is None else value
                for (segment, _), value in zip(segments, values, strict=True)
            ]
        pieces: list[str] = []
        together: list[str] = []  # segments not yet cut from the ones after them
        hot_run = False  # a hot segment since the last frame chunk (inclusive)
        for index in range(last):
            segment, is_frame = segments[index]
            hot_run = hot[index] if is_frame else hot_run or hot[index]
            value = values[index]
            if hot_run:
                together.append(segment)
            elif value is not None and not together:
                pieces.append(value)
            else:
                together.append(segment)
                pieces.append(self._redact("".join(together)))
                together.clear()
        together.append(segments[last][0])
        pieces.append(self._last("".join(together)))
        return "".join(pieces)

    def _hot_segments(self, text: str, segments: list[tuple[str, bool]]) -> list[bool]:
        """Per segment, whether it is hot: the live places of the whole text, found at once."""
        hot = [False] * len(segments)
        live = self._live(text.lower())
        if not live:
            return hot
        index, end = 0, len(segments[0][0])
        for at in live:
            while at >= end:
                index += 1
                end += len(segments[index][0])
            hot[index] = True
        return hot

    def _last(self, text: str) -> str:
        """The redaction of the text after the last cut: most often the exception line
        ``Type: message`` alone, whose message was redacted a moment ago (see the module
        docstring, step 4)."""
        head, separator, rest = text.partition(": ")
        end = "\n" if rest.endswith("\n") else ""
        message = rest[: len(rest) - len(end)]
        known = self._messages.get(message) if separator and message else None
        if known is None or "\n" in head:
            return self._redact(text)
        prefix = head + separator
        redacted = self.memo.get(prefix)  # only ever put there below, after the test
        if redacted is None:
            lowered = prefix.lower()
            if any(needle in lowered for needle in self._needles):
                return self._redact(text)
            redacted = self._redact(prefix)
            self.memo.put_all({prefix: redacted})
        if self.hot(message):
            return self._redact(text)
        return redacted + known + end

    def _learn(self, segments: list[str]) -> dict[str, str]:
        """Redact ``segments`` (cold frames and lines not in the memo) and remember them.

        They are redacted together, as one text: every cut between them would be made, and
        each one's redaction has as many lines as it has (see the module docstring, step 6),
        so the joined result is cut back at the same line ends.
        """
        joined = "".join(segments)
        redacted = self._redact(joined)
        if redacted == joined:
            learned = {segment: segment for segment in segments}
        else:
            lines = redacted.split("\n")
            learned, at = {}, 0
            for segment in segments:
                count = segment.count("\n")
                learned[segment] = "\n".join(lines[at : at + count]) + "\n"
                at += count
        self.memo.put_all(learned)
        return learned
