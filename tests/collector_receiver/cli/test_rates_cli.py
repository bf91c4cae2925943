"""``failcat rates`` as a user runs it: straight against the database, table or the API's JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from collector_receiver.cli import build_parser, main
from collector_receiver.cli.rates import HELP_DIMENSIONS
from collector_receiver.events import GenAIContext, OperationCounts, OperationKey
from collector_receiver.store import FailureStore
from collector_receiver.store.rates import RATE_DIMENSIONS
from collector_receiver.timeparse import utc_now
from tests.collector_receiver.store._inspection_data import failure, seed

SEARCH = GenAIContext(operation="execute_tool", tool="web_search", agent="planner")
FETCH = GenAIContext(operation="execute_tool", tool="fetch_page", agent="planner")
CHAT = GenAIContext(provider="openai", model="gpt-4o", operation="chat", agent="planner")


@pytest.fixture
def url(db_url: str) -> str:
    """planner: 10 searches (1 failed), 4 fetches (3 failed), 20 chats (1 failed); coder: a
    failure outside GenAI, and 2 fetches a day ago (both failed)."""
    now = utc_now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    seed(
        db_url,
        [
            replace(failure(now - timedelta(seconds=40)), gen_ai=SEARCH),
            *(replace(failure(now - timedelta(seconds=30 - i)), gen_ai=FETCH) for i in range(3)),
            replace(failure(now - timedelta(seconds=20), "TIMEOUT"), gen_ai=CHAT),
            failure(now - timedelta(seconds=10), "UNCATALOGED", "coder"),
            *(
                replace(failure(now - timedelta(days=1, seconds=i), service="coder"), gen_ai=FETCH)
                for i in range(2)
            ),
        ],
    )
    store = FailureStore.from_url(db_url)
    day_ago = hour - timedelta(days=1)
    store.write_batch(
        [],
        [
            OperationCounts(
                {
                    OperationKey(hour, "planner", SEARCH): 10,
                    OperationKey(hour, "planner", FETCH): 4,
                    OperationKey(hour, "planner", CHAT): 20,
                    OperationKey(day_ago, "coder", FETCH): 2,
                },
                delivery_key="e" * 32,
            )
        ],
    )
    store.close()
    return db_url


def test_the_table_sorts_by_failures_and_shows_the_rate(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rates", "--by", "tool", "--db", url]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["TOOL", "FAILURES", "OPERATIONS", "RATE"]
    assert [line.split() for line in lines[1:]] == [
        ["fetch_page", "5", "6", "83.3", "%"],
        ["(none)", "2", "20", "10.0", "%"],
        ["web_search", "1", "10", "10.0", "%"],
    ]


def test_service_and_since_narrow_the_window(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["rates", "--by", "tool", "--service", "planner", "--since", "1h", "--db", url]) == 0
    )
    rows = [line.split()[:3] for line in capsys.readouterr().out.splitlines()[1:]]

    assert rows == [["fetch_page", "3", "4"], ["(none)", "1", "20"], ["web_search", "1", "10"]]


def test_a_value_without_operations_shows_no_rate(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rates", "--by", "model", "--service", "coder", "--db", url]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["(none)", "3", "2", "150.0", "%"]
    assert main(["rates", "--by", "model", "--service", "nobody", "--db", url]) == 0
    assert (
        capsys.readouterr().out.strip()
        == "no failures or operations stored by model in that window"
    )


def test_json_is_the_api_answer(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rates", "--by", "model", "--since", "1h", "--json", "--db", url]) == 0

    body = json.loads(capsys.readouterr().out)
    assert body == {
        "items": [
            {"value": None, "failures": 5, "operations": 14, "failure_rate": 5 / 14},
            {"value": "gpt-4o", "failures": 1, "operations": 20, "failure_rate": 0.05},
        ],
        "next_cursor": None,
        "by": "model",
    }


BAD_INPUT: list[tuple[list[str], str]] = [
    (["--by", "span"], "--by: must be one of tool, model, provider, agent, operation"),
    (["--by", "tool", "--since", "soon"], "--since: "),
    (["--by", "tool", "--since", "0h"], "--since: "),
    (["--by", "tool", "--since", "1h", "--until", "2h"], "--until: must be later than --since"),
    ([], "the following arguments are required: --by"),
]


def test_bad_input_is_one_line_naming_the_flag(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, reason in BAD_INPUT:
        assert main(["rates", "--db", url, *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(f"failcat rates: {reason}"), err
        assert err.count("\n") == 1


def test_a_missing_or_unreachable_database_is_one_line(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rates", "--by", "tool", "--db", sqlite_url]) == 2
    assert capsys.readouterr().err.startswith("failcat rates: --db: no database file ")
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/x"
    assert main(["rates", "--by", "tool", "--db", unreachable]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_the_help_names_every_dimension_the_store_takes() -> None:
    assert HELP_DIMENSIONS == RATE_DIMENSIONS
    assert "rates" in build_parser().format_help()


def test_real_process_reads_the_database_from_the_environment(url: str) -> None:
    env = {**os.environ, "FAILCAT_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "collector_receiver", "rates", "--by", "agent", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)["items"]
    assert [(i["value"], i["failures"], i["operations"]) for i in items] == [
        ("planner", 7, 36),  # coder's fetches name the planner agent too
        (None, 1, 0),
    ]
    assert items[1]["failure_rate"] is None
