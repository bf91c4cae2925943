"""A pattern created by a batch takes its columns from the batch's first failure of it.

Also: a batch mixing new and known fingerprints reports exactly the new ones, and a duplicate
that comes first in the batch never lends a pattern its columns or its count.
"""

from __future__ import annotations

from datetime import timedelta

from collector_receiver.store import FailureStore, NewPattern
from tests.collector_receiver.store._helpers import BASE_TIME, failure, stored_patterns


def test_the_first_failure_in_input_order_names_the_pattern(store: FailureStore) -> None:
    # Event keys sort the other way round from the input order.
    batch = [
        failure(9, service_name="billing-agent", code="TOOL_TIMEOUT"),
        failure(1, service_name="checkout-agent", code="LLM_RATE_LIMIT"),
    ]

    result = store.write_batch(batch)

    assert result.new_patterns == (
        NewPattern(fingerprint="f" * 32, service_name="billing-agent", code="TOOL_TIMEOUT"),
    )
    pattern = stored_patterns(store)["f" * 32]
    assert (pattern["service_name"], pattern["code"], pattern["occurrences"]) == (
        "billing-agent",
        "TOOL_TIMEOUT",
        2,
    )


def test_a_mixed_batch_reports_only_the_fingerprints_it_created(store: FailureStore) -> None:
    store.write_batch([failure(1, fingerprint="a" * 32), failure(2, fingerprint="b" * 32)])

    result = store.write_batch(
        [
            failure(3, fingerprint="b" * 32, occurred_at=BASE_TIME - timedelta(days=1)),
            failure(4, fingerprint="c" * 32, code="TOOL_TIMEOUT"),
            failure(5, fingerprint="0" * 32),
            failure(6, fingerprint="c" * 32),
        ]
    )

    assert result.new_patterns == (
        NewPattern(fingerprint="0" * 32, service_name="checkout-agent", code="LLM_RATE_LIMIT"),
        NewPattern(fingerprint="c" * 32, service_name="checkout-agent", code="TOOL_TIMEOUT"),
    )
    patterns = stored_patterns(store)
    assert {fp[0]: row["occurrences"] for fp, row in patterns.items()} == {
        "a": 1,
        "b": 2,
        "c": 2,
        "0": 1,
    }
    assert patterns["b" * 32]["first_seen"] == BASE_TIME - timedelta(days=1)


def test_a_stored_duplicate_first_in_the_batch_lends_the_pattern_nothing(
    store: FailureStore,
) -> None:
    store.write_batch([failure(1, fingerprint="d" * 32)])

    # Key 1 again (a sender's retry), this time carrying another fingerprint and code.
    result = store.write_batch(
        [failure(1, fingerprint="e" * 32, code="REPEAT"), failure(2, fingerprint="e" * 32)]
    )

    assert result.duplicates == 1
    assert result.new_patterns == (
        NewPattern(fingerprint="e" * 32, service_name="checkout-agent", code="LLM_RATE_LIMIT"),
    )
    patterns = stored_patterns(store)
    assert (patterns["e" * 32]["code"], patterns["e" * 32]["occurrences"]) == ("LLM_RATE_LIMIT", 1)
    assert patterns["d" * 32]["occurrences"] == 1
