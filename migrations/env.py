"""Alembic environment of the failure store.

Run through ``collector_receiver.store.migrate`` (``failcat db upgrade``, ``failcat serve``),
which passes an open connection in ``config.attributes["connection"]``. Run by the ``alembic``
command line, it builds its own engine from ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from collector_receiver.store._engine import create_store_engine
from collector_receiver.store.migrate import comparison_options, schema_metadata

config = context.config

# Every table of every store module (failure_aggregates lives in store/aggregates.py), so that
# autogenerate compares the whole schema; tests/collector_receiver/store/test_migrations.py runs
# `alembic check` through this file.
target_metadata = schema_metadata()


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite can alter a table only by copying it; batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # Without the partitions of failure_matches and the other dialect's constraints.
        **comparison_options(connection.dialect.name),
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
