"""Schema migrations, run programmatically: ``upgrade``, ``downgrade``, ``current_revision``.

The Alembic scripts ship inside the distribution as the package ``collector_receiver.migrations``
(``migrations/`` in the source tree), and are located with :mod:`importlib.resources`, so an
installed wheel migrates a database without the source tree and without an ``alembic.ini``.
Revisions are ``"0001"`` (failure_matches, failure_patterns), ``"0002"`` (failure_aggregates),
``"0003"`` (keyset indexes ending with id), ``"0004"`` (the GenAI columns, gen_ai_operations,
gen_ai_counted_deliveries), ``"0005"`` (SQLite's failure ids never reused: AUTOINCREMENT) and
``"0006"`` (PostgreSQL's failure_matches partitioned by month of occurred_at).
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError as AlembicCommandError
from sqlalchemy import Engine, MetaData, text

import collector_receiver.store
from collector_receiver._one_line import one_line
from collector_receiver.store import tables
from collector_receiver.store._engine import SQLITE_BEGIN_OPTION, create_store_engine
from collector_receiver.store._partitions import is_partition_name
from collector_receiver.store.errors import DATABASE_ERRORS, StoreError, translate

#: The PostgreSQL advisory lock held while migrating (an arbitrary constant: "failcat" in ASCII).
_LOCK_KEY = 0x6661696C636174


def script_location() -> str:
    """The directory of the Alembic environment (``env.py`` and ``versions/``)."""
    return str(files("collector_receiver.migrations"))


def alembic_config() -> Config:
    """An in-memory Alembic configuration pointing at the packaged scripts."""
    config = Config()
    config.set_main_option("script_location", script_location())
    return config


def schema_metadata() -> MetaData:
    """``tables.metadata`` with every table of the store in it: the schema the migrations build.

    Tables are declared beside the code that uses them (``failure_aggregates`` in
    ``aggregates``), each adding itself to the one ``MetaData`` when its module is imported.
    Importing every module of the package here means no table is missed by Alembic's
    autogenerate (``env.py``'s ``target_metadata``) or by the test that compares the migrated
    schema with the models.
    """
    for module in pkgutil.iter_modules(collector_receiver.store.__path__):
        importlib.import_module(f"{collector_receiver.store.__name__}.{module.name}")
    return tables.metadata


def comparison_options(dialect: str) -> dict[str, Any]:
    """Alembic's options for comparing a ``dialect`` database's schema with the models.

    The monthly partitions of ``failure_matches`` (PostgreSQL) are not tables of the models:
    they come and go with the data (``_partitions``), and their indexes are the parent's. A
    constraint or index the models declare for one dialect only (``tables.only_on``) is
    compared on that dialect alone.
    """

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:
        return not (type_ == "table" and name is not None and is_partition_name(name))

    def include_object(
        item: object, name: str | None, type_: str, reflected: bool, compare_to: object
    ) -> bool:
        info = getattr(item, "info", None) if not reflected else None
        only_on = info.get(tables.ONLY_ON) if isinstance(info, dict) else None
        return only_on is None or only_on == dialect

    return {"include_name": include_name, "include_object": include_object}


def head_revision() -> str | None:
    """The newest revision the packaged scripts know."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision`` (default: the newest)."""
    _run(url, "upgrade", revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"`` drops every table)."""
    _run(url, "downgrade", revision)


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None when it was never migrated."""
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except DATABASE_ERRORS as exc:
        raise translate(exc, "reading the schema revision failed") from exc
    finally:
        engine.dispose()


def upgrade_engine(engine: Engine, revision: str = "head") -> None:
    """Like :func:`upgrade`, on an existing engine (the only way into an in-memory database)."""
    _migrate(engine, "upgrade", revision)


def _run(url: str, direction: str, revision: str) -> None:
    engine = create_store_engine(url)
    try:
        _migrate(engine, direction, revision)
    finally:
        engine.dispose()


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    config = alembic_config()
    try:
        with engine.connect() as conn:
            # Several receivers starting at once all migrate: serialise them, so the later ones
            # find the schema current instead of failing on "table already exists". SQLite: take
            # the write lock at BEGIN; PostgreSQL: a transaction-scoped advisory lock.
            conn = conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
                # env.py runs on this connection and its transaction instead of making its own.
                config.attributes["connection"] = conn
                if direction == "upgrade":
                    command.upgrade(config, revision)
                else:
                    command.downgrade(config, revision)
    except AlembicCommandError as exc:
        raise StoreError(f"cannot {direction} to {revision!r}: {one_line(exc)}") from exc
    except DATABASE_ERRORS as exc:
        raise translate(exc, f"schema {direction} failed") from exc


__all__ = [
    "comparison_options",
    "current_revision",
    "downgrade",
    "head_revision",
    "schema_metadata",
    "script_location",
    "upgrade",
    "upgrade_engine",
]
