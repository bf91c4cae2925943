"""What can go wrong in the store, and whether trying again can help.

::

    StoreError                 the write or query failed; retrying the same call will fail again
    ├── StoreUnavailable       the database cannot be reached right now (refused, gone, shut down,
    │                          locked, deadlocked): retryable; nothing of the call was committed
    ├── SchemaMissing          the database is reachable but has no failcat tables (run
    │                          ``failcat db upgrade``)
    └── StoreConfigError       the database URL is malformed or names a driver we do not ship

Every message is a single line, fit for a CLI error or an HTTP 503 reason. Drivers' own
multi-line messages are folded and SQLAlchemy's background links dropped.

The store's modules catch :data:`DATABASE_ERRORS` (what SQLAlchemy and the two drivers raise)
around each database call and raise :func:`translate`'s answer instead; the read side does it
with :func:`translate_errors`, which also recognises a missing schema.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import psycopg.errors
import sqlalchemy.exc

from collector_receiver._one_line import one_line


class StoreError(Exception):
    """A store operation failed; nothing of it was committed."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or is busy right now; the caller should retry later."""


class SchemaMissing(StoreError):
    """The database is reachable but has no failcat tables (``failcat db upgrade`` not run)."""


class StoreConfigError(StoreError):
    """The database URL cannot be used (malformed, unknown backend or driver)."""


#: Everything a database call can raise: SQLAlchemy's errors and the drivers' own (a driver
#: error can escape SQLAlchemy's wrapping, e.g. from a COPY or a closed connection).
DATABASE_ERRORS = (sqlalchemy.exc.SQLAlchemyError, psycopg.Error, sqlite3.Error)


# SQLite reports a busy or vanished file through OperationalError, like a missing table or a
# syntax error; only these messages mean "try again later".
_SQLITE_TRANSIENT = (
    "database is locked",
    "database table is locked",
    "disk i/o error",
    "unable to open database file",
    "database or disk is full",
)


def driver_message(exc: BaseException) -> str:
    """The driver's message of ``exc`` folded onto one line, without SQLAlchemy's link."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    text = text.split("(Background on this error at:", 1)[0]
    return one_line(text) or type(exc).__name__


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is unreachable or busy (worth a retry)."""
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sqlalchemy.exc.TimeoutError):  # no pooled connection became free
        return True
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, psycopg.OperationalError):
        # Refused or lost connections, admin shutdown, cannot-connect-now, too many
        # connections, deadlock and serialization failures: all resolve by trying again.
        return True
    if isinstance(orig, psycopg.InterfaceError):  # the connection object is already closed
        return True
    if isinstance(orig, sqlite3.OperationalError):
        message = str(orig).lower()
        return any(marker in message for marker in _SQLITE_TRANSIENT)
    return False


#: What psycopg's prepared statements meet behind a transaction-pooling proxy (PgBouncer before
#: 1.21): another client's statement of the same name on the server connection, or none of ours.
_PREPARED_STATEMENT_ERRORS = (
    psycopg.errors.DuplicatePreparedStatement,
    psycopg.errors.InvalidSqlStatementName,
)
_POOLER_HINT = (
    "; behind a transaction-pooling proxy, end the database URL with ?prepare_threshold=none"
)


def translate(exc: BaseException, doing: str) -> StoreError:
    """The :class:`StoreError` to raise for a driver or SQLAlchemy exception."""
    cls = StoreUnavailable if is_transient(exc) else StoreError
    hint = _POOLER_HINT if isinstance(getattr(exc, "orig", exc), _PREPARED_STATEMENT_ERRORS) else ""
    return cls(f"{doing}: {driver_message(exc)}{hint}")


@contextmanager
def translate_errors(doing: str = "reading the failure store failed") -> Iterator[None]:
    """Turn driver errors into the store's own: unavailable (retry later), schema missing, other."""
    try:
        yield
    except DATABASE_ERRORS as exc:
        text = driver_message(exc)
        lowered = text.lower()
        if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
            raise SchemaMissing(
                f"the database has no failcat tables ({text}); run: failcat db upgrade"
            ) from exc
        raise translate(exc, doing) from exc


__all__ = [
    "DATABASE_ERRORS",
    "SchemaMissing",
    "StoreConfigError",
    "StoreError",
    "StoreUnavailable",
    "driver_message",
    "is_transient",
    "translate",
    "translate_errors",
]
