"""The parent's ``/metrics`` under ``--workers``: the workers' real expositions merged, counters
and histograms summed by name and labels, ``failcat_ready`` at its minimum."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from collector_receiver.server.metrics import ReceiverMetrics
from collector_receiver.server.workers import summed_exposition


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_counters_and_histograms_sum_and_ready_is_the_minimum() -> None:
    first, second, idle = ReceiverMetrics(), ReceiverMetrics(), ReceiverMetrics()
    try:
        first.record_items("traces", accepted=7, rejected=1)
        second.record_items("traces", accepted=5, rejected=0)
        second.record_items("logs", accepted=2, rejected=0)
        first.record_persist_duration(0.002)
        second.record_persist_duration(3.0)
        first.set_ready(True)
        second.set_ready(False)
        idle.set_ready(True)
        texts = [m.exposition().decode() for m in (idle, first, second)]
    finally:
        for metrics in (first, second, idle):
            metrics.shutdown()

    summed = _samples(summed_exposition(texts).decode())
    items = "failcat_otlp_items_total"
    assert summed[(items, (("outcome", "accepted"), ("signal", "traces")))] == 12
    assert summed[(items, (("outcome", "rejected"), ("signal", "traces")))] == 1
    assert summed[(items, (("outcome", "accepted"), ("signal", "logs")))] == 2
    assert summed[("failcat_persist_duration_seconds_count", ())] == 2
    assert summed[("failcat_persist_duration_seconds_sum", ())] == 3.002
    assert summed[("failcat_persist_duration_seconds_bucket", (("le", "0.0025"),))] == 1
    assert summed[("failcat_persist_duration_seconds_bucket", (("le", "+Inf"),))] == 2
    assert summed[("failcat_ready", ())] == 0


def test_one_exposition_comes_back_as_it_was() -> None:
    metrics = ReceiverMetrics()
    try:
        metrics.record_items("traces", accepted=3, rejected=0)
        metrics.set_ready(True)
        text = metrics.exposition().decode()
    finally:
        metrics.shutdown()
    assert _samples(summed_exposition([text]).decode()) == _samples(text)
    assert summed_exposition([text]).decode().splitlines()[:2] == text.splitlines()[:2]
