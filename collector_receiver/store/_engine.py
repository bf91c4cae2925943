"""Building a SQLAlchemy engine from a user's database URL, with the settings the store needs.

Supported URLs (CONTRACT §5):

- ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``, ``sqlite://`` (in memory);
- ``postgresql+psycopg://user:password@host:port/dbname`` (``postgresql://`` and
  ``postgres://`` are taken to mean the same psycopg 3 driver, the only one we ship).

Anything else is refused with :class:`StoreConfigError` before any connection is attempted.

**Prepared statements.** psycopg prepares a statement on the server once a connection has run
it five times. A pooler in transaction mode (PgBouncer before 1.21, and later ones unless their
``max_prepared_statements`` is set) hands each transaction whichever server connection is free, so
such a statement meets a server that has another client's statement of the same name
(``prepared statement "_pg3_0" already exists``) or none at all. A PostgreSQL URL may therefore
end in ``?prepare_threshold=none``: psycopg's own setting, which turns them off for every
connection of every command that opens the URL (``serve``, ``db``, ``failures``, ...). A whole
number N (at least 1) prepares after N runs instead. The query string is the one place every
command already reads the database from, and the spelling is psycopg's; psycopg itself takes
the setting only as a keyword, so it is taken out of the URL here and passed as one. ``0`` is
refused: psycopg reads it as "prepare at the first run", the opposite of what JDBC's
``prepareThreshold=0`` means to someone moving from it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any

import sqlalchemy.exc
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from collector_receiver.store._url import display_url
from collector_receiver.store.errors import StoreConfigError

#: Execution option read by the SQLite ``begin`` hook: "IMMEDIATE" takes the write lock at BEGIN.
SQLITE_BEGIN_OPTION = "failcat_sqlite_begin"

#: How long a SQLite writer waits for another writer's lock before giving up ("database is locked").
SQLITE_BUSY_TIMEOUT_MS = 30_000

#: Connections kept open in a file or server database's pool, and the most it opens at once.
#: One engine serves a whole receiver: the writer thread plus the event loop's default executor
#: (the query API, readiness pings; at most 32 threads, as ``asyncio`` sizes it), so the pool
#: never makes the writer wait behind API queries. Beyond the first 5, connections are opened
#: when needed and closed when given back.
POOL_SIZE = 5
POOL_MAX_CONNECTIONS = 32 + 1

#: The query parameter of a PostgreSQL URL that sets psycopg's ``prepare_threshold``.
PREPARE_THRESHOLD = "prepare_threshold"

_ALIASES = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
_SUPPORTED = {"sqlite", "sqlite+pysqlite", "postgresql+psycopg"}


def parse_database_url(url: str) -> URL:
    """Validate ``url`` and return it with its driver made explicit."""
    if not isinstance(url, str) or not url.strip():
        raise StoreConfigError(
            "empty database URL; expected sqlite:///PATH or postgresql+psycopg://..."
        )
    try:
        parsed = make_url(url.strip())
    except (sqlalchemy.exc.ArgumentError, ValueError) as exc:
        raise StoreConfigError(
            f"malformed database URL {display_url(url)!r}: expected sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST:PORT/DBNAME"
        ) from exc
    name = _ALIASES.get(parsed.drivername, parsed.drivername)
    if name not in _SUPPORTED:
        raise StoreConfigError(
            f"unsupported database driver {parsed.drivername!r}: use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST:PORT/DBNAME"
        )
    if name.startswith("postgresql") and not parsed.database:
        raise StoreConfigError(f"database URL {display_url(url)!r} names no database")
    parsed = parsed.set(drivername=name)
    _prepare_threshold(parsed, display_url(url))  # a bad value is refused before connecting
    return parsed


def _prepare_threshold(parsed: URL, shown: str) -> dict[str, int | None]:
    """psycopg's connect arguments for the ``prepare_threshold`` a parsed URL asks for (none:
    psycopg's default); ``shown`` is the URL as it may be shown. StoreConfigError if invalid."""
    raw = parsed.query.get(PREPARE_THRESHOLD)
    if raw is None:
        return {}
    where = f"database URL {shown!r}: {PREPARE_THRESHOLD}"
    if parsed.get_backend_name() != "postgresql":
        raise StoreConfigError(f"{where} applies to PostgreSQL URLs only")
    if not isinstance(raw, str):
        raise StoreConfigError(f"{where} is given {len(raw)} times")
    value = raw.strip().lower()
    if value == "none":
        return {PREPARE_THRESHOLD: None}
    if value == "0":
        raise StoreConfigError(
            f"{where}=0 would prepare every statement at its first run; "
            f"{PREPARE_THRESHOLD}=none turns prepared statements off"
        )
    if not value.isdecimal():
        raise StoreConfigError(
            f"{where}={raw!r} is neither none (no prepared statements, for PgBouncer in "
            "transaction mode) nor a whole number of runs"
        )
    return {PREPARE_THRESHOLD: int(value)}


