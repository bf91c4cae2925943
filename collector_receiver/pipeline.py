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

Reloading the catalog: ``preparer.catalog = new_catalog`` (or :meth:`FailurePreparer.with_catalog`)
is a single attribute assignment, atomic under the GIL. :meth:`FailurePreparer.prepare` reads the
attribute once per call, so one batch is matched against one catalog and carries one
``catalog_version``, even if a reload lands while it runs.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

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


class FailurePreparer:
    """Redacts, normalises, fingerprints and matches failures (see the module docstring)."""

    def __init__(self, catalog: Catalog, redactor: Redactor) -> None:
        #: The catalog in use; assign a new one to reload (atomic, see the module docstring).
        self.catalog = catalog
        self.redactor = redactor

    def with_catalog(self, catalog: Catalog) -> FailurePreparer:
        """A preparer with the same redactor and another catalog."""
        return FailurePreparer(catalog, self.redactor)

    def prepare(self, events: Sequence[FailureEvent]) -> list[tuple[MatchedFailure, Match]]:
        """Each event as a storable :class:`MatchedFailure`, with the catalog match behind it."""
        catalog = self.catalog  # one catalog for the whole batch, even if reloaded meanwhile
        return [self._prepare_one(catalog, event) for event in events]

    def _prepare_one(self, catalog: Catalog, event: FailureEvent) -> tuple[MatchedFailure, Match]:
        redactor = self.redactor
        message = _storable(redactor.message(event.exception_message))
        stacktrace = _storable(redactor.stacktrace(event.stacktrace))
        exception_type = _name(redactor.redact(event.exception_type))
        service_name = _name(event.service_name)
        attributes = self._redact_mapping(event.attributes)
        redacted = dataclasses.replace(
            event,
            service_name=service_name,
            exception_type=exception_type,
            exception_message=message,
            stacktrace=stacktrace,
            attributes=attributes,
            error_type=None if event.error_type is None else _name(event.error_type),
        )
        match = catalog.match(redacted)
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
            attributes=self._stored_attributes(event, attributes),
        )
        return failure, match

    def _stored_attributes(
        self, event: FailureEvent, attributes: Mapping[str, AttributeValue]
    ) -> dict[str, AttributeValue]:
        stored = {key: value for key, value in attributes.items() if key not in _COLUMN_ATTRIBUTES}
        for key in _RESOURCE_ATTRIBUTES:
            value = event.resource.get(key)
            if value is not None and key not in stored:
                stored[key] = self._redact_value(value)
        if event.scope_name and _SCOPE_ATTRIBUTE not in stored:
            stored[_SCOPE_ATTRIBUTE] = self._redact_value(event.scope_name)
        if event.span_name and _SPAN_NAME_ATTRIBUTE not in stored:
            stored[_SPAN_NAME_ATTRIBUTE] = self._redact_value(event.span_name)
        return stored

    def _redact_mapping(
        self, attributes: Mapping[str, AttributeValue]
    ) -> dict[str, AttributeValue]:
        return {_storable(key): self._redact_value(value) for key, value in attributes.items()}

    def _redact_value(self, value: AttributeValue) -> AttributeValue:
        if isinstance(value, str):
            return _storable(self.redactor.message(value))
        if isinstance(value, list):
            return [self._redact_value(item) for item in value]
        if isinstance(value, dict):
            return self._redact_mapping(value)
        if isinstance(value, float) and not math.isfinite(value):
            return repr(value)  # "nan", "inf", "-inf": PostgreSQL's JSON has no such numbers
        return value


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
