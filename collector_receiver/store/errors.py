"""What can go wrong in the store, and whether trying again can help.

::

    StoreError                 the write or query failed; retrying the same call will fail again
    ├── StoreUnavailable       the database cannot be reached right now (refused, gone, shut down,
    │                          locked, deadlocked): retryable; nothing of the call was committed
    └── StoreConfigError       the database URL is malformed or names a driver we do not ship

Every message is a single line, fit for a CLI error or an HTTP 503 reason. Drivers' own
multi-line messages are folded and SQLAlchemy's background links dropped.
"""

from __future__ import annotations

import sqlite3

import psycopg
import sqlalchemy.exc


class StoreError(Exception):
    """A store operation failed; nothing of it was committed."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or is busy right now; the caller should retry later."""


class StoreConfigError(StoreError):
    """The database URL cannot be used (malformed, unknown backend or driver)."""


# SQLite reports a busy or vanished file through OperationalError, like a missing table or a
# syntax error; only these messages mean "try again later".
_SQLITE_TRANSIENT = (
    "database is locked",
    "database table is locked",
    "disk i/o error",
    "unable to open database file",
    "database or disk is full",
)


def one_line(exc: BaseException) -> str:
    """The driver's message of ``exc`` folded onto one line."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else str(exc)
    text = text.split("(Background on this error at:", 1)[0]
    folded = " ".join(text.split())
    return folded or type(exc).__name__


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


def translate(exc: BaseException, doing: str) -> StoreError:
    """The :class:`StoreError` to raise for a driver or SQLAlchemy exception."""
    cls = StoreUnavailable if is_transient(exc) else StoreError
    return cls(f"{doing}: {one_line(exc)}")


__all__ = ["StoreConfigError", "StoreError", "StoreUnavailable", "is_transient", "one_line"]
