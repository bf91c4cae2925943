"""The sample names the receiver really exposes, read from its own Prometheus exposition.

The dashboards and the rules may only use these names; taking them from a live
:class:`ReceiverMetrics` (every instrument recorded once) rather than a list typed by hand means a
renamed instrument fails the operations tests instead of leaving a panel empty.
"""

from __future__ import annotations

import functools
from datetime import datetime, timezone

from prometheus_client.parser import text_string_to_metric_families

from collector_receiver.events import (
    UNCATALOGED,
    GenAIContext,
    MatchedFailure,
    OperationCounts,
    OperationKey,
)
from collector_receiver.server.metrics import ReceiverMetrics


@functools.cache
def exposed_sample_names() -> frozenset[str]:
    """Every sample name (``_total``, ``_bucket``, ``_count``, ``_sum`` included)."""
    metrics = ReceiverMetrics()
    try:
        failure = MatchedFailure(
            event_key="k",
            trace_id=None,
            span_id=None,
            service_name="svc",
            code=UNCATALOGED,
            category="uncataloged",
            severity="medium",
            catalog_version="1",
            exception_type="KeyError",
            exception_message="'x'",
            stacktrace="",
            fingerprint="f",
            message_template="'x'",
            source="span_event",
            occurred_at=datetime.now(timezone.utc),
            gen_ai=GenAIContext(provider="openai", model="gpt-4o", operation="chat"),
        )
        hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
        counted = OperationCounts({OperationKey(hour, "svc", failure.gen_ai): 1}, "0" * 32)
        metrics.record_committed([failure], [("svc", UNCATALOGED)], [counted])
        metrics.record_items("traces", accepted=1, rejected=1)
        metrics.record_persist_error("unavailable")
        metrics.record_request_duration("traces", 0.01)
        metrics.record_match_duration(0.001)
        metrics.record_persist_duration(0.002)
        text = metrics.exposition().decode("utf-8")
    finally:
        metrics.shutdown()
    return frozenset(
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    )
