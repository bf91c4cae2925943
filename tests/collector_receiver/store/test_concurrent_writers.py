"""Writers racing with overlapping batches store each failure once and count it once."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

from collector_receiver.store import FailureStore, WriteResult, upgrade
from tests.collector_receiver.store._helpers import failure, stored_patterns, stored_rows

WRITERS = 4
BATCHES = 12
BATCH_SIZE = 60
KEYS = 400  # far fewer keys than writes: most failures are delivered by several writers
FINGERPRINTS = 9


def _fingerprint(n: int) -> str:
    return f"{n % FINGERPRINTS:032x}"


@pytest.mark.parametrize("sharing", ["store_per_writer", "one_shared_store"])
def test_racing_writers_store_each_failure_once(db_url: str, sharing: str) -> None:
    upgrade(db_url)
    if sharing == "store_per_writer":  # as if each writer were its own receiver process
        stores = [FailureStore.from_url(db_url) for _ in range(WRITERS)]
    else:  # threads of one receiver sharing one engine and its pool
        stores = [FailureStore.from_url(db_url)] * WRITERS
    results: list[list[WriteResult]] = [[] for _ in range(WRITERS)]
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(index: int) -> None:
        rng = random.Random(index)
        try:
            start.wait()
            for _ in range(BATCHES):
                keys = rng.sample(range(KEYS), BATCH_SIZE)
                batch = [failure(n, fingerprint=_fingerprint(n)) for n in keys]
                results[index].append(stores[index].write_batch(batch))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    all_results = [r for per_writer in results for r in per_writer]
    inserted_keys = [f.event_key for r in all_results for f in r.inserted]
    rows = stored_rows(stores[0])
    # Every failure acknowledged as inserted is stored, exactly once, by exactly one writer.
    assert len(inserted_keys) == len(set(inserted_keys))
    assert sorted(inserted_keys) == sorted(row["event_key"] for row in rows)
    assert sum(r.duplicates for r in all_results) + len(rows) == WRITERS * BATCHES * BATCH_SIZE
    # Pattern counts equal the stored rows per fingerprint, and each is "new" exactly once.
    per_fingerprint = Counter(row["fingerprint"] for row in rows)
    patterns = stored_patterns(stores[0])
    assert {fp: p["occurrences"] for fp, p in patterns.items()} == dict(per_fingerprint)
    new = [p.fingerprint for r in all_results for p in r.new_patterns]
    assert sorted(new) == sorted(per_fingerprint)
    for fp, pattern in patterns.items():
        times = [row["occurred_at"] for row in rows if row["fingerprint"] == fp]
        assert pattern["first_seen"] == min(times)
        assert pattern["last_seen"] == max(times)
    for store in set(stores):
        store.close()
