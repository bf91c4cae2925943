"""The compiled form of a catalog: what makes :meth:`Catalog.match` cheap per failure.

Built once per catalog, read-only afterwards (safe to share between threads):

- a dictionary from type-name keys (see :mod:`._types`) to the entries filed under them, so a
  failure meets only the entries whose ``exception_types`` can apply plus the entries that have
  no ``exception_types`` at all;
- one :class:`MessageScanner` holding the ``message_patterns`` of every entry, so the message
  is scanned once however many patterns the catalog has (the first :data:`MAX_MESSAGE_CHARS`
  characters);
- per-entry compiled attribute patterns, checked only for candidates.

A failure's types are its own, its bases and its causes (see :mod:`._types`); an exception
group is matched leaf by leaf first (see :meth:`Catalog.match`).

The winner among the entries that match fully, from the most specific kind of type match down:
when some entry matched the failure's type or a cause (by a rule stronger than class name
only), entries that matched only through a base, or only by class name (the failure's type
carried no module), are dropped; else, when some entry matched through a base, the
class-name-only ones are dropped. Entries without ``exception_types`` are never dropped. Then
the highest ``priority`` wins, then the earliest in the file. So a catalog written before bases
were sent keeps its verdict for every failure it matched by type, and a broad entry naming a
base class (``anthropic.InternalServerError``) does not take the failures of a specific entry
naming the subclass (``anthropic.OverloadedError``) whatever their priorities.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import re2

from collector_receiver._one_line import one_line
from collector_receiver.catalog import _types
from collector_receiver.catalog._attributes import attribute_texts, canonical_text
from collector_receiver.catalog._model import AttributeRule, CatalogEntry, CatalogError
from collector_receiver.catalog._text import quote
from collector_receiver.events import AttributeValue

#: Only the head of a message is scanned: 64 Ki characters keep the worst case bounded
#: (RE2 is linear, but a pathological catalog times a megabyte message is still slow) and
#: every message an SDK produces says what it is about long before that.
MAX_MESSAGE_CHARS = 65536


def re2_options() -> re2.Options:
    """Options for every catalog regex: RE2 defaults (UTF-8, case-sensitive), no stderr logging
    (errors are reported as :class:`CatalogError` instead)."""
    options = re2.Options()
    options.log_errors = False
    return options


def compile_pattern(pattern: str) -> re2._Regexp:
    """Compile one RE2 pattern; ``re2.error`` carries RE2's reason."""
    return re2.compile(pattern, options=re2_options())


def re2_reason(exc: Exception) -> str:
    """RE2's reason for refusing a pattern, as one line of text."""
    reason = exc.args[0] if exc.args else str(exc)
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    return one_line(reason)


@dataclass(frozen=True, slots=True)
class _CompiledAttribute:
    key: str
    texts: frozenset[str]
    pattern: str | None
    regex: re2._Regexp | None

    def explain(self, attributes: Mapping[str, AttributeValue]) -> str | None:
        """A reason if the failure's attribute satisfies this condition, else None."""
        if self.key not in attributes:
            return None
        for text in attribute_texts(attributes[self.key]):
            if self.regex is not None:
                if self.regex.search(utf8(text)) is not None:
                    return (
                        f"attributes {quote(self.key)} = {quote(text)} matched pattern "
                        f"{quote(self.pattern)}"
                    )
            elif text in self.texts:
                return f"attributes {quote(self.key)} = {quote(text)} matched the catalog's value"
        return None


@dataclass(frozen=True, slots=True)
class _CompiledEntry:
    entry: CatalogEntry
    #: position in the file, counting from 0
    position: int
    #: ids of this entry's patterns in the shared set, in the entry's order
    pattern_ids: tuple[int, ...]
    pattern_id_set: frozenset[int]
    attributes: tuple[_CompiledAttribute, ...]
    error_types: frozenset[str]


class Found(NamedTuple):
    """The entry that won, its reasons, and the role of the type it matched by: ``"type"``,
    ``"cause"`` or ``"base"`` (:mod:`._types`), None for an entry that names no type."""

    entry: CatalogEntry
    reasons: tuple[str, ...]
    role: str | None


