"""The GenAI semantic conventions in a traces request: contexts and operations (CONTRACT §5 r2).

**Context.** A failure or an operation has five GenAI fields (:class:`GenAIContext`), each read
from the attributes of one *level*: provider from ``gen_ai.provider.name``, else the older
``gen_ai.system`` (of the same level); model from ``gen_ai.request.model``, else
``gen_ai.response.model``; operation ``gen_ai.operation.name``; tool ``gen_ai.tool.name``;
agent ``gen_ai.agent.name``. The levels, nearest first: the failure's own attributes (the
exception event's, or the log record's), its span's, each ancestor span's in turn (by
``parent_span_id``, in the same trace, across every resource and scope of the request), and
last the resource of the failure. Each field comes from the nearest level that has it, so a
failure on an ``execute_tool`` span gets its tool from its span and its agent from the
``invoke_agent`` span above it. A value is a non-empty string, or a number or boolean written
as text; an empty string, an array or a map counts as absent.

A log record's span level would be its span in the same request, but a logs request holds no
spans, so a logged failure's context is its own attributes, then its resource's.

**Operations.** A span is a GenAI operation when its name is an operation name of the
conventions (:data:`OPERATION_NAMES`) alone or followed by a space (``chat gpt-4o``; not
``chatbot.reply``) *and* it carries ``gen_ai.operation.name`` (non-empty). Every such span is
counted, failing or not, by the hour of its start time (UTC), its service and its context
found as for a failure. A span is counted once per request however often it appears in it.
Spans that cannot be counted soundly are skipped (they are not rejected: the request and its
failures are fine): a trace id that is not 16 bytes or a span id that is not 8, all-zero ids
(no identity, so no idempotency), and a start time of 0.

**Delivery key.** The counts of a request come with a digest of the sorted (trace id, span id)
pairs of the spans counted: the same spans in protobuf or JSON, in any order, batched in any
resource or scope, give the same key, and the store counts a key once. A sender that re-batches
(a collector that retries part of a batch in another request with other spans) makes another
key, and the spans that were in both requests are counted twice: the documented limit.

**Cost.** The test every span pays is its name: one read and a set lookup of its first word;
only the few spans that pass have their attributes read, and of those only the seven keys
above are looked at (nothing is flattened). Contexts are resolved after the walk, when every
operation span of the request is known: a parent that is one is found among them, and any
other through the request's one span index (:class:`~._spans.RequestSpans`), built on the first
lookup they cannot answer. An ancestor that is not an operation (an HTTP or a database span)
seldom holds a ``gen_ai.*`` key: its serialised bytes are searched for the prefix first, which
costs about half of reading its keys (see :func:`_level_of_span`). Each span's level and each
span's inherited context (its level merged with everything above it) is computed once and
remembered, so nested spans cost linear time.
Hostile input is bounded: a cycle of parent links ends a walk, and a walk goes up at most
:data:`MAX_ANCESTOR_HOPS` spans (what lies beyond is not read).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from collector_receiver.events import (
    NO_GENAI_CONTEXT,
    AttributeValue,
    FailureEvent,
    GenAIContext,
    OperationCounts,
    OperationKey,
)
from collector_receiver.otlp._spans import SPAN_ID_BYTES, TRACE_ID_BYTES, RequestSpans

#: The operation names of the GenAI span conventions (``gen_ai.operation.name`` values, which
#: are also the first word of the span name).
OPERATION_NAMES = frozenset(
    {
        "chat",
        "text_completion",
        "generate_content",
        "embeddings",
        "retrieval",
        "execute_tool",
        "invoke_agent",
        "create_agent",
        "invoke_workflow",
    }
)
#: How far up the parent links one walk goes. Agent traces are a few dozen spans deep.
MAX_ANCESTOR_HOPS = 256

_HOUR_NANOS = 3_600_000_000_000
_ZERO_TRACE = bytes(TRACE_ID_BYTES)
_ZERO_SPAN = bytes(SPAN_ID_BYTES)

# The attribute keys read, and the slot of a level each one fills: 0 provider, 1 the provider's
# fallback (gen_ai.system), 2 model, 3 the model's fallback, 4 operation, 5 tool, 6 agent.
_OPERATION_KEY = "gen_ai.operation.name"
_SLOTS = {
    "gen_ai.provider.name": 0,
    "gen_ai.system": 1,
    "gen_ai.request.model": 2,
    "gen_ai.response.model": 3,
    _OPERATION_KEY: 4,
    "gen_ai.tool.name": 5,
    "gen_ai.agent.name": 6,
}
_PREFIX = b"gen_ai."


def is_operation_name(span_name: str) -> bool:
    """Whether a span name begins with a GenAI operation name (alone or followed by a space)."""
    return span_name.partition(" ")[0] in OPERATION_NAMES


def _context(
    provider: str | None,
    model: str | None,
    operation: str | None,
    tool: str | None,
    agent: str | None,
) -> GenAIContext:
    # tuple.__new__ builds the named tuple in C: the Python-level __new__ of a NamedTuple is a
    # measurable share of the walk when it runs for every GenAI span.
    return tuple.__new__(GenAIContext, (provider, model, operation, tool, agent))


def _from_slots(slots: list[str | None]) -> GenAIContext:
    provider = slots[0] if slots[0] is not None else slots[1]
    model = slots[2] if slots[2] is not None else slots[3]
    if provider is model is slots[4] is slots[5] is slots[6] is None:
        return NO_GENAI_CONTEXT  # every empty context is this one: tested by identity
    return _context(provider, model, slots[4], slots[5], slots[6])


def _scalar_text(value: AttributeValue) -> str | None:
    """An attribute value as a context value: None for empty, arrays, maps and absent."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def _kv_text(kv: Any) -> str | None:
    """The same as :func:`_scalar_text`, for an OTLP ``KeyValue``."""
    value = kv.value
    text: str = value.string_value  # "" when the value is not a string: then look closer
    if text:
        return text
    kind = value.WhichOneof("value")
    if kind in ("bool_value", "int_value", "double_value"):
        return _scalar_text(getattr(value, kind))
    return None


