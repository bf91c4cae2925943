"""``failcat db prune --older-than D [--dry-run]``: counts printed, newer kept, one-line errors."""

from __future__ import annotations

import os
import pty
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from collector_receiver.cli import main
from collector_receiver.store import FailureStore, upgrade
from collector_receiver.timeparse import utc_now
from tests.collector_receiver.store._helpers import failure, stored_patterns, stored_rows


@pytest.fixture
def url(db_url: str) -> str:
    """Seven failures of 40 days ago (one pattern) and three of an hour ago (another)."""
    upgrade(db_url)
    store = FailureStore.from_url(db_url)
    now = utc_now()
    try:
        store.write_batch(
            [
                failure(n, fingerprint="a" * 32, occurred_at=now - timedelta(days=40, minutes=n))
                for n in range(7)
            ]
            + [
                failure(10 + n, fingerprint="b" * 32, occurred_at=now - timedelta(hours=1))
                for n in range(3)
            ]
        )
    finally:
        store.close()
    return db_url


def _stored(url: str) -> tuple[int, set[str]]:
    store = FailureStore.from_url(url)
    try:
        return len(stored_rows(store)), set(stored_patterns(store))
    finally:
        store.close()


def test_prune_deletes_what_is_older_and_prints_the_counts(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["db", "prune", "--older-than", "30d", "--db", url])

    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("deleted 7 failures, 1 pattern, 0 operation buckets older than ")
    assert _stored(url) == (3, {"b" * 32})


def test_a_dry_run_prints_the_same_counts_and_deletes_nothing(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "prune", "--older-than", "30d", "--dry-run", "--db", url]) == 0
    dry = capsys.readouterr().out
    assert _stored(url) == (10, {"a" * 32, "b" * 32})

    assert main(["db", "prune", "--older-than", "30d", "--db", url]) == 0
    real = capsys.readouterr().out

    assert dry.startswith("would delete 7 failures, 1 pattern, 0 operation buckets older than ")
    assert dry.split(" older than ")[0].removeprefix("would delete") == real.split(" older than ")[
        0
    ].removeprefix("deleted")


@pytest.mark.parametrize("value", ["30", "0d", "-1d", "1y", "1.5h", "thirty days", ""])
def test_a_duration_the_shared_parser_refuses_is_one_line(
    sqlite_url: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(sqlite_url)

    status = main(["db", "prune", "--older-than", value, "--db", sqlite_url])

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("failcat db: --older-than: ")
    assert err.count("\n") == 1


def test_a_missing_file_an_unmigrated_or_unreachable_database_is_one_line(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = int(sock.getsockname()[1])
    FailureStore.from_url(sqlite_url).ping()  # creates the file, no schema
    cases = [
        (f"sqlite:///{tmp_path / 'absent.db'}", "no database file"),
        (sqlite_url, "failcat db upgrade"),
        (f"postgresql+psycopg://postgres@127.0.0.1:{closed}/x", "refused"),
    ]
    for db, fragment in cases:
        status = main(["db", "prune", "--older-than", "30d", "--db", db])
        err = capsys.readouterr().err
        assert status != 0, db
        assert err.startswith("failcat db: ") and fragment in err, err
        assert err.count("\n") == 1 and "Traceback" not in err


def _failcat() -> list[str]:
    script = Path(sys.executable).with_name("failcat")
    return [str(script)] if script.exists() else [sys.executable, "-m", "collector_receiver"]


def test_on_a_terminal_it_shows_progress_on_stderr(url: str) -> None:
    primary, secondary = pty.openpty()
    try:
        done = subprocess.run(
            [*_failcat(), "db", "prune", "--older-than", "30d", "--db", url],
            stdout=subprocess.PIPE,
            stderr=secondary,
            text=True,
            timeout=120,
            check=False,
        )
        os.close(secondary)
        secondary = -1
        terminal = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the terminal's other end is closed: all was read
                break
            if not chunk:
                break
            terminal += chunk
    finally:
        if secondary != -1:
            os.close(secondary)
        os.close(primary)

    assert done.returncode == 0
    assert done.stdout.startswith("deleted 7 failures")
    assert b"pruning: 7 failures deleted" in terminal
