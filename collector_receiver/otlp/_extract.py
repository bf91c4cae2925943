"""Decoded OTLP requests to flat :class:`FailureEvent` records (CONTRACT §4).

A failure is

* a span event named ``exception`` or ending in ``.exception`` (source ``span_event``) —
  unless the same failure is recorded again deeper in its lineage (a descendant span, or its
  own span earlier), or it is an exception group whose leaves are recorded there, or a
  wrapper whose cause chain names the one failure recorded there: then the deepest recording
  is the one row (see :mod:`._duplicate_events`);
* a log record carrying the attribute ``exception.type`` or ``exception.message``
  (source ``log_record``);
* a span whose status is ERROR, which carries the attribute ``error.type`` and has no exception
  event (source ``span_status``; the type is the ``error.type`` value, the message the status
  message) — unless an ancestor or descendant span of it in the same request carries an
  exception event: then it is the same failure seen by another layer (see :mod:`._lineage`).

Almost every span carries no failure, so the walk looks only at the event names and the status
code of a span before deciding to build anything; attributes are flattened for the few spans
and records that do carry one, and a resource's attributes once per resource that has one.

The same walk finds the GenAI context of each failure and counts the GenAI operations of a
traces request (:mod:`._genai`, CONTRACT §5 r2): a span's name is read to tell an operation,
and only a span whose name passes has its ``gen_ai.*`` attributes read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from google.protobuf.message import Message

from collector_receiver.events import (
    MAX_CAUSE_LEAVES,
    MAX_GROUP_LEAVES,
    NO_GENAI_CONTEXT,
    AttributeValue,
    FailureEvent,
    GenAIContext,
    GroupLeaf,
    OperationCounts,
)
from collector_receiver.otlp._attributes import find_attribute, flatten_attributes
from collector_receiver.otlp._duplicate_events import RepeatedEvents
from collector_receiver.otlp._genai import (
    OPERATION_NAMES,
    RequestGenAI,
    level_of_attributes,
    nearest,
)
from collector_receiver.otlp._lineage import SpanLineage
from collector_receiver.otlp._messages import Signal
from collector_receiver.otlp._spans import SPAN_ID_BYTES, TRACE_ID_BYTES, RequestSpans
from otel_failcat.attributes import (
    FAILCAT_BASE_TYPES,
    FAILCAT_CAUSE_BASE_TYPES,
    FAILCAT_CAUSE_MESSAGES,
    FAILCAT_CAUSE_TYPES,
    FAILCAT_FINGERPRINT,
    FAILCAT_GROUP_BASE_TYPES,
    FAILCAT_GROUP_CAUSE_TYPES,
    FAILCAT_GROUP_EXCEPTION_TYPES,
    FAILCAT_GROUP_MESSAGES,
    FAILCAT_RECORDING_ID,
    GROUP_NAME_SEPARATOR,
    LOGGED_EXCEPTION_EVENT_NAME,
)

#: ``service.name`` when the resource has none (the SDKs' default prefix).
DEFAULT_SERVICE_NAME = "unknown_service"
#: ``exception_type`` of a failure that names no type (only a message, or nothing at all).
UNKNOWN_EXCEPTION_TYPE = "unknown"
#: ``event_index`` of a ``span_status`` failure, apart from every real event index (≥ 0).
SPAN_STATUS_EVENT_INDEX = -1
#: At most this many distinct rejection reasons are kept; the count stays exact.
MAX_REASONS = 10

_STATUS_CODE_ERROR = 2
_LOG_FAILURE_KEYS = frozenset({"exception.type", "exception.message"})
#: At most this many names are read from one element of ``failcat.group.base_types`` or
#: ``cause_types``. The catalog looks at fewer; this only bounds what one string can make.
_MAX_LEAF_NAMES = 32


@dataclass
class ExtractResult:
    """What one request held: its failures, how many items it had, and what was rejected."""

    events: list[FailureEvent] = field(default_factory=list)
    #: Spans, log records or data points seen (all of them, failures or not).
    items: int = 0
    #: Items rejected inside the otherwise good request (OTLP partial success).
    rejected: int = 0
    #: Distinct reasons for the rejections, at most :data:`MAX_REASONS` of them.
    reasons: list[str] = field(default_factory=list)
    #: The GenAI operations of a traces request (CONTRACT §5 r2, :mod:`._genai`); None when it
    #: has none (and for logs and metrics).
    operations: OperationCounts | None = None

    def reject(self, reason: str) -> None:
        """Count one rejected item and remember why."""
        self.rejected += 1
        if len(self.reasons) < MAX_REASONS and reason not in self.reasons:
            self.reasons.append(reason)

    @property
    def error_message(self) -> str:
        """The reasons as one line, for ``partial_success.error_message`` ("" when none)."""
        if not self.rejected:
            return ""
        more = "" if len(self.reasons) < MAX_REASONS else "; ..."
        return f"{self.rejected} rejected: " + "; ".join(self.reasons) + more


def extract_failures(signal: Signal, request: Message) -> ExtractResult:
    """The failures in a decoded ``Export*ServiceRequest`` of ``signal``.

    Metrics carry no failures; their data points are only counted.
    """
    result = ExtractResult()
    if signal == "traces":
        _extract_traces(request, result)
    elif signal == "logs":
        _extract_logs(request, result)
    elif signal == "metrics":
        _count_data_points(request, result)
    else:
        raise ValueError(f"unknown OTLP signal {signal!r}")
    return result


class _BadId(ValueError):
    pass


def _hex_id(raw: bytes, size: int, name: str) -> str | None:
    """Lowercase hex of an id; None for an absent (empty or all-zero) one."""
    if not raw:
        return None
    if len(raw) != size:
        raise _BadId(f"{name} has {len(raw)} bytes, expected {size}")
    if not any(raw):
        return None
    return raw.hex()


class _Resource:
    """A resource's attributes, service name and GenAI level, flattened on first use only."""

    __slots__ = ("_message", "attributes", "gen_ai", "service_name")

    def __init__(self, message: Any) -> None:
        self._message = message
        self.attributes: dict[str, AttributeValue] | None = None
        self.service_name = DEFAULT_SERVICE_NAME
        #: The last level of a GenAI context (:mod:`._genai`).
        self.gen_ai = NO_GENAI_CONTEXT

    def load(self) -> _Resource:
        if self.attributes is None:
            self.attributes = flatten_attributes(self._message.attributes)
            name = self.attributes.get("service.name")
            if isinstance(name, str) and name:
                self.service_name = name
            self.gen_ai = level_of_attributes(self.attributes)
        return self


