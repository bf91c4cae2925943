"""A catalog is shared by the receiver's threads; its one-pass message scan is exact."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from collector_receiver.catalog._matcher import MessageScanner
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


@pytest.mark.parametrize(
    ("pattern", "message", "found"),
    [
        (".", "x", True),  # no literal to prefilter on: always confirmed
        ("^$", "", True),
        (r"\d{3}", "code 429", True),
        (r"\d{3}", "code 42", False),
        ("(?i)rate limit", "RATE LIMIT", True),
        ("Rate limit", "rate limit", False),  # case-sensitive stays case-sensitive
        ("(?i)straße", "STRAẞE", True),
        ("(?i)k", "\u212a", True),  # Kelvin sign folds to k
        ("配额", "超出配额", True),
        ("timeout|timed out", "the call timed out", True),
    ],
)
def test_message_scan_is_exact_for_patterns_with_and_without_literals(
    pattern: str, message: str, found: bool
) -> None:
    catalog = build(
        entry("OTHER", {"message_patterns": ["never-in-any-message"]}),
        entry("UNDER_TEST", {"message_patterns": [pattern]}),
    )
    assert (catalog.match(failure(message=message)).code == "UNDER_TEST") is found


def test_a_message_is_scanned_once_however_many_entries_have_patterns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog = build(
        *(entry(f"PATTERN_{i}", {"message_patterns": [f"word{i}\\b"]}) for i in range(50)),
        entry("TYPED", {"exception_types": ["x.Y"], "message_patterns": ["word49"]}, priority=-1),
    )
    scanned: list[str] = []
    original = MessageScanner.scan

    def counting_scan(self: MessageScanner, message: str) -> frozenset[int]:
        scanned.append(message)
        return original(self, message)

    monkeypatch.setattr(MessageScanner, "scan", counting_scan)

    assert catalog.match(failure("x.Y", "only word49 here")).code == "PATTERN_49"
    assert catalog.match(failure("x.Y", "no word at all")).code == "UNCATALOGED"
    assert scanned == ["only word49 here", "no word at all"]
