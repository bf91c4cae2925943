"""The :class:`Redactor`: every rule in order, in passes until nothing changes, then the caps."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from otel_failcat.redaction._base64 import Base64Rule
from otel_failcat.redaction._caps import cap_head, cap_head_tail, head_window, tail_window
from otel_failcat.redaction._engine import Rule, RunRule, Runs, needle_positions, token_runs, whole
from otel_failcat.redaction._rules import needle_rules
from otel_failcat.redaction._settings import RedactionSettings, compile_extra
from otel_failcat.redaction._stacktrace import FrameMemoRedaction
from otel_failcat.redaction._tokens import token_rule

_UNREDACTABLE = "[REDACTED:unredactable]"
_MAX_PASSES = 4

#: Up to this length a text is checked for needles with one regex search (see ``Redactor``).
_SHORT_TEXT = 48
#: Past this length the rules of a pass share one search per needle.
_SHARED_HITS = 512
#: How many distinct sets of needles a plan remembers its rules for (each a tuple of ≤ 30).
_MAX_CHOSEN = 1024

#: The provider tokens go right before the first of these, so that ``api_key=hf_…`` is told
#: as a Hugging Face token rather than as any ``api_key`` value.
_TOKENS_BEFORE = "anthropic_key"

_AnyRule = Rule | RunRule | Base64Rule

try:  # the receiver's dependency; an agent installed without it looks for each needle in turn
    import re2
except ImportError:  # pragma: no cover - exercised by agent-only installations
    re2 = None


class Redactor:
    """Redacts secrets and caps lengths according to :class:`RedactionSettings`.

    Immutable after construction and safe to share between threads. Construction raises
    ``ValueError`` for an invalid extra pattern; the methods never raise.
    """

    def __init__(self, settings: RedactionSettings | None = None) -> None:
        self._settings = settings if settings is not None else RedactionSettings()
        custom = tuple(
            Rule("custom", compile_extra(pattern, index), whole("custom"))
            for index, pattern in enumerate(self._settings.extra_patterns, start=1)
        )
        needle = needle_rules()
        at = next(i for i, rule in enumerate(needle) if rule.kind == _TOKENS_BEFORE)
        inner: tuple[_AnyRule, ...] = (*needle[:at], token_rule(), *needle[at:])
        # The base64 rule asks the others whether a decoded text holds a secret.
        self._inner = _Plan(inner + custom)
        self._rules: tuple[_AnyRule, ...] = (
            *inner,
            Base64Rule(lambda decoded: self._passes(decoded, self._inner) != decoded),
            *custom,
        )
        self._plan = _Plan(self._rules)
        # Most texts (attribute values, ordinary messages) hold no needle at all, and then the
        # needle rules are skipped; otherwise each pass looks for every needle once (``in``,
        # the fastest test) and runs only the rules whose needles are there.
        needles = {n for rule in needle for n in rule.needles}
        # A needle that begins with another one is only looked for where that one is.
        self._derived = {
            n: min((o for o in needles if o != n and n.startswith(o)), key=len)
            for n in needles
            if any(o != n and n.startswith(o) for o in needles)
        }
        self._needles = tuple(sorted(needles - self._derived.keys()))
        # "Is any needle there?" as one search, for short texts (most attribute values: "chat",
        # a model name), where one regex call beats a substring test per needle; past a few
        # dozen characters the substring tests win.
        self._needle_search = re.compile("|".join(map(re.escape, self._needles))).search
        self._needles_in = _needle_finder(self._needles)
        # Stacktraces are redacted frame by frame, the frames remembered (see ._stacktrace);
        # an extra pattern may match anything, across lines too, so with one they go whole.
        self._frames = (
            None
            if custom
            else FrameMemoRedaction(
                lambda text: self._passes(text, self._plan),
                [(n, rule.line_tail) for rule in needle if rule.line_tail for n in rule.needles],
                _needle_finder,
                [n for rule in needle if rule.scans_windows for n in rule.needles],
            )
        )

    @property
    def settings(self) -> RedactionSettings:
        return self._settings

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``[REDACTED:<kind>]`` (unchanged if disabled)."""
        if not self._settings.enabled:
            return text
        try:
            if not isinstance(text, str):
                text = str(text)
            return self._passes(text, self._plan)
        except Exception:
            # Never raise into the host, and never let an unredacted text through.
            return _UNREDACTABLE

    def message(self, text: str, limit: int | None = None) -> str:
        """Redact an exception message and cap it to ``max_message_length`` (head kept).

        ``limit``: a tighter cap for this text (the smaller of the two applies), as for the
        messages of an exception group's members, which travel many to an event.
        """
        try:
            if limit is None or limit > self._settings.max_message_length:
                limit = self._settings.max_message_length
            raw = head_window(text, 2 * limit)
            redacted = self.redact(raw)
            if self._frames is not None and redacted is not _UNREDACTABLE:
                self._frames.remember_message(raw, redacted)
            never_redacted = len(text) - len(raw)
            if len(redacted) <= limit and never_redacted == 0:
                return redacted
            return cap_head(redacted, limit, never_redacted)
        except Exception:
            return _UNREDACTABLE

    def stacktrace(self, text: str) -> str:
        """Redact a stacktrace and cap it to ``max_stacktrace_length`` (head and tail kept)."""
        try:
            limit = self._settings.max_stacktrace_length
            if len(text) <= 2 * limit:
                redacted = self._redact_stacktrace(text)
                if len(redacted) <= limit:
                    return redacted
                return cap_head_tail(redacted, redacted, limit, 0)
            head_raw, tail_raw = head_window(text, limit), tail_window(text, limit)
            never_redacted = len(text) - len(head_raw) - len(tail_raw)
            head, tail = self._redact_stacktrace(head_raw), self._redact_stacktrace(tail_raw)
            return cap_head_tail(head, tail, limit, never_redacted)
        except Exception:
            return _UNREDACTABLE

    def clear_memo(self) -> None:
        """Forget the frames and messages remembered for stacktraces (benchmarks of text seen
        for the first time start so); the outputs never depend on it."""
        if self._frames is not None:
            self._frames.clear()

    def _redact_stacktrace(self, text: str) -> str:
        """What :meth:`redact` gives for ``text``, its frames' redactions taken from the memo."""
        if not self._settings.enabled or self._frames is None:
            return self.redact(text)
        try:
            return self._frames(text)
        except Exception:
            return _UNREDACTABLE

    def _passes(self, text: str, plan: _Plan) -> str:
        # A replacement changes what its neighbours see (``BEARER 0000=a@b.co``: once the e-mail
        # is gone, ``0000=`` ends where a token may end), so passes repeat until nothing changes;
        # a text without secrets costs one pass, one with secrets usually two. The needles found
        # by the first pass serve the later ones (see ``_one_pass``).
        present: frozenset[str] | None = None
        for _ in range(_MAX_PASSES):
            redacted, present = self._one_pass(text, plan, present)
            if redacted == text:
                break
            text = redacted
        return text

    def _one_pass(
        self, text: str, plan: _Plan, present: frozenset[str] | None
    ) -> tuple[str, frozenset[str]]:
        """One pass of every rule the text's needles call for; ``present``: the needles of the
        text before an earlier pass replaced anything (None: look for them now)."""
        lowered = text.lower()
        # The needles in the text. A replacement can only add needles inside its marker
        # (``[REDACTED:api_key]`` holds ``key``; no needle holds ``[`` or ``]``, so none can
        # span a marker's edge), and no rule matches there (that is what makes redaction
        # idempotent), so the set found at the start of the pass stays good for all of it,
        # and for the passes after it (a replacement removes needles or adds them in markers).
        if present is None:
            present = self._present(lowered)
        # In a long text each needle is searched for once for all the rules of this pass (until
        # one replaces), and only if it is present at all: a rule with six needles
        # (``key_value``) in a text that holds one of them searches for that one. In a short
        # text that bookkeeping costs more than searching again.
        share = len(lowered) > _SHARED_HITS and bool(present)
        hits = _Hits(lowered, self._derived, present) if share else None
        runs: Runs | None = None  # found once for the rules that start at runs
        for rule, needles in plan.rules_for(present):
            if isinstance(rule, Rule):
                replaced = rule.apply(text, lowered, hits, needles)
            else:
                if runs is None:
                    runs = token_runs(text)
                if not runs:
                    continue
                replaced = rule.apply(text, lowered, None, runs)
            if replaced != text:
                text = replaced
                lowered = text.lower()
                hits = _Hits(lowered, self._derived, present) if share else None
                runs = None
        return text, present

    def _present(self, lowered: str) -> frozenset[str]:
        """The needles that occur in ``lowered``."""
        if len(lowered) <= _SHORT_TEXT and self._needle_search(lowered) is None:
            return frozenset()
        found = self._needles_in(lowered)
        if found:
            found.update(n for n, base in self._derived.items() if base in found and n in lowered)
        return frozenset(found)


