"""Every text the prepare stage stores is redacted (CONTRACT §4 r2), and the matcher sees only
the redacted view. Real OTLP bytes, the real extraction, catalog parser and redactor."""

from __future__ import annotations

import json
from typing import Any

from collector_receiver.catalog import parse_catalog
from collector_receiver.events import FailureEvent, MatchedFailure
from collector_receiver.otlp import Signal, decode_request, extract_failures
from collector_receiver.prepare import FailurePreparer
from otel_failcat.redaction import REDACTED, Redactor
from tests.collector_receiver.otlp._helpers import (
    exception_event,
    log_record,
    logs_request,
    resource,
    span,
    trace_request,
)

OPENAI_KEY = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0" * 2
GITHUB_TOKEN = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0" * 2
BODY = "a1B2c3D4e5F6g7H8i9J0"  # what must never show, from either secret

CATALOG = """
version: 2
catalog_version: "redacted-view"
entries:
  - code: SAW_THE_PASSWORD
    title: would only match the password itself
    category: auth
    severity: high
    priority: 90
    match:
      attributes: {db.password: {pattern: 'hunter'}}
  - code: SAW_THE_SPAN_SECRET
    title: would only match the span name's secret
    category: auth
    severity: high
    priority: 80
    match:
      attributes: {failcat.span.name: {pattern: 'sk-proj-'}}
  - code: SAW_IT_REDACTED
    title: matches the redacted password attribute
    category: auth
    severity: critical
    match:
      attributes: {db.password: '[REDACTED]'}
"""


def _prepare(signal: Signal, request: Any) -> list[MatchedFailure]:
    decoded = decode_request(signal, request.SerializeToString(), "application/x-protobuf")
    events: list[FailureEvent] = extract_failures(signal, decoded).events
    preparer = FailurePreparer(parse_catalog(CATALOG), Redactor())
    return [failure for failure, _ in preparer.prepare(events)]


def _everything(failure: MatchedFailure) -> str:
    return repr(failure) + json.dumps(failure.attributes)


def test_every_text_of_a_span_event_failure_is_redacted() -> None:
    request = trace_request(
        [
            span(
                f"call {OPENAI_KEY}",
                attributes={
                    f"header.{GITHUB_TOKEN}": "key holds a secret",
                    "db.password": "hunter2-hunter2",
                    "nested": {f"k {OPENAI_KEY}": [f"v {GITHUB_TOKEN}", {"auth_token": "x" * 9}]},
                },
                events=[
                    exception_event(
                        f"app.{GITHUB_TOKEN}",
                        f"failed with {OPENAI_KEY}",
                        f'  File "app.py"\n    key = "{GITHUB_TOKEN}"\n',
                    )
                ],
                status_code=2,
                status_message=f"status {OPENAI_KEY}",
            )
        ],
        res=resource(f"svc {OPENAI_KEY}", service__version=f"1.0 {GITHUB_TOKEN}"),
        scope=f"scope {GITHUB_TOKEN}",
    )

    [failure] = _prepare("traces", request)

    assert BODY not in _everything(failure)
    assert failure.service_name == "svc [REDACTED:openai_key]"
    assert failure.exception_type == "app.[REDACTED:github_token]"
    assert failure.attributes["db.password"] == REDACTED
    assert failure.attributes["nested"] == {
        "k [REDACTED:openai_key]": ["v [REDACTED:github_token]", {"auth_token": REDACTED}]
    }
    assert failure.attributes["service.version"] == "1.0 [REDACTED:github_token]"
    assert failure.attributes["otel.scope.name"] == "scope [REDACTED:github_token]"
    assert failure.attributes["failcat.span.name"] == "call [REDACTED:openai_key]"
    assert failure.code == "SAW_IT_REDACTED"  # neither the password nor the span's secret


def test_the_status_description_of_a_status_only_failure_is_redacted() -> None:
    request = trace_request(
        [
            span(
                "GET /v1/chat",
                attributes={"error.type": f"AuthError {OPENAI_KEY}"},
                status_code=2,
                status_message=f"401 for key {OPENAI_KEY}",
            )
        ]
    )

    [failure] = _prepare("traces", request)

    assert failure.source == "span_status"
    assert failure.exception_message == "401 for key [REDACTED:openai_key]"
    assert BODY not in _everything(failure)


def test_every_text_of_a_log_record_failure_is_redacted_and_its_body_not_stored() -> None:
    request = logs_request(
        [
            log_record(
                {
                    "exception.type": "app.Error",
                    "exception.message": f"boom {OPENAI_KEY}",
                    "client_secret": "s3cr3t-value",
                    "http.request.header.cookie": ["session=abc123def"],
                },
                body=f"the body holds {GITHUB_TOKEN}",
            )
        ],
        res=resource(f"svc {GITHUB_TOKEN}"),
    )

    [failure] = _prepare("logs", request)

    assert BODY not in _everything(failure)
    assert "the body holds" not in _everything(failure)
    assert failure.attributes["client_secret"] == REDACTED
    assert failure.attributes["http.request.header.cookie"] == REDACTED


def test_a_nul_cannot_join_the_halves_of_a_secret_past_redaction() -> None:
    split = OPENAI_KEY[:12] + "\x00" + OPENAI_KEY[12:]
    request = trace_request(
        [span(events=[exception_event("app.Error", f"key {split}", f"at {split}\n", extra=split)])],
        res=resource(f"svc {split}"),
    )

    [failure] = _prepare("traces", request)

    assert BODY not in _everything(failure)
    assert "\x00" not in _everything(failure)


def test_the_fingerprint_and_template_come_from_the_redacted_service_name() -> None:
    def one(secret: str) -> MatchedFailure:
        [failure] = _prepare(
            "traces",
            trace_request([span(events=[exception_event()])], res=resource(f"svc {secret}")),
        )
        return failure

    first, second = one(OPENAI_KEY), one("sk-proj-" + "Q" * 40)

    assert first.service_name == second.service_name == "svc [REDACTED:openai_key]"
    assert first.fingerprint == second.fingerprint


def test_a_span_with_many_attributes_cannot_crowd_out_the_failures_own() -> None:
    many = {f"app.attr.{index:03d}": index for index in range(300)}
    request = trace_request(
        [
            span(
                "work",
                attributes=many,
                events=[exception_event(failcat__mechanism="explicit", failcat__handled=True)],
            )
        ]
    )

    [failure] = _prepare("traces", request)

    assert failure.attributes["exception.type"] == "ValueError"
    assert failure.attributes["failcat.mechanism"] == "explicit"
    assert failure.attributes["failcat.span.name"] == "work"
    assert failure.attributes["otel.scope.name"] == "agent.scope"
    assert len(failure.attributes) == 129  # 128 kept and the count
    assert failure.attributes["failcat.dropped_attributes"] == 300 + 5 - 128
