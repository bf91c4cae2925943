"""The writer's store and the query API can share one engine (one pool per process): what the
store commits the queries read through the same engine, and only whoever built the engine from
a URL closes it."""

from __future__ import annotations

from collector_receiver.store import FailureStore, upgrade
from collector_receiver.store._engine import create_store_engine
from collector_receiver.store.queries import FailureQueries
from tests.collector_receiver.store._helpers import failure


def test_a_store_and_queries_on_one_engine_share_it_and_leave_it_open(db_url: str) -> None:
    upgrade(db_url)
    engine = create_store_engine(db_url)
    try:
        store = FailureStore(engine)
        queries = FailureQueries(engine)
        assert store.engine is queries.engine is engine
        store.write_batch([failure(1), failure(2)])
        assert len(queries.list_failures().items) == 2
        pooled = engine.pool.checkedin()  # type: ignore[attr-defined]
        assert pooled >= 1
        queries.close()
        store.close()
        assert engine.pool.checkedin() == pooled  # type: ignore[attr-defined]
        store.ping()  # still usable
    finally:
        engine.dispose()


def test_a_store_built_from_a_url_closes_its_own_engine(db_url: str) -> None:
    upgrade(db_url)
    store = FailureStore.from_url(db_url)
    store.write_batch([failure(1)])
    assert store.engine.pool.checkedin() >= 1  # type: ignore[attr-defined]
    store.close()
    assert store.engine.pool.checkedin() == 0  # type: ignore[attr-defined]