def _needle_finder(needles: tuple[str, ...]) -> Callable[[str], set[str]]:
    """A function giving the ``needles`` that occur in a text.

    With RE2, one automaton finds them all in one pass over the text (a 5 kB stacktrace: about
    10 µs against 90 for a substring test per needle). RE2 reads UTF-8, which a text with lone
    surrogates cannot be encoded to; those texts get the substring tests.
    """

    def each_in_turn(text: str) -> set[str]:
        return {needle for needle in needles if needle in text}

    if re2 is None or not needles:
        return each_in_turn
    automaton = re2.Set.SearchSet()
    for needle in needles:
        automaton.Add(re2.escape(needle))
    automaton.Compile()

    def in_one_pass(text: str) -> set[str]:
        try:
            indices = automaton.Match(text)
        except UnicodeEncodeError:
            return each_in_turn(text)
        return {needles[index] for index in indices or ()}

    return in_one_pass


#: A rule to run, with those of its needles the text holds (None for a rule without needles).
_Step = tuple[_AnyRule, "tuple[str, ...] | None"]


class _Plan:
    """Rules in order, and which of them a text with given needles needs to run, each with the
    needles it is to look for (only the present ones: ``key_value`` has six, a text rarely
    holds more than one)."""

    def __init__(self, rules: Sequence[_AnyRule]) -> None:
        self.rules = tuple(rules)
        self._always = tuple(
            i for i, r in enumerate(self.rules) if not isinstance(r, Rule) or not r.needles
        )
        by_needle: dict[str, list[int]] = {}
        for index, rule in enumerate(self.rules):
            if isinstance(rule, Rule):
                for needle in rule.needles:
                    by_needle.setdefault(needle, []).append(index)
        self._by_needle = {needle: tuple(indices) for needle, indices in by_needle.items()}
        self._without_needles = tuple(_step(self.rules[i], frozenset()) for i in self._always)
        # The same few sets of needles come back again and again ({"key", "token"}, {"://"}).
        self._chosen: dict[frozenset[str], tuple[_Step, ...]] = {}

    def rules_for(self, present: frozenset[str]) -> Sequence[_Step]:
        if not present:
            return self._without_needles
        chosen = self._chosen.get(present)
        if chosen is None:
            indices = set(self._always)
            for needle in present:
                indices.update(self._by_needle.get(needle, ()))
            chosen = tuple(_step(self.rules[i], present) for i in sorted(indices))
            if len(self._chosen) < _MAX_CHOSEN:
                self._chosen[present] = chosen
        return chosen


def _step(rule: _AnyRule, present: frozenset[str]) -> _Step:
    if not isinstance(rule, Rule) or not rule.needles:
        return rule, None
    return rule, tuple(needle for needle in rule.needles if needle in present)


class _Hits(dict[str, list[int]]):
    """Needle → its positions in ``lowered``, each searched for on first use.

    A needle not ``present`` at the start of the pass has none: a replacement adds needles only
    inside its marker, where no rule matches (see ``Redactor._one_pass``).
    """

    def __init__(self, lowered: str, derived: dict[str, str], present: frozenset[str]) -> None:
        super().__init__()
        self._lowered = lowered
        self._derived = derived
        self._present = present

    def __missing__(self, needle: str) -> list[int]:
        base = self._derived.get(needle)
        if needle not in self._present:
            found: list[int] = []
        elif base is None:
            found = needle_positions(self._lowered, (needle,))
        else:
            found = [at for at in self[base] if self._lowered.startswith(needle, at)]
        self[needle] = found
        return found
