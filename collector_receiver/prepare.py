"""The prepare stage: FailureEvents to MatchedFailures ready to store.

For each failure, in this order:

1. **Redact and cap** every text that is stored (CONTRACT §4 r2) with the agent's own rules
   (``otel_failcat.redaction``), so that failures from agents without ``otel_failcat`` never
   store a secret either: the message (which for a ``span_status`` failure is the span's status
   description) and stacktrace, the exception type and ``service.name`` (before either becomes
   a column, a fingerprint input or a metric label; then cut to :data:`MAX_NAME_LENGTH`), and
   the attributes: keys and values at any depth, each string through ``Redactor.message``, a
   value under a key that names a credential replaced whole by ``[REDACTED]``
   (``redact_attribute``, the walk the agent uses). The stored attributes are the event's
   (without ``exception.message`` and ``exception.stacktrace``, which have their own columns)
   plus, when the event does not carry them, a few resource attributes (service version,
   namespace, instance, deployment environment), the instrumentation scope name
   (``otel.scope.name``) and the span name (``failcat.span.name``), all redacted alike, and
   cut to the :class:`~collector_receiver.attribute_limits.AttributeLimits` (at most 128
   attributes, 256-character keys, 128-value lists, 64 KiB of JSON; what is cut is counted in
   ``failcat.dropped_attributes``). A log record's body is not stored. The five GenAI
   context values (``gen_ai_provider`` .. ``gen_ai_agent``, CONTRACT §5 r2) are redacted and cut
   like the type and service name, and so are those of the request's operation counts
   (:meth:`FailurePreparer.prepare_operations`), so that a failure and the operations it is
   divided by meet on the same stored values.
2. **Match** the redacted failure against the catalog: matching never sees a secret (the type,
   ``error.type`` and the cause types are redacted as well), and a pattern written against
   what is stored matches what is stored: attribute rules see the stored attributes, plus
   ``exception.message``/``exception.stacktrace`` (redacted) when a rule reads them. The base
   types and the leaves of an exception group (type, message, bases, causes) are redacted
   alike before matching.
3. **Normalise** the redacted message to its template and **fingerprint** the failure: the
   agent's ``failcat.fingerprint`` when it is a well-formed digest (32 hex characters), else
   ``compute_fingerprint(service, type, redacted message, redacted stacktrace)``.
4. Build the :class:`MatchedFailure` row.

Every value is also made storable (the rule is :mod:`collector_receiver.storable`): NUL
characters, which PostgreSQL refuses in text and JSON, are removed (before redaction: removed
after it, a NUL could join the halves of a secret into one the rules had not seen); non-finite
doubles in attributes (NaN, infinities), which JSON cannot hold, become the strings ``"nan"``,
``"inf"``, ``"-inf"``. A value the database would refuse would otherwise fail the whole batch,
and a retrying sender would send it again forever.

Work is not repeated: redaction results are memoised per preparer in small LRU caches keyed by
the exact text (failures of one kind share their stacktrace; attribute values recur), and the
``exception.message``/``exception.stacktrace`` attributes, which are not stored, are redacted
only when an attribute rule of the catalog reads them. Both are pure savings: every output is the
same as without them. Assigning ``preparer.redactor`` starts with empty caches.

Reloading the catalog: ``preparer.catalog = new_catalog`` (or :meth:`FailurePreparer.with_catalog`)
is a single attribute assignment, atomic under the GIL. :meth:`FailurePreparer.prepare` reads the
attribute once per call, so one batch is matched against one catalog and carries one
``catalog_version``, even if a reload lands while it runs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from collector_receiver.attribute_limits import AttributeLimits, store_attributes
from collector_receiver.catalog import Catalog, Match
from collector_receiver.events import (
    NO_GENAI_CONTEXT,
    AttributeValue,
    FailureEvent,
    GenAIContext,
    GroupLeaf,
    MatchedFailure,
    OperationCounts,
    OperationKey,
)
from collector_receiver.storable import without_nul
from otel_failcat.fingerprint import FINGERPRINT_MESSAGE_CHARS, compute_fingerprint
from otel_failcat.normalize import message_template
from otel_failcat.redaction import Redactor, redact_attribute

#: Longest service name and exception type stored; longer ones are cut.
MAX_NAME_LENGTH = 255

#: Attributes with columns of their own, not repeated in the stored attributes JSON.
_COLUMN_ATTRIBUTES = frozenset({"exception.message", "exception.stacktrace"})
#: Resource attributes worth keeping with each stored failure.
_RESOURCE_ATTRIBUTES = (
    "service.version",
    "service.namespace",
    "service.instance.id",
    "deployment.environment",
    "deployment.environment.name",
)
_SCOPE_ATTRIBUTE = "otel.scope.name"
_SPAN_NAME_ATTRIBUTE = "failcat.span.name"
#: Prefixes of the attributes that describe the failure itself, stored before any other.
_OWN_PREFIXES = ("exception.", "failcat.", "error.")
_FINGERPRINT = re.compile(r"[0-9a-f]{32}")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# Redaction is pure, and failures repeat: one code path sends the same stacktrace again and again,
# and attribute values ("chat", a model name, a URL) recur in every failure. Results are kept in
# per-preparer LRU caches keyed by the exact text. Longer texts are not cached, which bounds the
# memory held: at most 512 x 16 Ki + 2048 x 1 Ki characters in, about as many out (~20 MB of
# ASCII in the worst case, a few MB for typical stacktraces of 3-6 kB).
_STACKTRACE_CACHE_SIZE = 512
_MAX_CACHED_STACKTRACE = 16384
_TEXT_CACHE_SIZE = 2048
_MAX_CACHED_TEXT = 1024


class FailurePreparer:
    """Redacts, normalises, fingerprints and matches failures (see the module docstring)."""

    def __init__(
        self, catalog: Catalog, redactor: Redactor, limits: AttributeLimits | None = None
    ) -> None:
        #: The catalog in use; assign a new one to reload (atomic, see the module docstring).
        self.catalog = catalog
        self.redactor = redactor
        #: The caps on stored attributes (:mod:`collector_receiver.attribute_limits`).
        self.limits = limits if limits is not None else AttributeLimits()
        self._columns_read_for: tuple[Catalog, frozenset[str]] | None = None

    @property
    def redactor(self) -> Redactor:
        """The redactor in use; assigning another one also starts fresh caches."""
        return self._caches.redactor

    @redactor.setter
    def redactor(self, redactor: Redactor) -> None:
        # One object, one assignment: a concurrent prepare sees old or new caches, never a mix.
        self._caches = _RedactionCaches(redactor)

    def with_catalog(self, catalog: Catalog) -> FailurePreparer:
        """A preparer with the same redactor and limits and another catalog."""
        return FailurePreparer(catalog, self.redactor, self.limits)

    def prepare(self, events: Sequence[FailureEvent]) -> list[tuple[MatchedFailure, Match]]:
        """Each event as a storable :class:`MatchedFailure`, with the catalog match behind it."""
        catalog = self.catalog  # one catalog for the whole batch, even if reloaded meanwhile
        caches = self._caches
        columns_read = self._columns_read(catalog)
        return [self._prepare_one(catalog, caches, columns_read, event) for event in events]

    def prepare_operations(self, operations: OperationCounts) -> OperationCounts:
        """A request's operation counts with their service names and context values redacted
        and cut as a failure's are (two keys that become one add up); the delivery key stays."""
        caches = self._caches
        counts: dict[OperationKey, int] = {}
        for key, count in operations.counts.items():
            stored = OperationKey(
                key.bucket_start, caches.name(key.service_name), caches.gen_ai(key.context)
            )
            counts[stored] = counts.get(stored, 0) + count
        return OperationCounts(counts=counts, delivery_key=operations.delivery_key)

    def _columns_read(self, catalog: Catalog) -> frozenset[str]:
        """The column attributes some attribute rule of ``catalog`` reads.

        They are left out of the stored attributes anyway, so unless the catalog matches on one,
        redacting them (a whole stacktrace, a second time) is wasted work.
        """
        known = self._columns_read_for
        if known is not None and known[0] is catalog:
            return known[1]
        read = {rule.key for entry in catalog.entries for rule in entry.match.attributes}
        columns_read = _COLUMN_ATTRIBUTES & read
        self._columns_read_for = (catalog, columns_read)
        return columns_read

    def _prepare_one(
        self,
        catalog: Catalog,
        caches: _RedactionCaches,
        columns_read: frozenset[str],
        event: FailureEvent,
    ) -> tuple[MatchedFailure, Match]:
        message = caches.message(without_nul(event.exception_message))
        stacktrace = caches.stacktrace(without_nul(event.stacktrace))
        exception_type = caches.name(event.exception_type)
        service_name = caches.name(event.service_name)
        attributes = store_attributes(_stored_order(event), self.limits, caches.text)
        match_attributes: Mapping[str, AttributeValue] = attributes
        read = [key for key in columns_read if key in event.attributes]
        if read:  # a rule of the catalog reads a column attribute: it sees it redacted too
            match_attributes = {
                **attributes,
                **{key: redact_attribute(key, event.attributes[key], caches.text) for key in read},
            }
        match = catalog.match(
            _MatchView(
                exception_type=exception_type,
                exception_message=message,
                cause_types=tuple(caches.name(cause) for cause in event.cause_types),
                attributes=match_attributes,
                error_type=None if event.error_type is None else caches.name(event.error_type),
                base_types=tuple(caches.name(base) for base in event.base_types),
                group_leaves=tuple(caches.leaf(leaf) for leaf in event.group_leaves),
                cause_leaves=tuple(caches.leaf(leaf) for leaf in event.cause_leaves),
            )
        )
        template = message_template(message)
        failure = MatchedFailure(
            event_key=event.event_key(),
            trace_id=event.trace_id,
            span_id=event.span_id,
            service_name=service_name,
            code=match.code,
            category=match.category,
            severity=match.severity,
            catalog_version=match.catalog_version,
            exception_type=exception_type,
            exception_message=message,
            stacktrace=stacktrace,
            fingerprint=_fingerprint_of(
                event, service_name, exception_type, message, stacktrace, template
            ),
            message_template=template,
            source=event.source,
            occurred_at=occurred_at(event.time_unix_nano),
            attributes=attributes,
            gen_ai=caches.gen_ai(event.gen_ai),
            related_span_ids=event.related_span_ids,
        )
        return failure, match