def _found(key_values: Iterable[Any]) -> list[Any] | None:
    """The ``KeyValue`` of each slot (None where absent), or None when no key is read.

    Only keys are read here, one per attribute: values are read for the few keys found, and
    only the ones a level needs (a fallback key only when the key before it is absent).
    """
    slots: list[Any] | None = None
    slot_of = _SLOTS.get
    for kv in key_values:
        slot = slot_of(kv.key)
        if slot is not None:
            if slots is None:
                slots = [None] * 7
            slots[slot] = kv
    return slots


def _level_of_found(slots: list[Any]) -> GenAIContext:
    # Straight-line code, a string value read without a call (``string_value`` is "" for a
    # value of another type, which _kv_text then looks at): this runs for every operation.
    provider_kv, system_kv, request_kv, response_kv, operation_kv, tool_kv, agent_kv = slots
    provider = None
    if provider_kv is not None:
        provider = provider_kv.value.string_value or _kv_text(provider_kv)
    if provider is None and system_kv is not None:
        provider = system_kv.value.string_value or _kv_text(system_kv)
    model = None
    if request_kv is not None:
        model = request_kv.value.string_value or _kv_text(request_kv)
    if model is None and response_kv is not None:
        model = response_kv.value.string_value or _kv_text(response_kv)
    operation = None
    if operation_kv is not None:
        operation = operation_kv.value.string_value or _kv_text(operation_kv)
    tool = None
    if tool_kv is not None:
        tool = tool_kv.value.string_value or _kv_text(tool_kv)
    agent = None
    if agent_kv is not None:
        agent = agent_kv.value.string_value or _kv_text(agent_kv)
    if provider is model is operation is tool is agent is None:
        return NO_GENAI_CONTEXT
    return _context(provider, model, operation, tool, agent)


def level_of_key_values(key_values: Iterable[Any]) -> GenAIContext:
    """The context one level's OTLP ``KeyValue`` attributes give (a key given twice: the last)."""
    slots = _found(key_values)
    return NO_GENAI_CONTEXT if slots is None else _level_of_found(slots)


def _level_of_span(span: Any) -> GenAIContext:
    """The level of an ancestor that is not an operation counted in this request."""
    # Such spans (HTTP, database clients) rarely hold a gen_ai.* key, and their bytes, made in
    # C, say so for less than reading their keys one by one, which makes a Python object per
    # attribute: 0.74 against 1.3 us for 4 attributes, 2.3 against 3.6 for 15. Every key is in
    # the bytes verbatim, so when the prefix is not there no key has it; when it is (in a key,
    # a value or an event), the keys are read as for any level.
    if _PREFIX not in span.SerializeToString():
        return NO_GENAI_CONTEXT
    return level_of_key_values(span.attributes)


