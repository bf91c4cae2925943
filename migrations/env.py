"""Alembic environment of the failure store.

Run through ``collector_receiver.store.migrate`` (``failcat db upgrade``, ``failcat serve``),
which passes an open connection in ``config.attributes["connection"]``. Run by the ``alembic``
command line, it builds its own engine from ``sqlalchemy.url``.
"""

from __future__ import annotations

import importlib
import pkgutil

from alembic import context
from sqlalchemy.engine import Connection

import collector_receiver.store
from collector_receiver.store import tables
from collector_receiver.store._engine import create_store_engine

config = context.config


def _metadata_with_every_table() -> object:
    """``tables.metadata`` once every store module has added its tables to it (autogenerate)."""
    for module in pkgutil.iter_modules(collector_receiver.store.__path__):
        importlib.import_module(f"collector_receiver.store.{module.name}")
    return tables.metadata


target_metadata = _metadata_with_every_table()


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite can alter a table only by copying it; batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: set sqlalchemy.url or pass a connection")
    engine = create_store_engine(url)
    try:
        with engine.begin() as conn:
            _run_on(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