def _text(value: AttributeValue, default: str = "") -> str:
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cause_types(value: AttributeValue) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str) and item)
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return ()


#: ``failcat.recording_id`` as the agent writes it (``uuid4().hex``).
_RECORDING_ID = re.compile(r"[0-9a-f]{32}")


def _fingerprint(value: AttributeValue) -> str | None:
    return value if isinstance(value, str) and value else None


def _recording_id(value: AttributeValue) -> str | None:
    """``failcat.recording_id`` when it is what the agent sends (32 lowercase hex digits)."""
    if isinstance(value, str) and _RECORDING_ID.fullmatch(value):
        return value
    return None


def _names(value: AttributeValue) -> tuple[str, ...]:
    """One element of ``failcat.group.base_types``/``cause_types``: names joined by spaces."""
    if not isinstance(value, str) or not value:
        return ()
    names = value.split(GROUP_NAME_SEPARATOR, _MAX_LEAF_NAMES)[:_MAX_LEAF_NAMES]
    return tuple(name for name in names if name)


def _lists(attributes: dict[str, AttributeValue], *keys: str) -> list[list[AttributeValue]]:
    """The list values of ``keys`` (an absent or non-list value reads as an empty list)."""
    return [value if isinstance(value := attributes.get(key), list) else [] for key in keys]


def _text_at(values: list[AttributeValue], index: int) -> str:
    """Element ``index`` of one of a sender's aligned lists: "" when missing or not a string."""
    value = values[index] if index < len(values) else ""
    return value if isinstance(value, str) else ""


