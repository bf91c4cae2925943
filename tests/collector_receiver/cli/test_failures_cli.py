"""``failcat failures`` as a user runs it: straight against the database, no service running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from collector_receiver.cli import main
from collector_receiver.events import GenAIContext
from collector_receiver.timeparse import utc_now
from tests.collector_receiver.store._inspection_data import failure, seed

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def url(db_url: str) -> str:
    now = utc_now()
    seed(
        db_url,
        [
            failure(now - timedelta(hours=3), "RATE_LIMITED", "planner", TRACE, "1" * 16),
            failure(
                now - timedelta(hours=2),
                "TIMEOUT",
                "coder",
                TRACE,
                "2" * 16,
                exception_type="httpx.ReadTimeout",
                message="timed out after 30s while reading " + "x" * 200,
            ),
            failure(now - timedelta(minutes=5), "UNCATALOGED", "planner", None, None),
        ],
    )
    return db_url


def test_default_table_newest_first(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["failures", "--db", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "TIME",
        "(UTC)",
        "CODE",
        "SERVICE",
        "TYPE",
        "MESSAGE",
        "TRACE",
        "ID",
    ]
    assert [line.split()[2] for line in lines[1:]] == ["UNCATALOGED", "TIMEOUT", "RATE_LIMITED"]
    timeout = lines[2]
    assert "ReadTimeout" in timeout and "coder" in timeout and TRACE in timeout
    assert "x" * 200 not in timeout and "…" in timeout  # long messages are shortened


def test_filters_and_limit(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["failures", "--db", url, "--service", "planner", "--since", "4h"]) == 0
    out = capsys.readouterr().out
    assert "RATE_LIMITED" in out and "UNCATALOGED" in out and "TIMEOUT" not in out
    assert main(["failures", "--db", url, "--code", "TIMEOUT"]) == 0
    assert "RATE_LIMITED" not in capsys.readouterr().out
    assert main(["failures", "--db", url, "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 3  # header, one row, "more failures match"
    assert "more failures match" in out
    assert main(["failures", "--db", url, "--service", "nobody"]) == 0
    assert "no failures" in capsys.readouterr().out


def test_json_is_the_api_item_shape_and_pages(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAILCAT_TRACE_URL_TEMPLATE", "https://jaeger.example/trace/{trace_id}")
    assert main(["failures", "--db", url, "--json", "--limit", "2"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert [i["code"] for i in body["items"]] == ["UNCATALOGED", "TIMEOUT"]
    assert body["items"][1]["trace_url"] == f"https://jaeger.example/trace/{TRACE}"
    assert body["items"][0]["trace_url"] is None
    assert body["next_cursor"]
    assert main(["failures", "--db", url, "--json", "--cursor", body["next_cursor"]]) == 0
    rest = json.loads(capsys.readouterr().out)
    assert [i["code"] for i in rest["items"]] == ["RATE_LIMITED"]
    assert rest["next_cursor"] is None


def test_trace_shows_the_chain_in_time_order_with_stacktraces(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["failures", "--db", url, "--trace-id", TRACE.upper()]) == 0
    out = capsys.readouterr().out
    assert out.index("[1]") < out.index("RATE_LIMITED") < out.index("[2]") < out.index("TIMEOUT")
    assert "Traceback (most recent call last):" in out
    assert "httpx.ReadTimeout: timed out" in out
    assert "UNCATALOGED" not in out
    assert main(["failures", "--db", url, "--trace-id", "f" * 32]) == 0
    assert "no failures stored for trace" in capsys.readouterr().out


BAD_INPUT: list[tuple[list[str], str]] = [
    (["--since", "yesterday"], "--since"),
    (["--limit", "0"], "--limit"),
    (["--limit", "many"], "--limit"),
    (["--trace-id", "abc"], "--trace-id"),
    (["--cursor", "bogus"], "--cursor"),
    (["--since", "1h", "--until", "2h"], "--until"),
]


def test_bad_input_is_one_line_naming_the_flag(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, flag in BAD_INPUT:
        assert main(["failures", "--db", url, *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(f"failcat failures: {flag}: "), err
        assert err.count("\n") == 1


def test_unmigrated_and_unreachable_databases(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file that does not exist is named, and not created.
    assert main(["failures", "--db", sqlite_url]) == 2
    assert capsys.readouterr().err.startswith("failcat failures: --db: no database file ")
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    assert not path.exists()
    path.touch()  # an empty SQLite database: no schema yet
    assert main(["failures", "--db", sqlite_url]) == 1
    assert "failcat db upgrade" in capsys.readouterr().err
    assert main(["failures", "--db", "postgresql+psycopg://postgres@127.0.0.1:1/x"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Connection refused" in err
    assert main(["failures", "--db", "mysql://nope"]) == 2
    assert capsys.readouterr().err.startswith("failcat failures: --db: ")


def test_real_process_reads_the_database_from_the_environment(url: str) -> None:
    env = {**os.environ, "FAILCAT_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "collector_receiver", "failures", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [i["code"] for i in json.loads(done.stdout)["items"]] == [
        "UNCATALOGED",
        "TIMEOUT",
        "RATE_LIMITED",
    ]


def test_genai_flags_filter_exactly_and_the_chain_shows_the_context(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    now = utc_now()
    search = GenAIContext(operation="execute_tool", tool="web_search", agent="planner")
    chat = GenAIContext(provider="openai", model="gpt-4o", operation="chat", agent="planner")
    seed(
        db_url,
        [
            replace(failure(now - timedelta(minutes=3), trace_id=TRACE), gen_ai=search),
            replace(failure(now - timedelta(minutes=2), "TIMEOUT", trace_id=TRACE), gen_ai=chat),
            failure(now - timedelta(minutes=1), "UNCATALOGED", trace_id=TRACE),
        ],
    )

    def codes(*flags: str) -> list[str]:
        assert main(["failures", "--db", db_url, "--json", *flags]) == 0
        return [i["code"] for i in json.loads(capsys.readouterr().out)["items"]]

    assert codes("--tool", "web_search") == ["RATE_LIMITED"]
    assert codes("--model", "gpt-4o") == ["TIMEOUT"]
    assert codes("--provider", "openai", "--agent", "planner") == ["TIMEOUT"]
    assert codes("--agent", "planner") == ["TIMEOUT", "RATE_LIMITED"]
    assert codes("--tool", "web") == []
    # With a GenAI flag, --trace-id is one filter among others, not the chain.
    assert codes("--trace-id", TRACE, "--tool", "web_search") == ["RATE_LIMITED"]
    assert main(["failures", "--db", db_url, "--trace-id", TRACE]) == 0
    chain = capsys.readouterr().out
    assert "operation=execute_tool tool=web_search agent=planner" in chain
    assert "operation=chat provider=openai model=gpt-4o agent=planner" in chain