class Matcher:
    """The compiled index of one catalog's entries. Immutable after construction."""

    __slots__ = (
        "_by_key",
        "_by_rank",
        "_rank_of",
        "_scanner",
        "_untyped_ranks",
    )

    def __init__(self, entries: Sequence[CatalogEntry], source: str) -> None:
        order = sorted(range(len(entries)), key=lambda i: (-entries[i].priority, i))
        rank_of = [0] * len(entries)
        for rank, position in enumerate(order):
            rank_of[position] = rank
        by_key: dict[_types.Key, list[tuple[int, int]]] = {}
        untyped_ranks: list[int] = []
        patterns: list[str] = []
        compiled: list[_CompiledEntry] = []
        for position, entry in enumerate(entries):
            where = f"{source}: entry {entry.code} (#{position + 1})"
            rule = entry.match
            for name_index, name in enumerate(rule.exception_types):
                for key in _types.catalog_keys(name):
                    by_key.setdefault(key, []).append((position, name_index))
            if not rule.exception_types:
                untyped_ranks.append(rank_of[position])
            ids = []
            for pattern_index, pattern in enumerate(rule.message_patterns):
                try:
                    compile_pattern(pattern)
                except re2.error as exc:
                    raise CatalogError(
                        f"{where}: match.message_patterns[{pattern_index}] {quote(pattern)} is "
                        f"not a valid RE2 regex: {re2_reason(exc)}"
                    ) from None
                ids.append(len(patterns))
                patterns.append(pattern)
            compiled.append(
                _CompiledEntry(
                    entry=entry,
                    position=position,
                    pattern_ids=tuple(ids),
                    pattern_id_set=frozenset(ids),
                    attributes=tuple(_compile_attribute(rule, where) for rule in rule.attributes),
                    error_types=frozenset(rule.error_types),
                )
            )
        self._scanner = MessageScanner(patterns, source)
        self._by_rank = tuple(compiled[position] for position in order)
        self._rank_of = tuple(rank_of)
        self._by_key = {key: tuple(hits) for key, hits in by_key.items()}
        self._untyped_ranks = tuple(sorted(untyped_ranks))

    def best(
        self,
        exception_type: str,
        message: str,
        cause_types: Sequence[str],
        attributes: Mapping[str, AttributeValue],
        error_type: str | None,
        base_types: Sequence[str] = (),
        within: str = "",
    ) -> Found | None:
        """The winning entry, its reasons and its hit's role, or None when no entry matches.

        Candidates are visited in preference order and only tested (booleans, set lookups);
        the reasons are spelled out for the winner alone. The loop stops at the first match
        that no later entry can beat: one that matched the type or a cause by a strong rule,
        or the first match of all if it is an untyped entry. ``within`` (such as
        ``"group leaf 2 of 3"``) is put after the code in each reason.
        """
        type_hits = self._type_hits(exception_type, cause_types, base_types)
        typed_ranks = sorted(self._rank_of[position] for position in type_hits)
        message_hits: frozenset[int] | None = None
        first: _CompiledEntry | None = None
        # The first untyped or type-matched entry (what wins once a type match is seen), and
        # the first untyped or base-only one (what wins when base matches are the best).
        first_untyped_or_typed: _CompiledEntry | None = None
        first_untyped_or_base: _CompiledEntry | None = None
        base_only_seen = False
        winner: _CompiledEntry | None = None
        for rank in heapq.merge(self._untyped_ranks, typed_ranks):
            candidate = self._by_rank[rank]
            if candidate.pattern_ids:
                if message_hits is None:
                    message_hits = self._scanner.scan(message)
                if message_hits.isdisjoint(candidate.pattern_id_set):
                    continue
            if candidate.attributes and not any(
                a.explain(attributes) for a in candidate.attributes
            ):
                continue
            if candidate.error_types and (
                error_type is None or error_type not in candidate.error_types
            ):
                continue
            hit = type_hits.get(candidate.position)
            if first is None:
                first = candidate
            if hit is None:  # untyped: kept whatever else matches
                if first_untyped_or_typed is None:
                    first_untyped_or_typed = candidate
                if first_untyped_or_base is None:
                    first_untyped_or_base = candidate
                if first is candidate:  # nothing later can push it down
                    winner = candidate
                    break
            elif hit.via_base:
                base_only_seen = True
                if first_untyped_or_base is None:
                    first_untyped_or_base = candidate
            elif not hit.weak:  # the type or a cause: base-only and weak matches drop out
                winner = first_untyped_or_typed or candidate
                break
        else:
            # No type match: base-only matches push down class-name-only ones; with neither,
            # class-name-only matches keep their rank.
            winner = first_untyped_or_base if base_only_seen else first
        if winner is None:
            return None
        hit = type_hits.get(winner.position)
        return Found(
            winner.entry,
            self._reasons(winner, hit, message_hits, attributes, error_type, within),
            None if hit is None else hit.role,
        )

    def _reasons(
        self,
        winner: _CompiledEntry,
        hit: _types.TypeHit | None,
        message_hits: frozenset[int] | None,
        attributes: Mapping[str, AttributeValue],
        error_type: str | None,
        within: str,
    ) -> tuple[str, ...]:
        reasons: list[str] = []
        if hit is not None:
            reasons.append(hit.describe())
        if winner.pattern_ids and message_hits is not None:
            index = next(i for i, pid in enumerate(winner.pattern_ids) if pid in message_hits)
            pattern = winner.entry.match.message_patterns[index]
            reasons.append(f"message_patterns[{index}] {quote(pattern)} matched")
        for attribute in winner.attributes:
            said = attribute.explain(attributes)
            if said is not None:
                reasons.append(said)
                break
        if winner.error_types and error_type is not None:
            reasons.append(
                f"error_types {quote(error_type)} matched error.type {quote(error_type)}"
            )
        head = f"{winner.entry.code}: {within}: " if within else f"{winner.entry.code}: "
        return tuple(head + reason for reason in reasons)

    def _type_hits(
        self, exception_type: str, cause_types: Sequence[str], base_types: Sequence[str]
    ) -> dict[int, _types.TypeHit]:
        best: dict[int, _types.TypeHit] = {}
        for failure_type, role in _types.failure_types(exception_type, cause_types, base_types):
            for key in _types.failure_keys(failure_type):
                for position, name_index in self._by_key.get(key, ()):
                    name = self._by_rank[self._rank_of[position]].entry.match.exception_types[
                        name_index
                    ]
                    rule = _types.rule_between(name, failure_type)
                    if rule is None:  # pragma: no cover - the keys are built from the same rules
                        continue
                    of = exception_type if role == _types.BASE else ""
                    hit = _types.TypeHit(name, name_index, failure_type, role, rule, of)
                    current = best.get(position)
                    if current is None or hit.sort_key() < current.sort_key():
                        best[position] = hit
        return best