def _group_leaves(attributes: dict[str, AttributeValue]) -> tuple[GroupLeaf, ...]:
    """The leaves of an exception group from its aligned ``failcat.group.*`` lists.

    Lists shorter than the types list leave the missing parts empty; elements that are not
    strings count as empty; at most :data:`MAX_GROUP_LEAVES` leaves, however long the lists a
    sender wrote.
    """
    types = attributes.get(FAILCAT_GROUP_EXCEPTION_TYPES)
    if not isinstance(types, list):
        return ()
    messages, bases, causes = _lists(
        attributes, FAILCAT_GROUP_MESSAGES, FAILCAT_GROUP_BASE_TYPES, FAILCAT_GROUP_CAUSE_TYPES
    )
    return tuple(
        GroupLeaf(
            exception_type=_text_at(types, index),
            exception_message=_text_at(messages, index),
            cause_types=_names(_text_at(causes, index)),
            base_types=_names(_text_at(bases, index)),
        )
        for index in range(min(len(types), MAX_GROUP_LEAVES))
    )


def _cause_leaves(
    cause_types: tuple[str, ...], attributes: dict[str, AttributeValue]
) -> tuple[GroupLeaf, ...]:
    """The first links of the cause chain, from ``failcat.cause_messages`` and
    ``failcat.cause_base_types`` aligned with ``failcat.cause_types``: link ``i`` has the
    links after it as its own causes. At most :data:`MAX_CAUSE_LEAVES`, however long the lists
    a sender wrote; a missing or non-string element counts as empty.
    """
    messages, bases = _lists(attributes, FAILCAT_CAUSE_MESSAGES, FAILCAT_CAUSE_BASE_TYPES)
    return tuple(
        GroupLeaf(
            exception_type=link_type,
            exception_message=_text_at(messages, index),
            cause_types=cause_types[index + 1 : index + 1 + _MAX_LEAF_NAMES],
            base_types=_names(_text_at(bases, index)),
        )
        for index, link_type in enumerate(cause_types[:MAX_CAUSE_LEAVES])
    )


def _failure(
    *,
    source: Any,
    resource: _Resource,
    scope_name: str,
    span_name: str | None,
    trace_id: str | None,
    span_id: str | None,
    time_unix_nano: int,
    event_index: int,
    attributes: dict[str, AttributeValue],
    exception_type: str,
    exception_message: str,
    gen_ai: GenAIContext,
) -> FailureEvent:
    error_type = attributes.get("error.type")
    cause_types = _cause_types(attributes.get(FAILCAT_CAUSE_TYPES))
    return FailureEvent(
        source=source,
        service_name=resource.service_name,
        exception_type=exception_type or UNKNOWN_EXCEPTION_TYPE,
        exception_message=exception_message,
        stacktrace=_text(attributes.get("exception.stacktrace")),
        time_unix_nano=time_unix_nano,
        trace_id=trace_id,
        span_id=span_id,
        event_index=event_index,
        attributes=attributes,
        resource=resource.attributes or {},
        scope_name=scope_name,
        span_name=span_name,
        error_type=None if error_type is None else _text(error_type),
        cause_types=cause_types,
        fingerprint=_fingerprint(attributes.get(FAILCAT_FINGERPRINT)),
        recording_id=_recording_id(attributes.get(FAILCAT_RECORDING_ID)),
        base_types=_cause_types(attributes.get(FAILCAT_BASE_TYPES)),
        group_leaves=(
            _group_leaves(attributes) if FAILCAT_GROUP_EXCEPTION_TYPES in attributes else ()
        ),
        cause_leaves=(
            _cause_leaves(cause_types, attributes) if FAILCAT_CAUSE_MESSAGES in attributes else ()
        ),
        gen_ai=gen_ai,
    )


