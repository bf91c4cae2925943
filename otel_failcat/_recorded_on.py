"""Where each exception object was recorded: the span its event went on, while the object lives.

A failure recorded with no span open (an exception escaping to ``sys.excepthook``, logged by a
script with no tracing of its own) gets a ``failcat.unhandled_exception`` span, and with no
parent that span starts a trace of its own. Often that failure is a framework's wrapper around
an error a library's own instrumentation recorded a moment earlier on its span: pydantic-ai's
``ModelHTTPError`` over the error the Anthropic SDK recorded on its root span. Two traces, so the
receiver cannot see that the two recordings are one failure. When a link of the failure's cause
chain (for an exception group, a leaf or a link of a leaf's chain) was recorded on a span, the
recorder starts the unhandled span as a child of that span instead: one trace, and the
receiver's wrapper rule stores the failure once (CONTRACT §4 r2).

The same holds for a library that reads an error *answer* and raises only after its span has
ended (mcp 2.x's JSON-RPC client marks its span ERROR with the answer's message and no
exception in flight, then raises ``MCPError`` with that message): the span is remembered with
its status message (the last :data:`MAX_FAILED_ANSWERS`, for :data:`FAILED_ANSWER_SECONDS`),
and a failure recorded with no span open whose message is exactly that one (or, for an
exception group, one of its leaves' messages) goes under that span, once. The receiver's lineage
rule then sees the status-only span and the exception in one trace: one row.

No strong reference to an exception is kept: the table maps ``id(exc)`` to a weak reference
and the span context, and the entry goes with the exception. Exceptions that cannot be weakly
referenced (the built-in types) carry the span context in their instance ``__dict__`` with the
``(pid, id)`` mark :mod:`._dedupe` uses, so a copy or an unpickled twin does not inherit it.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable

from opentelemetry.trace import SpanContext

_MARKER = "_otel_failcat_recorded_on"

#: How many spans marked ERROR by an error answer are remembered, and for how long: the
#: exception follows within the same call, so a few, for seconds, are plenty.
MAX_FAILED_ANSWERS = 32
FAILED_ANSWER_SECONDS = 30.0


class RecordedOn:
    """The span context each live exception object was recorded on (the first one)."""

    def __init__(self) -> None:
        self._spans: dict[int, tuple[weakref.ref[BaseException], SpanContext]] = {}
        #: (monotonic time, status message, span context) of spans an error answer marked
        self._answers: deque[tuple[float, str, SpanContext]] = deque(maxlen=MAX_FAILED_ANSWERS)
        # Re-entrant: an entry's weak-reference callback may run on this thread while it holds
        # the lock (a collection triggered inside ``remember``).
        self._lock = threading.RLock()

    def remember(self, exc: BaseException, span_context: SpanContext) -> None:
        """``exc`` was recorded on the span of ``span_context`` (kept only if the first)."""
        if not span_context.is_valid:
            return
        key = id(exc)
        with self._lock:
            if self._live(key, exc) is not None:
                return
            try:
                reference = weakref.ref(exc, self._forget(key))
            except TypeError:
                exc.__dict__.setdefault(_MARKER, (os.getpid(), key, span_context))
                return
            self._spans[key] = (reference, span_context)

    def of(self, exc: BaseException) -> SpanContext | None:
        """The span context ``exc`` was recorded on, if it was."""
        with self._lock:
            found = self._live(id(exc), exc)
        if found is not None:
            return found
        marked = exc.__dict__.get(_MARKER)
        if isinstance(marked, tuple) and marked[:2] == (os.getpid(), id(exc)):
            return marked[2]
        return None

    def first_of(self, exceptions: Iterable[BaseException]) -> SpanContext | None:
        """The span context of the first of ``exceptions`` that was recorded on a span."""
        for exc in exceptions:
            found = self.of(exc)
            if found is not None:
                return found
        return None

    def failed_answer(self, message: str, span_context: SpanContext) -> None:
        """The span of ``span_context`` was marked ERROR with ``message`` and no exception in
        flight (its library raises after it ends)."""
        if message and span_context.is_valid:
            with self._lock:
                self._answers.append((time.monotonic(), message, span_context))

    def answered(self, messages: Iterable[str]) -> SpanContext | None:
        """The span most recently marked with one of ``messages``, forgotten once returned."""
        wanted = {message for message in messages if message}
        if not wanted:
            return None
        oldest = time.monotonic() - FAILED_ANSWER_SECONDS
        with self._lock:
            answers = self._answers
            while answers and answers[0][0] < oldest:
                answers.popleft()
            for at in range(len(answers) - 1, -1, -1):
                if answers[at][1] in wanted:
                    span_context = answers[at][2]
                    del answers[at]
                    return span_context
        return None

    def __len__(self) -> int:
        return len(self._spans)

    def _live(self, key: int, exc: BaseException) -> SpanContext | None:
        entry = self._spans.get(key)
        if entry is None or entry[0]() is not exc:
            return None
        return entry[1]

    def _forget(self, key: int) -> Callable[[weakref.ref[BaseException]], None]:
        def forget(reference: weakref.ref[BaseException]) -> None:
            # Called when the exception dies; another object may hold its address by now.
            with self._lock:
                entry = self._spans.get(key)
                if entry is not None and entry[0] is reference:
                    del self._spans[key]

        return forget
