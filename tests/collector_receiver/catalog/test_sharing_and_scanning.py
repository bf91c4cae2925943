"""A catalog is shared by the receiver's threads; and when RE2's pattern set gives up on a
message, matching falls back to the patterns one by one instead of missing the match."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.collector_receiver.catalog._helpers import build, entry, failure


def test_concurrent_matches_from_many_threads_agree() -> None:
    catalog = build(
        entry("RATE", {"exception_types": ["openai.RateLimitError"], "message_patterns": ["rate"]}),
        entry("TIMEOUT", {"message_patterns": ["(?i)timed? ?out"]}, priority=1),
        entry("HTTP_5XX", {"attributes": {"http.response.status_code": {"pattern": "^5"}}}),
    )
    events = [
        failure("openai._exceptions.RateLimitError", "rate limited " * 50),
        failure("x.Y", "request timed out " * 200),
        failure("x.Y", "nothing", attributes={"http.response.status_code": 503}),
        failure("x.Y", "nothing"),
    ] * 250
    expected = [catalog.match(e) for e in events]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(catalog.match, events))
    assert results == expected
    assert {m.code for m in results} == {"RATE", "TIMEOUT", "HTTP_5XX", "UNCATALOGED"}


class _ExhaustedSet:
    """Answers like an RE2::Set whose DFA ran out of memory: no indices at all."""

    def Match(self, text: bytes) -> None:
        return None


def test_pattern_set_failure_falls_back_to_single_patterns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    catalog = build(
        entry("RATE", {"message_patterns": ["^never$", "(?i)rate limit"]}),
        entry("OTHER", {"message_patterns": ["other"]}),
    )
    catalog._matcher._set = _ExhaustedSet()  # type: ignore[assignment]
    with caplog.at_level(logging.WARNING, logger="collector_receiver.catalog._matcher"):
        verdict = catalog.match(failure(message="Rate limit reached"))
    assert verdict.code == "RATE"
    assert verdict.reasons == ("RATE: message_patterns[1] '(?i)rate limit' matched",)
    assert "searching pattern by pattern" in caplog.text
    assert catalog.match(failure(message="nothing")).code == "UNCATALOGED"


def test_the_pattern_set_reports_its_sentinel_on_every_message() -> None:
    """The fallback relies on the always-matching sentinel: no result means RE2 gave up."""
    catalog = build(entry("NEVER", {"message_patterns": ["^impossible$"]}))
    matcher = catalog._matcher
    assert matcher._set.Match(b"anything") == [matcher._sentinel]
    assert matcher._set.Match(b"") == [matcher._sentinel]
