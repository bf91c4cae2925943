"""How catalog ``exception_types`` names meet failure types: exact, class name, aliases, causes,
and unqualified failure types (the weak class-name-only rule)."""

from __future__ import annotations

import pytest

from collector_receiver.catalog._types import canonical, rule_between
from tests.collector_receiver.catalog._helpers import build, entry, failure


@pytest.mark.parametrize(
    ("name", "failure_type", "rule"),
    [
        ("openai.RateLimitError", "openai.RateLimitError", "exact"),
        ("TimeoutError", "TimeoutError", "exact"),
        ("TimeoutError", "asyncio.exceptions.TimeoutError", "class name"),
        ("TimeoutError", "builtins.TimeoutError", "class name"),
        ("builtins.TimeoutError", "TimeoutError", "class name"),
        ("openai.RateLimitError", "openai._exceptions.RateLimitError", "alias"),
        ("openai._exceptions.RateLimitError", "openai.RateLimitError", "alias"),
        ("requests.ReadTimeout", "requests.exceptions.ReadTimeout", "alias"),
        ("openai.lib.Thing", "openai.lib._private.Thing", "alias"),
        ("openai.RateLimitError", "RateLimitError", "class name only"),
        ("openai.RateLimitError", "anthropic.RateLimitError", None),
        ("openai.RateLimitError", "openai.APIError", None),
        ("requests.exceptions.ReadTimeout", "requests.adapters.ReadTimeout", None),
        ("a.b.C", "a.x.C", None),  # only a package.Class name spans modules
        ("_thread.error", "error", "class name only"),  # the top-level package is never dropped
        ("TimeoutError", "", None),
    ],
)
def test_rule_between(name: str, failure_type: str, rule: str | None) -> None:
    assert rule_between(name, failure_type) == rule


def test_canonical_drops_builtins_and_private_inner_modules_only() -> None:
    assert canonical("openai._exceptions.RateLimitError") == "openai.RateLimitError"
    assert canonical("builtins.ValueError") == "ValueError"
    assert canonical("_pytest.outcomes.Failed") == "_pytest.outcomes.Failed"
    assert canonical("pkg.mod._Private") == "pkg.mod._Private"


def test_alias_reason() -> None:
    catalog = build(entry("RATE_LIMITED", {"exception_types": ["openai.RateLimitError"]}))
    verdict = catalog.match(failure("openai._exceptions.RateLimitError"))
    assert verdict.reasons == (
        "RATE_LIMITED: exception_types 'openai.RateLimitError' matched type "
        "'openai._exceptions.RateLimitError' (via alias)",
    )


def test_cause_chain_is_searched_and_named_in_the_reason() -> None:
    catalog = build(entry("RATE_LIMITED", {"exception_types": ["openai.RateLimitError"]}))
    verdict = catalog.match(
        failure(
            "tenacity.RetryError",
            causes=[
                "langchain_core.exceptions.OutputParserException",
                "openai._exceptions.RateLimitError",
            ],
        )
    )
    assert verdict.code == "RATE_LIMITED"
    assert verdict.reasons == (
        "RATE_LIMITED: exception_types 'openai.RateLimitError' matched cause "
        "'openai._exceptions.RateLimitError' (via alias)",
    )


def test_the_failures_own_type_is_preferred_over_a_cause_in_the_reason() -> None:
    catalog = build(entry("TIMEOUT", {"exception_types": ["httpx.ReadTimeout", "TimeoutError"]}))
    verdict = catalog.match(failure("TimeoutError", causes=["httpx.ReadTimeout"]))
    assert verdict.reasons == (
        "TIMEOUT: exception_types 'TimeoutError' matched type 'TimeoutError'",
    )


def test_short_catalog_name_matches_any_module() -> None:
    catalog = build(entry("TIMEOUT", {"exception_types": ["TimeoutError"]}))
    verdict = catalog.match(failure("asyncio.exceptions.TimeoutError"))
    assert verdict.reasons == (
        "TIMEOUT: exception_types 'TimeoutError' matched type "
        "'asyncio.exceptions.TimeoutError' (via class name)",
    )


def test_unqualified_failure_type_matches_a_qualified_name_by_class_name() -> None:
    catalog = build(entry("RATE_LIMITED", {"exception_types": ["openai.RateLimitError"]}))
    verdict = catalog.match(failure("RateLimitError"))
    assert verdict.code == "RATE_LIMITED"
    assert verdict.reasons == (
        "RATE_LIMITED: exception_types 'openai.RateLimitError' matched type 'RateLimitError' "
        "(via class name only: the failure's type has no module)",
    )


def test_class_name_only_loses_to_any_stronger_type_match_whatever_the_priority() -> None:
    catalog = build(
        entry("OPENAI_API", {"exception_types": ["openai.APIError"]}, priority=100),
        entry("GENERIC_API", {"exception_types": ["APIError"]}, priority=0),
    )
    assert catalog.match(failure("APIError")).code == "GENERIC_API"
    # a qualified failure type still goes by priority
    assert catalog.match(failure("openai.APIError")).code == "OPENAI_API"


def test_class_name_only_still_beats_an_entry_without_types_of_lower_rank() -> None:
    catalog = build(
        entry("RATE_LIMITED", {"exception_types": ["openai.RateLimitError"]}, priority=5),
        entry("RATE_TEXT", {"message_patterns": ["(?i)rate limit"]}),
    )
    assert catalog.match(failure("RateLimitError", "Rate limit reached")).code == "RATE_LIMITED"


def test_class_name_only_ties_go_by_priority_then_file_order() -> None:
    catalog = build(
        entry("OPENAI_RATE", {"exception_types": ["openai.RateLimitError"]}),
        entry("ANTHROPIC_RATE", {"exception_types": ["anthropic.RateLimitError"]}),
    )
    assert catalog.match(failure("RateLimitError")).code == "OPENAI_RATE"


def test_unrelated_packages_do_not_match() -> None:
    catalog = build(entry("RATE_LIMITED", {"exception_types": ["openai.RateLimitError"]}))
    assert catalog.match(failure("anthropic.RateLimitError")).code == "UNCATALOGED"
    assert catalog.match(failure("openai.APIConnectionError")).code == "UNCATALOGED"
    assert catalog.match(failure("")).code == "UNCATALOGED"


def test_an_entry_with_types_needs_one_of_them() -> None:
    catalog = build(
        entry(
            "TYPED_MESSAGE",
            {"exception_types": ["ValueError"], "message_patterns": ["bad json"]},
        )
    )
    assert catalog.match(failure("builtins.ValueError", "bad json here")).code == "TYPED_MESSAGE"
    assert catalog.match(failure("KeyError", "bad json here")).code == "UNCATALOGED"