class _MatchView(NamedTuple):
    """The redacted failure as :meth:`Catalog.match` reads it (its ``MatchInput``).

    Cheaper to build than a copy of the whole :class:`FailureEvent`, and all that matching sees.
    """

    exception_type: str
    exception_message: str
    cause_types: Sequence[str]
    attributes: Mapping[str, AttributeValue]
    error_type: str | None
    base_types: Sequence[str]
    group_leaves: Sequence[GroupLeaf]
    cause_leaves: Sequence[GroupLeaf]


class _RedactionCaches:
    """A redactor's ``message`` and ``stacktrace``, memoised (see ``_STACKTRACE_CACHE_SIZE``).

    ``functools.lru_cache`` is thread-safe, so one instance serves concurrent batches.
    """

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._message = functools.lru_cache(maxsize=_TEXT_CACHE_SIZE)(redactor.message)
        self._stacktrace = functools.lru_cache(maxsize=_STACKTRACE_CACHE_SIZE)(redactor.stacktrace)

    def message(self, text: str) -> str:
        # Exactly str (not a subclass, whose equality or hash could differ) and not too long.
        if type(text) is str and len(text) <= _MAX_CACHED_TEXT:
            return self._message(text)
        return self.redactor.message(text)

    def stacktrace(self, text: str) -> str:
        if type(text) is str and len(text) <= _MAX_CACHED_STACKTRACE:
            return self._stacktrace(text)
        return self.redactor.stacktrace(text)

    def text(self, text: str) -> str:
        """A string stored as text (attribute values and keys): NUL removed, redacted, capped.

        NUL goes first: removed after redaction it could join the halves of a secret.
        """
        return self.message(without_nul(text))

    def name(self, text: str) -> str:
        """A service name or exception type: redacted like a message, then cut to a name."""
        return self.message(without_nul(text))[:MAX_NAME_LENGTH]

    def gen_ai(self, context: GenAIContext) -> GenAIContext:
        """A GenAI context as stored: each value redacted and cut like a name."""
        if context is NO_GENAI_CONTEXT:
            return context
        return GenAIContext(*(None if value is None else self.name(value) for value in context))

    def leaf(self, leaf: GroupLeaf) -> GroupLeaf:
        """A leaf of an exception group, or a link of the cause chain, as matching sees it:
        every text redacted like the failure's own (its message is also stored, redacted, in
        ``failcat.group.messages`` / ``failcat.cause_messages``)."""
        return GroupLeaf(
            exception_type=self.name(leaf.exception_type),
            exception_message=self.message(without_nul(leaf.exception_message)),
            cause_types=tuple(self.name(cause) for cause in leaf.cause_types),
            base_types=tuple(self.name(base) for base in leaf.base_types),
        )


