"""OTLP/JSON decoding from many threads at once, starting cold, gives every thread the same
complete result (the per-message decoding plans are built once and published whole)."""

from __future__ import annotations

import threading

from collector_receiver.otlp import _json, decode_request
from tests.collector_receiver.otlp.test_decode_json import LOGS_JSON, TRACES_JSON


def test_cold_concurrent_decoding_is_complete() -> None:
    expected = {
        "traces": decode_request("traces", TRACES_JSON.encode(), "application/json"),
        "logs": decode_request("logs", LOGS_JSON.encode(), "application/json"),
    }
    _json._PLANS.clear()
    start = threading.Barrier(8)
    results: list[bool] = []

    def decode(signal: str, body: str) -> None:
        start.wait()
        for _ in range(20):
            decoded = decode_request(signal, body.encode(), "application/json")  # type: ignore[arg-type]
            results.append(decoded == expected[signal])

    threads = [
        threading.Thread(
            target=decode, args=("traces", TRACES_JSON) if i % 2 else ("logs", LOGS_JSON)
        )
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 160 and all(results)
