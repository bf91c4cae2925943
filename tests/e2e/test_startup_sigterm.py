"""SIGTERM while ``failcat serve`` is still starting — here, waiting to migrate a PostgreSQL
database whose migration lock another process holds — exits 0 with a ``stopped`` line, leaves no
half-migrated schema behind, and a later migration runs normally."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psycopg
import pytest

from collector_receiver.store import current_revision, head_revision, upgrade
from collector_receiver.store.migrate import _LOCK_KEY
from tests.e2e._receiver import start_receiver

pytestmark = pytest.mark.slow


def _waiting_for_advisory_lock(conninfo: str) -> bool:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
            " WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()"
        ).fetchone()
    return bool(row and row[0])


def test_sigterm_while_waiting_to_migrate_exits_zero_and_migrates_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    conninfo = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        receiver = start_receiver(postgres_url, tmp_path / "receiver.log", wait=False)
        try:
            deadline = time.monotonic() + 30
            while not _waiting_for_advisory_lock(conninfo):
                assert receiver.alive(), receiver.log_text()
                assert time.monotonic() < deadline, "the receiver never waited for the lock"
                time.sleep(0.05)
            receiver.process.send_signal(signal.SIGTERM)
            assert receiver.process.wait(15) == 0, receiver.log_text()
        finally:
            if receiver.alive():
                receiver.process.kill()
        assert "Traceback" not in receiver.log_text()
        stopped = receiver.wait_for_event("stopped", timeout=1)
        assert stopped["during"] == "startup"
        assert not any(e["event"] == "started" for e in receiver.log_events())
        assert current_revision(postgres_url) is None  # the migration was rolled back whole

    upgrade(postgres_url)  # nothing was left locked or half-done
    assert current_revision(postgres_url) == head_revision()
