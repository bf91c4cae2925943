# ruff: noqa: E501 (provider error messages are quoted whole, as the services send them)
"""Running the conformance scenario scripts against one real ``failcat serve``.

Each library's script (``scenarios/<library>.py``) runs once, as a user's agent runs:
``opentelemetry-instrument python <script>``, exporting over OTLP/HTTP to the receiver, which
stores what arrives in SQLite with the packaged default catalog. The scripts run a few at a time
(the machine is small, each one mostly waits on imports), and their results are kept for the
whole session so each pytest case only reads its own trace's rows back through the query API.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e._receiver import ReceiverProcess, http_get
from tests.e2e._support import instrument_environment

SCENARIOS = Path(__file__).with_name("scenarios")
OPENTELEMETRY_INSTRUMENT = Path(sys.executable).with_name("opentelemetry-instrument")
_TIMEOUT = 120
_AT_ONCE = 3


@dataclass
class LibraryRun:
    """One script's outcome: the trace of each case, or why the library could not run.

    A case run with no span of the agent's own open has the list of every trace a span ended
    in while it ran (the library's own and any ``failcat.unhandled_exception``)."""

    library: str
    traces: dict[str, str | list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    skipped: str | None = None
    failed: str | None = None
    stderr: str = ""


def missing_module(modules: tuple[str, ...]) -> str | None:
    """The first of ``modules`` that cannot be imported here, if any."""
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                return module
        except ModuleNotFoundError:
            return module
    return None


def run_library(
    receiver: ReceiverProcess,
    library: str,
    modules: tuple[str, ...],
    directory: Path = SCENARIOS,
) -> LibraryRun:
    """Run ``<directory>/<library>.py`` under ``opentelemetry-instrument`` once (the shared
    ``_scenario`` and ``_mock_http`` modules stay importable from ``scenarios/``)."""
    missing = missing_module(modules)
    if missing is not None:
        return LibraryRun(
            library, skipped=f"{missing} is not installed (pip install -e '.[conformance]')"
        )
    environment = instrument_environment(
        receiver.http_endpoint,
        f"conformance-{library}",
        **{
            # Every span in one export at exit: the batch processor's 5 s timer could otherwise
            # split a failure's spans over two requests on a busy machine, and a status-only
            # span and the exception event of its lineage are folded only within one request
            # (docs/otlp-ingest.md). A case is one failure; how it is batched is not its test.
            "OTEL_BSP_SCHEDULE_DELAY": "600000",
            "OTEL_BSP_MAX_QUEUE_SIZE": "65536",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "65536",
            # LiteLLM fetches a price list at import unless told to use its bundled copy.
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "OPENAI_AGENTS_DISABLE_TRACING": "1",
            "PYTHONPATH": str(SCENARIOS),
        },
    )
    try:
        completed = subprocess.run(
            [str(OPENTELEMETRY_INSTRUMENT), sys.executable, str(directory / f"{library}.py")],
            env=environment,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return LibraryRun(library, failed=f"no result within {_TIMEOUT} s: {exc.stderr!r}")
    report = _last_json_line(completed.stdout)
    if report is None:
        return LibraryRun(
            library,
            failed=f"exit {completed.returncode}, no report\n{completed.stdout}\n{completed.stderr}",
        )
    return LibraryRun(
        library, traces=report["cases"], errors=report["errors"], stderr=completed.stderr
    )


def _last_json_line(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith('{"cases"'):
            parsed: dict[str, Any] = json.loads(line)
            return parsed
    return None


def run_libraries(
    receiver: ReceiverProcess, libraries: dict[str, tuple[str, ...]]
) -> dict[str, LibraryRun]:
    """Every library's script, ``_AT_ONCE`` at a time; each finished means exported."""
    with ThreadPoolExecutor(_AT_ONCE) as pool:
        futures = {
            library: pool.submit(run_library, receiver, library, modules)
            for library, modules in libraries.items()
        }
        return {library: future.result() for library, future in futures.items()}


def rows_of_case(receiver: ReceiverProcess, traces: str | list[str]) -> list[dict[str, Any]]:
    """The stored failures of one case: of its trace, or of each of its traces."""
    trace_ids = [traces] if isinstance(traces, str) else traces
    return [row for trace_id in trace_ids for row in rows_of_trace(receiver, trace_id)]


def rows_of_trace(receiver: ReceiverProcess, trace_id: str) -> list[dict[str, Any]]:
    """The stored failures of one trace, through ``GET /api/v1/traces/{id}/failures``."""
    status, body = http_get(f"{receiver.api_url}/api/v1/traces/{trace_id}/failures")
    assert status == 200, body
    items: list[dict[str, Any]] = json.loads(body)["items"]
    return items
