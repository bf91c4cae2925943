"""A committed batch counted at once exposes the same series and values as counted failure by
failure, label value cap included."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from collector_receiver.events import MatchedFailure
from collector_receiver.server.metrics import OTHER_LABEL_VALUE, ReceiverMetrics
from tests.collector_receiver.server._helpers import matched_failure


def _batch() -> list[MatchedFailure]:
    services = ["a", "b", "a", "c", "d", "a", "b", "e", "c", "a"]
    codes = ["UNCATALOGED", "LLM_RATE_LIMIT"]
    return [
        matched_failure(
            f"{n:02d}",
            service_name=service,
            code=codes[n % 2],
            exception_type=f"builtins.Error{n % 3}",
        )
        for n, service in enumerate(services)
    ]


def _samples(metrics: ReceiverMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        if family.name.startswith(("failcat_failures", "failcat_uncataloged", "failcat_new"))
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def test_one_batch_counts_as_its_failures_one_by_one() -> None:
    batch = _batch()
    patterns = [(f.service_name, f.code) for f in batch[:7]]
    at_once, one_by_one = ReceiverMetrics(max_label_values=3), ReceiverMetrics(max_label_values=3)

    at_once.record_committed(batch, patterns)
    for failure in batch:
        one_by_one.record_committed([failure], [])
    for pattern in patterns:
        one_by_one.record_committed([], [pattern])

    expected = _samples(one_by_one)
    assert _samples(at_once) == expected
    failures = {
        dict(labels)["service_name"]: value
        for (name, labels), value in expected.items()
        if name == "failcat_failures_total" and dict(labels)["code"] == "UNCATALOGED"
    }
    # a, b, c are the first three services seen; d (and e) count under _other.
    assert failures == {"a": 2, "b": 1, "c": 1, OTHER_LABEL_VALUE: 1}
    assert sum(v for (name, _), v in expected.items() if name == "failcat_failures_total") == 10
    at_once.shutdown()
    one_by_one.shutdown()