def _stored_order(event: FailureEvent) -> list[tuple[str, AttributeValue]]:
    """The attributes to store, in the order the attribute budget is spent on them.

    The failure's own attributes first (``exception.type``, ``failcat.fingerprint``,
    ``error.type``, ...), so that a span with many attributes of its own cannot crowd them out;
    then the context the receiver adds when the event does not carry it (a few resource
    attributes, the scope name, the span name); then the event's other attributes, in order.
    """
    own: list[tuple[str, AttributeValue]] = []
    rest: list[tuple[str, AttributeValue]] = []
    for key, value in event.attributes.items():
        if key not in _COLUMN_ATTRIBUTES:
            (own if key.startswith(_OWN_PREFIXES) else rest).append((key, value))
    present = event.attributes
    for key in _RESOURCE_ATTRIBUTES:
        value = event.resource.get(key)
        if value is not None and key not in present:
            own.append((key, value))
    if event.scope_name and _SCOPE_ATTRIBUTE not in present:
        own.append((_SCOPE_ATTRIBUTE, event.scope_name))
    if event.span_name and _SPAN_NAME_ATTRIBUTE not in present:
        own.append((_SPAN_NAME_ATTRIBUTE, event.span_name))
    own.extend(rest)
    return own


def occurred_at(time_unix_nano: int) -> datetime:
    """An OTLP time (Unix nanoseconds) as an aware UTC datetime, exact to the microsecond."""
    return _EPOCH + timedelta(microseconds=time_unix_nano // 1000)


def _fingerprint_of(
    event: FailureEvent,
    service_name: str,
    exception_type: str,
    message: str,
    stacktrace: str,
    template: str,
) -> str:
    sent = (event.fingerprint or "").lower()
    if _FINGERPRINT.fullmatch(sent):
        return sent
    # The fingerprint templates the message's first characters only: the stored template is
    # that one when the message is no longer, and is not computed twice.
    fingerprint_template = template if len(message) <= FINGERPRINT_MESSAGE_CHARS else None
    return compute_fingerprint(
        service_name, exception_type, message, stacktrace, template=fingerprint_template
    )


__all__ = [
    "MAX_NAME_LENGTH",
    "FailurePreparer",
    "occurred_at",
]
