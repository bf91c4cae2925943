"""The prepare stage: FailureEvents to MatchedFailures ready to store.

For each failure, in this order:

1. **Redact and cap** the message and stacktrace with the agent's own rules
   (``otel_failcat.redaction.Redactor``), so that failures from agents without ``otel_failcat``
   never store a secret either. String attribute values are redacted and capped the same way
   (``Redactor.message``), at any depth.
2. **Match** the redacted failure against the catalog: matching never sees a secret, and a
   message pattern written against what is stored matches what is stored.
3. **Normalise** the redacted message to its template and **fingerprint** the failure: the
   agent's ``failcat.fingerprint`` when it is a well-formed digest (32 hex characters), else
   ``compute_fingerprint(service, type, redacted message, redacted stacktrace)``.
4. Build the :class:`MatchedFailure` row. Its attributes drop ``exception.message`` and
   ``exception.stacktrace`` (they have their own columns) and add, when not already present, a
   few resource attributes (service version, namespace, instance, deployment environment), the
   instrumentation scope name (``otel.scope.name``) and the span name (``failcat.span.name``).

Every value is also made storable: NUL characters, which PostgreSQL refuses in text and JSON,
are removed; non-finite doubles in attributes (NaN, infinities), which JSON cannot hold, become
the strings ``"nan"``, ``"inf"``, ``"-inf"``; and the service name and exception type are capped
at :data:`MAX_NAME_LENGTH` characters. A value the database would refuse would otherwise fail the
whole batch, and a retrying sender would send it again forever.

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
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from collector_receiver.catalog import Catalog, Match
from collector_receiver.events import AttributeValue, FailureEvent, MatchedFailure
from otel_failcat.fingerprint import compute_fingerprint
from otel_failcat.normalize import message_template
from otel_failcat.redaction import Redactor

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

    def __init__(self, catalog: Catalog, redactor: Redactor) -> None:
        #: The catalog in use; assign a new one to reload (atomic, see the module docstring).
        self.catalog = catalog
        self.redactor = redactor
        self._skipped_for: tuple[Catalog, frozenset[str]] | None = None

    @property
    def redactor(self) -> Redactor:
        """The redactor in use; assigning another one also starts fresh caches."""
        return self._caches.redactor

    @redactor.setter
    def redactor(self, redactor: Redactor) -> None:
        # One object, one assignment: a concurrent prepare sees old or new caches, never a mix.
        self._caches = _RedactionCaches(redactor)

    def with_catalog(self, catalog: Catalog) -> FailurePreparer:
        """A preparer with the same redactor and another catalog."""
        return FailurePreparer(catalog, self.redactor)

    def prepare(self, events: Sequence[FailureEvent]) -> list[tuple[MatchedFailure, Match]]:
        """Each event as a storable :class:`MatchedFailure`, with the catalog match behind it."""
        catalog = self.catalog  # one catalog for the whole batch, even if reloaded meanwhile
        caches = self._caches
        skipped = self._skipped_columns(catalog)
        return [self._prepare_one(catalog, caches, skipped, event) for event in events]

    def _skipped_columns(self, catalog: Catalog) -> frozenset[str]:
        """Column attributes that need no redaction: no attribute rule of ``catalog`` reads them.

        They are left out of the stored attributes anyway, so unless the catalog matches on one,
        redacting them (a whole stacktrace, a second time) is wasted work.
        """
        known = self._skipped_for
        if known is not None and known[0] is catalog:
            return known[1]
        read = {rule.key for entry in catalog.entries for rule in entry.match.attributes}
        skipped = _COLUMN_ATTRIBUTES - read
        self._skipped_for = (catalog, skipped)
        return skipped

    def _prepare_one(
        self,
        catalog: Catalog,
        caches: _RedactionCaches,
        skipped: frozenset[str],
        event: FailureEvent,
    ) -> tuple[MatchedFailure, Match]:
        message = _storable(caches.message(event.exception_message))
        stacktrace = _storable(caches.stacktrace(event.stacktrace))
        exception_type = _name(caches.redactor.redact(event.exception_type))
        service_name = _name(event.service_name)
        attributes = {
            key: caches.value(value)
            for key, value in ((_storable(k), v) for k, v in event.attributes.items())
            if key not in skipped
        }
        match = catalog.match(
            _MatchView(
                exception_type=exception_type,
                exception_message=message,
                cause_types=event.cause_types,
                attributes=attributes,
                error_type=None if event.error_type is None else _name(event.error_type),
            )
        )
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
            fingerprint=_fingerprint_of(event, service_name, exception_type, message, stacktrace),
            message_template=message_template(message),
            source=event.source,
            occurred_at=occurred_at(event.time_unix_nano),
            attributes=_stored_attributes(caches, event, attributes),
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

    def value(self, value: AttributeValue) -> AttributeValue:
        """An attribute value redacted and made storable, at any depth."""
        if isinstance(value, str):
            return _storable(self.message(value))
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {_storable(key): self.value(item) for key, item in value.items()}
        if isinstance(value, float) and not math.isfinite(value):
            return repr(value)  # "nan", "inf", "-inf": PostgreSQL's JSON has no such numbers
        return value


def _stored_attributes(
    caches: _RedactionCaches, event: FailureEvent, attributes: Mapping[str, AttributeValue]
) -> dict[str, AttributeValue]:
    stored = {key: value for key, value in attributes.items() if key not in _COLUMN_ATTRIBUTES}
    for key in _RESOURCE_ATTRIBUTES:
        value = event.resource.get(key)
        if value is not None and key not in stored:
            stored[key] = caches.value(value)
    if event.scope_name and _SCOPE_ATTRIBUTE not in stored:
        stored[_SCOPE_ATTRIBUTE] = caches.value(event.scope_name)
    if event.span_name and _SPAN_NAME_ATTRIBUTE not in stored:
        stored[_SPAN_NAME_ATTRIBUTE] = caches.value(event.span_name)
    return stored


def occurred_at(time_unix_nano: int) -> datetime:
    """An OTLP time (Unix nanoseconds) as an aware UTC datetime, exact to the microsecond."""
    return _EPOCH + timedelta(microseconds=time_unix_nano // 1000)


def _fingerprint_of(
    event: FailureEvent, service_name: str, exception_type: str, message: str, stacktrace: str
) -> str:
    sent = (event.fingerprint or "").lower()
    if _FINGERPRINT.fullmatch(sent):
        return sent
    return compute_fingerprint(service_name, exception_type, message, stacktrace)


def _storable(text: str) -> str:
    return text.replace("\x00", "") if "\x00" in text else text


def _name(text: str) -> str:
    return _storable(text)[:MAX_NAME_LENGTH]


__all__ = [
    "MAX_NAME_LENGTH",
    "FailurePreparer",
    "occurred_at",
]
