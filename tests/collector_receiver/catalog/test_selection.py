"""Which entry wins when several match (priority, then file order), and the UNCATALOGED verdict."""

from __future__ import annotations

import pytest

from collector_receiver.catalog import CatalogEntry
from collector_receiver.events import UNCATALOGED
from tests.collector_receiver.catalog._helpers import build, entry, failure


def test_higher_priority_wins() -> None:
    catalog = build(
        entry("GENERIC", {"message_patterns": ["error"]}),
        entry("SPECIFIC", {"message_patterns": ["rate limit error"]}, priority=10),
    )
    assert catalog.match(failure(message="rate limit error")).code == "SPECIFIC"


def test_equal_priority_goes_to_the_earlier_entry() -> None:
    catalog = build(
        entry("FIRST", {"message_patterns": ["error"]}, priority=3),
        entry("SECOND", {"message_patterns": ["error"]}, priority=3),
    )
    assert catalog.match(failure(message="error")).code == "FIRST"


def test_negative_priority_sorts_below_the_default() -> None:
    catalog = build(
        entry("FALLBACK", {"message_patterns": ["."]}, priority=-10),
        entry("NORMAL", {"message_patterns": ["boom"]}),
    )
    assert catalog.match(failure(message="boom")).code == "NORMAL"
    assert catalog.match(failure(message="other")).code == "FALLBACK"


def test_a_typed_entry_and_an_untyped_entry_compete_on_priority_alone() -> None:
    catalog = build(
        entry("TYPED", {"exception_types": ["httpx.ReadTimeout"]}),
        entry("BY_MESSAGE", {"message_patterns": ["timed out"]}, priority=1),
    )
    assert catalog.match(failure("httpx.ReadTimeout", "timed out")).code == "BY_MESSAGE"
    assert catalog.match(failure("httpx.ReadTimeout", "other")).code == "TYPED"


def test_the_match_carries_the_entry_and_catalog_version() -> None:
    catalog = build(
        entry(
            "RATE_LIMITED",
            {"exception_types": ["openai.RateLimitError"]},
            severity="low",
            category="rate_limit",
            runbook_url="https://runbooks.example.com/rate",
        ),
        catalog_version="2025.11.1",
    )
    verdict = catalog.match(failure("openai.RateLimitError"))
    assert (verdict.code, verdict.category, verdict.severity, verdict.catalog_version) == (
        "RATE_LIMITED",
        "rate_limit",
        "low",
        "2025.11.1",
    )
    assert isinstance(verdict.entry, CatalogEntry)
    assert verdict.entry.runbook_url == "https://runbooks.example.com/rate"
    assert verdict.entry.remediation == "fix RATE_LIMITED"


def test_uncataloged_verdict() -> None:
    catalog = build(
        entry("RATE_LIMITED", {"exception_types": ["openai.RateLimitError"]}), catalog_version="v9"
    )
    verdict = catalog.match(failure("some.Unknown", "nothing known"))
    assert verdict.code == UNCATALOGED == "UNCATALOGED"
    assert (verdict.category, verdict.severity, verdict.catalog_version) == (
        "uncataloged",
        "medium",
        "v9",
    )
    assert verdict.entry is None
    assert verdict.reasons == ()


def test_an_empty_catalog_catalogs_nothing() -> None:
    catalog = build()
    assert catalog.match(failure("x.Y", "z")).code == UNCATALOGED


@pytest.mark.parametrize("message", ["", "\x00\x01", "\ud800 lone surrogate", "é" * 10])
def test_odd_messages_do_not_raise(message: str) -> None:
    catalog = build(entry("ANY", {"message_patterns": ["^$"]}))
    verdict = catalog.match(failure(message=message))
    assert verdict.code == ("ANY" if message == "" else UNCATALOGED)


def test_attribute_values_with_lone_surrogates_do_not_raise() -> None:
    catalog = build(entry("HOST", {"attributes": {"server.address": {"pattern": "example"}}}))
    verdict = catalog.match(failure(attributes={"server.address": "\udcff.example.com"}))
    assert verdict.code == "HOST"
