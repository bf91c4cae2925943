"""``FailureStore.write_batch`` stores each failure once and keeps patterns exact."""

from __future__ import annotations

import math
from datetime import timedelta, timezone

import pytest

from collector_receiver.store import FailureStore, NewPattern, StoreError
from tests.collector_receiver.store._helpers import (
    BASE_TIME,
    failure,
    stored_patterns,
    stored_rows,
)


def test_a_batch_is_stored_with_every_column(store: FailureStore) -> None:
    batch = [failure(1), failure(2, attributes={"retry": {"attempt": 3}, "tags": ["a", "b"]})]

    result = store.write_batch(batch)

    assert result.inserted == tuple(batch)
    assert result.duplicates == 0
    rows = stored_rows(store)
    assert [row["event_key"] for row in rows] == [f.event_key for f in batch]
    first = rows[0]
    assert first["trace_id"] == batch[0].trace_id
    assert first["span_id"] == batch[0].span_id
    assert first["code"] == "LLM_RATE_LIMIT"
    assert first["exception_type"] == "openai.RateLimitError"
    assert first["source"] == "span_event"
    assert first["attributes"] == {"http.response.status_code": 429}
    assert rows[1]["attributes"] == {"retry": {"attempt": 3}, "tags": ["a", "b"]}
    assert isinstance(first["id"], int)
    assert rows[1]["id"] > first["id"]


def test_times_read_back_as_aware_utc(store: FailureStore) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = BASE_TIME.astimezone(plus_two)
    naive_utc = BASE_TIME.replace(tzinfo=None) + timedelta(minutes=1)
    store.write_batch([failure(1, occurred_at=local), failure(2, occurred_at=naive_utc)])

    rows = stored_rows(store)

    assert rows[0]["occurred_at"] == BASE_TIME
    assert rows[0]["occurred_at"].utcoffset() == timedelta(0)
    assert rows[1]["occurred_at"] == BASE_TIME + timedelta(minutes=1)
    assert rows[1]["received_at"].tzinfo is not None


def test_a_batch_delivered_twice_is_stored_once(store: FailureStore) -> None:
    batch = [failure(n) for n in range(5)]
    store.write_batch(batch)

    again = store.write_batch(batch)

    assert again.inserted == ()
    assert again.duplicates == 5
    assert again.new_patterns == ()
    assert len(stored_rows(store)) == 5
    assert stored_patterns(store)["f" * 32]["occurrences"] == 5


def test_repeats_inside_one_batch_count_as_duplicates(store: FailureStore) -> None:
    result = store.write_batch([failure(1), failure(1), failure(2), failure(1)])

    assert [f.event_key for f in result.inserted] == [failure(1).event_key, failure(2).event_key]
    assert result.duplicates == 2
    assert len(stored_rows(store)) == 2


def test_overlapping_batch_inserts_only_the_new_failures(store: FailureStore) -> None:
    store.write_batch([failure(1), failure(2)])

    result = store.write_batch([failure(3), failure(2), failure(4)])

    assert [f.event_key for f in result.inserted] == [failure(3).event_key, failure(4).event_key]
    assert result.duplicates == 1


def test_patterns_count_only_inserted_failures_and_widen_their_range(
    store: FailureStore,
) -> None:
    early, late = BASE_TIME - timedelta(hours=1), BASE_TIME + timedelta(hours=1)
    first = store.write_batch([failure(1), failure(2, fingerprint="a" * 32)])
    second = store.write_batch(
        [failure(1), failure(3, occurred_at=early), failure(4, occurred_at=late)]
    )

    assert first.new_patterns == (
        NewPattern(fingerprint="a" * 32, service_name="checkout-agent", code="LLM_RATE_LIMIT"),
        NewPattern(fingerprint="f" * 32, service_name="checkout-agent", code="LLM_RATE_LIMIT"),
    )
    assert second.new_patterns == ()
    patterns = stored_patterns(store)
    assert patterns["a" * 32]["occurrences"] == 1
    pattern = patterns["f" * 32]
    assert pattern["occurrences"] == 3  # failures 1, 3, 4; the repeat of 1 is not counted
    assert pattern["first_seen"] == early
    assert pattern["last_seen"] == late
    assert pattern["message_template"] == "Rate limit reached for <str>"
    assert pattern["exception_type"] == "openai.RateLimitError"


