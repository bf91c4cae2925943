"""The store most receiver tests write to: migrated, on SQLite and on PostgreSQL (``db_url``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collector_receiver.store import FailureStore, upgrade


@pytest.fixture
def store(db_url: str) -> Iterator[FailureStore]:
    """A store on a freshly migrated database of each kind; a test module may define its own."""
    upgrade(db_url)
    store = FailureStore.from_url(db_url)
    yield store
    store.close()
