"""The failure store: SQLite or PostgreSQL through SQLAlchemy 2 Core, migrated by Alembic.

Public API::

    store = FailureStore.from_url("postgresql+psycopg://user@host/db")  # or "sqlite:///failcat.db"
    upgrade(url)                          # migrate the schema to the newest revision
                                          # (upgrade_engine(store.engine) for "sqlite://")
    result = store.write_batch(failures, operations)  # one transaction, idempotent on
                                          # event_key and on each OperationCounts' delivery_key
    result.inserted, result.duplicates, result.new_patterns, result.newly_counted_operations
    pruned = store.prune(before, dry_run=False)   # retention: what is older than `before` goes,
                                          # in short batches (store/retention.py)

Errors are :class:`StoreError`, :class:`StoreUnavailable` (retryable), :class:`SchemaMissing`
(not migrated) and :class:`StoreConfigError` (bad URL); see
:mod:`collector_receiver.store.errors`. :func:`display_url` shows a database URL with its
password hidden, for logs and terminals. The tables are in
:mod:`collector_receiver.store.tables`; the reads in :mod:`~collector_receiver.store.queries`
(failure rates by a GenAI dimension in :mod:`~collector_receiver.store.rates`). This package is
the only one that imports SQLAlchemy.
``DEFAULT_DATABASE_URL`` and ``DATABASE_URL_ENV`` are those of
:mod:`collector_receiver.environment_variables`.
"""

from __future__ import annotations

from collector_receiver.environment_variables import DEFAULT_DATABASE_URL
from collector_receiver.environment_variables import FAILCAT_DATABASE_URL as DATABASE_URL_ENV
from collector_receiver.store._url import display_url
from collector_receiver.store.errors import (
    SchemaMissing,
    StoreConfigError,
    StoreError,
    StoreUnavailable,
)
from collector_receiver.store.failure_store import FailureStore, NewPattern, WriteResult
from collector_receiver.store.migrate import (
    current_revision,
    downgrade,
    head_revision,
    upgrade,
    upgrade_engine,
)

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "FailureStore",
    "NewPattern",
    "SchemaMissing",
    "StoreConfigError",
    "StoreError",
    "StoreUnavailable",
    "WriteResult",
    "current_revision",
    "display_url",
    "downgrade",
    "head_revision",
    "upgrade",
    "upgrade_engine",
]
