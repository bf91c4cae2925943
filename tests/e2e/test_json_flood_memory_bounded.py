"""Large OTLP/JSON bodies sent at once hold a bounded amount of memory: each is admitted in the
in-flight budget for what decoding it takes (``JSON_DECODE_MULTIPLE`` times the body), so at a
budget of 1.5 admissions three 8 MiB bodies are decoded one after another (the others answered
503 and sent again, as exporters do), and a real SDK exporter is served and stored after. The
receiver's memory is sampled from ``/proc/<pid>/status``.
"""

from __future__ import annotations

import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from collector_receiver.otlp import JSON_DECODE_MULTIPLE
from tests.e2e._grpc_flood import peak_rss
from tests.e2e._receiver import http_post, running_receiver
from tests.e2e._support import metric_sum, run_agent, scrape, stored_failures

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
BODY_MIB = 8
BODIES = 3
#: What one body is admitted for, and a budget in which only one fits at a time.
ADMISSION = (1 + JSON_DECODE_MULTIPLE) * BODY_MIB * MIB
BUDGET = ADMISSION * 3 // 2
JSON = {"Content-Type": "application/json"}


def _json_body(service: str, size: int) -> bytes:
    """An OTLP/JSON trace export of about ``size`` bytes: spans with 30 short attributes each
    (the most Python objects per byte), the first with an exception event."""
    trace_id = secrets.token_hex(16)
    attributes = [
        {"key": f"attr.{k}", "value": {"intValue": str(k)} if k % 2 else {"stringValue": f"v{k}"}}
        for k in range(30)
    ]
    one = {
        "traceId": trace_id,
        "name": "step",
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000100000000",
        "attributes": attributes,
    }
    count = size // len(json.dumps(one, separators=(",", ":")))
    spans = [{**one, "spanId": secrets.token_hex(8)} for _ in range(count)]
    spans[0]["events"] = [
        {
            "name": "exception",
            "timeUnixNano": "1700000000050000000",
            "attributes": [{"key": "exception.type", "value": {"stringValue": "ValueError"}}],
        }
    ]
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    document = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}
    return json.dumps(document, separators=(",", ":")).encode()


def _send_until_taken(url: str, body: bytes) -> tuple[int, int]:
    """POST until the answer is not 503 (honouring Retry-After, capped); (status, refusals)."""
    refusals = 0
    while True:
        status, headers, _ = http_post(url, body, JSON)
        if status != 503:
            return status, refusals
        refusals += 1
        time.sleep(min(float(headers.get("Retry-After", "1")), 0.2))


def test_large_json_bodies_at_once_are_decoded_within_the_budget(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'failcat.db'}"
    bodies = [_json_body(f"svc-json-{i}", BODY_MIB * MIB) for i in range(BODIES)]
    with running_receiver(
        url, tmp_path / "receiver.log", extra_args=["--max-inflight-bytes", str(BUDGET)]
    ) as receiver:
        endpoint = f"{receiver.http_endpoint}/v1/traces"
        started = time.monotonic()
        with peak_rss(receiver.process.pid) as memory:
            with ThreadPoolExecutor(BODIES) as pool:
                answers = list(pool.map(lambda body: _send_until_taken(endpoint, body), bodies))
        took = time.monotonic() - started
        assert [status for status, _ in answers] == [200] * BODIES, answers
        # Only one admission fits: the others were refused (and counted) while it was decoded.
        assert sum(refusals for _, refusals in answers) >= BODIES - 1, answers
        samples = scrape(receiver.api_url)
        assert metric_sum(samples, "failcat_persist_errors_total", reason="overloaded") >= 2
        # Measured: +49-56 MiB. The three decoded side by side took +97 MiB, and with the
        # decoder that parsed a whole body into a tree of Python objects, +486-496 MiB.
        assert memory.growth_mib < 2 * ADMISSION // MIB, memory

        report = run_agent(
            ["http:traces:svc-after-json:2", "grpc:logs:svc-after-json:2"],
            grpc_endpoint=receiver.grpc_endpoint,
            http_endpoint=receiver.http_endpoint,
        )
        assert report["ok"], report["stderr"]
        stored = {(r["service_name"], r["span_id"]) for r in stored_failures(url)}
        assert {("svc-after-json", f["span_id"]) for f in report["failures"]} <= stored
        assert {f"svc-json-{i}" for i in range(BODIES)} <= {name for name, _ in stored}
    print(f"JSON flood: {BODIES} x {BODY_MIB} MiB in {took:.1f}s, answers {answers}, {memory}")
