"""``write_batch(failures, operations)`` counts each delivery's GenAI operations exactly once."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from collector_receiver.events import GenAIContext, OperationCounts, OperationKey
from collector_receiver.store import FailureStore, StoreError, upgrade
from collector_receiver.store.tables import gen_ai_counted_deliveries, gen_ai_operations
from tests.collector_receiver.store._helpers import BASE_TIME, failure, stored_rows

HOUR = BASE_TIME.replace(minute=0)
CHAT = GenAIContext(provider="openai", model="gpt-4o", operation="chat")
TOOL = GenAIContext(operation="execute_tool", tool="fetch_page", agent="research-agent")


def _counts(key: str, *entries: tuple[GenAIContext, int], hour: int = 0) -> OperationCounts:
    bucket = HOUR + timedelta(hours=hour)
    return OperationCounts(
        counts={OperationKey(bucket, "research-agent", context): n for context, n in entries},
        delivery_key=key * 32 if len(key) == 1 else key,
    )


def _stored_counts(store: FailureStore) -> dict[tuple[Any, ...], int]:
    t = gen_ai_operations
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t)).fetchall()
    return {
        (
            row.bucket_start,
            row.service_name,
            GenAIContext(
                row.gen_ai_provider,
                row.gen_ai_model,
                row.gen_ai_operation,
                row.gen_ai_tool,
                row.gen_ai_agent,
            ),
        ): row.operations
        for row in rows
    }


def test_operations_are_counted_per_hour_and_context(store: FailureStore) -> None:
    first = _counts("a", (CHAT, 3), (TOOL, 2))
    second = _counts("b", (CHAT, 4), (TOOL, 1), hour=1)

    result = store.write_batch([], [first, second])

    assert result.newly_counted_operations == [first, second]
    assert _stored_counts(store) == {
        (HOUR, "research-agent", CHAT): 3,
        (HOUR, "research-agent", TOOL): 2,
        (HOUR + timedelta(hours=1), "research-agent", CHAT): 4,
        (HOUR + timedelta(hours=1), "research-agent", TOOL): 1,
    }


def test_a_context_with_absent_values_is_one_row_that_grows(store: FailureStore) -> None:
    # A plain unique constraint would see NULL tool != NULL tool and add a row per delivery.
    store.write_batch([], [_counts("a", (CHAT, 3))])
    store.write_batch([], [_counts("b", (CHAT, 4))])

    assert _stored_counts(store) == {(HOUR, "research-agent", CHAT): 7}


def test_an_empty_value_is_stored_as_absent(store: FailureStore) -> None:
    store.write_batch([], [_counts("a", (CHAT._replace(tool=""), 2)), _counts("b", (CHAT, 1))])

    assert _stored_counts(store) == {(HOUR, "research-agent", CHAT): 3}


def test_a_redelivered_request_counts_nothing(store: FailureStore) -> None:
    delivery = _counts("a", (CHAT, 3), (TOOL, 2))
    store.write_batch([failure(1)], [delivery])

    again = store.write_batch([failure(1)], [delivery])

    assert again.newly_counted_operations == []
    assert again.inserted == ()
    assert _stored_counts(store) == {
        (HOUR, "research-agent", CHAT): 3,
        (HOUR, "research-agent", TOOL): 2,
    }


def test_a_request_queued_twice_in_one_batch_counts_once(store: FailureStore) -> None:
    delivery = _counts("a", (CHAT, 3))
    other = _counts("b", (CHAT, 1))

    result = store.write_batch([], [delivery, other, delivery])

    assert result.newly_counted_operations == [delivery, other]
    assert _stored_counts(store) == {(HOUR, "research-agent", CHAT): 4}


def test_only_the_new_deliveries_of_a_batch_are_counted(store: FailureStore) -> None:
    seen = _counts("a", (CHAT, 3))
    store.write_batch([], [seen])
    fresh = _counts("b", (TOOL, 5))

    result = store.write_batch([], [seen, fresh])

    assert result.newly_counted_operations == [fresh]
    assert _stored_counts(store) == {
        (HOUR, "research-agent", CHAT): 3,
        (HOUR, "research-agent", TOOL): 5,
    }


def test_failures_keep_their_genai_columns(store: FailureStore) -> None:
    tool_failure = replace(failure(1), gen_ai=TOOL)
    plain = failure(2)

    store.write_batch([tool_failure, plain], [_counts("a", (TOOL, 1))])

    rows = stored_rows(store)
    assert [
        (r["gen_ai_provider"], r["gen_ai_model"], r["gen_ai_operation"], r["gen_ai_tool"])
        for r in rows
    ] == [(None, None, "execute_tool", "fetch_page"), (None, None, None, None)]
    assert [r["gen_ai_agent"] for r in rows] == ["research-agent", None]


def test_a_failed_transaction_counts_nothing_and_the_retry_counts(store: FailureStore) -> None:
    delivery = _counts("a", (CHAT, 3))
    # A failure PostgreSQL and SQLite both refuse (event_key longer than its column on
    # PostgreSQL; on SQLite a service_name that is NULL) rolls the whole transaction back.
    bad = replace(failure(1), service_name=None)  # type: ignore[arg-type]

    with pytest.raises(StoreError):
        store.write_batch([bad], [delivery])

    assert _stored_counts(store) == {}
    result = store.write_batch([failure(1)], [delivery])
    assert result.newly_counted_operations == [delivery]
    assert _stored_counts(store) == {(HOUR, "research-agent", CHAT): 3}
    with store.engine.connect() as conn:
        keys = conn.execute(sa.select(gen_ai_counted_deliveries.c.delivery_key)).scalars().all()
    assert keys == ["a" * 32]


def test_two_receivers_counting_one_delivery_at_once_count_it_once(postgres_url: str) -> None:
    upgrade(postgres_url)
    stores = [FailureStore.from_url(postgres_url) for _ in range(2)]
    # 40 deliveries, each sent to both receivers at the same moment, in opposite orders.
    deliveries = [_counts(f"{n:032x}", (CHAT, n + 1), (TOOL, 1)) for n in range(40)]
    results: list[list[OperationCounts]] = [[], []]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def receive(index: int) -> None:
        order = deliveries if index == 0 else deliveries[::-1]
        try:
            start.wait()
            for i in range(0, len(order), 4):
                result = stores[index].write_batch([], order[i : i + 4])
                results[index].extend(result.newly_counted_operations)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=receive, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    counted = [c.delivery_key for per_receiver in results for c in per_receiver]
    assert sorted(counted) == sorted(d.delivery_key for d in deliveries)
    assert _stored_counts(stores[0]) == {
        (HOUR, "research-agent", CHAT): sum(n + 1 for n in range(40)),
        (HOUR, "research-agent", TOOL): 40,
    }
    for store in stores:
        store.close()
