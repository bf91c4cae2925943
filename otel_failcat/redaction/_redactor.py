"""The :class:`Redactor`: every rule in order, in passes until nothing changes, then the caps."""

from __future__ import annotations

import re
from collections.abc import Sequence

from otel_failcat.redaction._base64 import base64_rule
from otel_failcat.redaction._caps import cap_head, cap_head_tail, head_window, tail_window
from otel_failcat.redaction._engine import Rule, RunRule, needle_positions, whole
from otel_failcat.redaction._rules import needle_rules
from otel_failcat.redaction._settings import RedactionSettings, compile_extra
from otel_failcat.redaction._tokens import token_rule

_UNREDACTABLE = "[REDACTED:unredactable]"
_MAX_PASSES = 4

#: Up to this length a text is checked for needles with one regex search (see ``Redactor``).
_SHORT_TEXT = 48

#: The provider tokens go right before the first of these, so that ``api_key=hf_…`` is told
#: as a Hugging Face token rather than as any ``api_key`` value.
_TOKENS_BEFORE = "anthropic_key"

_AnyRule = Rule | RunRule


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
        self._inner = inner + custom
        self._rules: tuple[_AnyRule, ...] = (
            *inner,
            base64_rule(lambda decoded: self._passes(decoded, self._inner) != decoded),
            *custom,
        )
        # Most texts (attribute values, ordinary messages) hold no needle at all, and then the
        # needle rules are skipped (the run rules find their own runs, which costs little).
        self._needles = tuple(sorted({n for rule in needle for n in rule.needles}))
        # A needle that begins with another one is found among that one's hits.
        self._derived = {
            n: min((o for o in self._needles if o != n and n.startswith(o)), key=len)
            for n in self._needles
            if any(o != n and n.startswith(o) for o in self._needles)
        }
        # "Is any needle there?" as one search, for short texts (most attribute values: "chat",
        # a model name), where one regex call beats a substring test per needle; past a few
        # dozen characters the substring tests win.
        self._needle_search = re.compile("|".join(map(re.escape, self._needles))).search

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
            return self._passes(text, self._rules)
        except Exception:
            # Never raise into the host, and never let an unredacted text through.
            return _UNREDACTABLE

    def message(self, text: str) -> str:
        """Redact an exception message and cap it to ``max_message_length`` (head kept)."""
        try:
            limit = self._settings.max_message_length
            raw = head_window(text, 2 * limit)
            redacted = self.redact(raw)
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
                redacted = self.redact(text)
                if len(redacted) <= limit:
                    return redacted
                return cap_head_tail(redacted, redacted, limit, 0)
            head_raw, tail_raw = head_window(text, limit), tail_window(text, limit)
            never_redacted = len(text) - len(head_raw) - len(tail_raw)
            head, tail = self.redact(head_raw), self.redact(tail_raw)
            return cap_head_tail(head, tail, limit, never_redacted)
        except Exception:
            return _UNREDACTABLE

    def _passes(self, text: str, rules: Sequence[_AnyRule]) -> str:
        # A replacement changes what its neighbours see (``BEARER 0000=a@b.co``: once the e-mail
        # is gone, ``0000=`` ends where a token may end), so passes repeat until nothing changes;
        # a text without secrets costs one pass, one with secrets usually two.
        for _ in range(_MAX_PASSES):
            redacted = self._one_pass(text, rules)
            if redacted == text:
                break
            text = redacted
        return text

    def _one_pass(self, text: str, rules: Sequence[_AnyRule]) -> str:
        lowered = text.lower()
        hits: dict[str, list[int]] | None = None
        if len(lowered) <= _SHORT_TEXT:
            any_needle = self._needle_search(lowered) is not None
        else:
            # One search per needle for all the rules of this pass (until one replaces).
            hits = self._hits(lowered)
            any_needle = any(hits.values())
        for rule in rules:
            if not any_needle and isinstance(rule, Rule) and rule.needles:
                continue
            replaced = rule.apply(text, lowered, hits)
            if replaced != text:
                text = replaced
                lowered = text.lower()
                hits = None
        return text

    def _hits(self, lowered: str) -> dict[str, list[int]]:
        hits = {
            needle: needle_positions(lowered, (needle,))
            for needle in self._needles
            if needle not in self._derived
        }
        for needle, base in self._derived.items():
            hits[needle] = [at for at in hits[base] if lowered.startswith(needle, at)]
        return hits
