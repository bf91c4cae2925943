"""The prepare stage: redaction before matching, fingerprints, templates and storable rows.

Uses the real catalog parser, the real redactor and real OTLP bytes; nothing is mocked.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone

import pytest

from collector_receiver.catalog import load_catalog, parse_catalog
from collector_receiver.events import UNCATALOGED, FailureEvent
from collector_receiver.otlp import decode_request, extract_failures
from collector_receiver.prepare import MAX_NAME_LENGTH, FailurePreparer, occurred_at
from otel_failcat.fingerprint import compute_fingerprint
from otel_failcat.normalize import message_template
from otel_failcat.redaction import RedactionSettings, Redactor
from tests.collector_receiver.otlp._helpers import (
    exception_event,
    resource,
    span,
    trace_request,
)

CATALOG = """
version: 2
catalog_version: "test-1"
entries:
  - code: SECRET_IN_MESSAGE
    title: would only match an unredacted message
    category: auth
    severity: high
    remediation: none needed in a test
    priority: 50
    match:
      message_patterns: ['sk-proj-[A-Za-z0-9]+']
  - code: REDACTED_KEY
    title: matches what is stored
    category: auth
    severity: critical
    remediation: none needed in a test
    match:
      message_patterns: ['\\[REDACTED:openai_key\\]']
  - code: RATE_LIMITED
    title: rate limited
    category: rate_limit
    severity: medium
    remediation: none needed in a test
    match:
      exception_types: [openai.RateLimitError]
