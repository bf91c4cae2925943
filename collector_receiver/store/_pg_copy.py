"""The PostgreSQL write path of ``failure_matches``: COPY into a temp table, then one INSERT.

Measured with ``benchmarks/bench_store_write.py`` against SQLAlchemy's executemany
("insertmanyvalues": multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` pages), both
inside the full ``write_batch``: COPY is about as fast at 100 rows per batch (0.8 to 1.9 times
across runs on a busy machine) and 2 to 2.7 times as fast at 1000 and 5000 (docs/storage.md
has the numbers). The rows skip SQLAlchemy's per-value bind processing and travel as one stream
instead of statements of 16 000 parameters that psycopg parses on the client page by page.

The staging table is a session temp table created on demand in the writing transaction
(``IF NOT EXISTS``) and emptied at every commit (``ON COMMIT DELETE ROWS``): it never holds rows
between batches, a rolled back batch takes its rows (or the table itself) with it, and it works
behind a transaction-pooling proxy because every batch checks for it again.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from sqlalchemy import Connection

from collector_receiver.store._rows import MATCH_COLUMNS

_COLUMNS = ", ".join(MATCH_COLUMNS)

# Column types match failure_matches; lengths are checked when rows move into the real table.
_PREPARE_STAGE = """
SET LOCAL client_min_messages = warning;
CREATE TEMP TABLE IF NOT EXISTS failcat_stage (
    event_key text, trace_id text, span_id text, service_name text, code text, category text,
    severity text, catalog_version text, exception_type text, exception_message text,
    stacktrace text, fingerprint text, source text, occurred_at timestamptz,
    received_at timestamptz, attributes jsonb
) ON COMMIT DELETE ROWS
"""

_COPY = f"COPY failcat_stage ({_COLUMNS}) FROM STDIN"

# ORDER BY event_key: racing writers take the unique index's locks in the same order.
_MOVE = (
    f"INSERT INTO failure_matches ({_COLUMNS}) "
    f"SELECT {_COLUMNS} FROM failcat_stage ORDER BY event_key "
    "ON CONFLICT (event_key) DO NOTHING RETURNING event_key"
)

_JSON_AT = MATCH_COLUMNS.index("attributes")


def insert_matches(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert ``rows`` in the transaction of ``conn``; return the event keys actually inserted."""
    dbapi = conn.connection.driver_connection
    if not isinstance(dbapi, psycopg.Connection):
        raise TypeError(f"the COPY path needs a psycopg 3 connection, not {type(dbapi).__name__}")
    with dbapi.cursor() as cursor:
        cursor.execute(_PREPARE_STAGE)
        with cursor.copy(_COPY) as copy:
            for row in rows:
                values = [row[column] for column in MATCH_COLUMNS]
                values[_JSON_AT] = json.dumps(values[_JSON_AT], allow_nan=False)
                copy.write_row(values)
        cursor.execute(_MOVE)
        return {key for (key,) in cursor.fetchall()}
