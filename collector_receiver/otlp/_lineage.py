"""One failure, one row: a status-only span beside an exception is not a failure of its own.

CONTRACT §4 (r2): a ``span_status`` failure (a span with status ERROR and ``error.type``, no
exception event) is dropped when an ancestor or a descendant span of it, in the same trace and
the same request, carries an exception event. That is one failure seen by two layers: a
framework that instruments itself (mcp 2.x puts the JSON-RPC code in ``error.type`` on its own
spans) and the agent that records the exception itself on an enclosing or an inner span.
Siblings, cousins and spans of other traces are unrelated, so their status stays a failure.
Likewise a status-only span with another status-only span below it is not stored: two layers
marked one failure by status alone (an agent's step span and the SDK's span under it), and the
deepest is the row.

Lineage follows ``parent_span_id`` across every resource and scope of the request (a trace's
spans may come from several instrumentation scopes and, through a collector, several
resources). A request is the unit: a parent or child delivered in another request is not seen,
so a status-only span whose exception arrives in a different export is still stored (the
documented limit; redeliveries are idempotent either way).

Cost: the walk collects, at no cost to spans without failures, the status-only candidates and
the spans with exception events. Only a request holding both, in one trace, goes further:
first along the links between those few spans, and when a link leads elsewhere, through the
request's index of every span by span id (:class:`~._spans.RequestSpans`, built once and shared
with the GenAI context, one read of ``span_id`` per span).
Each span is then visited at most once per direction (answers are remembered), so the work is
linear in the request. Hostile input is bounded: cycles of parent links end a walk, a walk goes
up at most :data:`MAX_LINEAGE_HOPS` spans, and a request of more than
:data:`MAX_LINEAGE_SPANS` spans is not indexed, so there lineage is followed only through the
failure spans themselves (a status-only span whose link to the exception runs through other
spans is then kept: an extra row, never a lost one).
"""

from __future__ import annotations

from typing import Any

from collector_receiver.otlp._spans import MAX_INDEXED_SPANS, SPAN_ID_BYTES, RequestSpans

#: How far up the parent links one walk goes. Agent traces are a few dozen spans deep; a
#: longer chain is followed this far and the rest is treated as unrelated.
MAX_LINEAGE_HOPS = 256
#: The most spans a request may have for the index to be built (the request's one index).
MAX_LINEAGE_SPANS = MAX_INDEXED_SPANS
#: The most span ids a stored status-only failure keeps of its lineage (``related_span_ids``):
#: its ancestors, nearest first, then its descendants. An agent's log record is emitted on the
#: span around the call or a few levels up; 64 ids are 1 KiB of text on a rare row.
MAX_RELATED_SPANS = 64

_Key = tuple[bytes, bytes]  # (trace id, span id), raw


def _admit(seen: dict[bytes, None], span_id: bytes) -> bool:
    """Add ``span_id`` to a lineage being collected, unless it is no span id, is in it already,
    or the lineage is full; whether it was added."""
    if len(span_id) != SPAN_ID_BYTES or span_id in seen or len(seen) > MAX_RELATED_SPANS:
        return False
    seen[span_id] = None
    return True


