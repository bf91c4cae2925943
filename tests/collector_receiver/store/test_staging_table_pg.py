"""The PostgreSQL write path's staging table in a session that another release used first.

Behind a transaction-pooling proxy (PgBouncer) a server session, with its temp tables, passes
from one client to the next; during a rolling upgrade the previous release's receiver may have
left its staging table there. That release named it ``failcat_write_stage`` and had no GenAI
columns (before migration 0004); this one must still write every failure exactly.
"""

from __future__ import annotations

from sqlalchemy.pool import QueuePool

from collector_receiver.store import FailureStore, upgrade
from collector_receiver.store._engine import create_store_engine
from tests.collector_receiver.store._helpers import failure, stored_rows

# The staging table of the release before the GenAI columns, as it created it.
_PREVIOUS_RELEASE_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS failcat_write_stage (
    ord integer, event_key text, trace_id text, span_id text, service_name text, code text,
    category text, severity text, catalog_version text, exception_type text,
    exception_message text, stacktrace text, fingerprint text, source text,
    occurred_at timestamptz, received_at timestamptz, attributes text, message_template text
) ON COMMIT DELETE ROWS
"""


def test_a_session_holding_the_previous_releases_staging_table_writes_every_failure(
    postgres_url: str,
) -> None:
    upgrade(postgres_url)
    engine = create_store_engine(postgres_url)
    try:
        assert isinstance(engine.pool, QueuePool)
        with engine.connect() as conn:
            conn.exec_driver_sql(_PREVIOUS_RELEASE_STAGE)
            conn.commit()
            session = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        # The one pooled connection, the same server session, is the one the store writes on.
        assert engine.pool.checkedin() == 1
        store = FailureStore(engine)
        written = store.write_batch([failure(n) for n in range(1, 6)])
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() == session
            stale = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_class WHERE relname = 'failcat_write_stage'"
                " AND relpersistence = 't' AND pg_table_is_visible(oid)"
            ).scalar_one()
        assert stale == 1  # it was there all along, and was not written into
        rows = stored_rows(store)
        assert [row["event_key"] for row in rows] == [f"{n:040x}" for n in range(1, 6)]
        assert len(written.inserted) == 5 and written.duplicates == 0
    finally:
        engine.dispose()
