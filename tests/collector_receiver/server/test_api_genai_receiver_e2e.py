"""GenAI spans from the real OTel SDK through a real ``failcat serve`` to ``/api/v1/rates``, on
SQLite and PostgreSQL: operations counted per tool and model, a delivery sent again (in the
other OTLP encoding) counted once, failures filtered by their GenAI columns."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e._receiver import ReceiverProcess, http_get, running_receiver

AGENT = Path(__file__).with_name("_genai_agent.py")


@pytest.fixture
def receiver(db_url: str, tmp_path: Path) -> Iterator[ReceiverProcess]:
    with running_receiver(db_url, tmp_path / "receiver.log") as process:
        yield process


def _api(receiver: ReceiverProcess, path: str) -> Any:
    status, body = http_get(f"{receiver.api_url}{path}")
    assert status == 200, body
    return json.loads(body)


@pytest.fixture
def delivered(receiver: ReceiverProcess) -> ReceiverProcess:
    done = subprocess.run(
        [
            sys.executable,
            str(AGENT),
            "--http",
            receiver.http_endpoint,
            "--grpc",
            receiver.grpc_endpoint,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"], report
    return receiver


def _rates(receiver: ReceiverProcess, by: str) -> dict[Any, tuple[int, int, float | None]]:
    body = _api(receiver, f"/api/v1/rates?by={by}&service=research-agent")
    return {i["value"]: (i["failures"], i["operations"], i["failure_rate"]) for i in body["items"]}


def test_rates_by_tool_and_model_count_the_delivery_once(delivered: ReceiverProcess) -> None:
    assert _rates(delivered, "tool") == {
        "fetch_page": (3, 6, 0.5),
        None: (1, 11, 1 / 11),  # the chat failure; 10 chats and the agent span name no tool
    }
    assert _rates(delivered, "model") == {
        None: (3, 7, 3 / 7),  # the tool failures; 6 tool calls and the agent span
        "gpt-4o": (1, 10, 0.1),
    }
    by_operation = _rates(delivered, "operation")
    assert by_operation["invoke_agent"][1] == 1
    assert by_operation["chat"] == (1, 10, 0.1)  # chatbot.reply is no operation


def test_failures_carry_and_filter_by_their_genai_context(delivered: ReceiverProcess) -> None:
    tool_failures = _api(delivered, "/api/v1/failures?tool=fetch_page")["items"]
    chat_failures = _api(delivered, "/api/v1/failures?model=gpt-4o&provider=openai")["items"]

    assert len(tool_failures) == 3
    assert {(f["gen_ai_operation"], f["gen_ai_agent"]) for f in tool_failures} == {
        ("execute_tool", "research")  # the agent from the invoke_agent span above
    }
    (chat,) = chat_failures
    assert (chat["gen_ai_operation"], chat["gen_ai_tool"]) == ("chat", None)
    everything = _api(delivered, "/api/v1/failures")["items"]
    assert len(everything) == 4  # the second delivery stored no failure twice
