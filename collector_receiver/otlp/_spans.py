"""The spans of one traces request by span id: the one parent map of a request.

Two rules look up a span's parent in the same request: one failure, one row (:mod:`._lineage`)
and the GenAI context of a failure or an operation (:mod:`._genai`). Both follow
``parent_span_id`` across every resource and scope of the request, so they share one index,
built on the first lookup only (most requests never need it) and at most once per request.

Building it reads ``span_id`` once per span; ``trace_id`` is read only for the spans a lookup
reaches, to tell apart two traces that reuse a span id. A request of more than
:data:`MAX_INDEXED_SPANS` spans is not indexed (a hostile one cannot make it hold millions of
entries): every lookup then answers None, and each rule says what it does without the parent.
"""

from __future__ import annotations

from typing import Any

#: The most spans a request may have for the index to be built. A collector's batches are a
#: few thousand spans; this bounds what a hostile request can make the index hold.
MAX_INDEXED_SPANS = 65536


class RequestSpans:
    """Spans of a decoded ``ExportTraceServiceRequest`` by (trace id, span id), raw bytes."""

    __slots__ = ("_by_id", "_request")

    def __init__(self, request: Any) -> None:
        self._request = request
        self._by_id: dict[bytes, Any] | None = None

    def get(self, trace_id: bytes, span_id: bytes) -> Any | None:
        """The span of the request with these ids, or None (absent, or the request too large)."""
        by_id = self._by_id
        if by_id is None:
            by_id = self._by_id = self._build()
        span = by_id.get(span_id)
        if span is None or span.trace_id != trace_id:
            return None
        return span

    def _build(self) -> dict[bytes, Any]:
        every: dict[bytes, Any] = {}
        for resource_spans in self._request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans = scope_spans.spans
                if len(every) + len(spans) > MAX_INDEXED_SPANS:
                    return {}  # too large: lookups end at what each rule already holds
                every.update({span.span_id: span for span in spans})  # a comprehension: faster
        return every