def test_a_later_failure_does_not_move_first_seen_back(store: FailureStore) -> None:
    store.write_batch([failure(1, occurred_at=BASE_TIME)])
    store.write_batch([failure(2, occurred_at=BASE_TIME + timedelta(days=1))])
    store.write_batch([failure(3, occurred_at=BASE_TIME + timedelta(hours=1))])

    pattern = stored_patterns(store)["f" * 32]

    assert pattern["first_seen"] == BASE_TIME
    assert pattern["last_seen"] == BASE_TIME + timedelta(days=1)


def test_an_empty_batch_writes_nothing(store: FailureStore) -> None:
    result = store.write_batch([])

    assert (result.inserted, result.duplicates, result.new_patterns) == ((), 0, ())
    assert stored_rows(store) == []


def test_text_postgresql_would_refuse_is_stored_sanitised(store: FailureStore) -> None:
    odd = failure(
        1,
        message="bad\x00byte",
        attributes={"ratio": math.nan, "limit": math.inf, "key\x00": "v\x00"},
    )

    result = store.write_batch([odd, failure(2)])

    assert len(result.inserted) == 2
    row = stored_rows(store)[0]
    assert row["exception_message"] == "bad\ufffdbyte"
    assert row["attributes"] == {"ratio": "nan", "limit": "inf", "key\ufffd": "v\ufffd"}


def test_attributes_are_made_storable_whichever_way_they_are_encoded(store: FailureStore) -> None:
    # Each failure takes another branch of the attribute encoding: a NUL the plain encoder
    # lets through as an escape, a value it refuses (bytes), and text that only looks like the
    # escape (a backslash and "u0000"), which is stored as it is.
    nul_only = failure(1, attributes={"note": "a\x00b", "deep": {"list": ["x\x00"]}})
    refused = failure(2, attributes={"payload": b"\x01\xff", "n": 3})
    look_alike = failure(3, attributes={"text": "\\u0000 is an escape"})

    store.write_batch([nul_only, refused, look_alike])

    by_key = {row["event_key"]: row["attributes"] for row in stored_rows(store)}
    assert by_key[nul_only.event_key] == {"note": "a\ufffdb", "deep": {"list": ["x\ufffd"]}}
    assert by_key[refused.event_key] == {"payload": "01ff", "n": 3}
    assert by_key[look_alike.event_key] == {"text": "\\u0000 is an escape"}


def test_a_failing_batch_commits_nothing(store: FailureStore) -> None:
    store.write_batch([failure(1)])
    broken = failure(3, service_name=None)  # type: ignore[arg-type]  # NOT NULL violation

    with pytest.raises(StoreError) as raised:
        store.write_batch([failure(2), broken, failure(4, fingerprint="b" * 32)])

    assert "\n" not in str(raised.value)
    assert [row["event_key"] for row in stored_rows(store)] == [failure(1).event_key]
    assert set(stored_patterns(store)) == {"f" * 32}
    assert stored_patterns(store)["f" * 32]["occurrences"] == 1


def test_thousands_of_failures_in_one_batch(store: FailureStore) -> None:
    batch = [failure(n, fingerprint=f"{n % 7:032x}") for n in range(2500)]

    result = store.write_batch(batch + batch[:10])

    assert len(result.inserted) == 2500
    assert result.duplicates == 10
    assert len(result.new_patterns) == 7
    patterns = stored_patterns(store)
    assert sum(p["occurrences"] for p in patterns.values()) == 2500


def test_inserted_keeps_the_callers_order(store: FailureStore) -> None:
    batch = [failure(n) for n in (9, 3, 7, 1)]  # event keys are written sorted, reported as given

    result = store.write_batch(batch)

    assert result.inserted == tuple(batch)