"""

OPENAI_KEY = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0" * 2
T = 1_700_000_000_123_456_789


def _event(**changes: object) -> FailureEvent:
    base = FailureEvent(
        source="span_event",
        service_name="planner",
        exception_type="openai.RateLimitError",
        exception_message="Rate limit reached for gpt-4o, retry in 20ms",
        stacktrace='Traceback (most recent call last):\n  File "app/agent.py", line 10, in run\n',
        time_unix_nano=T,
        trace_id="5b8efff798038103d269b633813fc60c",
        span_id="eee19b7ec3c1b174",
        event_index=2,
        attributes={
            "exception.type": "openai.RateLimitError",
            "exception.message": "Rate limit reached for gpt-4o, retry in 20ms",
            "exception.stacktrace": "Traceback ...",
            "http.response.status_code": 429,
        },
        resource={"service.name": "planner", "service.version": "1.4.2", "host.name": "h1"},
        scope_name="openai.instrumentation",
        span_name="chat gpt-4o",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def preparer() -> FailurePreparer:
    return FailurePreparer(parse_catalog(CATALOG, "test.yaml"), Redactor())


def test_a_failure_becomes_a_matched_row(preparer: FailurePreparer) -> None:
    event = _event()

    [(failure, match)] = preparer.prepare([event])

    assert (match.code, failure.code) == ("RATE_LIMITED", "RATE_LIMITED")
    assert (failure.category, failure.severity) == ("rate_limit", "medium")
    assert failure.catalog_version == "test-1"
    assert failure.event_key == event.event_key()
    assert failure.trace_id == event.trace_id and failure.span_id == event.span_id
    assert failure.service_name == "planner"
    assert failure.source == "span_event"
    assert failure.exception_type == "openai.RateLimitError"
    assert failure.exception_message == event.exception_message
    assert failure.stacktrace == event.stacktrace
    assert failure.message_template == message_template(event.exception_message)
    assert "<num>" in failure.message_template
    assert failure.occurred_at == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=timezone.utc)


def test_stored_attributes_drop_column_duplicates_and_add_context(
    preparer: FailurePreparer,
) -> None:
    [(failure, _)] = preparer.prepare([_event()])

    assert failure.attributes == {
        "exception.type": "openai.RateLimitError",
        "http.response.status_code": 429,
        "service.version": "1.4.2",
        "otel.scope.name": "openai.instrumentation",
        "failcat.span.name": "chat gpt-4o",
    }


def test_matching_sees_the_redacted_message(preparer: FailurePreparer) -> None:
    event = _event(exception_type="app.AuthError", exception_message=f"bad key {OPENAI_KEY}")

    [(failure, match)] = preparer.prepare([event])

    assert OPENAI_KEY not in failure.exception_message
    assert "[REDACTED:openai_key]" in failure.exception_message
    assert match.code == "REDACTED_KEY"  # not SECRET_IN_MESSAGE, though its priority is higher
    assert OPENAI_KEY not in failure.message_template


def test_secrets_are_redacted_everywhere_they_are_stored(preparer: FailurePreparer) -> None:
    event = _event(
        stacktrace=f'  File "app.py", line 3\n    client = OpenAI(api_key="{OPENAI_KEY}")\n',
        attributes={
            "url.full": "https://user:hunter2secret@api.example.com/v1",
            "nested": {"list": [f"token {OPENAI_KEY}", 3]},
            "exception.message": f"dup {OPENAI_KEY}",
        },
        span_name=f"call {OPENAI_KEY}",
    )

    [(failure, _)] = preparer.prepare([event])

    stored = repr(failure)
    assert OPENAI_KEY not in stored
    assert "hunter2secret" not in stored
    assert failure.attributes["nested"] == {"list": ["token [REDACTED:openai_key]", 3]}


def test_lengths_are_capped_by_the_redactor_settings() -> None:
    settings = RedactionSettings(max_message_length=64, max_stacktrace_length=128)
    preparer = FailurePreparer(parse_catalog(CATALOG), Redactor(settings))
    event = _event(
        exception_message="m" * 1000,
        stacktrace="s" * 5000,
        attributes={"big": "b" * 1000},
    )

    [(failure, _)] = preparer.prepare([event])

    assert len(failure.exception_message) <= 64
    assert len(failure.stacktrace) <= 128
    assert isinstance(failure.attributes["big"], str) and len(failure.attributes["big"]) <= 64


def test_the_agents_fingerprint_is_kept_when_well_formed(preparer: FailurePreparer) -> None:
    sent = "0123456789ABCDEF0123456789ABCDEF"

    [(failure, _)] = preparer.prepare([_event(fingerprint=sent)])

    assert failure.fingerprint == sent.lower()


@pytest.mark.parametrize("sent", [None, "", "not-a-digest", "0123456789abcdef", "g" * 32])
def test_otherwise_the_receiver_computes_it(preparer: FailurePreparer, sent: str | None) -> None:
    event = _event(fingerprint=sent)

    [(failure, _)] = preparer.prepare([event])

    expected = compute_fingerprint(
        "planner", event.exception_type, event.exception_message, event.stacktrace
    )
    assert failure.fingerprint == expected
    assert len(failure.fingerprint) == 32


def test_the_fingerprint_is_computed_from_the_redacted_message(preparer: FailurePreparer) -> None:
    one = _event(exception_message=f"bad key {OPENAI_KEY}")
    other = _event(exception_message="bad key sk-proj-" + "Z9y8X7w6V5u4T3s2R1q0" * 2)

    [(first, _), (second, _)] = preparer.prepare([one, other])

    assert first.fingerprint == second.fingerprint


def test_unmatched_failures_are_uncataloged(preparer: FailurePreparer) -> None:
    [(failure, match)] = preparer.prepare([_event(exception_type="app.Weird")])

    assert failure.code == UNCATALOGED and match.entry is None
    assert failure.catalog_version == "test-1"


def test_values_the_database_would_refuse_are_made_storable(preparer: FailurePreparer) -> None:
    event = _event(
        service_name="svc\x00" + "s" * 1000,
        exception_type="bad\x00type",
        exception_message="nul\x00here",
        attributes={"k\x00": "v\x00", "ratio": float("nan"), "limits": [float("inf"), 1.5]},
    )

    [(failure, _)] = preparer.prepare([event])

    assert "\x00" not in repr(failure)
    assert len(failure.service_name) == MAX_NAME_LENGTH
    assert failure.exception_type == "badtype"
    assert failure.attributes["k"] == "v"
    assert failure.attributes["ratio"] == "nan"
    assert failure.attributes["limits"] == ["inf", 1.5]
    json.dumps(failure.attributes, allow_nan=False)  # raises if anything non-finite is left


def test_swapping_the_catalog_changes_the_next_batch(preparer: FailurePreparer) -> None:
    other = parse_catalog(CATALOG.replace('"test-1"', '"test-2"'))

    preparer.catalog = other
    [(failure, _)] = preparer.prepare([_event()])
    assert failure.catalog_version == "test-2"

    copy = preparer.with_catalog(parse_catalog(CATALOG))
    assert copy.redactor is preparer.redactor
    assert copy.prepare([_event()])[0][0].catalog_version == "test-1"
    assert preparer.catalog is other


ATTRIBUTE_RULES = """
version: 2
catalog_version: "attribute-rules"
entries:
  - code: RAW_KEY_ATTRIBUTE
    title: would only match an unredacted exception.message attribute
    category: auth
    severity: high
    priority: 50
    match:
      attributes: {exception.message: {pattern: 'sk-proj-[A-Za-z0-9]+'}}
  - code: REDACTED_KEY_ATTRIBUTE
    title: matches the redacted exception.message attribute
    category: auth
    severity: critical
    match:
      attributes: {exception.message: {pattern: '\\[REDACTED:openai_key\\]'}}
