"""Bad URLs, unreachable servers and missing schemas end in the right one-line store error."""

from __future__ import annotations

import socket
import sqlite3
import threading
from pathlib import Path

import pytest

from collector_receiver.store import (
    FailureStore,
    StoreConfigError,
    StoreError,
    StoreUnavailable,
    WriteResult,
    current_revision,
    upgrade,
)
from collector_receiver.store.errors import translate
from collector_receiver.store.migrate import upgrade_engine
from tests.collector_receiver.store._helpers import failure


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("not a url", "malformed database URL"),
        ("", "empty database URL"),
        ("mysql://user@host/db", "unsupported database driver 'mysql'"),
        ("postgresql+psycopg2://user@host/db", "unsupported database driver"),
        ("oracle+cx_oracle://u:p@h/db", "unsupported database driver"),
        ("postgresql+psycopg://user@host", "names no database"),
    ],
)
def test_unusable_urls_are_config_errors(url: str, fragment: str) -> None:
    with pytest.raises(StoreConfigError) as raised:
        FailureStore.from_url(url)

    assert fragment in str(raised.value)
    assert "\n" not in str(raised.value)


def test_config_errors_do_not_show_the_password() -> None:
    with pytest.raises(StoreConfigError) as raised:
        FailureStore.from_url("mysql://user:hunter2@host/db")

    assert "hunter2" not in str(raised.value)


def test_plain_postgresql_urls_mean_psycopg() -> None:
    store = FailureStore.from_url("postgresql://user@127.0.0.1/db")

    assert store.engine.dialect.driver == "psycopg"


def test_a_refused_connection_is_unavailable() -> None:
    store = FailureStore.from_url(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/x")

    with pytest.raises(StoreUnavailable) as on_ping:
        store.ping()
    with pytest.raises(StoreUnavailable) as on_write:
        store.write_batch([failure(1)])

    for raised in (on_ping, on_write):
        assert "refused" in str(raised.value).lower()
        assert "\n" not in str(raised.value)


def test_migrating_an_unreachable_database_is_unavailable() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/x"

    with pytest.raises(StoreUnavailable):
        upgrade(url)
    with pytest.raises(StoreUnavailable):
        current_revision(url)


def test_a_database_without_the_schema_is_not_retryable(db_url: str) -> None:
    store = FailureStore.from_url(db_url)

    with pytest.raises(StoreError) as raised:
        store.write_batch([failure(1)])

    assert not isinstance(raised.value, StoreUnavailable)
    assert "failure_matches" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_ping_succeeds_on_a_reachable_database(db_url: str) -> None:
    FailureStore.from_url(db_url).ping()


def test_a_sqlite_file_in_a_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(StoreConfigError) as raised:
        FailureStore.from_url(f"sqlite:///{tmp_path / 'missing' / 'failcat.db'}")

    assert f"directory {tmp_path / 'missing'} does not exist" in str(raised.value)


def test_an_unopenable_sqlite_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a-directory.db").mkdir()
    store = FailureStore.from_url(f"sqlite:///{tmp_path / 'a-directory.db'}")

    with pytest.raises(StoreError) as raised:
        store.ping()

    assert "unable to open database file" in str(raised.value)


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(sqlite_url: str) -> None:
    store = FailureStore.from_url(sqlite_url)

    with store.engine.connect() as conn:
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        busy = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
        foreign_keys = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()

    assert journal == "wal"
    assert busy is not None and busy >= 1000
    assert foreign_keys == 1


def test_an_in_memory_sqlite_store_is_shared_across_threads() -> None:
    store = FailureStore.from_url("sqlite://")
    # Through the store's own engine: a second engine would open a second, empty database.
    upgrade_engine(store.engine)
    results: list[WriteResult] = []
    thread = threading.Thread(target=lambda: results.append(store.write_batch([failure(1)])))
    thread.start()
    thread.join()

    assert len(results[0].inserted) == 1


def test_a_locked_sqlite_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError) as locked:
            writer.execute("INSERT INTO t VALUES (1)")
    finally:
        writer.close()
        holder.close()

    assert isinstance(translate(locked.value, "writing"), StoreUnavailable)


def test_other_sqlite_errors_are_not_retryable(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "x.db") as conn, pytest.raises(sqlite3.Error) as missing:
        conn.execute("SELECT * FROM no_such_table")

    error = translate(missing.value, "reading")
    assert type(error) is StoreError
    assert str(error) == "reading: no such table: no_such_table"
