"""Properties of ``Catalog.match`` over generated catalogs and failures: it never raises, it is
deterministic, and the indexed, one-pass matcher picks what a naive loop over every entry
picks (the naive loop is the definition of the rules, written plainly)."""

from __future__ import annotations

from typing import Any

import re2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector_receiver.catalog import MAX_MESSAGE_CHARS, Catalog, CatalogEntry
from collector_receiver.catalog._attributes import attribute_texts, canonical_text
from collector_receiver.catalog._types import (
    MAX_BASE_TYPES,
    MAX_CAUSE_TYPES,
    is_weak,
    rule_between,
)
from collector_receiver.events import MAX_GROUP_LEAVES, FailureEvent, GroupLeaf
from tests.collector_receiver.catalog._helpers import build, entry, failure

TYPE_NAMES = [
    "openai.RateLimitError",
    "openai._exceptions.RateLimitError",
    "anthropic.RateLimitError",
    "RateLimitError",
    "TimeoutError",
    "builtins.TimeoutError",
    "asyncio.exceptions.TimeoutError",
    "requests.ReadTimeout",
    "requests.exceptions.ReadTimeout",
    "a.b.C",
    "a._x.b.C",
    "C",
]
PATTERNS = ["(?i)rate limit", "timeout", "^x", "[0-9]{3}", "é+", "a|b", "$", r"\bword\b"]
FRAGMENTS = ["Rate Limit", "timeout", "x", "429", "é", "a", "word", " ", "zz", "\x00"]
ATTR_VALUES: list[Any] = [429, "429", 429.0, True, "true", "x", 1.5, [1, 429], None, {"k": 1}]

non_surrogate_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@st.composite
def entries(draw: st.DrawFn, code: str) -> dict[str, Any]:
    kinds = draw(
        st.sets(
            st.sampled_from(["exception_types", "message_patterns", "attributes", "error_types"]),
            min_size=1,
        )
    )
    match: dict[str, Any] = {}
    if "exception_types" in kinds:
        match["exception_types"] = draw(
            st.lists(st.sampled_from(TYPE_NAMES), min_size=1, max_size=3)
        )
    if "message_patterns" in kinds:
        match["message_patterns"] = draw(
            st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3)
        )
    if "attributes" in kinds:
        value = draw(
            st.one_of(
                st.sampled_from([429, "429", True, "x", 1.5]),
                st.lists(st.sampled_from([429, "x", False]), min_size=1, max_size=2),
                st.sampled_from([{"pattern": "^4"}, {"pattern": "x"}]),
            )
        )
        match["attributes"] = {draw(st.sampled_from(["k1", "k2"])): value}
    if "error_types" in kinds:
        match["error_types"] = draw(st.lists(st.sampled_from(["429", "timeout"]), min_size=1))
    return entry(code, match, priority=draw(st.integers(-2, 2)))


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    count = draw(st.integers(0, 8))
    return build(*(draw(entries(f"E{i}")) for i in range(count)))


@st.composite
def failures(draw: st.DrawFn) -> FailureEvent:
    message = "".join(draw(st.lists(st.one_of(st.sampled_from(FRAGMENTS), non_surrogate_text))))
    return failure(
        exception_type=draw(st.one_of(st.sampled_from([*TYPE_NAMES, ""]), non_surrogate_text)),
        message=message,
        causes=draw(
            st.lists(st.one_of(st.sampled_from(TYPE_NAMES), non_surrogate_text), max_size=3)
        ),
        attributes=draw(
            st.dictionaries(st.sampled_from(["k1", "k2", "k3"]), st.sampled_from(ATTR_VALUES))
        ),
        error_type=draw(st.sampled_from([None, "429", "timeout", "other"])),
        bases=draw(
            st.lists(st.one_of(st.sampled_from(TYPE_NAMES), non_surrogate_text), max_size=3)
        ),
        leaves=draw(st.lists(leaves(), max_size=3)),
    )


@st.composite
def leaves(draw: st.DrawFn) -> GroupLeaf:
    names = st.lists(st.sampled_from(TYPE_NAMES), max_size=2)
    return GroupLeaf(
        exception_type=draw(st.sampled_from([*TYPE_NAMES, ""])),
        exception_message="".join(draw(st.lists(st.sampled_from(FRAGMENTS), max_size=3))),
        cause_types=tuple(draw(names)),
        base_types=tuple(draw(names)),
    )


