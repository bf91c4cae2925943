"""A failure a Node.js agent logs, beside the status-only span of the SDK that raised it: one row.

``tests/conformance/node/logged.mjs`` is an agent run as a user runs it: the real Anthropic JS
SDK, which traces its own calls, fails with a 401 from a provider-shaped answer; the agent logs
the error through the OpenTelemetry logs API inside its step span, and the SDK marks its own
span ``error.type = authentication_error`` with no exception event. The two signals leave in two
OTLP/HTTP requests, in the order the case chooses (each flush waits for the receiver's answer),
to a real ``failcat serve`` on SQLite and on PostgreSQL. The failure must be one row whichever
arrives first, and that row is the one that arrived first (``store/_other_signal.py``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conformance._node import NODE_DIR, agent_environment, node
from tests.e2e._receiver import running_receiver
from tests.e2e._support import database, stored_failures

pytestmark = pytest.mark.slow

# The signal whose row is kept, by the order the agent flushes its providers in.
FIRST_SOURCE = {"logs-first": "log_record", "spans-first": "span_status"}


def _run_agent(endpoint: str, order: str, case: str) -> dict[str, object]:
    run = subprocess.run(
        [node(), "logged.mjs", order, case],
        cwd=NODE_DIR,
        env=agent_environment(endpoint),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, f"node logged.mjs exited {run.returncode}:\n{run.stderr}"
    report: dict[str, object] = json.loads(run.stdout.splitlines()[-1])
    return report


#: (case of scenarios/anthropic.mjs, its category, the error.type the SDK puts on its span)
CASES = {
    "authentication-401": ("auth", "authentication_error"),
    # An error event in a streamed answer whose status was 200: the SDK's span names only the
    # API's error type, so a status-only row is classified by it alone.
    "stream-overloaded-mid-answer": ("overloaded", "overloaded_error"),
}


@pytest.mark.parametrize(
    ("kind", "case"),
    [
        ("sqlite", "authentication-401"),
        ("postgresql", "authentication-401"),
        ("sqlite", "stream-overloaded-mid-answer"),
    ],
)
@pytest.mark.parametrize("order", ["logs-first", "spans-first"])
def test_a_logged_failure_beside_the_sdks_failed_span_is_one_row(
    tmp_path: Path, kind: str, case: str, order: str
) -> None:
    category, error_type = CASES[case]
    with database(kind, tmp_path) as url, running_receiver(url, tmp_path / "r.log") as receiver:
        report = _run_agent(receiver.http_endpoint, order, case)
        assert report["raised"] is True
        # Both flushes were answered, so both signals are committed (or left out) by now.
        rows = stored_failures(url)
        again = _run_agent(receiver.http_endpoint, order, case)  # a failure of its own
        assert again["raised"] is True
        rows_after = stored_failures(url)

    found = [(row["source"], row["code"], row["category"]) for row in rows]
    assert len(rows) == 1, found
    (row,) = rows
    assert row["source"] == FIRST_SOURCE[order]
    assert row["category"] == category, found
    assert row["service_name"] == f"node-logged-{case}-{order}"
    assert row["trace_id"] and row["span_id"]
    if order == "logs-first":  # the agent's own report: the exception's type and stacktrace
        assert row["exception_type"] == report["exception_type"]
        assert row["stacktrace"]
    else:  # the SDK's span, by its error.type
        assert row["exception_type"] == error_type
        assert row["related_span_ids"], "a status-only row keeps its lineage"
    # Another failure of the same kind, in another trace, is another row: only the two
    # recordings of one failure are folded.
    assert len(rows_after) == 2
    assert len({r["trace_id"] for r in rows_after}) == 2