class MessageScanner:
    """Every message pattern of a catalog, found in one pass over a message.

    Built on RE2's ``FilteredRE2`` (``re2.Filter``): RE2 extracts from each pattern the literal
    strings ("atoms") any match must contain, finds all atoms of all patterns in one scan of the
    message with a single literal ``RE2::Set``, and then confirms only the patterns whose atoms
    occurred (plus the few that have none) with their own RE2 search. Results are exact. On the
    default catalog it is tens of times faster than one ``re2.Set`` of the full patterns, whose
    unanchored DFA must follow every pattern at every byte; on a few simple patterns the two
    are close (``benchmarks/bench_catalog_match.py`` prints both).
    """

    __slots__ = ("_filter",)

    def __init__(self, patterns: Sequence[str], source: str) -> None:
        self._filter: re2.Filter | None = None
        if not patterns:  # FilteredRE2 refuses to compile an empty filter
            return
        scanner = re2.Filter()
        for pattern in patterns:
            scanner.Add(pattern, re2_options())  # ids are 0, 1, ... in Add order
        try:
            scanner.Compile()
        except re2.error:
            raise CatalogError(
                f"{source}: RE2 cannot combine the message_patterns of all entries; "
                "simplify or remove some patterns"
            ) from None
        self._filter = scanner

    def scan(self, message: str) -> frozenset[int]:
        """Ids of the patterns found in (the head of) ``message``."""
        if self._filter is None:
            return frozenset()
        found = self._filter.Match(utf8(message[:MAX_MESSAGE_CHARS]))
        return frozenset(found) if found else frozenset()


def utf8(text: str) -> bytes:
    """``text`` as UTF-8 for RE2. Lone surrogates (which Python strings can hold and UTF-8
    cannot) become U+FFFD instead of failing the match."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").encode("utf-8")


def _compile_attribute(rule: AttributeRule, where: str) -> _CompiledAttribute:
    if rule.pattern is not None:
        try:
            regex = compile_pattern(rule.pattern)
        except re2.error as exc:
            raise CatalogError(
                f"{where}: match.attributes[{quote(rule.key)}].pattern {quote(rule.pattern)} "
                f"is not a valid RE2 regex: {re2_reason(exc)}"
            ) from None
        return _CompiledAttribute(rule.key, frozenset(), rule.pattern, regex)
    texts = tuple(t for t in (canonical_text(v) for v in rule.values) if t is not None)
    return _CompiledAttribute(rule.key, frozenset(texts), None, None)
