"""Keyset pages stay exact while the receiver keeps writing between (and during) page reads."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

from collector_receiver.store import FailureStore
from collector_receiver.store.queries import FailureQueries
from tests.collector_receiver.store._inspection_data import NOW, failure, seed


def test_every_preexisting_row_exactly_once_under_concurrent_inserts(db_url: str) -> None:
    rng = random.Random(7)
    seed(
        db_url,
        # Many rows share an instant, so pages often end inside a run of equal occurred_at.
        [failure(NOW - timedelta(seconds=rng.randrange(0, 600))) for _ in range(400)],
    )
    queries = FailureQueries.from_url(db_url)
    before = {f.id for f in queries.list_failures(limit=1000).items}
    assert len(before) == 400

    store = FailureStore.from_url(db_url)
    stop = threading.Event()
    written = 0

    def keep_writing() -> None:
        nonlocal written
        writer_rng = random.Random(11)
        while not stop.is_set():
            # Newer failures, and late arrivals with old timestamps landing among pages
            # already read and pages still to come.
            batch = [
                failure(NOW + timedelta(seconds=writer_rng.randrange(-600, 600))) for _ in range(5)
            ]
            store.write_batch(batch)
            written += len(batch)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        seen: list[int] = []
        cursor = None
        while True:
            page = queries.list_failures(limit=17, cursor=cursor)
            seen.extend(f.id for f in page.items)
            # Make sure the writer really interleaves with the reader on every page.
            store.write_batch([failure(NOW + timedelta(seconds=rng.randrange(-600, 600)))])
            cursor = page.next_cursor
            if cursor is None:
                break
    finally:
        stop.set()
        writer.join()
        store.close()
        queries.close()

    assert written > 0
    assert len(seen) == len(set(seen)), "a row was returned twice"
    assert before <= set(seen), "a row that existed before paging began was skipped"


def test_every_preexisting_pattern_at_least_once_while_patterns_recur(db_url: str) -> None:
    """New fingerprints and recurrences of old ones (late ones included) land between pages."""
    rng = random.Random(3)
    seed(
        db_url,
        [
            failure(NOW - timedelta(seconds=rng.randrange(0, 600)), fingerprint=f"fp-{n:03d}")
            for n in range(120)
        ],
    )
    queries = FailureQueries.from_url(db_url)
    before = {p.fingerprint for p in queries.list_patterns(limit=1000).items}
    assert len(before) == 120
    store = FailureStore.from_url(db_url)
    try:
        seen: list[str] = []
        cursor = None
        new = 0
        while True:
            page = queries.list_patterns(limit=7, cursor=cursor)
            seen.extend(p.fingerprint for p in page.items)
            new += 1
            store.write_batch(
                [
                    failure(NOW + timedelta(seconds=5), fingerprint=f"new-{new:03d}"),
                    # Recurrences, one of them late: its first_seen moves back in time.
                    failure(NOW + timedelta(seconds=9), fingerprint=f"fp-{rng.randrange(120):03d}"),
                    failure(NOW - timedelta(hours=1), fingerprint=f"fp-{rng.randrange(120):03d}"),
                ]
            )
            cursor = page.next_cursor
            if cursor is None:
                break
    finally:
        store.close()
        queries.close()
    assert before <= set(seen), "a pattern that existed before paging began was skipped"