def _extract_traces(request: Any, result: ExtractResult) -> None:
    spans_by_id = RequestSpans(request)  # the one parent map of the request, built if needed
    lineage = SpanLineage()
    repeats = RepeatedEvents()
    genai = RequestGenAI(spans_by_id)
    operation_names = OPERATION_NAMES
    count_operation = genai.operation
    for resource_spans in request.resource_spans:
        resource = _Resource(resource_spans.resource)
        for scope_spans in resource_spans.scope_spans:
            spans = scope_spans.spans
            result.items += len(spans)
            for span in spans:
                # A GenAI operation is told by its name first (one read, a set lookup of its
                # first word); its attributes are read only when that passes (see _genai).
                if span.name.partition(" ")[0] in operation_names:
                    if resource.attributes is None:
                        resource.load()
                    count_operation(span, resource.service_name, resource.gen_ai)
                # The test every span pays, kept to the fewest protobuf accesses: event names
                # (only when there are events), then the status code. The OpenTelemetry SDKs
                # write a status on every span, so reading its code outright is one access
                # fewer than asking first whether it is set (benchmarks/bench_extract.py).
                # Everything else is built for the rare span that passes.
                events = span.events
                if events:
                    for event in events:
                        if event.name.endswith("exception"):  # narrowed in _span_failures
                            break
                    else:
                        events = None
                else:
                    events = None
                if events is not None or span.status.code == _STATUS_CODE_ERROR:
                    _span_failures(
                        span,
                        events,
                        resource,
                        scope_spans.scope.name,
                        result,
                        lineage,
                        repeats,
                        genai,
                    )
    # The failures' GenAI contexts and the operations, now that every span has been seen; by
    # position in the failures, so before any is dropped.
    result.operations = genai.resolve(result.events)
    # One failure, one row: the rare request with a status-only span and an exception event in
    # one trace drops the status-only failures an exception in their lineage explains, and one
    # with two exception events in a trace the recordings of a failure that a deeper recording
    # of it (or of what it wraps) explains (_duplicate_events).
    dropped = lineage.beside_exceptions(spans_by_id) | repeats.repeated(spans_by_id)
    # A status-only failure kept carries its lineage to the store: an exception log record on
    # one of its spans, which always arrives in a request of its own, is the same failure.
    for position, related in lineage.related_span_ids(spans_by_id, dropped).items():
        result.events[position] = replace(result.events[position], related_span_ids=related)
    if dropped:
        result.events = [e for i, e in enumerate(result.events) if i not in dropped]


def _is_exception_event(name: str) -> bool:
    return name.endswith("exception") and (len(name) == 9 or name[-10] == ".")


