"""PostgreSQL's monthly partitions of failure_matches (migration 0006, ``store._partitions``).

The migration is checked on a database the previous release built and filled: its own
migrations and its own ``FailureStore.write_batch``, taken from this repository's history and
run in a child process, as a user's receiver would have written it.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from collector_receiver.events import MatchedFailure
from collector_receiver.store import FailureStore, StoreUnavailable, _partitions, downgrade, upgrade
from collector_receiver.store.queries import FailureQueries
from tests.collector_receiver.store._helpers import failure, stored_patterns, stored_rows
from tests.collector_receiver.store.test_queries_plans_pg import _plans_of, _reads

#: The newest commit before migration 0006: its migrations and write path are those of the
#: release a user's database was written by.
RELEASE = "6266757c83169a2b70996e8c6375ef86d9030dd1"
_REPOSITORY = Path(__file__).resolve().parents[3]

# The batches: three spread over four months (across month ends), the GenAI context on half
# of the rows. Run by the release's code to fill its database, and here to redeliver them.
_BATCHES = """
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from collector_receiver.events import GenAIContext
from tests.collector_receiver.store._helpers import failure

def batches():
    start = datetime(2026, 8, 30, 23, 0, tzinfo=timezone.utc)
    context = GenAIContext("openai", "gpt-4o", "chat", "tool-1", None)
    return [
        [
            replace(
                failure(
                    b * 1000 + n,
                    occurred_at=start + timedelta(days=b * 31, minutes=n * 7),
                    fingerprint=f"{n % 3:032x}",
                    attributes={"n": n, "batch": b, "nested": {"ok": True}},
                ),
                gen_ai=context if n % 2 else GenAIContext(None, None, None, None, None),
            )
            for n in range(40)
        ]
        for b in range(3)
    ]
"""

# Run by the release's own code (PYTHONPATH is its tree): migrate, write, redeliver one batch.
_RELEASE_WRITER = (
    _BATCHES
    + """
import sys
from collector_receiver.store import FailureStore, upgrade

url = sys.argv[1]
upgrade(url)
store = FailureStore.from_url(url)
for batch in batches():
    store.write_batch(batch)
store.write_batch(batches()[1])
store.close()
"""
)


def _batches() -> list[list[MatchedFailure]]:
    """The same batches, built by this tree's code."""
    namespace: dict[str, Any] = {}
    exec(_BATCHES, namespace)
    return list(namespace["batches"]())


@pytest.fixture(scope="module")
def release_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release's source tree, as ``git archive`` gives it (read-only for the repository)."""
    archive = subprocess.run(
        ["git", "-C", str(_REPOSITORY), "archive", "--format=tar", RELEASE],
        check=True,
        capture_output=True,
    ).stdout
    root = tmp_path_factory.mktemp("release")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    # The installed distribution maps migrations/ into the package; a bare tree needs the link.
    (root / "collector_receiver" / "migrations").symlink_to(root / "migrations")
    return root


