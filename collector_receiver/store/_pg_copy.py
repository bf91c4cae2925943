"""The PostgreSQL write path: one binary COPY into a temp table, then one statement.

A batch costs four round trips whatever its size: make sure the staging table exists, stream the
rows into it with a binary ``COPY``, run one statement that moves them into ``failure_matches``
and folds the inserted ones into ``failure_patterns``, commit. Nothing goes through SQLAlchemy's
per-value bind processing or psycopg's client-side parsing of multi-row ``VALUES`` pages, which
``benchmarks/bench_store_write.py`` measured as most of the write cost before (the pattern upsert
alone, sent as ``executemany`` pages plus an ``UPDATE``, took more than the rows' COPY).

The one statement is three parts (data-modifying CTEs):

* ``inserted`` — ``INSERT ... SELECT ... ORDER BY event_key ON CONFLICT (event_key,
  occurred_at) DO NOTHING RETURNING event_key``: a failure stored before, by any writer, is
  skipped (the key holds ``occurred_at`` because the table is partitioned by it, see
  ``_partitions``; a failure's time comes with its event key, so a redelivery conflicts);
* ``deltas`` — the inserted rows only, joined back to the staging table and grouped by
  fingerprint: first and last occurrence, count, and the descriptive columns of the batch's
  first failure of that fingerprint (``ord`` is the position in the caller's batch);
* ``patterns`` — ``INSERT ... ORDER BY fingerprint ON CONFLICT (fingerprint) DO UPDATE`` widening
  the time range and adding the count. ``ON CONFLICT DO UPDATE`` waits for a racing writer's
  uncommitted insert of the same fingerprint and then updates its committed row, so no
  occurrence is lost or counted twice; ``xmax = 0`` marks the rows this statement created
  (an updated row carries this transaction's id), which are the new patterns.

The move statement's text never changes, so psycopg prepares it on the server by itself after
its fifth use in a session (``prepare_threshold``): it is parsed and planned once per
connection, not per batch.

Locks are taken in ``event_key`` order, then (the grouping consumes every inserted row first) in
``fingerprint`` order, so racing writers cannot deadlock.

The staging table is a session temp table created on demand in the writing transaction
(``IF NOT EXISTS``) and emptied at every commit (``ON COMMIT DELETE ROWS``): it never holds rows
between batches, a rolled back batch takes its rows (or the table itself) with it, and it works
behind a transaction-pooling proxy because every batch checks for it again (its name carries a
digest of its columns, so two releases sharing a proxy's sessions never share one table).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy import Connection

from collector_receiver.events import MatchedFailure
from collector_receiver.storable import storable_text
from collector_receiver.store._rows import WRITE_COLUMNS, attributes_json, match_values

_STAGE_COLUMNS = ("ord", *WRITE_COLUMNS, "message_template")
_COLUMNS = ", ".join(WRITE_COLUMNS)

# Column types match failure_matches; lengths are checked when rows move into the real table.
# The columns are those of ``WRITE_COLUMNS`` in its order (``stage`` writes rows in it).
# ``attributes`` is staged as strict JSON text (``_rows.attributes_json``) and cast once in the
# move.
_STAGE_DEFINITION = """
    ord integer, event_key text, trace_id text, span_id text, service_name text, code text,
    category text, severity text, catalog_version text, exception_type text,
    exception_message text, stacktrace text, fingerprint text, source text,
    occurred_at timestamptz, received_at timestamptz, attributes text, gen_ai_provider text,
    gen_ai_model text, gen_ai_operation text, gen_ai_tool text, gen_ai_agent text,
    related_span_ids text, message_template text
