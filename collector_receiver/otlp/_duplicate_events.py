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
* **Wrapper of one recorded failure.** A framework raises its own class over a provider SDK's
  error (pydantic-ai's ``ModelOverloadedError`` from ``anthropic.OverloadedError``, LangChain's
  ``OpenAIRateLimitError`` from ``openai.RateLimitError``): another type, often another message,
  so the first rule cannot tell it is the same failure, but its ``failcat.cause_types`` name the
  type of what it wraps. A plain exception event is not stored when, below it (on a descendant
  span of its span in the same trace and request, or earlier on its own span), exactly one
  exception event is stored, a plain one whose ``exception.type`` its cause chain names (or,
  when that type names no module, whose class name it ends in). The recording of the SDK's
  error is kept, as in the first rule the deepest: its span is the call's (the GenAI provider
  and model), and the default catalog puts the provider's class in the category of the
  framework's class over it (both ``overloaded``, both ``rate_limit``). Wrappers are decided
  innermost first, so a wrapper of a wrapper sees what is left below it. A sender with no
  cause chain (the OpenTelemetry JS SDK records neither an error's ``cause`` nor its type) is
  read by its message instead: a plain event with no ``failcat.cause_types`` whose
  ``exception.message`` contains the whole message of the one plain event stored below it, and
  more (that message at least :data:`MIN_CARRIED_MESSAGE` characters), is a wrapper of it, as
  a Node.js agent's ``new Error(`step failed: ${err.message}`, { cause: err })`` over the error
  an inner span recorded.

* **Adopted by the span it follows.** The event of an agent's ``failcat.unhandled_exception``
  span whose parent is in the request counts, for the rules above, as an event of the parent
  after the parent's own (``order``). ``otel_failcat`` gives that span a parent only when a link
  of the failure's cause chain was recorded on it: with no span of the agent's open, the
  framework's wrapper of an error an SDK recorded on its own root span lands under that span
  (the span ended already, so the agent could not add its event there), and the wrapper rule
  then sees the wrapped error earlier on "its own" span. The request's order does not decide:
  exporters group spans by instrumentation scope, so the agent's span may come first.

What stays apart: two such events on unrelated spans (siblings, cousins, other traces) are two
calls that failed the same way, so two failures. A retry's attempts are siblings, so each
failed attempt stays a row and the final ``RetryError`` its own: each attempt is a call that
failed, and a rate-limit count should count them; the ``RetryError``'s cause chain names the
last attempt's type, but more than one failure is stored below it, so the third rule keeps it.
A wrapper without a cause chain whose message does not carry the message below it is a row of
its own, as is one whose cause chain names no type stored below it, and one with another
failure stored below it beside the error it wraps. A group event and a plain event never
collapse into each other by the first rule (the group's leaves are part of what is
compared), and a group is never a wrapper nor a wrapped error, so every dropped event has a
kept event below it that carries its failure.

What the third rule can wrongly fold: it compares types, not exception objects, which a span
event does not identify. A wrapper whose cause is an error that no span recorded, above a span
that recorded another, earlier error of that same type (handled there, and the only other
failure below the wrapper), is dropped: one row for two failures. A retry of one attempt only
(``stop_after_attempt(1)``) whose attempt recorded its error is folded into that attempt, in
the attempt's category rather than ``retries_exhausted``. Both need the wrapped type recorded
below on the wrapper's own lineage, in the same trace, and nothing else recorded there. Read by
its message, a wrapper is wrongly folded only when its message happens to contain, whole, the
message of another failure, the only one recorded below it on its lineage.

Cost: the walk hands over its exception events only (no work for any other span). A trace with
fewer than two of them, or whose events neither repeat a type and message, nor form a group of
recorded leaves, nor carry a cause chain naming another event's type (one set of the trace's
types, one lookup per cause), ends there. Otherwise the spans carrying its exception events are
linked to their nearest such ancestor by one walk up the parent links each, through the
request's span index (:class:`~._spans.RequestSpans`, shared with the lineage rule and the
GenAI context); spans a walk passes remember the answer, so each span is walked once. One
depth-first pass over those links numbers them so that "is a descendant of" is an interval
test, and the repeats of a type and message are sorted by that number: linear in the request
but for that sort. For the third rule the trace's stored events are sorted by that number too,
so the events below a wrapper are two runs of that order, counted up to two by skipping those
already dropped (each dropped one linked to the next, the links shortened as they are
followed). Hostile input is bounded as for status-only spans (:mod:`._lineage`): a cycle of
parent links ends a walk and its spans count as unrelated, a walk goes up at most
:data:`~._lineage.MAX_LINEAGE_HOPS` spans, and a request too large to index is seen through its
exception spans alone; a trace with more than :data:`MAX_MESSAGE_WRAPPER_EVENTS` exception
events is not searched for wrappers by message (a search that compares each pair). Each limit
can only keep a duplicate, never drop a failure.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from itertools import pairwise
from typing import Any