def create_store_engine(url: str) -> Engine:
    """A lazily connecting engine for ``url`` (no connection is made here)."""
    parsed = parse_database_url(url)
    prepared = _prepare_threshold(parsed, display_url(url))
    parsed = parsed.difference_update_query([PREPARE_THRESHOLD])
    # The pre-ping replaces a connection the server ended (a restart, an idle-session timeout,
    # a failover) before a statement meets it, so the first write and the first read after one
    # succeed instead of failing once per pooled connection (test_database_outage,
    # test_reader_reconnect_pg). It is a setting of the whole pool, which the writer and the
    # query API share, so reads pay it too: one round trip of their two, measured at about
    # 60-80 µs of a 0.9 ms trace read (median, PostgreSQL on the same host) and 60 µs of the
    # reader's CPU. Leaving it out for reads alone would take a second pool and a retry of each
    # read that met a dead connection, for well under the query bars' margin.
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    pooled = {"pool_size": POOL_SIZE, "max_overflow": POOL_MAX_CONNECTIONS - POOL_SIZE}
    if parsed.get_backend_name() == "postgresql":
        kwargs.update(pooled, connect_args={"connect_timeout": 10, **prepared})
    elif parsed.database not in (None, "", ":memory:"):
        _check_sqlite_directory(str(parsed.database))
        # A file: SQLAlchemy's default QueuePool, sized like PostgreSQL's (WAL lets readers
        # run beside the one writer).
        kwargs.update(pooled)
    else:
        # One in-memory database shared by every thread (the default pool would give each
        # thread its own, empty one); FailureStore serialises writers on it.
        kwargs["poolclass"] = StaticPool
        kwargs["connect_args"] = {"check_same_thread": False}
    try:
        engine = create_engine(parsed, **kwargs)
    except (sqlalchemy.exc.ArgumentError, ImportError) as exc:
        raise StoreConfigError(f"cannot use database URL {display_url(url)!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout and foreign keys on every connection; explicit BEGINs.

    pysqlite's own transaction handling issues BEGIN lazily (and never before DDL); turning it
    off and emitting BEGIN ourselves makes migrations transactional and lets a writer ask for
    ``BEGIN IMMEDIATE``, so two writers queue on the busy timeout instead of one failing when it
    upgrades a read snapshot that the other has made stale.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            _enable_wal(cursor)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _enable_wal(cursor: Any) -> None:
    """Switch the database file to WAL (a persistent setting) unless it already is.

    Switching needs an exclusive lock and SQLite answers "database is locked" at once, without
    waiting on the busy timeout, when other connections are open — which happens when several
    threads or processes open a brand-new file together. Only that first switch can collide,
    so it is retried until the busy timeout has passed.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() in ("wal", "memory"):
                return
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _check_sqlite_directory(database: str) -> None:
    """Refuse a SQLite file whose directory is missing: SQLite would only say "unable to open"."""
    if database.startswith("file:"):  # a SQLite URI filename: leave it to SQLite
        return
    directory = os.path.dirname(os.path.abspath(database))
    if not os.path.isdir(directory):
        raise StoreConfigError(
            f"cannot create the SQLite database {database}: directory {directory} does not exist"
        )


__all__ = [
    "PREPARE_THRESHOLD",
    "SQLITE_BEGIN_OPTION",
    "create_store_engine",
    "parse_database_url",
]
