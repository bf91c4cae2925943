"""Hostile OTLP/JSON sent to a real ``failcat serve`` is answered 400 with a reason (it used to be
a 500 for a 5000-digit integer), in the JSON error shape, and the receiver keeps serving: a real
SDK exporter's failures are stored after, over OTLP/HTTP and OTLP/gRPC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e._receiver import http_post, running_receiver
from tests.e2e._support import run_agent, stored_failures

pytestmark = pytest.mark.slow

SPAN = '{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",%s}'
HOSTILE = {
    "a 5000-digit integer": '"startTimeUnixNano":' + "1" * 5000,
    "a 5000-digit integer string": '"startTimeUnixNano":"' + "1" * 5000 + '"',
    "a huge exponent": '"startTimeUnixNano":1e999999',
    "a NaN literal": '"startTimeUnixNano":NaN',
    "deep nesting": '"attributes":[{"key":"k","value":'
    + '{"arrayValue":{"values":[' * 50_000
    + "]}}" * 50_000
    + "}]",
}


def _body(fields: str) -> bytes:
    span = SPAN.replace("%s", fields)
    return f'{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{span}]}}]}}]}}'.encode()


def test_hostile_json_is_a_400_with_a_reason_and_good_senders_are_stored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'failcat.db'}"
    with running_receiver(url, tmp_path / "receiver.log") as receiver:
        for case, fields in HOSTILE.items():
            status, _, answer = http_post(
                f"{receiver.http_endpoint}/v1/traces",
                _body(fields),
                {"Content-Type": "application/json"},
            )
            assert status == 400, (case, answer[:300])
            error = json.loads(answer)
            assert error["code"] == 3 and error["message"], (case, error)
        assert receiver.alive()
        report = run_agent(
            ["http:traces:svc-after-hostile:2", "grpc:traces:svc-after-hostile:1"],
            grpc_endpoint=receiver.grpc_endpoint,
            http_endpoint=receiver.http_endpoint,
        )
        assert report["ok"], report["stderr"]
        stored = {(r["service_name"], r["span_id"]) for r in stored_failures(url)}
        assert stored == {("svc-after-hostile", f["span_id"]) for f in report["failures"]}
        assert "Traceback" not in receiver.log_text()
