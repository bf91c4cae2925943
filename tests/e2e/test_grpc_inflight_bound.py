"""The in-flight bound holds for OTLP/gRPC before messages arrive: a flood of big authenticated
messages at a small ``--max-inflight-bytes`` is answered ``UNAVAILABLE`` for some (counted as
persist error ``overloaded``), only a few are received at once so the receiver's memory stays
bounded, and a real SDK exporter is still served and stored right after."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e._grpc_flood import MIB, flood, peak_rss
from tests.e2e._receiver import running_receiver
from tests.e2e._support import metric_sum, run_agent, scrape, stored_failures

pytestmark = pytest.mark.slow

TOKEN = "flood-test-token"
MESSAGES, SIZE = 48, 4 * MIB
LIMIT = 16 * MIB


def test_an_authenticated_flood_is_partly_refused_and_memory_stays_bounded(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'failcat.db'}"
    with running_receiver(
        url,
        tmp_path / "receiver.log",
        extra_args=["--max-inflight-bytes", str(LIMIT)],
        env={"FAILCAT_AUTH_TOKEN": TOKEN},
    ) as receiver:
        with peak_rss(receiver.process.pid) as memory:
            codes = flood(receiver.grpc_endpoint, MESSAGES, SIZE, TOKEN)
        assert set(codes) == {"OK", "UNAVAILABLE"}, codes
        refused = codes.count("UNAVAILABLE")
        samples = scrape(receiver.api_url)
        assert metric_sum(samples, "failcat_persist_errors_total", reason="overloaded") == refused
        # The bound (module doc of otlp_grpc): 16 MiB counted plus 4 messages of 4 MiB being
        # received; a message costs 2-3 times its size while handed over and decoded. Measured
        # +83-98 MiB, against +233-283 MiB when every message was received as it came.
        assert memory.growth_mib < 160, memory

        report = run_agent(
            ["grpc:logs:svc-after-flood:2"],
            grpc_endpoint=receiver.grpc_endpoint,
            http_endpoint=receiver.http_endpoint,
            extra=["--token", TOKEN],
        )
        assert report["ok"], report["stderr"]
        stored = {(r["service_name"], r["span_id"]) for r in stored_failures(url)}
        assert stored == {("svc-after-flood", f["span_id"]) for f in report["failures"]}
