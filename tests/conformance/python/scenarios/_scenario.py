"""What every conformance scenario script shares: one case, one trace, one way of recording.

A scenario script runs under ``opentelemetry-instrument`` (so the failcat instrumentor is
installed the way a user's agent gets it) and calls :func:`run` once per case with a function
that drives the library until it raises. Each case gets a trace of its own (a root span named
``conformance <case>``), so every row the receiver stores for that trace belongs to that case,
whatever the library's own spans add: "exactly one row per failure" is a count per trace.

``via`` says how the agent records the failure, the ways a user's code does:

- ``record``: caught, then ``otel_failcat.record_failure(exc)``;
- ``log``: caught, then ``logger.exception(...)`` (the logging hook);
- ``track``: raised out of ``with otel_failcat.track(...)``, caught outside it;
- ``span``: raised out of an SDK span (``Span.record_exception`` through the SDK hook);
- ``thread``: raised out of a thread's target, never caught (the threading hook);
- ``none``: the library records it itself (its own spans), the agent does nothing.

At exit the script prints one JSON line: ``{"cases": {case: trace_id}, "errors": {...},
"seconds": {case: duration}}``; a case whose function did not raise at all is listed in
``errors`` so the test fails with why.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace import format_trace_id

from otel_failcat import record_failure, track

_tracer = trace.get_tracer("failcat.conformance")
_logger = logging.getLogger("agent")
_cases: dict[str, str] = {}
_errors: dict[str, str] = {}
_seconds: dict[str, float] = {}


class DidNotRaise(Exception):
    """A case whose library call returned instead of failing: the scenario is wrong."""


def _call(function: Callable[[], Any]) -> None:
    result = function()
    if inspect.isawaitable(result):
        asyncio.run(_awaited(result))


async def _awaited(awaitable: Any) -> None:
    await awaitable


def run(case: str, function: Callable[[], Any], via: str = "record") -> None:
    """Run one case in a trace of its own, recording what it raises the ``via`` way."""
    # An empty context makes the root span start a new trace even inside another span.
    with _tracer.start_as_current_span(
        f"conformance {case}",
        context=context.Context(),
        record_exception=False,
        set_status_on_exception=False,
    ) as root:
        _cases[case] = format_trace_id(root.get_span_context().trace_id)
        started = time.monotonic()
        try:
            _raise_via(case, function, via)
        except DidNotRaise as exc:
            _errors[case] = str(exc)
        _seconds[case] = round(time.monotonic() - started, 3)


def _raise_via(case: str, function: Callable[[], Any], via: str) -> None:
    if via == "thread":
        parent = context.get_current()

        def target() -> None:
            # Attached for the thread's whole life: its hook records the escaping exception on
            # the case's span, as OpenTelemetry's threading instrumentation would arrange.
            context.attach(parent)
            _call(function)
            _errors[case] = f"{case}: returned without raising"

        worker = threading.Thread(target=target, name=f"case-{case}")
        worker.start()
        worker.join()
        return
    try:
        if via == "track":
            with track(f"step {case}"):
                _call(function)
        elif via == "span":
            with _tracer.start_as_current_span(f"call {case}"):
                _call(function)
        else:
            _call(function)
    except DidNotRaise:
        raise
    except BaseException as exc:  # CancelledError and KeyboardInterrupt are cases too
        if via == "record":
            record_failure(exc)
        elif via == "log":
            _logger.exception("case %s failed", case)
        return
    raise DidNotRaise(f"{case}: returned without raising")


def report() -> None:
    """Print the cases and their traces; called once at the end of a script."""
    print(json.dumps({"cases": _cases, "errors": _errors, "seconds": _seconds}), flush=True)