from collector_receiver.events import FailureEvent
from collector_receiver.otlp._lineage import MAX_LINEAGE_HOPS
from collector_receiver.otlp._spans import RequestSpans
from otel_failcat.attributes import UNHANDLED_SPAN_NAME

#: ``exception_type`` of a failure that names no type (as :mod:`._extract` writes it).
_UNKNOWN = "unknown"

#: The shortest message below a wrapper with no cause chain that its own message is recognised
#: as carrying: shorter ones (``aborted``, ``400``) are found inside unrelated messages too.
MIN_CARRIED_MESSAGE = 8
#: Up to this many exception events in a trace, each plain event without a cause chain is
#: compared with the others' messages (pairwise, so bounded); a larger trace keeps its wrappers.
MAX_MESSAGE_WRAPPER_EVENTS = 64

#: Added to the order of an event counted as its parent span's, so it sorts after them all.
_ADOPTED = 1 << 62
#: (type, message) of one failure: what two recordings of it share.
_Failure = tuple[str, str]
#: What the first rule compares: the failure and, for a group, its leaves' failures.
_Key = tuple[str, str, tuple[_Failure, ...]]


class _Recorded:
    """One exception event of the request, as the walk handed it over."""

    __slots__ = ("failure", "key", "order", "position", "span", "span_id")

    def __init__(self, position: int, span: Any, span_id: bytes, failure: FailureEvent) -> None:
        self.position = position
        #: where it comes among its span's events ("earlier on its own span"): its position,
        #: or past every position for an event counted as its parent's (_adopt_unhandled)
        self.order = position
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
                _adopt_unhandled(trace_id, events, spans)
                dropped.update(_repeated_in_trace(trace_id, events, spans))
        return dropped


def _adopt_unhandled(trace_id: bytes, events: list[_Recorded], spans: RequestSpans) -> None:
    """Count an event of an agent's ``failcat.unhandled_exception`` span with a parent in the
    request as an event of that parent, after its own: ``otel_failcat`` gives that span a
    parent only when a link of the failure's cause chain was recorded on the parent (the span
    ended already, so the agent could not add the event to it)."""
    for event in events:
        span = event.span
        if span.name != UNHANDLED_SPAN_NAME or not span.parent_span_id:
            continue
        parent = spans.get(trace_id, span.parent_span_id)
        if parent is not None:
            event.span, event.span_id = parent, span.parent_span_id
            # After the parent's own events whatever the request's order: the exporter groups
            # spans by scope, so the agent's span may come before the library's it follows.
            event.order = _ADOPTED + event.position


def _comparable(failure: _Failure) -> bool:
    """Whether a failure says enough to be recognised again (a bare event says nothing)."""
    exception_type, message = failure
    return bool(message) or (bool(exception_type) and exception_type != _UNKNOWN)


def _names_a_cause(exception_type: str, causes: tuple[str, ...]) -> bool:
    """Whether ``exception_type`` is one of ``causes``, or the class name of one when it names
    no module (a sender that writes the short name)."""
    if exception_type in causes:
        return True
    return "." not in exception_type and any(
        cause.rpartition(".")[2] == exception_type for cause in causes
    )


def _carries(wrapper: _Recorded, inner: _Recorded) -> bool:
    """Whether ``wrapper``'s message contains the whole of ``inner``'s and more, a message long
    enough to tell (``step failed: fetch failed`` over ``fetch failed``). Two types with one
    message are not read as a wrapper: that is as often two failures worded alike."""
    message = inner.key[1]
    outer = wrapper.key[1]
    return len(message) >= MIN_CARRIED_MESSAGE and len(outer) > len(message) and message in outer