"""
# Named after its columns: a transaction-pooling proxy hands a server session, and the temp
# table in it, from one client to the next, so during a rolling upgrade a release whose staging
# columns differ would otherwise find the older release's table (``IF NOT EXISTS``) and COPY
# into the wrong columns.
_STAGE = (
    "failcat_write_stage_" + hashlib.blake2b(_STAGE_DEFINITION.encode(), digest_size=4).hexdigest()
)
_PREPARE_STAGE = f"""
SET LOCAL client_min_messages = warning;
CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ({_STAGE_DEFINITION}) ON COMMIT DELETE ROWS
"""

_COPY = f"COPY {_STAGE} ({', '.join(_STAGE_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_COPY_TYPES = [
    "timestamptz" if column in ("occurred_at", "received_at") else "text"
    for column in _STAGE_COLUMNS
]
_COPY_TYPES[0] = "int4"

_SELECT_STAGED = ", ".join("attributes::jsonb" if c == "attributes" else c for c in WRITE_COLUMNS)


def _first(column: str) -> str:
    return f"(array_agg(s.{column} ORDER BY s.ord))[1] AS {column}"


_PATTERN_COLUMNS = (
    "fingerprint, code, service_name, exception_type, message_template, "
    "first_seen, last_seen, occurrences"
)

_MOVE = f"""
WITH inserted AS (
    INSERT INTO failure_matches ({_COLUMNS})
    SELECT {_SELECT_STAGED} FROM {_STAGE} ORDER BY event_key
    ON CONFLICT (event_key, occurred_at) DO NOTHING
    RETURNING event_key
), deltas AS (
    SELECT s.fingerprint, {_first("code")}, {_first("service_name")},
        {_first("exception_type")}, {_first("message_template")},
        min(s.occurred_at) AS first_seen, max(s.occurred_at) AS last_seen,
        count(*) AS occurrences
    FROM inserted JOIN {_STAGE} AS s USING (event_key)
    GROUP BY s.fingerprint
), patterns AS (
    INSERT INTO failure_patterns ({_PATTERN_COLUMNS})
    SELECT {_PATTERN_COLUMNS} FROM deltas ORDER BY fingerprint
    ON CONFLICT (fingerprint) DO UPDATE SET
        first_seen = least(failure_patterns.first_seen, excluded.first_seen),
        last_seen = greatest(failure_patterns.last_seen, excluded.last_seen),
        occurrences = failure_patterns.occurrences + excluded.occurrences
    RETURNING fingerprint, service_name, code, xmax = 0 AS created
)
SELECT true, event_key, NULL, NULL FROM inserted
UNION ALL
SELECT false, fingerprint, service_name, code FROM patterns WHERE created
"""


@dataclass(frozen=True)
class Written:
    """What the move statement reported."""

    #: Event keys of the failures actually inserted.
    inserted_keys: set[str]
    #: ``(fingerprint, service_name, code)`` of each pattern created, in no particular order.
    new_patterns: list[tuple[str, str, str]]


def dbapi_cursor(conn: Connection) -> psycopg.Cursor[tuple[object, ...]]:
    """A psycopg cursor on the connection of ``conn`` (raises ``TypeError`` for another driver)."""
    dbapi = conn.connection.driver_connection
    if not isinstance(dbapi, psycopg.Connection):
        raise TypeError(f"the COPY path needs a psycopg 3 connection, not {type(dbapi).__name__}")
    return dbapi.cursor()


def prepare(cursor: psycopg.Cursor[tuple[object, ...]]) -> None:
    """Create the staging table unless this session has it (see the module docstring)."""
    cursor.execute(_PREPARE_STAGE)


def stage(
    cursor: psycopg.Cursor[tuple[object, ...]],
    failures: Sequence[MatchedFailure],
    received_at: datetime,
) -> None:
    """COPY ``failures`` (unique event keys, caller's order) into the staging table."""
    with cursor.copy(_COPY) as copy:
        copy.set_types(_COPY_TYPES)
        write_row = copy.write_row
        for ord_, failure in enumerate(failures):
            row = match_values(failure, received_at, attributes=attributes_json)
            write_row((ord_, *row, storable_text(failure.message_template)))


def move(cursor: psycopg.Cursor[tuple[object, ...]]) -> Written:
    """Move the staged rows into the real tables (see the module docstring)."""
    cursor.execute(_MOVE)
    keys: set[str] = set()
    patterns: list[tuple[str, str, str]] = []
    for is_match, key, service_name, code in cursor.fetchall():
        if is_match:
            keys.add(str(key))
        else:
            patterns.append((str(key), str(service_name), str(code)))
    return Written(inserted_keys=keys, new_patterns=patterns)


def write_failures(
    conn: Connection, failures: Sequence[MatchedFailure], received_at: datetime
) -> Written:
    """Write ``failures`` (unique event keys, caller's order) in the transaction of ``conn``."""
    with dbapi_cursor(conn) as cursor:
        prepare(cursor)
        stage(cursor, failures, received_at)
        return move(cursor)
