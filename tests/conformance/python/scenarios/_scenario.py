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
- ``none``: the library records it itself (its own spans), the agent does nothing;
- ``wrapped``: caught, wrapped in the agent's own exception (``raise StepFailed("step failed")
  from exc``, a type no catalog entry names, a message that says nothing), and the wrapper
  recorded with ``record_failure``: the catalog must know the failure by what it wraps.

``user_span=False`` runs a case with no span of the agent's own open (no ``conformance``
root): the library's spans start traces of their own, and so does a
``failcat.unhandled_exception`` span if the agent records the failure on one. The case is then
every trace a span ended in while it ran, and "one row per failure" is a count over all of them.

At exit the script prints one JSON line: ``{"cases": {case: trace_id or [trace_id, ...]},
"errors": {...}, "seconds": {case: duration}}``; a case whose function did not raise at all is
listed in ``errors`` so the test fails with why.
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
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import format_trace_id

from otel_failcat import record_failure, track

_tracer = trace.get_tracer("failcat.conformance")
_logger = logging.getLogger("agent")
_cases: dict[str, str | list[str]] = {}
_errors: dict[str, str] = {}
_seconds: dict[str, float] = {}
_functions: dict[str, Callable[[], Any]] = {}


class DidNotRaise(Exception):
    """A case whose library call returned instead of failing: the scenario is wrong."""


class StepFailed(Exception):
    """The agent's own error around a library's, as agent code raises it (``via="wrapped"``)."""


def _call(function: Callable[[], Any]) -> None:
    result = function()
    if inspect.isawaitable(result):
        asyncio.run(_awaited(result))


async def _awaited(awaitable: Any) -> None:
    await awaitable


class _TraceCollector(SpanProcessor):
    """The trace of every span that ends while a ``user_span=False`` case runs."""

    def __init__(self) -> None:
        self.traces: list[str] | None = None

    def on_end(self, span: ReadableSpan) -> None:
        if self.traces is not None and span.context is not None:
            trace_id = format_trace_id(span.context.trace_id)
            if trace_id not in self.traces:
                self.traces.append(trace_id)


_collector: _TraceCollector | None = None


def _trace_collector() -> _TraceCollector:
    global _collector
    if _collector is None:
        _collector = _TraceCollector()
        # The SDK provider opentelemetry-instrument set up; spans still go to its exporter.
        trace.get_tracer_provider().add_span_processor(_collector)  # type: ignore[attr-defined]
    return _collector


def run(
    case: str, function: Callable[[], Any], via: str = "record", *, user_span: bool = True
) -> None:
    """Run one case in a trace of its own, recording what it raises the ``via`` way
    (``user_span=False``: with no span of the agent's own open, see above)."""
    _functions[case] = function
    if not user_span:
        _run_without_user_span(case, function, via)
        return
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


def run_wrapped(*cases: str) -> None:
    """Run these cases again, each as ``<case>.wrapped`` inside the agent's own wrapper
    (``via="wrapped"``): the same failure, known only by what the wrapper carries."""
    for case in cases:
        run(f"{case}.wrapped", _functions[case], via="wrapped")


def _run_without_user_span(case: str, function: Callable[[], Any], via: str) -> None:
    collector = _trace_collector()
    collector.traces = []
    started = time.monotonic()
    token = context.attach(context.Context())  # no span current, whatever the caller had
    try:
        _raise_via(case, function, via)
    except DidNotRaise as exc:
        _errors[case] = str(exc)
    finally:
        context.detach(token)
    _seconds[case] = round(time.monotonic() - started, 3)
    _cases[case], collector.traces = collector.traces, None
    if not _cases[case]:
        _errors[case] = f"{case}: no span ended, so no trace to look in"


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
        elif via == "wrapped":
            try:
                raise StepFailed("step failed") from exc
            except StepFailed as wrapper:
                record_failure(wrapper)
        elif via == "log":
            _logger.exception("case %s failed", case)
        return
    raise DidNotRaise(f"{case}: returned without raising")


def report() -> None:
    """Print the cases and their traces; called once at the end of a script."""
    print(json.dumps({"cases": _cases, "errors": _errors, "seconds": _seconds}), flush=True)
