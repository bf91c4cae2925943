"""An exception log record and a status-only span of one lineage are one failure, one row.

The two always arrive in different requests (logs and traces), so the store decides, in the
write transaction: whichever is stored first is the row, the other a repeat of it
(``store/_other_signal.py``). Run on SQLite and PostgreSQL (its COPY path and advisory locks).
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
import sqlalchemy as sa

from collector_receiver.events import MatchedFailure
from collector_receiver.store import FailureStore, upgrade
from collector_receiver.store._other_signal import MAX_LOCKED_TRACES
from collector_receiver.store.tables import failure_matches
from tests.collector_receiver.store._helpers import failure, stored_rows

TRACE = "a" * 32
STEP = "1" * 16  # the agent's step span, where it logged the failure
SDK = "2" * 16  # the SDK's span under it, marked ERROR with error.type
SIBLING = "3" * 16  # another call under the same step


def logged(n: int, span_id: str | None = STEP, trace_id: str = TRACE) -> MatchedFailure:
    """The agent's log record of the failure, on ``span_id``."""
    return replace(
        failure(n, source="log_record", trace_id=trace_id),
        span_id=span_id,
        exception_type="AuthenticationError",
    )


def status_only(
    n: int, span_id: str = SDK, related: tuple[str, ...] = (STEP,), trace_id: str = TRACE
) -> MatchedFailure:
    """The SDK's span, failed by status alone; ``related`` its lineage in its request."""
    return replace(
        failure(n, source="span_status", trace_id=trace_id),
        span_id=span_id,
        exception_type="authentication_error",
        related_span_ids=related,
    )


def sources(store: FailureStore) -> list[str]:
    return [row["source"] for row in stored_rows(store)]


def test_the_log_record_first_is_the_row(store: FailureStore) -> None:
    assert len(store.write_batch([logged(1)]).inserted) == 1
    result = store.write_batch([status_only(2)])
    assert result.inserted == () and result.duplicates == 1
    assert sources(store) == ["log_record"]


def test_the_status_only_span_first_is_the_row(store: FailureStore) -> None:
    store.write_batch([status_only(2)])
    result = store.write_batch([logged(1)])
    assert result.inserted == () and result.duplicates == 1
    assert sources(store) == ["span_status"]


def test_in_one_batch_the_earlier_is_the_row(store: FailureStore) -> None:
    result = store.write_batch([status_only(2), logged(1)])
    assert [f.source for f in result.inserted] == ["span_status"]
    assert result.duplicates == 1


@pytest.mark.parametrize(
    ("log_span", "status_span", "related"),
    [
        (SDK, SDK, (STEP,)),  # the log record on the failed span itself
        (STEP, SDK, (STEP,)),  # on its parent
        ("4" * 16, SDK, (STEP, "4" * 16)),  # on its grandparent
        (SDK, STEP, ("0" * 15 + "9", SDK)),  # on a child of the status-only span
    ],
    ids=["same-span", "parent", "grandparent", "descendant"],
)
def test_every_span_of_the_lineage_ties_the_two(
    store: FailureStore, log_span: str, status_span: str, related: tuple[str, ...]
) -> None:
    store.write_batch([logged(1, span_id=log_span)])
    store.write_batch([status_only(2, span_id=status_span, related=related)])
    assert sources(store) == ["log_record"]


def test_a_status_only_root_span_without_lineage_ties_a_log_record_on_itself(
    store: FailureStore,
) -> None:
    store.write_batch([status_only(2, related=())])
    store.write_batch([logged(1, span_id=SDK), logged(3, span_id=STEP)])
    assert sorted(sources(store)) == ["log_record", "span_status"]  # STEP is not its lineage


def test_unrelated_recordings_stay_rows(store: FailureStore) -> None:
    store.write_batch([logged(1, span_id=SIBLING)])  # a sibling call's log record
    store.write_batch([status_only(2)])  # lineage: SDK and STEP only
    store.write_batch([status_only(3, trace_id="b" * 32, related=(SIBLING,))])  # other trace
    store.write_batch([logged(4, span_id=None)])  # no span id: nothing ties it to a span
    assert sorted(sources(store)) == ["log_record", "log_record", "span_status", "span_status"]


