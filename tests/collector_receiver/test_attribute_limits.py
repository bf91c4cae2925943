"""Stored attributes are cut to the limits of CONTRACT §4 r2, deterministically, and redacted.

Uses the real redactor (its ``message``) as the text redaction, as the prepare stage does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from collector_receiver.attribute_limits import (
    DROPPED_ATTRIBUTES,
    MAX_DEPTH,
    TOO_DEEP,
    AttributeLimits,
    store_attributes,
)
from collector_receiver.events import AttributeValue
from otel_failcat.redaction import REDACTED, Redactor

OPENAI_KEY = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0" * 2
REDACT = Redactor().message


def _store(
    attributes: Mapping[str, AttributeValue], limits: AttributeLimits | None = None
) -> dict[str, AttributeValue]:
    return store_attributes(list(attributes.items()), limits or AttributeLimits(), REDACT)


def test_attributes_within_the_limits_are_stored_as_redacted_with_no_count() -> None:
    stored = _store({"http.response.status_code": 429, "url.full": "https://x.example/v1"})

    assert stored == {"http.response.status_code": 429, "url.full": "https://x.example/v1"}
    assert DROPPED_ATTRIBUTES not in stored


def test_the_first_attributes_in_the_given_order_are_kept() -> None:
    attributes = {f"a{index}": index for index in range(300)}

    stored = _store(attributes, AttributeLimits(max_attributes=10))

    assert [key for key in stored if key != DROPPED_ATTRIBUTES] == [f"a{i}" for i in range(10)]
    assert stored[DROPPED_ATTRIBUTES] == 290


def test_nested_map_entries_count_toward_the_attribute_limit() -> None:
    attributes: dict[str, AttributeValue] = {
        "first": {f"k{index}": index for index in range(20)},
        "second": 1,
    }

    stored = _store(attributes, AttributeLimits(max_attributes=5))

    # "first" and four of its entries spend the budget; "second" is dropped.
    assert stored["first"] == {"k0": 0, "k1": 1, "k2": 2, "k3": 3}
    assert "second" not in stored
    assert stored[DROPPED_ATTRIBUTES] == 2  # one cut, one dropped


def test_lists_keep_their_first_values_at_any_depth() -> None:
    attributes: dict[str, AttributeValue] = {
        "flat": list(range(1000)),
        "nested": {"inner": [str(index) for index in range(1000)]},
    }

    stored = _store(attributes, AttributeLimits(max_list_length=3))

    assert stored["flat"] == [0, 1, 2]
    assert stored["nested"] == {"inner": ["0", "1", "2"]}
    assert stored[DROPPED_ATTRIBUTES] == 2


def test_keys_are_cut_after_redaction_at_any_depth() -> None:
    long_key = "k" * 1000
    secret_key = f"{OPENAI_KEY}.{'x' * 10}"

    stored = _store(
        {long_key: 1, "map": {long_key: 2}, secret_key: 3}, AttributeLimits(max_key_length=40)
    )

    assert stored["k" * 40] == 1
    assert stored["map"] == {"k" * 40: 2}
    assert all(len(key) <= 40 for key in stored)
    assert OPENAI_KEY[:12] not in json.dumps(stored)  # the cut came after the key was redacted
    assert "[REDACTED:openai_key].xxxxxxxxxx" in stored
    assert stored[DROPPED_ATTRIBUTES] == 2


def test_keys_that_collide_once_cut_keep_the_first() -> None:
    stored = _store(
        {"a" * 50 + "1": "one", "a" * 50 + "2": "two"}, AttributeLimits(max_key_length=50)
    )

    assert stored["a" * 50] == "one"
    assert stored[DROPPED_ATTRIBUTES] == 2  # the first stored cut, the second dropped


def test_nesting_deeper_than_the_cap_is_replaced() -> None:
    value: AttributeValue = "bottom"
    for _ in range(MAX_DEPTH + 5):
        value = [value]

    stored = _store({"deep": value})

    walked = stored["deep"]
    for _ in range(MAX_DEPTH):
        assert isinstance(walked, list)
        walked = walked[0]
    assert walked == TOO_DEEP
    assert stored[DROPPED_ATTRIBUTES] == 1


def test_over_the_byte_budget_the_largest_attributes_go_first() -> None:
    limits = AttributeLimits(max_bytes=2048)
    attributes: dict[str, AttributeValue] = {
        "small": "s",
        "big": ["b" * 500] * 3,
        "medium1": "m" * 1000,
        "medium2": "n" * 1000,
        "tiny": 1,
    }

    stored = _store(attributes, limits)

    assert len(json.dumps(stored, allow_nan=False)) <= 2048
    # "big" (1.5 kB) goes first; then, of the two mediums of equal size, the later one.
    assert set(stored) == {"small", "medium1", "tiny", DROPPED_ATTRIBUTES}
    assert stored[DROPPED_ATTRIBUTES] == 2


def test_the_byte_budget_is_measured_as_the_store_writes_json() -> None:
    # Non-ASCII characters are written as \\uXXXX escapes: six bytes each.
    stored = _store({"text": "é" * 300}, AttributeLimits(max_bytes=1024))

    assert "text" not in stored
    assert len(json.dumps(stored)) <= 1024


def test_credential_keys_are_replaced_whole_at_any_depth() -> None:
    stored = _store(
        {
            "db.password": "hunter2-is-my-password",
            "config": {"client_secret": {"nested": "value"}, "name": "ok"},
            "http.request.header.x-api-key": ["k1", "k2"],
            "gen_ai.usage.input_tokens": 12,
        }
    )

    assert stored["db.password"] == REDACTED
    assert stored["config"] == {"client_secret": REDACTED, "name": "ok"}
    assert stored["http.request.header.x-api-key"] == REDACTED
    assert stored["gen_ai.usage.input_tokens"] == 12


def test_a_key_that_names_a_credential_only_once_cut_is_replaced_too() -> None:
    key = "x" * 40 + ".token_count"

    stored = _store({key: "42 tokens"}, AttributeLimits(max_key_length=46))

    assert stored["x" * 40 + ".token"] == REDACTED


def test_nul_in_a_key_does_not_hide_a_credential_key() -> None:
    stored = _store({"pass\x00word": "letmein-please"})

    assert stored == {"password": REDACTED}


def test_non_finite_floats_become_strings() -> None:
    stored = _store({"ratio": float("nan"), "limits": [float("inf"), -float("inf"), 1.5]})

    assert stored == {"ratio": "nan", "limits": ["inf", "-inf", 1.5]}


def test_a_sent_dropped_count_is_replaced_by_the_receivers() -> None:
    attributes: dict[str, AttributeValue] = {DROPPED_ATTRIBUTES: 999, "list": list(range(10))}

    assert _store(attributes)[DROPPED_ATTRIBUTES] == 999  # nothing cut: the sender's value stays
    assert _store(attributes, AttributeLimits(max_list_length=2))[DROPPED_ATTRIBUTES] == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"max_attributes": 0},
        {"max_attributes": 129},
        {"max_key_length": 257},
        {"max_list_length": -1},
        {"max_bytes": 1023},
        {"max_bytes": 64 * 1024 + 1},
        {"max_attributes": True},
    ],
)
def test_limits_out_of_range_are_refused(changes: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be"):
        AttributeLimits(**changes)
