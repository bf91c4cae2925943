"""How much ``otel_failcat.record_failure`` costs next to the SDK's bare ``span.record_exception``.

Both record the same kind of exception (fresh objects with a 12-frame traceback and a message
carrying an API key) into the same in-memory SDK pipeline, in the same run, one span per
failure. ``record_failure`` does more on purpose: fully qualified type, redaction and capping of
message and stacktrace, fingerprint, cause chain, dedupe, re-entrancy guard, and a counter. The
last line is the ratio; the normal path (a span without an exception, instrumented or not) is
measured too, to show that ``otel_failcat`` adds nothing there.

Run: ``python benchmarks/bench_agent_record.py [iterations]``
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_failcat import FailcatInstrumentor, record_failure

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0"


def _deep(depth: int, request_id: int) -> None:
    if depth == 0:
        raise ConnectionError(f"request {request_id} to https://api.example.com failed, key {KEY}")
    _deep(depth - 1, request_id)


def _fresh_exceptions(count: int) -> list[BaseException]:
    exceptions: list[BaseException] = []
    for i in range(count):
        try:
            _deep(10, i)
        except ConnectionError as exc:
            exceptions.append(exc)
    return exceptions


def _best_of(runs: int, measure: Callable[[], float]) -> float:
    return min(measure() for _ in range(runs))


def main(iterations: int = 1000) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    tracer = tracer_provider.get_tracer("bench")

    def bare() -> float:
        excs = _fresh_exceptions(iterations)
        exporter.clear()
        start = time.perf_counter()
        for exc in excs:
            with tracer.start_as_current_span("op", record_exception=False) as span:
                span.record_exception(exc)
        return (time.perf_counter() - start) / iterations

    def failcat() -> float:
        excs = _fresh_exceptions(iterations)
        exporter.clear()
        start = time.perf_counter()
        for exc in excs:
            with tracer.start_as_current_span("op", record_exception=False):
                record_failure(exc)
        return (time.perf_counter() - start) / iterations

    def normal_path() -> float:
        start = time.perf_counter()
        for _ in range(iterations):
            with tracer.start_as_current_span("op"):
                pass
        return (time.perf_counter() - start) / iterations

    plain_before = _best_of(3, normal_path)
    FailcatInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    try:
        failcat()  # warm caches (tracer, counter, compiled redaction rules)
        baseline = _best_of(3, bare)
        ours = _best_of(3, failcat)
        plain_after = _best_of(3, normal_path)
    finally:
        FailcatInstrumentor().uninstrument()
    assert all(
        KEY not in str(e.attributes) for s in exporter.get_finished_spans() for e in s.events
    )

    print(f"iterations per run            {iterations}")
    print(f"span.record_exception (SDK)   {baseline * 1e6:8.1f} us per failure")
    print(f"otel_failcat.record_failure   {ours * 1e6:8.1f} us per failure")
    print(f"span, no exception, plain     {plain_before * 1e6:8.1f} us")
    print(f"span, no exception, instr.    {plain_after * 1e6:8.1f} us")
    print(f"normal-path ratio             {plain_after / plain_before:8.2f}x")
    print(f"record_failure / record_exception ratio {ours / baseline:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
