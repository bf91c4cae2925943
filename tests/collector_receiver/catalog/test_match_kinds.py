"""Each match kind alone, all kinds of an entry together (AND), any one within a kind (OR)."""

from __future__ import annotations

import pytest

from tests.collector_receiver.catalog._helpers import build, entry, failure


def test_message_patterns_are_searched_not_anchored() -> None:
    catalog = build(entry("CONTEXT_LENGTH", {"message_patterns": ["maximum context length"]}))
    assert catalog.match(
        failure("x.E", "Error: This model's maximum context length is 8192")
    ).code == ("CONTEXT_LENGTH")
    assert catalog.match(failure("x.E", "context too long")).code == "UNCATALOGED"


def test_message_patterns_any_one_suffices_and_the_reason_names_it() -> None:
    catalog = build(entry("RATE", {"message_patterns": ["(?i)rate limit", "429 Too Many"]}))
    verdict = catalog.match(failure("x.E", "HTTP 429 Too Many Requests"))
    assert verdict.reasons == ("RATE: message_patterns[1] '429 Too Many' matched",)


def test_message_patterns_use_re2_syntax_and_flags() -> None:
    catalog = build(entry("CASELESS", {"message_patterns": [r"(?i)^timed\s+out\b"]}))
    assert catalog.match(failure("", "TIMED   OUT after 30s")).code == "CASELESS"
    assert catalog.match(failure("", "it timed out")).code == "UNCATALOGED"  # ^ anchors at start


def test_error_types_match_the_error_type_attribute_exactly() -> None:
    catalog = build(entry("HTTP_429", {"error_types": ["429", 503]}))
    assert catalog.match(failure(error_type="429")).reasons == (
        "HTTP_429: error_types '429' matched error.type '429'",
    )
    assert catalog.match(failure(error_type="503")).code == "HTTP_429"
    assert catalog.match(failure(error_type="4290")).code == "UNCATALOGED"
    assert catalog.match(failure(error_type=None)).code == "UNCATALOGED"


@pytest.mark.parametrize("sent", [429, "429", 429.0, [200, 429]])
def test_attribute_scalar_matches_int_string_float_and_list_values(sent: object) -> None:
    catalog = build(entry("HTTP_429", {"attributes": {"http.response.status_code": 429}}))
    verdict = catalog.match(failure("x.E", attributes={"http.response.status_code": sent}))  # type: ignore[dict-item]
    assert verdict.code == "HTTP_429"
    assert verdict.reasons == (
        "HTTP_429: attributes 'http.response.status_code' = '429' matched the catalog's value",
    )


@pytest.mark.parametrize("sent", [4290, "429 ", 429.5, True, None, {"code": 429}, "x"])
def test_attribute_scalar_does_not_match_other_values(sent: object) -> None:
    catalog = build(entry("HTTP_429", {"attributes": {"http.response.status_code": 429}}))
    assert catalog.match(failure("x.E", attributes={"http.response.status_code": sent})).code == (  # type: ignore[dict-item]
        "UNCATALOGED"
    )


def test_attribute_booleans_compare_as_true_false_not_as_numbers() -> None:
    catalog = build(entry("STREAMING", {"attributes": {"gen_ai.request.stream": True}}))
    assert catalog.match(failure(attributes={"gen_ai.request.stream": True})).code == "STREAMING"
    assert catalog.match(failure(attributes={"gen_ai.request.stream": "true"})).code == "STREAMING"
    assert catalog.match(failure(attributes={"gen_ai.request.stream": 1})).code == "UNCATALOGED"


def test_attribute_list_of_values_any_one_suffices() -> None:
    catalog = build(
        entry("OVERLOADED", {"attributes": {"http.response.status_code": [502, 503, 529]}})
    )
    assert (
        catalog.match(failure(attributes={"http.response.status_code": "529"})).code == "OVERLOADED"
    )
    assert (
        catalog.match(failure(attributes={"http.response.status_code": 500})).code == "UNCATALOGED"
    )


def test_attribute_pattern_is_searched_in_the_value_text() -> None:
    catalog = build(
        entry("OPENAI", {"attributes": {"server.address": {"pattern": r"openai\.com$"}}})
    )
    verdict = catalog.match(failure(attributes={"server.address": "api.openai.com"}))
    assert verdict.reasons == (
        r"OPENAI: attributes 'server.address' = 'api.openai.com' matched pattern 'openai\.com$'",
    )
    assert catalog.match(failure(attributes={"server.address": "openai.com.evil"})).code == (
        "UNCATALOGED"
    )


def test_missing_attribute_does_not_match() -> None:
    catalog = build(entry("HTTP_429", {"attributes": {"http.response.status_code": 429}}))
    assert catalog.match(failure(attributes={"status": 429})).code == "UNCATALOGED"


def test_attributes_any_one_key_suffices() -> None:
    catalog = build(entry("EITHER", {"attributes": {"a": "1", "b": "2"}}))
    assert catalog.match(failure(attributes={"b": "2"})).code == "EITHER"
    assert catalog.match(failure(attributes={"a": "2", "b": "1"})).code == "UNCATALOGED"


def test_all_kinds_of_an_entry_must_hold() -> None:
    catalog = build(
        entry(
            "ALL",
            {
                "exception_types": ["httpx.HTTPStatusError"],
                "message_patterns": ["Too Many Requests"],
                "attributes": {"http.response.status_code": 429},
                "error_types": ["429"],
            },
        )
    )
    full = {
        "exception_type": "httpx.HTTPStatusError",
        "message": "Client error '429 Too Many Requests'",
        "attributes": {"http.response.status_code": 429},
        "error_type": "429",
    }
    verdict = catalog.match(failure(**full))  # type: ignore[arg-type]
    assert verdict.code == "ALL"
    assert verdict.reasons == (
        "ALL: exception_types 'httpx.HTTPStatusError' matched type 'httpx.HTTPStatusError'",
        "ALL: message_patterns[0] 'Too Many Requests' matched",
        "ALL: attributes 'http.response.status_code' = '429' matched the catalog's value",
        "ALL: error_types '429' matched error.type '429'",
    )
    for missing, wrong in [
        ("exception_type", "httpx.ConnectError"),
        ("message", "Server error"),
        ("attributes", {"http.response.status_code": 500}),
        ("error_type", "500"),
    ]:
        assert catalog.match(failure(**{**full, missing: wrong})).code == "UNCATALOGED", missing  # type: ignore[arg-type]


def test_only_the_head_of_a_long_message_is_scanned() -> None:
    from collector_receiver.catalog import MAX_MESSAGE_CHARS

    catalog = build(entry("NEEDLE", {"message_patterns": ["needle"]}))
    head = "x" * (MAX_MESSAGE_CHARS - len("needle"))
    assert catalog.match(failure(message=head + "needle")).code == "NEEDLE"
    assert catalog.match(failure(message=head + "Xneedle")).code == "UNCATALOGED"


def test_non_ascii_messages_match() -> None:
    catalog = build(entry("QUOTA", {"message_patterns": ["(?i)quota dépassé", "配额"]}))
    assert catalog.match(failure(message="Erreur : QUOTA DÉPASSÉ")).code == "QUOTA"
    assert catalog.match(failure(message="超出配额")).code == "QUOTA"
