"""``failcat db upgrade`` / ``failcat db current``: migrate, report, and fail in one line."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from collector_receiver.cli import main
from collector_receiver.store import head_revision


def _tables(sqlite_path: Path) -> set[str]:
    with sqlite3.connect(sqlite_path) as conn:
        return {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_upgrade_creates_the_schema_and_prints_the_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.db"

    status = main(["db", "upgrade", "--db", f"sqlite:///{path}"])

    assert status == 0
    assert f"revision {head_revision()}" in capsys.readouterr().out
    assert {"failure_matches", "failure_patterns"} <= _tables(path)


def test_upgrade_on_postgresql(postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--db", postgres_url]) == 0
    assert main(["db", "current", "--db", postgres_url]) == 0

    assert capsys.readouterr().out.splitlines()[-1] == f"{head_revision()} (head)"


def test_current_before_and_after_upgrade(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "current", "--db", sqlite_url]) == 0
    before = capsys.readouterr().out
    main(["db", "upgrade", "--db", sqlite_url, "--revision", "0001"])
    capsys.readouterr()
    assert main(["db", "current", "--db", sqlite_url]) == 0
    partial = capsys.readouterr().out

    assert "no schema" in before
    assert partial.startswith("0001")
    if head_revision() != "0001":
        assert "failcat db upgrade" in partial


def test_the_url_defaults_to_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "from-env.db"
    monkeypatch.setenv("FAILCAT_DATABASE_URL", f"sqlite:///{path}")

    assert main(["db", "upgrade"]) == 0

    assert "failure_matches" in _tables(path)


def test_without_url_or_environment_it_uses_failcat_db_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAILCAT_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)

    assert main(["db", "upgrade"]) == 0

    assert "failure_matches" in _tables(tmp_path / "failcat.db")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("not a url", "malformed database URL"),
        ("mysql://u@h/db", "unsupported database driver"),
        ("postgresql+psycopg://postgres@127.0.0.1:{port}/x", "refused"),
    ],
)
@pytest.mark.parametrize("action", ["upgrade", "current"])
def test_bad_or_unreachable_databases_fail_in_one_line(
    action: str, url: str, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["db", action, "--db", url.format(port=_closed_port())])

    err = capsys.readouterr().err
    assert status != 0
    assert err.startswith("failcat db: ")
    assert fragment in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_an_unknown_revision_fails_in_one_line(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["db", "upgrade", "--db", sqlite_url, "--revision", "nope"])

    err = capsys.readouterr().err
    assert status != 0
    assert "nope" in err
    assert err.count("\n") == 1


def _failcat() -> list[str]:
    script = Path(sys.executable).with_name("failcat")
    return [str(script)] if script.exists() else [sys.executable, "-m", "collector_receiver"]


def test_the_installed_command_migrates_and_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "sub.db"

    ok = subprocess.run(
        [*_failcat(), "db", "upgrade", "--db", f"sqlite:///{path}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    bad = subprocess.run(
        [
            *_failcat(),
            "db",
            "upgrade",
            "--db",
            f"postgresql://postgres@127.0.0.1:{_closed_port()}/x",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )

    assert ok.returncode == 0, ok.stderr
    assert f"revision {head_revision()}" in ok.stdout
    assert "failure_patterns" in _tables(path)
    assert bad.returncode != 0
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