def _possible_wrappers(events: list[_Recorded]) -> list[_Recorded]:
    """The plain events that may wrap another plain event of the trace, the only ones the
    wrapper rule can drop (usually none, and then it does no work): those whose cause chain
    names the type of one, and those with no cause chain whose message carries one's."""
    plain = [event for event in events if not event.key[2]]
    if len(plain) < 2:
        return []
    chained = [event for event in plain if event.failure.cause_types]
    found: list[_Recorded] = []
    if chained:
        types = {event.key[0] for event in plain if event.key[0] and event.key[0] != _UNKNOWN}
        short = {exception_type for exception_type in types if "." not in exception_type}
        found = [
            event
            for event in chained
            if any(
                cause in types or (short and cause.rpartition(".")[2] in short)
                for cause in event.failure.cause_types
            )
        ]
    if len(events) <= MAX_MESSAGE_WRAPPER_EVENTS:
        carried = [event for event in plain if len(event.key[1]) >= MIN_CARRIED_MESSAGE]
        found.extend(
            event
            for event in plain
            if not event.failure.cause_types
            and any(_carries(event, inner) for inner in carried if inner is not event)
        )
    return found


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
    wrappers = _possible_wrappers(events)
    if not repeats and not groups and not wrappers:
        return set()  # the common case: every exception event of the trace is its own failure
    tree = _ExceptionTree(trace_id, events, spans)
    dropped: set[int] = set()
    same: dict[_Key, list[_Recorded]] = {}
    for event in events:
        if event.key in repeats:
            same.setdefault(event.key, []).append(event)
    for recorded in same.values():
        recorded.sort(key=lambda event: event.order)  # "earlier on its span": by order
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
    if wrappers:
        dropped.update(tree.wrapping_one(wrappers, events, dropped))
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

    def wrapping_one(
        self, wrappers: list[_Recorded], events: list[_Recorded], dropped: set[int]
    ) -> list[int]:
        """Of ``wrappers`` still stored, the positions of those below which (on a descendant
        span, or earlier on their own span) exactly one exception event is stored, a plain one
        whose type their cause chain names (or, with no cause chain, whose message theirs
        carries): a wrapper over that failure alone.

        The innermost are decided first, so a wrapper of a wrapper sees what is left below it.
        """
        # Every stored event, ordered by its span's number then its position: the events below
        # a wrapper are then two runs of that order (its span's earlier events, then its
        # descendants'). A span with no number (in or under a cycle) gets one of its own past
        # the others, with no descendants.
        enter = self.enter
        leave = self.leave
        slots: dict[bytes, tuple[int, int]] = {}
        unnumbered = len(enter)
        for event in events:
            if event.span_id not in slots:
                number = enter.get(event.span_id)
                if number is None:
                    slots[event.span_id] = (unnumbered, unnumbered + 1)
                    unnumbered += 1
                else:
                    slots[event.span_id] = (number, leave[event.span_id])
        stored = sorted(
            (slots[event.span_id][0], event.order, event)
            for event in events
            if event.position not in dropped
        )
        keys = [(number, order) for number, order, _ in stored]
        index = {event.position: at for at, (_, _, event) in enumerate(stored)}
        following = _Following(len(stored))
        dropped_here: list[int] = []
        inner_first = sorted(
            (event for event in wrappers if event.position in index),
            key=lambda event: (-slots[event.span_id][0], event.order),
        )
        for wrapper in inner_first:
            number, after = slots[wrapper.span_id]
            at = index[wrapper.position]
            own = bisect_left(keys, (number, -1))  # its span's first event
            descendants = bisect_left(keys, (number + 1, -1))
            runs = ((own, at), (descendants, bisect_left(keys, (after, -1))))
            below = following.only_one(runs)
            if below is None:
                continue
            inner = stored[below][2]
            if inner.key[2]:
                continue
            causes = wrapper.failure.cause_types
            if _names_a_cause(inner.key[0], causes) if causes else _carries(wrapper, inner):
                following.remove(at)
                dropped_here.append(wrapper.position)
        return dropped_here


class _Following:
    """Which of ``size`` ordered items are left, each removed one linked to the next one left
    (with the links shortened as they are followed), so finding the next one left is
    amortised constant time however many were removed."""

    __slots__ = ("_next",)

    def __init__(self, size: int) -> None:
        self._next = list(range(size + 1))  # the last one stands for "none left"

    def remove(self, at: int) -> None:
        self._next[at] = at + 1

    def _left_from(self, at: int) -> int:
        links = self._next
        found = at
        while links[found] != found:
            found = links[found]
        while links[at] != found:  # shorten the links followed
            links[at], at = found, links[at]
        return found

    def only_one(self, runs: tuple[tuple[int, int], ...]) -> int | None:
        """The one item left in the ``[start, end)`` runs, or None for none or more than one."""
        found: int | None = None
        for start, end in runs:
            if start >= end:
                continue
            first = self._left_from(start)
            if first >= end:
                continue
            if found is not None or self._left_from(first + 1) < end:
                return None
            found = first
        return found


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
