"""The receiver's data model: what flows from one stage of the pipeline to the next.

The flow runs one way::

    OTLP bytes --decode--> request message --extract_failures--> FailureEvent
      --prepare (redact, normalise, fingerprint, Catalog.match)--> MatchedFailure
      --FailureStore.write_batch--> rows --> counters --> acknowledgement

Only the ``otlp`` package touches protobuf classes and only the ``store`` package touches
SQLAlchemy; everything in between speaks these plain, immutable dataclasses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple, TypeAlias

#: A value of an OTLP attribute once flattened: scalars, homogeneous lists, or nested maps
#: (kvlist values) as plain dicts. Bytes values are rendered as lowercase hex.
AttributeValue: TypeAlias = (
    "str | bool | int | float | list[AttributeValue] | dict[str, AttributeValue] | None"
)

#: Where a failure was found (CONTRACT §5, column ``source``).
FailureSource = Literal["span_event", "log_record", "span_status"]

#: The code stored for a failure that no catalog entry matches (CONTRACT §3).
UNCATALOGED = "UNCATALOGED"


#: How many leaves of an exception group are read and matched: the agent sends at most 16
#: (``otel_failcat.attributes``); a longer list from another sender is cut.
MAX_GROUP_LEAVES = 16
#: How many links of a cause chain are matched as failures of their own: the agent describes
#: at most 8 (``failcat.cause_messages``); a longer list from another sender is cut.
MAX_CAUSE_LEAVES = 8


class GenAIContext(NamedTuple):
    """The five GenAI columns of a failure or an operation (CONTRACT §5 r2); None = absent.

    A named tuple rather than a dataclass: it is a key of the operation counts (hashed once per
    GenAI span) and a tuple hashes and compares without Python-level code.
    """

    provider: str | None = None
    model: str | None = None
    operation: str | None = None
    tool: str | None = None
    agent: str | None = None


#: The context of a failure or operation that carries no GenAI attribute at any level.
NO_GENAI_CONTEXT = GenAIContext()


class OperationKey(NamedTuple):
    """One row of ``gen_ai_operations``: an hour (UTC, the span's start time truncated) and a
    context."""

    #: tz-aware UTC, minute/second/microsecond = 0.
    bucket_start: datetime
    service_name: str
    context: GenAIContext


@dataclass(frozen=True)
class OperationCounts:
    """The GenAI operations one request holds (CONTRACT §5 r2), and its delivery identity."""

    counts: Mapping[OperationKey, int]
    #: 32 lowercase hex: a digest of the sorted (trace_id, span_id) of every counted span of
    #: the request — the same spans in whatever encoding or order give the same key, so a
    #: request delivered again is counted once (the store keeps the keys it has counted).
    delivery_key: str


@dataclass(frozen=True, slots=True)
class GroupLeaf:
    """One failure inside an exception group, as ``otel_failcat`` describes it (the
    ``failcat.group.*`` attributes): what the catalog matches a leaf by.

    A leaf has no stacktrace, attributes or ``error.type`` of its own: those belong to the span
    the group was recorded on, so a leaf is matched by its type, bases, causes and message only.
    """

    exception_type: str
    exception_message: str = ""
    cause_types: tuple[str, ...] = ()
    base_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FailureEvent:
    """One failure as found in OTLP, before redaction and matching.

    Attributes merge the span's (or log record's) attributes with the event's own, the event's
    winning on conflicts; resource attributes are kept apart in ``resource``.
    """

    source: FailureSource
    service_name: str
    exception_type: str
    exception_message: str
    stacktrace: str
    #: Unix time in nanoseconds of the event (span event time, log record time, or span end).
    time_unix_nano: int
    #: 32 lowercase hex characters, or None (a log record without trace context).
    trace_id: str | None
    #: 16 lowercase hex characters, or None.
    span_id: str | None
    #: Position of the failure inside its span (event index) or log batch, for the event key.
    event_index: int = 0
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    resource: Mapping[str, AttributeValue] = field(default_factory=dict)
    scope_name: str = ""
    span_name: str | None = None
    #: The span attribute ``error.type`` when present.
    error_type: str | None = None
    #: ``failcat.cause_types`` as sent by ``otel_failcat`` (outermost first), else empty.
    cause_types: tuple[str, ...] = ()
    #: ``failcat.fingerprint`` as sent by ``otel_failcat``, else None (the receiver computes one).
    fingerprint: str | None = None
    #: ``failcat.base_types`` as sent by ``otel_failcat`` (the type's bases, nearest first).
    base_types: tuple[str, ...] = ()
    #: The failures inside an exception group (``failcat.group.*``), in the agent's order;
    #: empty for a failure that is not a group. The catalog classifies a group by them.
    group_leaves: tuple[GroupLeaf, ...] = ()
    #: The first links of the cause chain (``failcat.cause_messages`` / ``.cause_base_types``
    #: beside ``failcat.cause_types``), outermost first, each with the links below it as its
    #: causes: what the catalog classifies a wrapper by when its own type names no entry.
    cause_leaves: tuple[GroupLeaf, ...] = ()
    #: The GenAI context (CONTRACT §5 r2): from the failure's own attributes, its span, the
    #: nearest ancestor span of the request, or the resource. Not yet redacted or capped.
    gen_ai: GenAIContext = NO_GENAI_CONTEXT
    #: ``failcat.recording_id`` as sent by ``otel_failcat`` in ``logs/dup`` mode (32 hex
    #: digits), else None: one recording sent both as a span event and as a log record.
    recording_id: str | None = None
    #: A ``span_status`` failure's lineage in its request (span ids, lowercase hex: ancestors
    #: nearest first, then descendants), else empty: an exception log record on one of these
    #: spans, in the same trace, is this failure recorded on the other signal.
    related_span_ids: tuple[str, ...] = ()

    def event_key(self) -> str:
        """The idempotency key of CONTRACT §4: the same failure delivered twice gets the same key.

        Derived from trace id, span id, time, type and event index — plus the service name and
        source, so that two log records without trace context at the same nanosecond in two
        services cannot collide. A failure with a ``recording_id`` (``logs/dup``) is keyed by it
        and its service instead, without the source: its span event and its log record are one
        failure, stored once whichever arrives first and whatever requests carry them.
        """
        if self.recording_id is not None:
            recorded = ("recording", self.service_name, self.recording_id)
            return hashlib.sha256("\x1f".join(recorded).encode("utf-8")).hexdigest()[:40]
        parts = (
            self.source,
            self.service_name,
            self.trace_id or "",
            self.span_id or "",
            str(self.time_unix_nano),
            self.exception_type,
            str(self.event_index),
        )
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class MatchedFailure:
    """A failure ready to be stored: redacted, normalised, fingerprinted and matched.

    Field names are the columns of ``failure_matches`` (CONTRACT §5), plus
    ``message_template`` for ``failure_patterns``.
    """

    event_key: str
    trace_id: str | None
    span_id: str | None
    service_name: str
    code: str
    category: str
    severity: str
    catalog_version: str
    exception_type: str
    exception_message: str
    stacktrace: str
    fingerprint: str
    message_template: str
    source: FailureSource
    occurred_at: datetime
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    #: Columns ``gen_ai_provider`` .. ``gen_ai_agent``, redacted and capped like the other
    #: stored names.
    gen_ai: GenAIContext = NO_GENAI_CONTEXT
    #: A ``span_status`` failure's lineage (``FailureEvent.related_span_ids``), stored in the
    #: column ``related_span_ids``, space-separated; empty for other sources.
    related_span_ids: tuple[str, ...] = ()


__all__ = [
    "MAX_CAUSE_LEAVES",
    "MAX_GROUP_LEAVES",
    "NO_GENAI_CONTEXT",
    "UNCATALOGED",
    "FailureEvent",
    "FailureSource",
    "GenAIContext",
    "GroupLeaf",
    "MatchedFailure",
    "OperationCounts",
    "OperationKey",
]