def naive_winner(catalog: Catalog, event: FailureEvent) -> str:
    """The first group leaf that some entry matches decides (a leaf has no attributes and no
    ``error.type``); else the failure itself."""
    for leaf in event.group_leaves[:MAX_GROUP_LEAVES]:
        as_failure = failure(
            leaf.exception_type, leaf.exception_message, leaf.cause_types, bases=leaf.base_types
        )
        code = naive_single_winner(catalog, as_failure)
        if code != "UNCATALOGED":
            return code
    return naive_single_winner(catalog, event)


def naive_single_winner(catalog: Catalog, event: FailureEvent) -> str:
    """Every entry, every rule, no index and no pattern set."""
    own = [event.exception_type, *event.cause_types[:MAX_CAUSE_TYPES]]
    bases = list(event.base_types[:MAX_BASE_TYPES])
    # each matched entry with its tier: "typed" (type or cause, strong), "base" (only through a
    # base, strong), "weak" (class name only), "untyped" (no exception_types)
    matched: list[tuple[CatalogEntry, str]] = []
    for candidate in sorted(catalog.entries, key=lambda e: (-e.priority, e.index)):
        rule = candidate.match
        tier = "untyped"
        if rule.exception_types:

            def rules(types: list[str], names: tuple[str, ...] = rule.exception_types) -> list[str]:
                return [r for n in names for t in types if (r := rule_between(n, t)) is not None]

            on_own, on_bases = rules(own), rules(bases)
            if not on_own and not on_bases:
                continue
            if any(not is_weak(r) for r in on_own):
                tier = "typed"
            elif any(not is_weak(r) for r in on_bases):
                tier = "base"
            else:
                tier = "weak"
        text = event.exception_message[:MAX_MESSAGE_CHARS]
        if rule.message_patterns and not any(re2.search(p, text) for p in rule.message_patterns):
            continue
        if rule.attributes and not any(
            attr.key in event.attributes
            and any(
                (re2.search(attr.pattern, t) is not None)
                if attr.pattern is not None
                else t in {canonical_text(v) for v in attr.values}
                for t in attribute_texts(event.attributes[attr.key])
            )
            for attr in rule.attributes
        ):
            continue
        if rule.error_types and event.error_type not in rule.error_types:
            continue
        matched.append((candidate, tier))
    tiers = {tier for _, tier in matched}
    if "typed" in tiers:
        matched = [(e, tier) for e, tier in matched if tier in ("typed", "untyped")]
    elif "base" in tiers:
        matched = [(e, tier) for e, tier in matched if tier in ("base", "untyped")]
    return matched[0][0].code if matched else "UNCATALOGED"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalog=catalogs(), event=failures())
def test_indexed_matcher_agrees_with_the_naive_definition(
    catalog: Catalog, event: FailureEvent
) -> None:
    verdict = catalog.match(event)
    assert verdict.code == naive_winner(catalog, event)
    assert all(reason.startswith(f"{verdict.code}: ") for reason in verdict.reasons)
    assert (verdict.entry is None) == (verdict.code == "UNCATALOGED") == (not verdict.reasons)
    if verdict.group_leaf is not None:
        assert all(
            reason.startswith(f"{verdict.code}: group leaf {verdict.group_leaf + 1} of ")
            for reason in verdict.reasons
        )


@settings(max_examples=150, deadline=None)
@given(
    exception_type=st.text(max_size=50),
    message=st.text(max_size=300),
    causes=st.lists(st.text(max_size=30), max_size=5),
    attributes=st.dictionaries(
        st.text(max_size=10),
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
            lambda inner: st.one_of(
                st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=6,
        ),
        max_size=4,
    ),
    error_type=st.one_of(st.none(), st.text(max_size=10)),
)
def test_match_never_raises_and_is_deterministic(
    exception_type: str,
    message: str,
    causes: list[str],
    attributes: dict[str, Any],
    error_type: str | None,
) -> None:
    catalog = _EVERYTHING
    event = failure(exception_type, message, causes, attributes, error_type)
    first = catalog.match(event)
    assert catalog.match(event) == first
    assert first.code in {"UNCATALOGED", *(e.code for e in catalog.entries)}


_EVERYTHING = build(
    entry("BY_TYPE", {"exception_types": TYPE_NAMES}),
    entry("BY_MESSAGE", {"message_patterns": PATTERNS}),
    entry("BY_ATTRIBUTE", {"attributes": {"k1": 429, "k2": {"pattern": "."}, "k3": ["x", 1.5]}}),
    entry("BY_ERROR_TYPE", {"error_types": ["429"]}),
)