def level_of_attributes(attributes: Mapping[str, AttributeValue]) -> GenAIContext:
    """The context one level's flattened attributes give."""
    slots: list[str | None] | None = None
    for key, slot in _SLOTS.items():
        value = attributes.get(key)
        if value is not None:
            if slots is None:
                slots = [None] * 7
            slots[slot] = _scalar_text(value)
    return NO_GENAI_CONTEXT if slots is None else _from_slots(slots)


def nearest(near: GenAIContext, far: GenAIContext) -> GenAIContext:
    """Each field from ``near`` when it has it, else from ``far``."""
    if far is NO_GENAI_CONTEXT or None not in near:
        return near
    if near is NO_GENAI_CONTEXT:
        return far
    provider, model, operation, tool, agent = near
    return _context(
        provider if provider is not None else far[0],
        model if model is not None else far[1],
        operation if operation is not None else far[2],
        tool if tool is not None else far[3],
        agent if agent is not None else far[4],
    )


class RequestGenAI:
    """The GenAI contexts and operations of one traces request, found during its walk.

    The walk calls :meth:`operation` for every span whose name passes :func:`is_operation_name`
    and :meth:`failure` for each failure on a span; after it, :meth:`resolve` sets the failures'
    contexts and counts the operations. Resolving after the walk means every operation span of
    the request is known by then, so a parent that is one (an ``invoke_agent`` above its
    ``chat`` spans, exported after them) is found without indexing the request's spans.
    Spans are known by their trace id and span id joined (24 bytes for a sound pair: one bytes
    object, cheaper to hash than a tuple of two).
    """

    __slots__ = (
        "_failures",
        "_hours",
        "_inherited",
        "_levels",
        "_operations",
        "_seen",
        "_spans",
    )

    def __init__(self, spans: RequestSpans) -> None:
        self._spans = spans
        #: operation span -> (the span, its own level), for every span counted: parents are
        #: found here without the index, and its keys make the delivery key
        self._seen: dict[bytes, tuple[Any, GenAIContext]] = {}
        #: span -> its own level, for the spans a walk up passed
        self._levels: dict[bytes, GenAIContext] = {}
        #: span -> its level merged with every level above it
        self._inherited: dict[bytes, GenAIContext] = {}
        #: (key, trace id, span, own level, hour since the epoch, service, resource level)
        self._operations: list[tuple[bytes, bytes, Any, GenAIContext, int, str, GenAIContext]]
        self._operations = []
        #: (position in the failures, span, the event's own level, resource level)
        self._failures: list[tuple[int, Any, GenAIContext, GenAIContext]] = []
        self._hours: dict[int, datetime] = {}

    def operation(self, span: Any, service_name: str, resource: GenAIContext) -> None:
        """Count ``span`` (its name passed :func:`is_operation_name`) if it is an operation."""
        slots = _found(span.attributes)
        if slots is None or slots[4] is None:
            return  # a name like an operation's, without gen_ai.operation.name: not one
        own = _level_of_found(slots)
        if own[2] is None:  # its operation: gen_ai.operation.name is empty (or not text)
            return
        trace_id = span.trace_id
        span_id = span.span_id
        start = span.start_time_unix_nano
        if (
            len(trace_id) != TRACE_ID_BYTES
            or len(span_id) != SPAN_ID_BYTES
            or trace_id == _ZERO_TRACE
            or span_id == _ZERO_SPAN
            or not start
        ):
            return  # no identity to count it once by, or no time to count it in
        key = trace_id + span_id
        seen = self._seen
        if key in seen:
            return  # the same span twice in one request: counted once
        seen[key] = (span, own)
        self._spans.met(key, span)  # found by the other rules' lookups without the index
        self._operations.append(
            (key, trace_id, span, own, start // _HOUR_NANOS, service_name, resource)
        )

    def failure(self, position: int, span: Any, own: GenAIContext, resource: GenAIContext) -> None:
        """The failure at ``position`` of the request's failures is on ``span``; ``own`` is its
        exception event's level (:data:`NO_GENAI_CONTEXT` for a ``span_status`` failure)."""
        self._failures.append((position, span, own, resource))

    def resolve(self, events: list[FailureEvent]) -> OperationCounts | None:
        """Set each failure's context in ``events`` (in place) and count the operations; the
        counts, with the request's delivery key, or None when there are none."""
        for position, span, own, resource in self._failures:
            context = nearest(own, nearest(self._span_context(span), resource))
            if context is not NO_GENAI_CONTEXT:
                events[position] = replace(events[position], gen_ai=context)
        if not self._operations:
            return None
        inherited_of = self._inherited
        counts: dict[tuple[int, str, GenAIContext], int] = {}
        # The operations of a request fall into a few contexts: merged once each, an operation's
        # context is then the same object as its peers', which the buckets below compare by
        # identity before by value (bench_extract --genai: 0.93x CPU).
        merged: dict[tuple[GenAIContext, GenAIContext], GenAIContext] = {}
        for key, trace_id, span, own, hour, service_name, resource in self._operations:
            inherited = inherited_of.get(key)
            if inherited is None:
                above = self._above(span, trace_id)
                pair = (own, above)
                inherited = merged.get(pair)
                if inherited is None:
                    inherited = merged[pair] = nearest(own, above)
                inherited_of[key] = inherited
            if resource is not NO_GENAI_CONTEXT:
                inherited = nearest(inherited, resource)
            bucket = (hour, service_name, inherited)
            counts[bucket] = counts.get(bucket, 0) + 1
        keyed = {
            OperationKey(self._hour(hour), service, context): count
            for (hour, service, context), count in counts.items()
        }
        # Every key counted is 24 bytes, so the sorted keys joined are unambiguous.
        digest = hashlib.blake2b(b"".join(sorted(self._seen)), digest_size=16)
        return OperationCounts(counts=keyed, delivery_key=digest.hexdigest())

    def _span_context(self, span: Any) -> GenAIContext:
        """The context of ``span`` without its resource: its own level, then its ancestors'."""
        trace_id = span.trace_id
        span_id = span.span_id
        if len(span_id) != SPAN_ID_BYTES or len(trace_id) != TRACE_ID_BYTES:
            # not remembered: joined, ids of other lengths could stand for another pair
            return nearest(level_of_key_values(span.attributes), self._above(span, trace_id))
        key = trace_id + span_id
        known = self._inherited.get(key)
        if known is None:
            seen = self._seen.get(key)
            own = seen[1] if seen is not None else self._levels.get(key)
            if own is None:
                own = level_of_key_values(span.attributes)
            known = self._inherited[key] = nearest(own, self._above(span, trace_id))
        return known

    def _hour(self, hour: int) -> datetime:
        known = self._hours.get(hour)
        if known is None:
            known = self._hours[hour] = datetime.fromtimestamp(hour * 3600, tz=timezone.utc)
        return known

    def _above(self, span: Any, trace_id: bytes) -> GenAIContext:
        """The context the ancestors of ``span`` give, nearest first (memoised per ancestor)."""
        parent = span.parent_span_id
        if len(parent) != SPAN_ID_BYTES or len(trace_id) != TRACE_ID_BYTES:
            return NO_GENAI_CONTEXT  # no parent, or none a sound span could have
        key = trace_id + parent
        known = self._inherited.get(key)
        if known is not None:  # the common case: an earlier walk passed the parent
            return known
        return self._walk_up(trace_id, parent, key)

    def _walk_up(self, trace_id: bytes, parent: bytes, key: bytes) -> GenAIContext:
        """Up from ``parent`` (not yet known) to an ancestor whose inherited context is known,
        or the top; then the levels folded back down, each ancestor's inherited remembered."""
        inherited = self._inherited
        levels = self._levels
        path: list[tuple[bytes, GenAIContext]] = []
        context = NO_GENAI_CONTEXT
        seen = self._seen
        while True:
            operation = seen.get(key)
            if operation is not None:  # an operation span: no index needed, its level read
                node, level = operation
            else:
                node = self._spans.get(trace_id, parent)
                if node is None:  # the parent is not in this request
                    break
                level = _level_of_span(node)
            levels[key] = level
            path.append((key, level))
            parent = node.parent_span_id
            if len(parent) != SPAN_ID_BYTES or len(path) >= MAX_ANCESTOR_HOPS:
                break
            key = trace_id + parent
            known = inherited.get(key)
            if known is not None:
                context = known
                break
            if key in levels:
                # Read by a walk but not yet inherited: on this walk's own path, a cycle (every
                # earlier walk left each span it read inherited).
                break
        for key, level in reversed(path):
            context = inherited[key] = nearest(level, context)
        return context


__all__ = [
    "MAX_ANCESTOR_HOPS",
    "OPERATION_NAMES",
    "RequestGenAI",
    "is_operation_name",
    "level_of_attributes",
    "level_of_key_values",
    "nearest",
]
