"""The caller's ``attributes=`` of ``record_failure`` and ``track`` leave the process redacted."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from otel_failcat import record_failure, track
from tests.otel_failcat._helpers import Telemetry, raise_and_catch

BEARER = "Bearer FAKEtoken0123456789abcdefXYZ"
GITHUB = "ghp_" + "FAKEfake0123456789abcdefghijklmnopqr"
ATTRIBUTES = {
    "db.password": "hunter2-fake",
    "http.request.header.authorization": BEARER,
    "http.request.header.cookie": ["session=FAKEsession0123"],
    "db.statement": "ALTER ROLE agent PASSWORD 'FAKEsqlpass0123'",
    f"tool.{GITHUB}": "a key that embeds a token",
    "http.url": "https://bucket.example/o?X-Amz-Signature=FAKEsig0123456789abcdef&x=1",
    # OpenTelemetry attributes nest no deeper than a list of strings
    "tool.arguments": ["--verbose", "--token=FAKEnested0123456789"],
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.usage.input_tokens": 1200,
}
SECRETS = (
    "hunter2-fake",
    "FAKEtoken0123456789abcdefXYZ",
    "FAKEsession0123",
    "FAKEsqlpass0123",
    GITHUB,
    "FAKEsig0123456789abcdef",
    "FAKEnested0123456789",
)


def _exported(telemetry: Telemetry) -> str:
    spans = telemetry.finished_spans()
    dumped = [dict(span.attributes or {}) for span in spans]
    dumped += [attributes for _, attributes in telemetry.exception_events()]
    return repr(dumped)


def test_record_failure_exports_no_secret_of_its_attributes(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(ValueError("tool failed")), attributes=ATTRIBUTES)
    ((span, attributes),) = instrumented.exception_events()
    exported = _exported(instrumented)
    for secret in SECRETS:
        assert secret not in exported, secret
    assert attributes["db.password"] == "[REDACTED]"
    assert attributes["http.request.header.authorization"] == "[REDACTED]"
    assert attributes["http.request.header.cookie"] == "[REDACTED]"
    assert attributes["tool.arguments"] == ("--verbose", "--token=[REDACTED:token]")
    assert attributes["db.statement"] == "ALTER ROLE agent PASSWORD '[REDACTED:password]'"
    assert attributes["tool.[REDACTED:github_token]"] == "a key that embeds a token"
    # what is not a secret comes through as it was given
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.usage.input_tokens"] == 1200
    # with no current span the event goes on a span of its own, whose attributes are the same
    assert span.name == "failcat.unhandled_exception"
    assert dict(span.attributes or {})["db.password"] == "[REDACTED]"


def test_track_exports_no_secret_of_its_attributes(instrumented: Telemetry) -> None:
    with pytest.raises(RuntimeError):
        with track("call_tool", attributes=ATTRIBUTES):
            raise RuntimeError("tool failed")
    exported = _exported(instrumented)
    for secret in SECRETS:
        assert secret not in exported, secret


def test_tracked_generators_export_no_secret_of_their_attributes(
    instrumented: Telemetry,
) -> None:
    @track("stream_tool", attributes=ATTRIBUTES)
    def stream() -> Iterator[int]:
        yield 1
        raise RuntimeError("stream failed")

    with pytest.raises(RuntimeError):
        list(stream())
    exported = _exported(instrumented)
    for secret in SECRETS:
        assert secret not in exported, secret
    (span,) = [s for s in instrumented.finished_spans() if s.name == "stream_tool"]
    assert dict(span.attributes or {})["db.password"] == "[REDACTED]"


async def test_tracked_async_generators_export_no_secret_of_their_attributes(
    instrumented: Telemetry,
) -> None:
    @track("astream_tool", attributes=ATTRIBUTES)
    async def stream() -> AsyncIterator[int]:
        yield 1
        raise RuntimeError("stream failed")

    with pytest.raises(RuntimeError):
        async for _ in stream():
            pass
    exported = _exported(instrumented)
    for secret in SECRETS:
        assert secret not in exported, secret
    (span,) = [s for s in instrumented.finished_spans() if s.name == "astream_tool"]
    assert dict(span.attributes or {})["db.password"] == "[REDACTED]"
