"""The spans of one traces request by span id: the one parent map of a request.

Rules look up a span's parent in the same request: one failure, one row (:mod:`._lineage`,
:mod:`._duplicate_events`) and the GenAI context of a failure or an operation (:mod:`._genai`).
They follow ``parent_span_id`` across every resource and scope of the request, so they share
one index, built on the first lookup only (most requests never need it) and at most once per
request.

Spans the walk has in hand already are handed to it (:meth:`RequestSpans.met`: the GenAI
operation spans, most of the spans of an agent's request), and a lookup looks among them first:
in a request whose parents are operations, a lookup for a status-only failure's lineage then
needs no index at all (``bench_extract --genai``: the index cost ~2 ms of a 30 ms request).
Building it reads ``span_id`` once per span; ``trace_id`` is read only for the spans a lookup
reaches, to tell apart two traces that reuse a span id. A request of more than
:data:`MAX_INDEXED_SPANS` spans is not indexed (a hostile one cannot make it hold millions of
entries): a lookup then answers only for the spans handed over, else None, and each rule says
what it does without the parent (the spans handed over can only let a rule see more of a
lineage: a row the index's absence would keep may then be dropped as it is in a smaller one).
"""

from __future__ import annotations

from typing import Any

#: The most spans a request may have for the index to be built. A collector's batches are a
#: few thousand spans; this bounds what a hostile request can make the index hold.
MAX_INDEXED_SPANS = 65536

#: The sizes of OTLP's raw ids: every rule of ``otlp`` that reads ids reads these.
TRACE_ID_BYTES = 16
SPAN_ID_BYTES = 8


class RequestSpans:
    """Spans of a decoded ``ExportTraceServiceRequest`` by (trace id, span id), raw bytes."""

    __slots__ = ("_by_id", "_children", "_met", "_request")

    def __init__(self, request: Any) -> None:
        self._request = request
        self._by_id: dict[bytes, Any] | None = None
        self._children: dict[bytes, list[Any]] | None = None
        #: spans handed over by the walk, by their 16-byte trace id and 8-byte span id joined
        self._met: dict[bytes, Any] = {}

    def met(self, key: bytes, span: Any) -> None:
        """``span``, whose trace id and span id joined are ``key`` (24 bytes), is in the request."""
        self._met[key] = span

    def get(self, trace_id: bytes, span_id: bytes) -> Any | None:
        """The span of the request with these ids, or None (absent, or the request too large)."""
        if len(trace_id) == TRACE_ID_BYTES:  # else joined ids could stand for another pair
            met = self._met.get(trace_id + span_id)
            if met is not None:
                return met
        span = self._index().get(span_id)
        if span is None or span.trace_id != trace_id:
            return None
        return span

    def children(self, trace_id: bytes, span_id: bytes) -> list[Any]:
        """The spans of the request whose parent is this span (empty for an oversized request).

        The map of children is built on the first call, from the index (so at most once per
        request, and only for a request that needs it: one with a status-only failure kept).
        """
        children = self._children
        if children is None:
            children = self._children = {}
            for span in self._index().values():
                if span.parent_span_id:
                    children.setdefault(span.trace_id + span.parent_span_id, []).append(span)
        return children.get(trace_id + span_id, [])

    def _index(self) -> dict[bytes, Any]:
        """Every span of the request by span id, built on the first call."""
        by_id = self._by_id
        if by_id is None:
            by_id = self._by_id = self._build()
        return by_id

    def _build(self) -> dict[bytes, Any]:
        every: dict[bytes, Any] = {}
        for resource_spans in self._request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans = scope_spans.spans
                if len(every) + len(spans) > MAX_INDEXED_SPANS:
                    return {}  # too large: lookups end at what each rule already holds
                every.update({span.span_id: span for span in spans})  # a comprehension: faster
        return every