"""


def test_attribute_rules_on_exception_message_see_it_redacted(preparer: FailurePreparer) -> None:
    # That attribute is not stored (it has a column), so it is only redacted when a rule of the
    # catalog in use reads it; a catalog swapped in later must still see it redacted.
    event = _event(
        exception_type="app.AuthError",
        exception_message="auth failed",
        attributes={"exception.message": f"bad key {OPENAI_KEY}"},
    )
    [(_, before)] = preparer.prepare([event])
    assert before.code == UNCATALOGED

    preparer.catalog = parse_catalog(ATTRIBUTE_RULES)
    [(failure, match)] = preparer.prepare([event])

    assert match.code == "REDACTED_KEY_ATTRIBUTE"
    assert OPENAI_KEY not in repr(failure)


def test_assigning_another_redactor_takes_effect_at_once(preparer: FailurePreparer) -> None:
    event = _event(exception_message=f"bad key {OPENAI_KEY}", stacktrace=f"key={OPENAI_KEY}\n")
    [(redacted, _)] = preparer.prepare([event])
    assert OPENAI_KEY not in redacted.exception_message + redacted.stacktrace

    preparer.redactor = Redactor(RedactionSettings(enabled=False))
    [(raw, _)] = preparer.prepare([event])  # the same texts: nothing served from the old caches

    assert OPENAI_KEY in raw.exception_message
    assert OPENAI_KEY in raw.stacktrace


def test_occurred_at_is_aware_utc_to_the_microsecond() -> None:
    assert occurred_at(0) == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert occurred_at(1_999) == datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc)
    assert occurred_at(2**64 - 1).year == 2554


def test_from_otlp_bytes_to_rows_with_the_default_catalog() -> None:
    request = trace_request(
        [
            span(
                "chat gpt-4o",
                events=[
                    exception_event(
                        "openai.RateLimitError",
                        f"Rate limit reached for org-123 key {OPENAI_KEY}",
                        'Traceback (most recent call last):\n  File "app.py", line 3, in main\n',
                    )
                ],
            ),
            span("quiet"),
        ],
        res=resource("planner", deployment__environment__name="prod"),
    )
    decoded = decode_request("traces", request.SerializeToString(), "application/x-protobuf")
    events = extract_failures("traces", decoded).events

    [(failure, match)] = FailurePreparer(load_catalog(), Redactor()).prepare(events)

    assert failure.code == "OPENAI_RATE_LIMIT" == match.code
    assert failure.category == "rate_limit"
    assert OPENAI_KEY not in failure.exception_message
    assert failure.attributes["deployment.environment.name"] == "prod"
    assert failure.trace_id == "5b8efff798038103d269b633813fc60c"
