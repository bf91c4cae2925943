"""The distinct values of each counter label are capped; the rest count under ``_other``
(CONTRACT §6 r2).

Scraped over real HTTP from the API app and parsed with prometheus_client's own parser.
"""

from __future__ import annotations

import threading

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from collector_receiver.server.metrics import OTHER_LABEL_VALUE, LabelValueCap, ReceiverMetrics
from collector_receiver.server.ops_http import build_api_app
from tests.collector_receiver.server._helpers import matched_failure

Samples = list[tuple[str, dict[str, str], float]]


async def _ready() -> str | None:
    return None


async def _scrape(metrics: ReceiverMetrics, port: int) -> Samples:
    """``/metrics`` of ``metrics`` served by the real API app, as parsed samples."""
    runner = web.AppRunner(build_api_app(metrics, _ready))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/metrics") as response,
        ):
            assert response.status == 200
            text = await response.text()
    finally:
        await runner.cleanup()
        metrics.shutdown()
    return [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def _totals(samples: Samples, name: str, label: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for sample_name, labels, value in samples:
        if sample_name == name:
            totals[labels[label]] = totals.get(labels[label], 0.0) + value
    return totals


async def test_after_2000_services_the_first_200_are_kept_and_the_rest_sum_under_other(
    unused_tcp_port: int,
) -> None:
    metrics = ReceiverMetrics()  # the default cap: 200
    services = [f"svc-{index:04d}" for index in range(2000)]
    # Service i fails (i % 3) + 1 times, so that kept counts are not all alike.
    failures = [
        matched_failure(f"{index}-{repeat}", service_name=service)
        for index, service in enumerate(services)
        for repeat in range(index % 3 + 1)
    ]
    metrics.record_committed(failures, [(service, "UNCATALOGED") for service in services])

    samples = await _scrape(metrics, unused_tcp_port)

    expected = {service: float(index % 3 + 1) for index, service in enumerate(services[:200])}
    expected[OTHER_LABEL_VALUE] = float(sum(index % 3 + 1 for index in range(200, 2000)))
    for counter in ("failcat_failures_total", "failcat_uncataloged_total"):
        assert _totals(samples, counter, "service_name") == expected
    new_patterns = _totals(samples, "failcat_new_patterns_total", "service_name")
    assert new_patterns == {**dict.fromkeys(services[:200], 1.0), OTHER_LABEL_VALUE: 1800.0}


async def test_each_label_of_each_counter_has_its_own_cap(unused_tcp_port: int) -> None:
    metrics = ReceiverMetrics(max_label_values=3)
    failures = [
        matched_failure(f"a{index}", service_name=f"svc-{index % 2}", exception_type=f"E{index}")
        for index in range(6)
    ]
    metrics.record_committed(failures, [("svc-9", "UNCATALOGED")])

    samples = await _scrape(metrics, unused_tcp_port)

    # Two services fit under a cap of 3 however many types there are, and the other way round.
    assert _totals(samples, "failcat_uncataloged_total", "service_name") == {
        "svc-0": 3.0,
        "svc-1": 3.0,
    }
    assert _totals(samples, "failcat_uncataloged_total", "exception_type") == {
        "E0": 1.0,
        "E1": 1.0,
        "E2": 1.0,
        OTHER_LABEL_VALUE: 3.0,
    }
    # svc-9 is new to failcat_new_patterns_total, whose own cap has room for it.
    assert _totals(samples, "failcat_new_patterns_total", "service_name") == {"svc-9": 1.0}


async def test_services_times_codes_past_the_sdks_own_limit_keep_their_labels(
    unused_tcp_port: int,
) -> None:
    # 200 services meeting 11 codes: 2200 label sets, past the SDK's default of 2000 per metric.
    metrics = ReceiverMetrics()
    failures = [
        matched_failure(f"{service}-{code}", service_name=f"svc-{service}", code=f"C{code}")
        for service in range(200)
        for code in range(11)
    ]
    metrics.record_committed(failures, [])

    samples = await _scrape(metrics, unused_tcp_port)

    stored = [
        (labels, value) for name, labels, value in samples if name == "failcat_failures_total"
    ]
    assert len(stored) == 2200
    assert all(
        set(labels) == {"service_name", "code", "category", "severity"} for labels, _ in stored
    )
    assert all(value == 1.0 for _, value in stored)


def test_the_empty_string_and_other_pass_and_do_not_count() -> None:
    cap = LabelValueCap(2)

    assert cap.labels("c", {"l": ""}) == {"l": ""}
    assert cap.labels("c", {"l": OTHER_LABEL_VALUE}) == {"l": OTHER_LABEL_VALUE}
    assert cap.labels("c", {"l": "a"}) == {"l": "a"}
    assert cap.labels("c", {"l": "b"}) == {"l": "b"}
    assert cap.labels("c", {"l": "c"}) == {"l": OTHER_LABEL_VALUE}
    assert cap.labels("c", {"l": "a"}) == {"l": "a"}  # a kept value stays kept
    assert cap.labels("c", {"l": ""}) == {"l": ""}


def test_concurrent_recorders_keep_exactly_the_cap() -> None:
    cap = LabelValueCap(50)
    kept: list[set[str]] = [set() for _ in range(4)]

    def record(worker: int) -> None:
        for index in range(500):
            value = cap.labels("c", {"l": f"w{worker}-{index}"})["l"]
            if value != OTHER_LABEL_VALUE:
                kept[worker].add(value)

    threads = [threading.Thread(target=record, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set().union(*kept)) == 50


@pytest.mark.parametrize("limit", [0, -1, True])
def test_a_cap_below_one_is_refused(limit: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LabelValueCap(limit)