def test_two_status_only_siblings_under_one_logged_step_are_one_failure_each_way(
    store: FailureStore,
) -> None:
    # Both siblings name the step in their lineage, so the step's log record explains both:
    # the same reading as the in-request rule (an exception above explains every status-only
    # span below it).
    store.write_batch([logged(1)])
    store.write_batch([status_only(2), status_only(3, span_id=SIBLING)])
    assert sources(store) == ["log_record"]


def test_exception_events_are_not_affected(store: FailureStore) -> None:
    event = replace(failure(1, trace_id=TRACE), span_id=STEP)  # a span event on the step
    store.write_batch([event])
    store.write_batch([status_only(2)])  # across requests, only a log record ties
    assert sorted(sources(store)) == ["span_event", "span_status"]


def test_redeliveries_stay_one_row(store: FailureStore) -> None:
    store.write_batch([status_only(2)])
    store.write_batch([logged(1)])
    store.write_batch([logged(1), status_only(2)])
    store.write_batch([status_only(2), logged(1)])
    assert sources(store) == ["span_status"]


def test_the_lineage_is_stored_with_the_status_only_row_only(store: FailureStore) -> None:
    store.write_batch([status_only(2, related=(STEP, "4" * 16)), logged(5, trace_id="c" * 32)])
    with store.engine.connect() as conn:
        statement = sa.select(failure_matches.c.source, failure_matches.c.related_span_ids)
        stored = {source: related for source, related in conn.execute(statement)}
    assert stored == {"span_status": f"{STEP} {'4' * 16}", "log_record": None}


def test_only_status_only_rows_carry_a_lineage_even_an_empty_one(store: FailureStore) -> None:
    event = replace(failure(7, trace_id=TRACE), related_span_ids=(STEP,))  # not status-only
    store.write_batch([status_only(2, related=()), event])
    with store.engine.connect() as conn:
        statement = sa.select(failure_matches.c.source, failure_matches.c.related_span_ids)
        stored = {source: related for source, related in conn.execute(statement)}
    assert stored == {"span_status": "", "span_event": None}


@pytest.mark.parametrize("traces", [1, MAX_LOCKED_TRACES + 1], ids=["locked", "too-many-to-lock"])
def test_a_batch_of_many_traces_is_checked_too(store: FailureStore, traces: int) -> None:
    ids = [f"{t:032x}" for t in range(1, traces + 1)]
    store.write_batch([logged(t, trace_id=trace) for t, trace in enumerate(ids, start=1)])
    result = store.write_batch(
        [status_only(1000 + t, trace_id=trace) for t, trace in enumerate(ids, start=1)]
    )
    assert result.inserted == () and result.duplicates == traces


def test_two_writers_racing_store_one_of_the_two(db_url: str) -> None:
    # Two stores (two receiver processes' connections), each writing one signal of the same
    # failures at once, many times over: each failure ends as exactly one row. On SQLite the
    # writers take turns; on PostgreSQL the advisory lock per trace orders them.
    upgrade(db_url)
    stores = [FailureStore.from_url(db_url) for _ in range(2)]
    try:
        rounds = 40
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def write(which: int) -> None:
            try:
                for r in range(rounds):
                    trace = f"{r + 1:032x}"
                    batch = (
                        [logged(r + 1, trace_id=trace)]
                        if which == 0
                        else [status_only(1000 + r, trace_id=trace)]
                    )
                    barrier.wait(timeout=30)
                    stores[which].write_batch(batch)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
                barrier.abort()

        threads = [threading.Thread(target=write, args=(which,)) for which in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        rows = stored_rows(stores[0])
        per_trace: dict[str, int] = {}
        for row in rows:
            per_trace[row["trace_id"]] = per_trace.get(row["trace_id"], 0) + 1
        assert len(per_trace) == rounds
        assert set(per_trace.values()) == {1}
    finally:
        for s in stores:
            s.close()
