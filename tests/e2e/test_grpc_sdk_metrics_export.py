"""The real OTel SDK metric exporter over gRPC (plain and gzip) is answered SUCCESS by
``failcat serve`` and its data points are counted as accepted metrics items; with a wrong token
it is refused. Metrics are accepted and ignored (CONTRACT §4), but the exporter must not see
errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e._receiver import running_receiver
from tests.e2e._support import metric_sum, scrape

pytestmark = pytest.mark.slow

TOKEN = "metrics-test-token"

_EXPORT_METRICS = r"""
import json, sys
from grpc import Compression
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExportResult, PeriodicExportingMetricReader

endpoint, token = sys.argv[1], sys.argv[2]
results = []
for compression in (None, Compression.Gzip):
    exporter = OTLPMetricExporter(
        endpoint=endpoint, insecure=True, headers={"authorization": f"Bearer {token}"},
        compression=compression, timeout=10,
    )
    export = exporter.export
    exporter.export = lambda *a, **k: results.append(export(*a, **k)) or results[-1]
    provider = MeterProvider(
        metric_readers=[PeriodicExportingMetricReader(exporter, export_interval_millis=60_000)]
    )
    provider.get_meter("e2e").create_counter("requests").add(3, {"route": "/a"})
    provider.force_flush()
    provider.shutdown()
print(json.dumps([r == MetricExportResult.SUCCESS for r in results]))
"""


def _export(endpoint: str, token: str) -> list[bool]:
    done = subprocess.run(
        [sys.executable, "-c", _EXPORT_METRICS, endpoint, token],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results: list[bool] = json.loads(done.stdout)
    return results


def test_sdk_metric_exports_over_grpc_succeed_and_a_wrong_token_fails(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'failcat.db'}"
    with running_receiver(
        url, tmp_path / "receiver.log", env={"FAILCAT_AUTH_TOKEN": TOKEN}
    ) as receiver:
        good = _export(receiver.grpc_endpoint, TOKEN)
        assert good and all(good), good
        accepted = metric_sum(
            scrape(receiver.api_url),
            "failcat_otlp_items_total",
            signal="metrics",
            outcome="accepted",
        )
        assert accepted >= 2  # a data point from each exporter, at least
        bad = _export(receiver.grpc_endpoint, "wrong-token")
        assert bad and not any(bad), bad