def _span_failures(
    span: Any,
    events: Any,
    resource: _Resource,
    scope_name: str,
    result: ExtractResult,
    lineage: SpanLineage,
    repeats: RepeatedEvents,
    genai: RequestGenAI,
) -> None:
    """The failures of one span that passed the cheap test.

    ``events`` are all the span's events when a name ends in "exception" (the exact rule is
    applied here), None when none does and the span's status is ERROR. ``lineage`` learns of
    the span when it is a status-only failure or carries an exception event, ``repeats`` of
    each exception event.
    """
    exception_events = None
    raw_trace_id = span.trace_id
    raw_span_id = span.span_id
    if events is not None:
        exception_events = [
            (index, event) for index, event in enumerate(events) if _is_exception_event(event.name)
        ]
        if not exception_events:  # only names like "myexception"
            exception_events = None
            if any(event.name == LOGGED_EXCEPTION_EVENT_NAME for event in events):
                # The agent sent this span's failure as a log record (logs mode): the log
                # record is the row, whatever the span's status, and for the lineage rule the
                # span counts as carrying an exception.
                if len(raw_trace_id) == TRACE_ID_BYTES and len(raw_span_id) == SPAN_ID_BYTES:
                    lineage.exception_span(span, raw_trace_id, raw_span_id)
                return
            if span.status.code != _STATUS_CODE_ERROR:
                return
    if exception_events is None and find_attribute(span.attributes, "error.type") is None:
        return  # an ERROR span without error.type is not a failure of its own
    try:
        trace_id = _hex_id(raw_trace_id, TRACE_ID_BYTES, "trace_id")
        span_id = _hex_id(raw_span_id, SPAN_ID_BYTES, "span_id")
    except _BadId as error:
        result.reject(f"span {span.name[:60]!r}: {error}")
        return
    resource.load()
    span_attributes = flatten_attributes(span.attributes)
    end_time = span.end_time_unix_nano or span.start_time_unix_nano
    # The GenAI context is set after the walk (RequestGenAI.resolve): the event's own level,
    # the span's and its ancestors', then the resource's.
    if exception_events is None:
        if trace_id is not None:  # without a trace there is no lineage to speak of
            lineage.status_only(len(result.events), span, raw_trace_id, raw_span_id)
        genai.failure(len(result.events), span, NO_GENAI_CONTEXT, resource.gen_ai)
        result.events.append(
            _failure(
                source="span_status",
                resource=resource,
                scope_name=scope_name,
                span_name=span.name,
                trace_id=trace_id,
                span_id=span_id,
                time_unix_nano=end_time,
                event_index=SPAN_STATUS_EVENT_INDEX,
                attributes=span_attributes,
                exception_type=_text(span_attributes.get("error.type")),
                exception_message=span.status.message,
                gen_ai=NO_GENAI_CONTEXT,
            )
        )
        return
    related = trace_id is not None and span_id is not None  # ids to follow lineage by
    if related:
        lineage.exception_span(span, raw_trace_id, raw_span_id)
    for index, event in exception_events:
        event_attributes = flatten_attributes(event.attributes)
        attributes = {**span_attributes, **event_attributes}
        genai.failure(
            len(result.events), span, level_of_attributes(event_attributes), resource.gen_ai
        )
        failure = _failure(
            source="span_event",
            resource=resource,
            scope_name=scope_name,
            span_name=span.name,
            trace_id=trace_id,
            span_id=span_id,
            time_unix_nano=event.time_unix_nano or end_time,
            event_index=index,
            attributes=attributes,
            exception_type=_text(attributes.get("exception.type")),
            exception_message=_text(attributes.get("exception.message")),
            gen_ai=NO_GENAI_CONTEXT,
        )
        if related:
            repeats.event(len(result.events), span, raw_trace_id, raw_span_id, failure)
        result.events.append(failure)


def _extract_logs(request: Any, result: ExtractResult) -> None:
    # event_index of a log record: how many failures of this request came before it with the
    # same service, time, ids and type. Usually 0; it tells apart records that are otherwise
    # identical, and unlike a position in the batch it does not change when a collector
    # re-batches the records before delivering them again.
    seen: dict[tuple[str, int, str | None, str | None, str], int] = {}
    for resource_logs in request.resource_logs:
        resource = _Resource(resource_logs.resource)
        for scope_logs in resource_logs.scope_logs:
            records = scope_logs.log_records
            result.items += len(records)
            for record in records:
                for kv in record.attributes:  # the cheap test: attribute keys only
                    if kv.key in _LOG_FAILURE_KEYS:
                        break
                else:
                    continue
                try:
                    trace_id = _hex_id(record.trace_id, TRACE_ID_BYTES, "trace_id")
                    span_id = _hex_id(record.span_id, SPAN_ID_BYTES, "span_id")
                except _BadId as error:
                    result.reject(f"log record: {error}")
                    continue
                resource.load()
                attributes = flatten_attributes(record.attributes)
                time_unix_nano = record.time_unix_nano or record.observed_time_unix_nano
                exception_type = _text(attributes.get("exception.type")) or UNKNOWN_EXCEPTION_TYPE
                key = (resource.service_name, time_unix_nano, trace_id, span_id, exception_type)
                index = seen.get(key, 0)
                seen[key] = index + 1
                result.events.append(
                    _failure(
                        source="log_record",
                        resource=resource,
                        scope_name=scope_logs.scope.name,
                        span_name=None,
                        trace_id=trace_id,
                        span_id=span_id,
                        time_unix_nano=time_unix_nano,
                        event_index=index,
                        attributes=attributes,
                        exception_type=exception_type,
                        exception_message=_text(attributes.get("exception.message")),
                        # A logs request holds no spans: the record's level, then the resource.
                        gen_ai=nearest(level_of_attributes(attributes), resource.gen_ai),
                    )
                )


def _count_data_points(request: Any, result: ExtractResult) -> None:
    for resource_metrics in request.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                if kind is not None:
                    result.items += len(getattr(metric, kind).data_points)
