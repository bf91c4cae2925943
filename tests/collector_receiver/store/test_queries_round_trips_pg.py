"""A read of the query API is one statement on PostgreSQL, with no transaction around it.

Counted with libpq's own protocol trace (``PQtrace``) of the pooled connection: every message
the client sends is logged, so a BEGIN or a ROLLBACK around the SELECT would show. Each one is a
round trip that wakes the server and the API's thread again, which is what a first page's time
is made of on a busy machine (``benchmarks/bench_query_latency.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from collector_receiver.store.queries import FailureQueries
from tests.collector_receiver.store._inspection_data import failure, minutes_ago, seed

TRACE = "c" * 32


@pytest.fixture
def queries(postgres_url: str) -> Iterator[FailureQueries]:
    seed(postgres_url, [failure(minutes_ago(m), "TIMEOUT", "planner", TRACE, None) for m in (1, 2)])
    reader = FailureQueries.from_url(postgres_url)
    yield reader
    reader.close()


def _statements_sent(queries: FailureQueries, call: Callable[[], object], path: Path) -> list[str]:
    """The simple-protocol queries and extended-protocol parses ``call`` sends, in order."""
    call()  # the pool now holds one connection, which the next call checks out again
    with queries.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
    assert raw is not None
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    raw.pgconn.trace(descriptor)
    try:
        call()
    finally:
        raw.pgconn.untrace()
        os.close(descriptor)
    sent = []
    for line in path.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) > 4 and fields[1] == "F" and fields[3] in ("Query", "Parse"):
            sent.append(fields[4])
    return sent


@pytest.mark.parametrize(
    "name",
    ["list_failures", "failures_for_trace", "get_failure", "list_patterns", "catalog_counts"],
)
def test_a_read_sends_its_select_and_no_transaction(
    queries: FailureQueries, tmp_path: Path, name: str
) -> None:
    some = queries.list_failures(limit=1).items[0]
    calls: dict[str, Callable[[], object]] = {
        "list_failures": lambda: queries.list_failures(service="planner"),
        "failures_for_trace": lambda: queries.failures_for_trace(TRACE),
        "get_failure": lambda: queries.get_failure(some.id),
        "list_patterns": lambda: queries.list_patterns(),
        "catalog_counts": lambda: queries.catalog_counts(minutes_ago(60), minutes_ago(0)),
    }
    sent = _statements_sent(queries, calls[name], tmp_path / "trace.log")
    selects = [s for s in sent if "SELECT" in s.upper() and "failure_" in s]
    # The pool's liveness ping (an empty statement) may precede it; nothing else may.
    others = [s for s in sent if s not in selects and s.strip('" ;') != ""]
    assert len(selects) == 1, sent
    assert others == [], sent
