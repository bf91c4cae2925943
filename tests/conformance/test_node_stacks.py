"""The Node.js conformance suite: real failures of Node.js agent stacks, classified end to end.

``tests/conformance/node`` raises each failure through the library's own code, offline (a custom
``fetch`` answering with provider-shaped errors, the SDKs' own timeouts and aborts, refused local
ports, the Vercel AI SDK's mock model, an MCP client and server joined in memory), and records it
the way a Node.js agent does with the OpenTelemetry JS SDK (``span.recordException`` and an ERROR
status, one trace per case), exported over OTLP/HTTP protobuf to a real ``failcat serve`` on
SQLite with the default catalog. One test per (stack, failure) checks the stored category and
that the failure is exactly one row; the ordinary programming errors must stay UNCATALOGED. The
``wrapped`` and ``nested`` stacks run every other case again inside agent code that wraps the
error in its own (``scenarios/wrapped.mjs``): the catalog must know it from the message alone,
and the receiver must store a failure recorded at two levels once.

The cases and their expected categories live with the scenarios (``node run.mjs --list``), so a
case is written once. ``FAILCAT_NODE_CONFORMANCE_DIR`` points the suite at another copy of the
scenarios (``make test-conformance-latest`` installs the newest releases there).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance._node import NODE_DIR, agent_environment, node
from tests.e2e._receiver import running_receiver
from tests.e2e._support import stored_failures

pytestmark = pytest.mark.slow

UNCATALOGED = "UNCATALOGED"
_RUN_TIMEOUT = 180.0


@functools.cache
def _listed_cases() -> tuple[dict[str, str], ...]:
    """Every case as ``{stack, id, expect}``, from the scenarios themselves."""
    listed = subprocess.run(
        [node(), "run.mjs", "--list"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if listed.returncode != 0:
        raise RuntimeError(f"node run.mjs --list failed: {listed.stderr.strip()}")
    return tuple(json.loads(listed.stdout)["cases"])


def _case_name(case: dict[str, str]) -> str:
    return f"{case['stack']}/{case['id']}"


# Without node or the npm packages there are no cases to collect; the run says why in one failing
# test below instead of a collection error that would stop every other test of the session.
try:
    _CASES = _listed_cases()
    _CASES_ERROR = ""
except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as error:
    _CASES, _CASES_ERROR = (), str(error)


def test_the_node_scenarios_are_listed() -> None:
    assert _CASES, _CASES_ERROR
    assert {case["stack"] for case in _CASES} >= {"openai", "anthropic", "vercel-ai", "mcp"}


@pytest.fixture(scope="module")
def conformance_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One node process runs every scenario against one receiver; the rows, by trace id."""
    directory = tmp_path_factory.mktemp("node-conformance")
    url = f"sqlite:///{directory / 'failcat.db'}"
    with running_receiver(url, directory / "receiver.log") as receiver:
        run = subprocess.run(
            [node(), "run.mjs"],
            cwd=NODE_DIR,
            env=agent_environment(receiver.http_endpoint),
            capture_output=True,
            text=True,
            timeout=_RUN_TIMEOUT,
            check=False,
        )
        assert run.returncode == 0, f"node run.mjs exited {run.returncode}:\n{run.stderr}"
        report = json.loads(run.stdout.splitlines()[-1])
        # The exporter's flush resolved, so the receiver acknowledged every span, and it
        # acknowledges only what it committed: the rows are all there now.
        rows = stored_failures(receiver.db_url)
    by_trace: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_trace[row["trace_id"]].append(row)
    yield {
        "cases": {_case_name(case): case for case in report["cases"]},
        "rows": rows,
        "by_trace": by_trace,
    }


def _sent(recorded: dict[str, Any]) -> str:
    """What the SDK recorded, for a failing test's message."""
    return f"exception.type {recorded['exception_type']!r}, message {recorded['message'][:200]!r}"


def _rows_of(run: dict[str, Any], case: dict[str, str]) -> tuple[dict[str, Any], list[Any]]:
    recorded = run["cases"][_case_name(case)]
    assert recorded["raised"], f"{_case_name(case)} no longer fails: the scenario needs a look"
    return recorded, run["by_trace"][recorded["trace_id"]]


@pytest.mark.parametrize("case", _CASES, ids=_case_name)
def test_node_failure_lands_in_its_category(
    conformance_run: dict[str, Any], case: dict[str, str]
) -> None:
    recorded, rows = _rows_of(conformance_run, case)
    # The row of the exception event the agent recorded; other rows of the trace are the
    # concern of the test below.
    events = [row for row in rows if row["source"] == "span_event"]
    assert len(events) == 1, f"{len(events)} exception rows ({_sent(recorded)}): {rows}"
    row = events[0]
    if case["expect"] == UNCATALOGED:
        assert row["code"] == UNCATALOGED, (
            f"an ordinary bug was catalogued as {row['code']} ({_sent(recorded)})"
        )
    else:
        assert row["category"] == case["expect"], (
            f"expected {case['expect']}, stored {row['category']} / {row['code']} "
            f"({_sent(recorded)})"
        )


@pytest.mark.parametrize("case", _CASES, ids=_case_name)
def test_node_failure_is_one_row(conformance_run: dict[str, Any], case: dict[str, str]) -> None:
    # A library that traces itself (the Anthropic SDK does) adds a span with an ERROR status
    # under the agent's; the failure is still one.
    recorded, rows = _rows_of(conformance_run, case)
    found = [(row["source"], row["exception_type"], row["code"]) for row in rows]
    assert len(rows) == 1, f"{len(rows)} rows for one failure ({_sent(recorded)}): {found}"


def test_every_row_belongs_to_a_case(conformance_run: dict[str, Any]) -> None:
    traces = {case["trace_id"] for case in conformance_run["cases"].values()}
    strays = [row for row in conformance_run["rows"] if row["trace_id"] not in traces]
    assert strays == []


@pytest.mark.parametrize(
    ("args", "environ", "said"),
    [
        (["no-such-stack"], {"FAILCAT_OTLP_HTTP": "http://127.0.0.1:9"}, "unknown stack"),
        (["mcp"], {}, "set FAILCAT_OTLP_HTTP"),
    ],
)
def test_run_refuses_bad_input_with_one_line(
    args: list[str], environ: dict[str, str], said: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "FAILCAT_OTLP_HTTP"} | environ
    run = subprocess.run(
        [node(), "run.mjs", *args],
        cwd=NODE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1
    assert said in run.stderr
