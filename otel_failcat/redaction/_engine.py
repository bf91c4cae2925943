"""How a rule finds its secrets quickly: near a literal needle, or at the start of a long run.

A rule is a compiled pattern and a replacement. Running every pattern over every text would make
a stacktrace cost dozens of full regex scans, so each rule says where its matches can start:

- a :class:`Rule` with ``needles`` runs only in windows around the places where one of its
  literals (``sk-``, ``token``, ``://`` …) occurs in the lower-cased text;
- a :class:`RunRule` runs only where a run of at least ``min_run`` characters of its class
  (letters and digits, plus ``_``/``-`` for provider tokens) begins. Runs are found for the whole
  text at once with ``bytes.translate`` and ``bytes.find``, which costs about as much as a few
  needle searches, however many token formats the rule knows.

A labelled :class:`Rule` may also say what every match holds near its start (``gate``: the end
of its label and its separator) and where a match can begin (``starts_at``), so that a needle in
ordinary text is passed over after one short search; a :class:`RunRule` skips the runs too short
for any of its formats.

All of this is pure optimisation: a property test checks that ``apply`` gives exactly
``pattern.sub(replace, text)``, and ``test_redaction_equals_frozen_v1`` that the redactor's
outputs are those of the engine before the gates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

Replace = Callable[["re.Match[str]"], str]

_PLAIN_WORD = re.compile(r"[A-Za-z][a-z]*")

#: Up to this many characters before its needle a match is found by trying each start in turn.
_MAX_ANCHORED_BEFORE = 16


def redaction_marker(kind: str) -> str:
    """The text that replaces a secret of ``kind``: ``[REDACTED:<kind>]``."""
    return f"[REDACTED:{kind}]"


def looks_secret(value: str) -> bool:
    """False for a plain word (``expired``, ``Signature``) that merely follows a label."""
    return _PLAIN_WORD.fullmatch(value) is None


def whole(kind: str) -> Replace:
    marker = redaction_marker(kind)
    return lambda _match: marker


def group_prefix(kind: str) -> Replace:
    """Keep the ``prefix`` group, replace the rest of the match."""
    marker = redaction_marker(kind)
    return lambda match: match["prefix"] + marker


def word(alternatives: tuple[str, ...], not_after: str) -> str:
    """Case-insensitive ``alternatives`` that must not follow a character of ``[not_after]``
    (an escaped ``\\n``/``\\r``/``\\t`` in front is fine, as for :func:`starts`).

    Written so that every branch begins with a literal character (both cases of the first
    letter) and checks what precedes it only after that character: Python's ``re`` then skips
    straight to the places where one of those characters occurs instead of trying every branch
    at every position, which makes these rules several times faster on long stacktraces.
    """
    branches = []
    for alternative in alternatives:
        first, rest = alternative[0], alternative[1:]
        for char in sorted({first.lower(), first.upper()}):
            branches.append(f"{char}(?:(?<![{not_after}]{char})|(?<=\\\\[nrt]{char}))(?i:{rest})")
    return "(?:" + "|".join(branches) + ")"


def word_starts(alternatives: tuple[str, ...], not_after: str) -> re.Pattern[str]:
    """Where a match of :func:`word` ``(alternatives, not_after)`` can begin: at a first letter
    of an alternative (either case) not after a character of ``[not_after]`` (or after an
    escaped ``\\n``/``\\r``/``\\t``). A cheap pattern for :attr:`Rule.starts_at`."""
    initials = sorted({c for a in alternatives for c in (a[0].lower(), a[0].upper())})
    return re.compile(f"(?:(?<![{not_after}])|(?<=\\\\[nrt]))[{''.join(initials)}]")


def starts(literal: str, not_after: str) -> str:
    """``literal`` (a regex without quantifiers) at a token boundary.

    The boundary: not after a character of ``[not_after]`` — or right after an escaped
    ``\\n``/``\\r``/``\\t``, so that a token that follows a newline inside JSON or a Python
    ``repr()`` (``'...\\nghp_…'``) is still one.
    """
    return f"{literal}(?:(?<![{not_after}]{literal})|(?<=\\\\[nrt]{literal}))"


@dataclass(frozen=True)
class Rule:
    """One kind of secret, found near a needle.

    With ``needles``, the pattern is only run near where one of them occurs in the lower-cased
    text: from ``before`` characters ahead of the needle to ``after`` characters past its start.
    ``before`` must cover the longest stretch of a match in front of its needle and ``after`` the
    whole longest match measured from the needle, so that a window never cuts a match short.

    Two optional facts make the common miss cheap (a needle in ordinary text: ``tokens per
    min``, ``key {KEY}``, ``monkey``), both only for a match found from its needle's few starts:

    - ``gate`` and ``reach``: every match holds a match of ``gate`` within its first ``reach``
      characters (the end of its label and the ``=`` or ``:`` after it); a needle with none
      near it is passed over without trying the pattern at all;
    - ``starts_at``: a cheap pattern matching where a match can begin (:func:`word_starts`:
      the first letter of a label, at a word boundary); only those starts are tried.
    """

    kind: str
    pattern: re.Pattern[str]
    replace: Replace
    needles: tuple[str, ...] = ()
    before: int = 0
    after: int = 0
    gate: re.Pattern[str] | None = None
    reach: int = 0
    starts_at: re.Pattern[str] | None = None
    #: For a rule whose match can hold a line end (through ``\\s`` or a PEM body): what such a
    #: match may hold from its needle to the first line end it crosses, lower-cased (a label's
    #: end, a quote, a separator, spaces). Where a needle is not followed so to its line end,
    #: the stacktrace's frames may be redacted one by one (see :mod:`._stacktrace`);
    #: ``test_stacktrace_frames`` checks every rule without it cannot match a line end.
    line_tail: re.Pattern[str] | None = None

    @property
    def scans_windows(self) -> bool:
        """Whether :meth:`apply` takes every match in a needle's window (``before`` too long to
        try each start), cut at the window's end: where that end falls depends on needles far
        ahead, so such a rule's outputs are not those of ``pattern.sub`` alone (an e-mail
        address 700 characters after another can lose all but its last letter), and a
        stacktrace holding its needle is redacted whole (see :mod:`._stacktrace`)."""
        return bool(self.needles) and self.before > _MAX_ANCHORED_BEFORE

    def apply(
        self,
        text: str,
        lowered: str,
        hits: Mapping[str, list[int]] | None = None,
        present: tuple[str, ...] | None = None,
    ) -> str:
        """``text`` with this rule's matches replaced.

        ``hits`` (needle → positions in ``lowered``), when given, saves searching again for the
        needles the caller has already looked for in this very text; ``present``, those of
        :attr:`needles` the caller knows the text holds (no other is looked for).
        """
        if not self.needles or len(lowered) != len(text):
            return self.pattern.sub(self.replace, text)
        pieces: list[str] = []
        done = 0
        needles = self.needles if present is None else present
        for hit in _positions(lowered, needles, hits):
            start = max(done, hit - self.before)
            end = min(len(text), hit + self.after)
            if end <= start:
                continue
            if self.before > _MAX_ANCHORED_BEFORE:
                matches: Iterable[re.Match[str]] = self.pattern.finditer(text, start, end)
            elif self.gate is not None and self.gate.search(text, start, hit + self.reach) is None:
                continue  # no match can start in [start, hit]: none has its label's end in reach
            else:
                # A match holds its needle, so it starts at most `before` characters ahead of
                # it: trying those few starts is far cheaper than scanning the whole window.
                matches = _first_match_from(self.pattern, text, start, hit, end, self.starts_at)
            for match in matches:
                pieces.append(text[done : match.start()])
                pieces.append(self.replace(match))
                done = match.end()
        if not pieces:
            return text
        pieces.append(text[done:])
        return "".join(pieces)


def _positions(
    lowered: str, needles: tuple[str, ...], hits: Mapping[str, list[int]] | None
) -> list[int]:
    if hits is None:
        return needle_positions(lowered, needles)
    positions = [at for needle in needles for at in hits[needle]]
    if len(needles) > 1:
        positions.sort()
    return positions


def needle_positions(lowered: str, needles: Iterable[str]) -> list[int]:
    """Where any of ``needles`` starts, ascending.

    ``str.find`` is used rather than a regex alternation: for a handful of literals it is
    several times faster than ``re`` on long text, and most texts hold none of them.
    """
    positions: list[int] = []
    count = 0
    for needle in needles:
        count += 1
        position = lowered.find(needle)
        while position != -1:
            positions.append(position)
            position = lowered.find(needle, position + 1)
    if count > 1:
        positions.sort()
    return positions


def _first_match_from(
    pattern: re.Pattern[str],
    text: str,
    first: int,
    last: int,
    end: int,
    starts_at: re.Pattern[str] | None = None,
) -> list[re.Match[str]]:
    """The match of ``pattern`` starting leftmost in ``[first, last]`` (and ending by ``end``);
    with ``starts_at``, only the starts it matches are tried, each found by one search."""
    if starts_at is None:
        for position in range(first, last + 1):
            match = pattern.match(text, position, end)
            if match is not None:
                return [match]
        return []
    while (found := starts_at.search(text, first, last + 1)) is not None:
        match = pattern.match(text, found.start(), end)
        if match is not None:
            return [match]
        first = found.start() + 1
    return []


ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

#: Runs of these characters, at least this long, are where provider tokens and base64 begin.
TOKEN_CHARACTERS = ALNUM + "_-"
MIN_RUN = 16

# ``bytes.translate`` table: ``a`` for a token character, a space for any other byte (``?``,
# which is what any character beyond ASCII becomes, included).
_RUN_TABLE = bytes(ord("a") if chr(byte) in TOKEN_CHARACTERS else 32 for byte in range(256))
_RUN_SEED = b"a" * MIN_RUN

Runs = list[tuple[int, int]]


def token_runs(text: str) -> Runs:
    """``(start, end)`` of every run of at least ``MIN_RUN`` token characters in ``text``.

    One ``encode``, one ``translate`` and a ``find`` per run: about what a couple of needle
    searches cost, and shared by every rule that starts at runs.
    """
    if len(text) < MIN_RUN:
        return []
    classes = text.encode("ascii", "replace").translate(_RUN_TABLE)
    found: Runs = []
    start = classes.find(_RUN_SEED)
    while start != -1:
        end = classes.find(b" ", start + MIN_RUN)
        if end == -1:
            end = len(classes)
        found.append((start, end))
        start = classes.find(_RUN_SEED, end)
    return found


@dataclass(frozen=True)
class RunRule:
    """Kinds of secret whose matches start at (or just before) a run of token characters.

    ``pattern`` must only match where :meth:`candidates` looks: at the first character of a
    run of at least ``MIN_RUN`` token characters (letters, digits, ``_``, ``-``); ``dotted``
    characters ahead of it when the run follows a ``.`` (3 for ``SG.``, ``v1.0-``); one
    character in when the run begins with the letter of an escaped ``\\n``/``\\r``/``\\t``.
    """

    kind: str
    pattern: re.Pattern[str]
    replace: Replace
    dotted: tuple[int, ...] = ()
    #: The first two characters a match can begin with (None: any), each with the fewest token
    #: characters a match beginning so holds in a row from its start; other starts, and starts
    #: with fewer token characters after them, are skipped.
    starts: Mapping[str, int] | None = None

    def candidates(self, text: str, runs: Iterable[tuple[int, int]]) -> list[int]:
        """Where a match may start (only those that begin like one, when ``starts`` is set)."""
        # (start, end of the token characters from there): a dotted start's end at its dot.
        places: list[tuple[int, int]] = []
        for start, end in runs:
            if start:
                before = text[start - 1]
                if before == ".":
                    places.extend(
                        (start - back, start - 1) for back in self.dotted if back <= start
                    )
                elif before == "\\" and text[start] in "nrt":
                    places.append((start + 1, end))
            places.append((start, end))
        starts = self.starts
        if starts is None:
            positions = [at for at, _ in places]
        else:
            positions = [
                at for at, end in places if end - at >= starts.get(text[at : at + 2], end + 1)
            ]
        return sorted(set(positions)) if len(positions) > 1 else positions

    def apply(
        self,
        text: str,
        lowered: str = "",
        hits: Mapping[str, list[int]] | None = None,
        runs: Runs | None = None,
    ) -> str:
        """``text`` with this rule's matches replaced; ``runs``: :func:`token_runs` of it."""
        if runs is None:
            runs = token_runs(text)
        if not runs:
            return text
        positions = self.candidates(text, runs)
        if not positions:
            return text  # no run begins like a token (most texts: names, ids, hashes)
        pieces: list[str] = []
        done = 0
        for position in positions:
            if position < done:
                continue
            match = self.pattern.match(text, position)
            if match is None:
                continue
            pieces.append(text[done : match.start()])
            pieces.append(self.replace(match))
            done = match.end()
        if not pieces:
            return text
        pieces.append(text[done:])
        return "".join(pieces)
