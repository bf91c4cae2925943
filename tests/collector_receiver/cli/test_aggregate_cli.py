"""``failcat aggregate`` as a user runs it, on the hand-computed mixes of the store tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from collector_receiver.cli import main
from collector_receiver.store.aggregates import AggregateQueries
from tests.collector_receiver.store._inspection_data import drifted_mix, seed, stable_mix

NOW = "2026-11-28T12:00:00Z"
KEYS = ["window", "baseline", "totals", "by_code", "by_service", "new_patterns", "drift"]


def test_json_of_a_drifted_hour(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(db_url, drifted_mix())
    assert main(["aggregate", "--db", db_url, "--now", NOW, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result) == KEYS
    assert result["totals"] == {"failures": 20, "uncataloged": 0, "services": 1, "codes": 2}
    assert [
        (c["code"], c["count"], c["share"], c["baseline_share"]) for c in result["by_code"]
    ] == [
        ("PROVIDER_OVERLOADED", 15, 0.75, 0.0),
        ("RATE_LIMITED", 5, 0.25, 1.0),
    ]
    assert [p["code"] for p in result["new_patterns"]] == ["PROVIDER_OVERLOADED"]
    assert result["drift"]["drifted"] is True
    assert result["drift"]["score"] == 0.548795


def test_flags_change_windows_threshold_and_minimum(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(sqlite_url, drifted_mix())
    argv = ["aggregate", "--db", sqlite_url, "--now", NOW, "--json"]
    assert main([*argv, "--drift-threshold", "0.6"]) == 0
    assert json.loads(capsys.readouterr().out)["drift"] == {
        "method": "jensen_shannon_divergence_base2",
        "score": 0.548795,
        "threshold": 0.6,
        "drifted": False,
    }
    assert main([*argv, "--min-failures", "25"]) == 0
    assert json.loads(capsys.readouterr().out)["drift"]["drifted"] is False
    # A 30-minute window [11:30, 12:00) holds 8 of the 15 PROVIDER_OVERLOADED (every 3 minutes
    # from 11:10: 11:31 .. 11:52) and 2 of the 5 RATE_LIMITED (11:05, 11:15, ..., 11:45).
    assert main([*argv, "--window", "30m", "--baseline", "2d"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["window"] == {"start": "2026-11-28T11:30:00Z", "end": "2026-11-28T12:00:00Z"}
    assert result["baseline"]["start"] == "2026-11-26T11:30:00Z"
    assert {c["code"]: c["count"] for c in result["by_code"]} == {
        "PROVIDER_OVERLOADED": 8,
        "RATE_LIMITED": 2,
    }


def test_readable_tables_by_default(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(sqlite_url, stable_mix())
    assert main(["aggregate", "--db", sqlite_url, "--now", NOW]) == 0
    out = capsys.readouterr().out
    assert "failures 20" in out
    assert "uncataloged 2 (10.0%)" in out
    assert "stable" in out
    assert "RATE_LIMITED" in out and "60.0%" in out
    assert "no new patterns in the window" in out


def test_store_writes_history(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(db_url, stable_mix())
    assert main(["aggregate", "--db", db_url, "--now", NOW, "--store", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    queries = AggregateQueries.from_url(db_url)
    history = queries.history()
    queries.close()
    assert len(history) == 1
    assert history[0].result == printed
    assert (history[0].total, history[0].uncataloged, history[0].drifted) == (20, 2, False)


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--window", "1x"], "--window"),
        (["--baseline", "0h"], "--baseline"),
        (["--drift-threshold", "high"], "--drift-threshold"),
        (["--drift-threshold", "2"], "--drift-threshold"),
        (["--min-failures", "-3"], "--min-failures"),
        (["--now", "noon"], "--now"),
        (["--every", "soon"], "--every"),
        (["--every", "5m", "--now", NOW], "--every"),
    ],
)
def test_bad_flags_are_one_line_naming_the_flag(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], flag: str
) -> None:
    assert main(["aggregate", "--db", sqlite_url, *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"failcat aggregate: {flag}: ")
    assert err.count("\n") == 1


def test_unmigrated_database_says_to_upgrade(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    Path(sqlite_url.removeprefix("sqlite:///")).touch()
    assert main(["aggregate", "--db", sqlite_url]) == 1
    assert "failcat db upgrade" in capsys.readouterr().err


def test_missing_sqlite_file_is_named_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FAILCAT_DATABASE_URL", raising=False)
    assert main(["aggregate"]) == 2  # the default sqlite:///failcat.db
    assert "no database file 'failcat.db'" in capsys.readouterr().err
    assert not (tmp_path / "failcat.db").exists()


def test_every_runs_until_sigterm_in_a_real_process(sqlite_url: str) -> None:
    seed(sqlite_url, stable_mix())
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "collector_receiver",
            "aggregate",
            "--every",
            "1s",
            "--store",
            "--json",
        ],
        env={**os.environ, "FAILCAT_DATABASE_URL": sqlite_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())  # one JSON object per line and run
        second = json.loads(process.stdout.readline())
        assert list(first) == KEYS and list(second) == KEYS
        assert second["window"]["end"] > first["window"]["end"]
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "stopped after" in err
    queries = AggregateQueries.from_url(sqlite_url)
    stored = len(queries.history())
    queries.close()
    assert stored >= 2


def _types(value: object) -> object:
    """The JSON type skeleton of ``value``: every leaf replaced by its exact Python type."""
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_types(item) for item in value]
    return type(value)


def test_json_keys_and_types_are_contract_section_9(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """CONTRACT §9 to the letter: these keys, nothing more, and JSON types a reader can rely on."""
    seed(db_url, drifted_mix())
    assert main(["aggregate", "--db", db_url, "--now", NOW, "--json"]) == 0
    span = {"start": str, "end": str}
    code = {
        "code": str,
        "category": str,
        "severity": str,
        "count": int,
        "share": float,
        "baseline_share": float,
    }
    assert _types(json.loads(capsys.readouterr().out)) == {
        "window": span,
        "baseline": span,
        "totals": {"failures": int, "uncataloged": int, "services": int, "codes": int},
        "by_code": [code, code],
        "by_service": [{"service_name": str, "count": int}],
        "new_patterns": [
            {
                "fingerprint": str,
                "code": str,
                "exception_type": str,
                "first_seen": str,
                "occurrences": int,
            }
        ],
        "drift": {"method": str, "score": float, "threshold": float, "drifted": bool},
    }
    # Nothing stored: the same keys, a null score and null baseline shares, no lists' items.
    assert main(["aggregate", "--db", db_url, "--now", "2020-01-01T00:00:00Z", "--json"]) == 0
    empty = json.loads(capsys.readouterr().out)
    assert _types(empty["drift"]) == {
        "method": str,
        "score": type(None),
        "threshold": float,
        "drifted": bool,
    }
    assert empty["totals"] == {"failures": 0, "uncataloged": 0, "services": 0, "codes": 0}
    assert (empty["by_code"], empty["by_service"], empty["new_patterns"]) == ([], [], [])
