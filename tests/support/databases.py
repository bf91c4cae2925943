"""Real databases for tests: a fresh SQLite file or a fresh PostgreSQL database per test.

The shared PostgreSQL server (127.0.0.1:5432, trust auth) is never stopped by a test. Every
database a run creates is named ``failcat_t_<run>_<n>`` and dropped afterwards, so parallel runs
never see each other's rows. ``FAILCAT_TEST_PG_URL`` overrides the server (a SQLAlchemy URL of a
maintenance database on it).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"
_counter = 0


def admin_dsn() -> str:
    """A libpq DSN of a maintenance database on the test server."""
    url = os.environ.get("FAILCAT_TEST_PG_URL", DEFAULT_ADMIN_URL)
    return url.replace("postgresql+psycopg://", "postgresql://")


def postgres_available() -> bool:
    try:
        with psycopg.connect(admin_dsn(), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _sqlalchemy_url(dsn: str, dbname: str) -> str:
    base = dsn.rsplit("/", 1)[0]
    return f"{base}/{dbname}".replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, drop it (with its sessions)."""
    global _counter
    _counter += 1
    name = f"failcat_t_{RUN_ID}_{_counter}"
    dsn = admin_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _sqlalchemy_url(dsn, name)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_leftover_databases() -> None:
    """Drop any database of this run that a crashed test left behind."""
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            (f"failcat_t_{RUN_ID}_%",),
        ).fetchall()
        for (name,) in rows:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
