"""One failure, one row: an exception recorded at two levels of one lineage is one failure.

A failure often leaves an exception event on more than one span of its trace. The Vercel AI
SDK's telemetry records an error on its per-attempt span (``ai.generateText.doGenerate``) and
again on the outer ``ai.generateText``, and the agent records it once more on its own span;
mcp 2.x records on its client span before the agent does; a Python library that instruments
itself and the agent's ``start_as_current_span`` both record what propagates through them; an
agent may call ``record_exception`` on a span whose context manager records it again. Each of
these is one failure, so (CONTRACT §4 r2, one failure one row) the receiver stores it once:

* **Repeated event.** An exception event is not stored when a descendant span of its span, in
  the same trace and request, carries an exception event with the same ``exception.type`` and
  ``exception.message`` (the raw texts, before redaction), or when its own span carries one
  earlier. The deepest recording is kept: it has the most specific context (the attempt's
  model, the tool's span) for the GenAI columns. The stacktrace is not compared: each level
  formats its own (an inner span sees the traceback up to where it caught the exception, an
  outer one more frames; a library's wrapper formats differently from the agent's), so a
  stacktrace rule would keep nearly every duplicate.
* **Group of recorded leaves.** An exception group event (``failcat.group.exception_types`` and
  ``.messages``, see :mod:`otel_failcat.attributes`) is not stored when every leaf of it has a
  stored, non-group exception event with that type and message on its own span or a descendant
  (one each: a group of two identical leaves needs two). That is those failures seen once more
  on their way out of a task group. ``otel_failcat`` already skips such a group when it recorded
  the leaves itself; this covers agents without it and leaves recorded on other spans. A leaf
  message the agent capped (longer than 512 characters) does not equal the event's message, so
  that group stays a row: an extra row, never a lost one.

What stays apart: two such events on unrelated spans (siblings, cousins, other traces) are two
calls that failed the same way, so two failures. A retry's attempts are siblings, so each
failed attempt stays a row and the final ``RetryError`` its own: each attempt is a call that
failed, and a rate-limit count should count them. A wrapper that re-raises with another type or
message (``ToolError("search failed")`` over a ``TimeoutError``) is a second row; its cause
chain already classifies it. A group event and a plain event never collapse into each other by
the first rule (the group's leaves are part of what is compared), so every dropped event has a
kept event below it that carries its failure.

Cost: the walk hands over its exception events only (no work for any other span). A trace with
fewer than two of them, or whose events neither repeat a type and message nor form a group of
recorded leaves, ends there. Otherwise the spans carrying its exception events are linked to
their nearest such ancestor by one walk up the parent links each, through the request's span
index (:class:`~._spans.RequestSpans`, shared with the lineage rule and the GenAI context);
spans a walk passes remember the answer, so each span is walked once. One depth-first pass over
those links numbers them so that "is a descendant of" is an interval test, and the repeats of a
type and message are sorted by that number: linear in the request but for that sort. Hostile
input is bounded as for status-only spans (:mod:`._lineage`): a cycle of parent links ends a
walk and its spans count as unrelated, a walk goes up at most
:data:`~._lineage.MAX_LINEAGE_HOPS` spans, and a request too large to index is seen through its
exception spans alone. Each limit can only keep a duplicate, never drop a failure.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from itertools import pairwise
from typing import Any

from collector_receiver.events import FailureEvent
from collector_receiver.otlp._lineage import MAX_LINEAGE_HOPS
from collector_receiver.otlp._spans import RequestSpans

#: ``exception_type`` of a failure that names no type (as :mod:`._extract` writes it).
_UNKNOWN = "unknown"

#: (type, message) of one failure: what two recordings of it share.
_Failure = tuple[str, str]
#: What the first rule compares: the failure and, for a group, its leaves' failures.
_Key = tuple[str, str, tuple[_Failure, ...]]


class _Recorded:
    """One exception event of the request, as the walk handed it over."""

    __slots__ = ("failure", "key", "position", "span", "span_id")

    def __init__(self, position: int, span: Any, span_id: bytes, failure: FailureEvent) -> None:
        self.position = position
        self.span = span
        self.span_id = span_id
        self.failure = failure
        leaves = failure.group_leaves
        self.key: _Key = (
            failure.exception_type,
            failure.exception_message,
            tuple((leaf.exception_type, leaf.exception_message) for leaf in leaves)
            if leaves
            else (),
        )


class RepeatedEvents:
    """The exception events of one request, collected during the walk."""

    __slots__ = ("_by_trace",)

    def __init__(self) -> None:
        self._by_trace: dict[bytes, list[_Recorded]] = {}

    def event(
        self, position: int, span: Any, trace_id: bytes, span_id: bytes, failure: FailureEvent
    ) -> None:
        """The exception event ``failure`` of ``span`` was stored at ``position``.

        Only events of spans with a trace and a span id: without them there is no lineage.
        """
        recorded = _Recorded(position, span, span_id, failure)
        trace = self._by_trace.get(trace_id)
        if trace is None:
            self._by_trace[trace_id] = [recorded]
        else:
            trace.append(recorded)

    def repeated(self, spans: RequestSpans) -> set[int]:
        """Positions of the exception events that another recording of theirs below explains."""
        dropped: set[int] = set()
        for trace_id, events in self._by_trace.items():
            if len(events) > 1:
                dropped.update(_repeated_in_trace(trace_id, events, spans))
        return dropped


def _comparable(failure: _Failure) -> bool:
    """Whether a failure says enough to be recognised again (a bare event says nothing)."""
    exception_type, message = failure
    return bool(message) or (bool(exception_type) and exception_type != _UNKNOWN)


def _repeated_in_trace(trace_id: bytes, events: list[_Recorded], spans: RequestSpans) -> set[int]:
    counts = Counter(event.key for event in events if _comparable(event.key[:2]))
    repeats = {key for key, count in counts.items() if count > 1}
    plain = {key[:2] for key in counts if not key[2]}
    # A group can only go when each of its leaves was recorded on its own somewhere in the trace.
    groups = [
        event
        for event in events
        if event.key[2] and all(_comparable(leaf) and leaf in plain for leaf in event.key[2])
    ]
    if not repeats and not groups:
        return set()  # the common case: every exception event of the trace is its own failure
    tree = _ExceptionTree(trace_id, events, spans)
    dropped: set[int] = set()
    same: dict[_Key, list[_Recorded]] = {}
    for event in events:
        if event.key in repeats:
            same.setdefault(event.key, []).append(event)
    for recorded in same.values():
        dropped.update(tree.below_others(recorded))
    if groups:
        # What a leaf is matched against: the plain events still stored, by the number of their
        # span (sorted, for an interval count) and by their span (for a span with no number).
        numbers: dict[_Failure, list[int]] = {}
        on_span: Counter[tuple[_Failure, bytes]] = Counter()
        for event in events:
            if not event.key[2] and event.position not in dropped:
                failure = event.key[:2]
                on_span[(failure, event.span_id)] += 1
                number = tree.enter.get(event.span_id)
                if number is not None:
                    numbers.setdefault(failure, []).append(number)
        for numbered in numbers.values():
            numbered.sort()
        for group in groups:
            if tree.all_recorded_below(group, numbers, on_span):
                dropped.add(group.position)
    return dropped


class _ExceptionTree:
    """The spans of one trace that carry exception events, each linked to its nearest such
    ancestor, numbered in depth-first order: a span's descendants are the spans numbered from
    its ``enter`` up to (not including) its ``leave``. Spans in a cycle of parent links, or
    under one, get no number and so are related to nothing."""

    __slots__ = ("enter", "leave")

    def __init__(self, trace_id: bytes, events: list[_Recorded], spans: RequestSpans) -> None:
        nodes: dict[bytes, Any] = {}
        for event in events:
            nodes.setdefault(event.span_id, event.span)
        children: dict[bytes, list[bytes]] = {}
        roots: list[bytes] = []
        known: dict[bytes, bytes | None] = {}  # spans a walk passed: their nearest node above
        for span_id, span in nodes.items():
            above = _nearest_above(span, trace_id, nodes, known, spans)
            if above is None:
                roots.append(span_id)
            else:
                children.setdefault(above, []).append(span_id)
        self.enter: dict[bytes, int] = {}
        self.leave: dict[bytes, int] = {}
        clock = 0
        for root in roots:
            stack: list[tuple[bytes, bool]] = [(root, False)]
            while stack:
                span_id, done = stack.pop()
                if done:
                    self.leave[span_id] = clock
                    continue
                self.enter[span_id] = clock
                clock += 1
                stack.append((span_id, True))
                stack.extend((child, False) for child in children.get(span_id, ()))

    def below_others(self, same: list[_Recorded]) -> list[int]:
        """Of events with one key, the positions of those another one explains: a later event
        of the same span, or any event of a span that has one of them on a descendant."""
        first: dict[bytes, list[int]] = {}  # span id -> positions of its events with the key
        dropped: list[int] = []
        for event in same:
            positions = first.get(event.span_id)
            if positions is None:
                first[event.span_id] = [event.position]
            else:
                dropped.append(event.position)  # its span recorded this failure already
        numbered = sorted((self.enter[s], s) for s in first if s in self.enter)
        # A span's descendants follow it in the numbering, so if any of them carries the key,
        # the next numbered span with the key is one.
        for (_, span_id), (number, _) in pairwise(numbered):
            if number < self.leave[span_id]:
                dropped.extend(first[span_id])
        return dropped

    def all_recorded_below(
        self,
        group: _Recorded,
        numbers: dict[_Failure, list[int]],
        on_span: Counter[tuple[_Failure, bytes]],
    ) -> bool:
        """Whether each leaf of ``group`` has a kept plain event of its own on the group's span
        or below it (``numbers``: the sorted numbers of those events' spans, by failure)."""
        enter = self.enter.get(group.span_id)
        for leaf, needed in Counter(group.key[2]).items():
            if enter is None:  # related to nothing: only its own span counts
                found = on_span[(leaf, group.span_id)]
            else:
                numbered = numbers.get(leaf, [])
                leave = self.leave[group.span_id]
                found = bisect_left(numbered, leave) - bisect_left(numbered, enter)
            if found < needed:
                return False
        return True


def _nearest_above(
    span: Any,
    trace_id: bytes,
    nodes: dict[bytes, Any],
    known: dict[bytes, bytes | None],
    spans: RequestSpans,
) -> bytes | None:
    """The span id of the nearest ancestor of ``span`` in ``nodes``, or None.

    ``known`` remembers the answer for every span a walk passed, so a later walk stops there.
    """
    path: dict[bytes, None] = {}  # insertion-ordered set: the walk so far
    parent = span.parent_span_id
    found: bytes | None = None
    while parent and len(path) < MAX_LINEAGE_HOPS:
        if parent in nodes:
            found = parent
            break
        if parent in known:
            found = known[parent]
            break
        if parent in path:  # a cycle of parent links that holds no exception span
            break
        node = spans.get(trace_id, parent)
        if node is None:  # not in this request (or the request is too large to index)
            break
        path[parent] = None
        parent = node.parent_span_id
    for passed in path:
        known[passed] = found
    return found