def _write_with_release(tree: Path, url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _RELEASE_WRITER, url],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def _rows(url: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            result = conn.execute(sa.text("SELECT * FROM failure_matches ORDER BY id"))
            return [dict(row._mapping) for row in result]
    finally:
        engine.dispose()


def _relkind(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            kind = conn.execute(
                sa.text("SELECT relkind FROM pg_class WHERE oid = 'failure_matches'::regclass")
            ).scalar()
            return str(kind)
    finally:
        engine.dispose()


@pytest.fixture
def store(postgres_url: str) -> Iterator[FailureStore]:
    upgrade(postgres_url)
    store = FailureStore.from_url(postgres_url)
    yield store
    store.close()


def _partition_names(store: FailureStore) -> set[str]:
    with store.engine.connect() as conn:
        return {p.name for p in _partitions.partitions(conn)}


def test_the_release_database_is_migrated_with_every_row_kept(
    release_tree: Path, postgres_url: str
) -> None:
    _write_with_release(release_tree, postgres_url)
    before = _rows(postgres_url)
    assert _relkind(postgres_url) == "r"
    assert len(before) == 120  # the redelivered batch stored nothing more
    assert {row["gen_ai_tool"] for row in before} == {None, "tool-1"}

    upgrade(postgres_url)

    assert _relkind(postgres_url) == "p"
    after = _rows(postgres_url)
    # Migration 0007's column is new and empty on the release's rows.
    assert {row.pop("related_span_ids") for row in after} == {None}
    assert after == before  # ids, keys, times, attributes, GenAI columns
    store = FailureStore.from_url(postgres_url)
    try:
        names = _partition_names(store)
        assert {"failure_matches_p202608", "failure_matches_p202609"} <= names
        assert {"failure_matches_p202610", "failure_matches_p202611"} <= names
        # Redelivering every release-written batch stores nothing; new failures get new ids.
        for batch in _batches():
            repeat = store.write_batch(batch)
            assert repeat.inserted == () and repeat.duplicates == 40
        again = store.write_batch([failure(5000 + n) for n in range(40)])
        assert len(again.inserted) == 40
        ids = [row["id"] for row in stored_rows(store)]
        assert min(ids[120:]) > max(row["id"] for row in before)
        queries = FailureQueries.from_url(postgres_url)
        try:
            page = queries.list_failures(tool="tool-1", limit=500)
            assert {f.id for f in page.items} == {
                row["id"] for row in before if row["gen_ai_tool"] == "tool-1"
            }
            oldest = before[0]
            found = queries.get_failure(oldest["id"])
            assert found is not None and found.event_key == oldest["event_key"]
        finally:
            queries.close()
    finally:
        store.close()


def test_downgrade_returns_a_plain_table_with_every_row(
    release_tree: Path, postgres_url: str
) -> None:
    _write_with_release(release_tree, postgres_url)
    before = _rows(postgres_url)
    upgrade(postgres_url)

    downgrade(postgres_url, "0005")

    assert _relkind(postgres_url) == "r"
    assert _rows(postgres_url) == before
    upgrade(postgres_url)  # and up again
    after = _rows(postgres_url)
    assert {row.pop("related_span_ids") for row in after} == {None}  # 0007's column, empty
    assert after == before


def test_a_redelivered_batch_across_a_month_boundary_is_stored_once(
    store: FailureStore,
) -> None:
    boundary = datetime(2026, 12, 1, tzinfo=timezone.utc)
    batch = [
        failure(n, occurred_at=boundary + timedelta(microseconds=n - 3), fingerprint="b" * 32)
        for n in range(6)
    ]

    first = store.write_batch(batch)
    second = store.write_batch(list(reversed(batch)))
    third = store.write_batch([*batch[2:4], failure(99, fingerprint="b" * 32)])

    assert len(first.inserted) == 6
    assert second.inserted == () and second.duplicates == 6
    assert [f.event_key for f in third.inserted] == [failure(99).event_key]
    assert len(stored_rows(store)) == 7
    assert stored_patterns(store)["b" * 32]["occurrences"] == 7
    assert {"failure_matches_p202611", "failure_matches_p202612"} <= _partition_names(store)


def test_late_and_early_failures_get_their_partitions(store: FailureStore) -> None:
    now = datetime.now(timezone.utc)
    late = failure(1, occurred_at=now - timedelta(days=400))
    early = failure(2, occurred_at=now + timedelta(days=70))

    result = store.write_batch([late, early])

    assert len(result.inserted) == 2
    names = _partition_names(store)
    assert _partitions.partition_name(_partitions.month_of(late.occurred_at)) in names
    assert _partitions.partition_name(_partitions.month_of(early.occurred_at)) in names


def test_ids_keep_growing_after_a_partition_is_dropped(store: FailureStore) -> None:
    month = datetime(2026, 5, 10, tzinfo=timezone.utc)
    store.write_batch([failure(n, occurred_at=month + timedelta(minutes=n)) for n in range(5)])
    first_ids = [row["id"] for row in stored_rows(store)]
    with store.engine.begin() as conn:
        (expired,) = _partitions.expired_partitions(conn, datetime(2026, 6, 1, tzinfo=timezone.utc))
        assert expired.name == "failure_matches_p202605"
        _partitions.drop_partition(conn, expired.name)
    assert stored_rows(store) == []

    # The same store still believes May exists: the write creates it again.
    again = store.write_batch([failure(n, occurred_at=month) for n in range(10, 13)])

    assert len(again.inserted) == 3
    assert min(row["id"] for row in stored_rows(store)) > max(first_ids)


def test_receivers_creating_the_same_partitions_at_once_all_succeed(postgres_url: str) -> None:
    upgrade(postgres_url)
    engine = sa.create_engine(postgres_url, pool_size=8)
    months = [date(2031, m, 1) for m in range(1, 7)]
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def create() -> None:
        try:
            with engine.connect() as conn:
                barrier.wait()
                with conn.begin():
                    _partitions.ensure_partitions(conn, months)
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        with engine.connect() as conn:
            names = [p.name for p in _partitions.partitions(conn)]
    finally:
        engine.dispose()

    assert errors == []
    assert [n for n in names if n.startswith("failure_matches_p2031")] == [
        f"failure_matches_p2031{m:02d}" for m in range(1, 7)
    ]


def test_expired_partitions_are_those_wholly_before_the_cutoff(store: FailureStore) -> None:
    with store.engine.begin() as conn:
        _partitions.ensure_partitions(conn, [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)])
    store.write_batch(
        [failure(n, occurred_at=datetime(2025, 1, 5, tzinfo=timezone.utc)) for n in range(4)]
    )

    with store.engine.connect() as conn:
        expired = _partitions.expired_partitions(conn, datetime(2025, 3, 1, tzinfo=timezone.utc))
        mid_month = _partitions.expired_partitions(conn, datetime(2025, 2, 15))
        with pytest.raises(ValueError, match="not a partition"):
            _partitions.drop_partition(conn, "failure_patterns")

    assert [p.name for p in expired] == ["failure_matches_p202501", "failure_matches_p202502"]
    assert expired[0].lower == datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert expired[0].upper == datetime(2025, 2, 1, tzinfo=timezone.utc)
    assert [p.name for p in mid_month] == ["failure_matches_p202501"]


def test_a_time_window_reads_only_the_partitions_it_overlaps(store: FailureStore) -> None:
    # Enough rows a month that a page's rows are looked up one by one, as in a real store.
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    times = [start + timedelta(hours=n) for n in range(181 * 24)]
    store.write_batch([failure(n, occurred_at=t) for n, t in enumerate(times)])
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE failure_matches"))
    queries = FailureQueries(store.engine)

    since = datetime(2025, 3, 20, tzinfo=timezone.utc)
    until = datetime(2025, 4, 20, tzinfo=timezone.utc)
    window = {"failure_matches_p202503", "failure_matches_p202504"}

    page = _plans_of(
        store.engine, lambda: queries.list_failures(since=since, until=until), analyze=True
    )
    counts = _plans_of(store.engine, lambda: queries.catalog_counts(since, until))

    # A page's ids come off the time index of the window's months only (pruned when planned;
    # the newest month alone was enough for this page). How its rows are then looked up by
    # (id, occurred_at) is the planner's choice at this size.
    by_time = {
        n["Relation Name"]
        for nodes in page
        for n in nodes
        if n.get("Index Name") == "ix_failure_matches_occurred_at_id" and n["Actual Loops"]
    }
    assert by_time == {"failure_matches_p202504"}
    # An aggregation over the window reads the window's months and no other.
    counted = {
        n["Relation Name"] for nodes in counts for n in nodes if _reads(n, "failure_matches")
    }
    assert counted == window
    assert len(queries.list_failures(since=times[24], until=times[48], limit=100).items) == 24


def test_sqlite_stays_a_plain_table(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = sa.create_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert not _partitions.is_partitioned(conn)
            unique = sa.inspect(conn).get_unique_constraints("failure_matches")
    finally:
        engine.dispose()
    assert [u["column_names"] for u in unique] == [["event_key"]]


def test_a_month_that_cannot_be_made_for_a_long_read_fails_the_batch_as_retryable(
    store: FailureStore,
) -> None:
    store.write_batch([failure(1)])  # the store knows its usual months now
    long_ago = failure(2, occurred_at=datetime(2024, 2, 1, tzinfo=timezone.utc))
    with store.engine.connect() as reader:
        with reader.begin():
            reader.execute(sa.text("SELECT count(*) FROM failure_matches"))  # holds its lock

            with pytest.raises(StoreUnavailable, match="lock timeout"):
                store.write_batch([long_ago])

            # A month that exists is written meanwhile: only the creation waits.
            assert len(store.write_batch([failure(3)]).inserted) == 1

    retried = store.write_batch([long_ago])
    assert len(retried.inserted) == 1