class SpanLineage:
    """The spans of one request that the lineage rule needs, collected during the walk."""

    __slots__ = ("_candidates", "_exceptions")

    def __init__(self) -> None:
        #: (position in the request's failures, span, trace id, span id) of status-only spans
        self._candidates: list[tuple[int, Any, bytes, bytes]] = []
        #: spans that carry an exception event, by (trace id, span id)
        self._exceptions: dict[_Key, Any] = {}

    def status_only(self, position: int, span: Any, trace_id: bytes, span_id: bytes) -> None:
        """A ``span_status`` failure was stored at ``position`` of the request's failures."""
        self._candidates.append((position, span, trace_id, span_id))

    def exception_span(self, span: Any, trace_id: bytes, span_id: bytes) -> None:
        """``span`` carries an exception event."""
        self._exceptions[(trace_id, span_id)] = span

    def beside_exceptions(self, spans: RequestSpans) -> set[int]:
        """Positions of the status-only failures that an exception in their lineage explains,
        and of those with a status-only failure below them (the deepest is the row)."""
        dropped = self._beside_exception_events(spans)
        if len(self._candidates) > 1:
            dropped |= self._above_status_only(spans)
        return dropped

    def related_span_ids(
        self, spans: RequestSpans, dropped: set[int]
    ) -> dict[int, tuple[str, ...]]:
        """The lineage in the request of each status-only failure kept, by position: span ids
        (lowercase hex) of its ancestors, nearest first (its parent always, as the span names
        it, even when the parent is in another request), then of its descendants, breadth
        first; at most :data:`MAX_RELATED_SPANS`.

        The store keeps them with the row, so that an exception log record on one of those
        spans, which arrives in a logs request of its own, is known for the same failure
        (``store._other_signal``). Only failures with a span id have a lineage; a cycle of
        parent links ends a walk where it closes.
        """
        related: dict[int, tuple[str, ...]] = {}
        for position, span, trace_id, span_id in self._candidates:
            if position in dropped or not span_id:
                continue
            seen: dict[bytes, None] = {span_id: None}  # insertion-ordered: the lineage so far
            parent = span.parent_span_id
            while _admit(seen, parent):
                node = spans.get(trace_id, parent)
                if node is None:
                    break
                parent = node.parent_span_id
            level = [span_id]
            while level and len(seen) <= MAX_RELATED_SPANS:
                level = [
                    child.span_id
                    for above in level
                    for child in spans.children(trace_id, above)
                    if _admit(seen, child.span_id)
                ]
            del seen[span_id]
            related[position] = tuple(related_id.hex() for related_id in seen)
        return related

    def _above_status_only(self, spans: RequestSpans) -> set[int]:
        """Positions of the status-only failures that are ancestors of another one.

        Two layers marking one failure (an agent's step span and the SDK's span under it, both
        ERROR with ``error.type``) are one failure; the deepest says most (the SDK's
        ``error.type``, its span's model). A walk goes up from every candidate of a trace with
        two or more; one that runs into a cycle of parent links finds nothing (spans in or under
        a cycle are unrelated, so a cycle of status-only spans keeps them all), and a walk that
        reaches a span an earlier clean walk passed stops there, since what is above it was
        found then: each span is walked once.
        """
        by_trace: dict[bytes, list[tuple[int, Any, bytes, bytes]]] = {}
        for candidate in self._candidates:
            if candidate[3]:
                by_trace.setdefault(candidate[2], []).append(candidate)
        found: set[int] = set()
        for trace_id, candidates in by_trace.items():
            if len(candidates) < 2:
                continue
            positions = {span_id: position for position, _, _, span_id in candidates}
            for _, span, _, span_id in candidates:
                spans.met(trace_id + span_id, span)
            clean: set[bytes] = set()  # spans whose way up ends without a cycle
            cyclic: set[bytes] = set()  # spans whose way up runs into one
            for _, span, _, span_id in candidates:
                path: dict[bytes, None] = {span_id: None}  # insertion-ordered: the walk so far
                parent = span.parent_span_id
                in_cycle = False
                while parent and len(path) <= MAX_LINEAGE_HOPS and parent not in clean:
                    if parent in path or parent in cyclic:
                        in_cycle = True
                        break
                    path[parent] = None
                    node = spans.get(trace_id, parent)
                    if node is None:
                        break
                    parent = node.parent_span_id
                del path[span_id]
                if in_cycle:
                    cyclic.update(path)
                    cyclic.add(span_id)
                    continue
                clean.update(path)
                found.update(positions[passed] for passed in path if passed in positions)
        return found

    def _beside_exception_events(self, spans: RequestSpans) -> set[int]:
        """Positions of the status-only failures that an exception in their lineage explains."""
        if not self._candidates or not self._exceptions:
            return set()
        traces = {trace_id for trace_id, _ in self._exceptions}
        related = [c for c in self._candidates if c[2] in traces]
        if not related:
            return set()
        # The spans already in hand answer lookups first; the request's index of every span is
        # built only when a walk leaves them (and answers nothing for an oversized request).
        for (trace_id, span_id), span in self._exceptions.items():
            spans.met(trace_id + span_id, span)
        for _, span, trace_id, span_id in related:
            spans.met(trace_id + span_id, span)
        dropped: set[int] = set()
        below_exception: dict[_Key, bool] = {}
        remaining: dict[_Key, int] = {}
        for position, span, trace_id, span_id in related:
            if self._has_exception_above(span, trace_id, spans, below_exception):
                dropped.add(position)
            elif span_id:
                remaining[(trace_id, span_id)] = position
        if remaining:
            dropped.update(self._above_exceptions(remaining, spans))
        return dropped

    def _has_exception_above(
        self, span: Any, trace_id: bytes, spans: RequestSpans, known: dict[_Key, bool]
    ) -> bool:
        """Whether an ancestor of ``span`` carries an exception event.

        ``known`` remembers, for each span a walk passed, whether it or an ancestor carries one,
        so that a later walk stops where an earlier one went.
        """
        path: dict[_Key, None] = {}  # insertion-ordered set: the walk so far
        parent = span.parent_span_id
        verdict = False
        while parent and len(path) < MAX_LINEAGE_HOPS:
            key = (trace_id, parent)
            if key in self._exceptions:
                verdict = True
                break
            seen = known.get(key)
            if seen is not None:
                verdict = seen
                break
            if key in path:  # a cycle of parent links
                break
            node = spans.get(*key)
            if node is None:  # the parent is not in this request
                break
            path[key] = None
            parent = node.parent_span_id
        for key in path:
            known[key] = verdict
        return verdict

    def _above_exceptions(self, remaining: dict[_Key, int], spans: RequestSpans) -> set[int]:
        """Positions of the candidates in ``remaining`` that are ancestors of an exception span.

        The walks up from the exception spans share one set of visited spans: a walk that
        reaches a span another walk passed has nothing new above it.
        """
        found: set[int] = set()
        visited: set[_Key] = set()
        for (trace_id, _), span in self._exceptions.items():
            parent = span.parent_span_id
            hops = 0
            while parent and hops < MAX_LINEAGE_HOPS:
                key = (trace_id, parent)
                if key in visited:
                    break
                visited.add(key)
                position = remaining.pop(key, None)
                if position is not None:
                    found.add(position)
                    if not remaining:
                        return found
                node = spans.get(*key)
                if node is None:
                    break
                parent = node.parent_span_id
                hops += 1
        return found
