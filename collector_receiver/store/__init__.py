"""The failure store: SQLite or PostgreSQL through SQLAlchemy 2 Core, migrated by Alembic.

Public API::

    store = FailureStore.from_url("postgresql+psycopg://user@host/db")  # or "sqlite:///failcat.db"
    upgrade(url)                          # migrate the schema to the newest revision
                                          # (upgrade_engine(store.engine) for "sqlite://")
    result = store.write_batch(failures)  # one transaction, idempotent on event_key
    result.inserted, result.duplicates, result.new_patterns

Errors are :class:`StoreError`, :class:`StoreUnavailable` (retryable) and
:class:`StoreConfigError` (bad URL); see :mod:`collector_receiver.store.errors`. The tables are
in :mod:`collector_receiver.store.tables`. This package is the only one that imports SQLAlchemy.
"""

from __future__ import annotations

from collector_receiver.store.errors import StoreConfigError, StoreError, StoreUnavailable
from collector_receiver.store.failure_store import FailureStore, NewPattern, WriteResult
from collector_receiver.store.migrate import (
    current_revision,
    downgrade,
    head_revision,
    upgrade,
    upgrade_engine,
)

#: The database used when neither ``--db`` nor ``FAILCAT_DATABASE_URL`` names one.
DEFAULT_DATABASE_URL = "sqlite:///failcat.db"
#: The environment variable naming the database URL.
DATABASE_URL_ENV = "FAILCAT_DATABASE_URL"

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "FailureStore",
    "NewPattern",
    "StoreConfigError",
    "StoreError",
    "StoreUnavailable",
    "WriteResult",
    "current_revision",
    "downgrade",
    "head_revision",
    "upgrade",
    "upgrade_engine",
]
