"""Metrics are accepted: data points are counted, no failures come out of them."""

from __future__ import annotations

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)

from collector_receiver.otlp import decode_request, extract_failures
from tests.collector_receiver.otlp._helpers import resource


def test_data_points_of_every_kind_are_counted() -> None:
    request = ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=resource(),
                scope_metrics=[
                    ScopeMetrics(
                        metrics=[
                            Metric(
                                name="failcat.agent.failures",
                                sum=Sum(data_points=[NumberDataPoint(as_int=1)] * 3),
                            ),
                            Metric(name="g", gauge=Gauge(data_points=[NumberDataPoint()])),
                            Metric(
                                name="h",
                                histogram=Histogram(data_points=[HistogramDataPoint()] * 2),
                            ),
                            Metric(name="empty"),
                        ]
                    )
                ],
            )
        ]
    )
    decoded = decode_request("metrics", request.SerializeToString(), "application/x-protobuf")

    result = extract_failures("metrics", decoded)

    assert result.items == 6
    assert result.events == [] and result.rejected == 0
