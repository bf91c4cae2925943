"""Counting GenAI operations once per delivery, inside the transaction of its failures.

Each request's :class:`~collector_receiver.events.OperationCounts` carries a delivery key (a
digest of the request's counted spans, computed in ``otlp/``). The write, on both databases:

1. ``INSERT INTO gen_ai_counted_deliveries ... ON CONFLICT (delivery_key) DO NOTHING RETURNING
   delivery_key`` — the keys it returns are the deliveries never counted before;
2. only their counts, summed per hour and context, go into ``gen_ai_operations`` with
   ``INSERT ... ON CONFLICT (<the key>) DO UPDATE SET operations = operations +
   excluded.operations``.

A request delivered again (a sender retrying after a lost acknowledgement) finds its key stored
and adds nothing; if the transaction rolls back, the key goes with the counts and the retry
counts them. Two receivers counting the same delivery at once: the second one's insert of the
key waits for the first transaction, then (committed) does nothing, or (rolled back) inserts it
and counts. Keys are inserted in key order and count rows in key order after them, and both come
after the failures of the transaction, so racing writers take their locks in one order and
cannot deadlock.

PostgreSQL does both steps in one statement (the arrays of the batch ``unnest``-ed into two
data-modifying CTEs, one round trip, its text fixed so psycopg prepares it); SQLite runs them
as two SQLAlchemy statements (in-process, no round trip to save).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import sqlite

from collector_receiver.events import OperationCounts
from collector_receiver.storable import storable_text
from collector_receiver.store import _pg_copy
from collector_receiver.store._rows import genai_values, utc
from collector_receiver.store.tables import (
    ABSENT_IN_KEY,
    GENAI_COLUMNS,
    OPERATION_KEY,
    gen_ai_counted_deliveries,
    gen_ai_operations,
)

#: One count row: bucket_start, service_name, the GenAI columns (``GENAI_COLUMNS`` order).
_CountKey = tuple[Any, ...]


def unique_by_delivery_key(operations: Sequence[OperationCounts]) -> list[OperationCounts]:
    """The first of each delivery key, in input order: a request queued twice in one group
    commit (a quick retry) is one delivery."""
    seen: set[str] = set()
    unique: list[OperationCounts] = []
    for counts in operations:
        if counts.delivery_key not in seen:
            seen.add(counts.delivery_key)
            unique.append(counts)
    return unique


def _count_rows(operations: Iterable[OperationCounts]) -> dict[_CountKey, int]:
    """The counts of ``operations`` summed per stored row key (values as the store writes them:
    two contexts that differ only by an empty versus an absent value are one row)."""
    rows: dict[_CountKey, int] = {}
    for counts in operations:
        for key, n in counts.counts.items():
            if n <= 0:
                continue
            service = storable_text(key.service_name)
            row = (utc(key.bucket_start), service, *genai_values(key.context))
            rows[row] = rows.get(row, 0) + n
    return rows


def _sort_key(row: _CountKey) -> tuple[Any, ...]:
    # None sorts before any text, and never against one (tuples compare item by item).
    return tuple((value is not None, value) for value in row)


def count_sqlite(
    conn: Connection, operations: Sequence[OperationCounts], received_at: datetime
) -> set[str]:
    """Steps 1 and 2 as two SQLAlchemy statements (SQLite); return the keys newly counted."""
    if not operations:
        return set()
    keys = sorted(counts.delivery_key for counts in operations)
    claim = (
        sqlite.insert(gen_ai_counted_deliveries)
        .on_conflict_do_nothing(index_elements=[gen_ai_counted_deliveries.c.delivery_key])
        .returning(gen_ai_counted_deliveries.c.delivery_key)
    )
    new_keys = set(
        conn.execute(claim, [{"delivery_key": k, "received_at": received_at} for k in keys])
        .scalars()
        .all()
    )
    rows = _count_rows(c for c in operations if c.delivery_key in new_keys)
    if rows:
        columns = ("bucket_start", "service_name", *GENAI_COLUMNS)
        insert = sqlite.insert(gen_ai_operations)
        upsert = insert.on_conflict_do_update(
            index_elements=list(OPERATION_KEY),
            set_={"operations": gen_ai_operations.c.operations + insert.excluded.operations},
        )
        conn.execute(
            upsert,
            [
                {**dict(zip(columns, row, strict=True)), "operations": rows[row]}
                for row in sorted(rows, key=_sort_key)
            ],
        )
    return new_keys


_KEY_EXPRESSIONS = ", ".join(
    ["bucket_start", "service_name", *(f"coalesce({c}, '{ABSENT_IN_KEY}')" for c in GENAI_COLUMNS)]
)
_ROW_COLUMNS = ", ".join(["bucket_start", "service_name", *GENAI_COLUMNS])
_ROW_TYPES = ["timestamptz", "text", *("text" for _ in GENAI_COLUMNS)]
_UNNEST_ARGS = ", ".join(
    f"%(c{i})s::{sql_type}[]" for i, sql_type in enumerate(["text", *_ROW_TYPES, "bigint"])
)

# ``counted`` reads only the keys ``claimed`` returned: the deliveries this transaction is the
# first to count. It groups them (two deliveries of one group commit can count the same row, and
# one statement may update a row only once) and inserts in key order (the lock order). It is
# executed whether or not the final SELECT reads it (PostgreSQL runs every data-modifying CTE to
# completion).
_COUNT = f"""
WITH claimed AS (
    INSERT INTO gen_ai_counted_deliveries (delivery_key, received_at)
    SELECT k, %(received_at)s FROM unnest(%(keys)s::text[]) AS d(k) ORDER BY k
    ON CONFLICT (delivery_key) DO NOTHING
    RETURNING delivery_key
), counted AS (
    INSERT INTO gen_ai_operations ({_ROW_COLUMNS}, operations)
    SELECT {_ROW_COLUMNS}, sum(n)
    FROM unnest({_UNNEST_ARGS}) AS c(delivery_key, {_ROW_COLUMNS}, n)
    JOIN claimed USING (delivery_key)
    GROUP BY {_ROW_COLUMNS}
    ORDER BY {_ROW_COLUMNS}
    ON CONFLICT ({_KEY_EXPRESSIONS}) DO UPDATE
        SET operations = gen_ai_operations.operations + excluded.operations
)
SELECT delivery_key FROM claimed
"""


def count_postgresql(
    conn: Connection, operations: Sequence[OperationCounts], received_at: datetime
) -> set[str]:
    """Steps 1 and 2 in one statement on PostgreSQL; return the delivery keys newly counted."""
    if not operations:
        return set()
    params: dict[str, Any] = {
        "received_at": received_at,
        "keys": sorted(counts.delivery_key for counts in operations),
    }
    # One array per column of the unnest: delivery_key, the row's columns, the count.
    arrays: list[list[Any]] = [[] for _ in range(len(_ROW_TYPES) + 2)]
    for counts in operations:
        for row, n in _count_rows((counts,)).items():
            for array, value in zip(arrays, (counts.delivery_key, *row, n), strict=True):
                array.append(value)
    params.update({f"c{i}": array for i, array in enumerate(arrays)})
    with _pg_copy.dbapi_cursor(conn) as cursor:
        cursor.execute(_COUNT, params)
        return {str(key) for (key,) in cursor.fetchall()}
