"""How much ``otel_failcat`` costs next to the SDK's own ``span.record_exception``.

All record the same kind of exception (fresh objects with a 12-frame traceback and a message
carrying an API key) into the same in-memory SDK pipeline, in the same run, one span per
failure. The baseline is the SDK's original ``Span.record_exception`` (taken before
instrumenting: while instrumented, ``span.record_exception`` is routed through failcat).
Measured against it:

- ``record_failure``, and ``span.record_exception`` as routed while instrumented: both do more
  on purpose (fully qualified type, redaction and capping of message and stacktrace,
  fingerprint, cause chain, dedupe, re-entrancy guard, a counter);
- ``record_failure`` without ``instrument()`` (through the global providers), which reads the
  redaction variables when it records and rebuilds its redactor only when one changed;
- an exception escaping three nested ``start_as_current_span`` blocks: the SDK alone formats
  and adds three events; instrumented, one failcat event and two identity lookups;
- the normal path (a span without an exception, instrumented or not), to show that
  ``otel_failcat`` adds nothing there.

Times are the CPU time of the recording thread (``time.thread_time``): everything here runs
in that one thread (a simple span processor, an in-memory exporter), and on a shared machine
the wall clock also counts the waits for a core, which other processes decide.

Run: ``python benchmarks/bench_agent_record.py [iterations [rounds]]`` (default 300 and 15: many
short rounds, so the best of them finds a quiet moment on a shared machine).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span

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


def main(iterations: int = 300, rounds: int = 15) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    tracer = tracer_provider.get_tracer("bench")
    sdk_record_exception = SdkSpan.__dict__["record_exception"]
    # Where record_failure sends its failures when nothing is instrumented.
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)

    def one_span_each(record: Callable[[Span, BaseException], object]) -> float:
        """Seconds per failure: each fresh exception recorded by ``record`` on a span of its own."""
        excs = _fresh_exceptions(iterations)
        exporter.clear()
        start = time.thread_time()
        for exc in excs:
            with tracer.start_as_current_span("op", record_exception=False) as span:
                record(span, exc)
        return (time.thread_time() - start) / iterations

    def bare() -> float:
        return one_span_each(sdk_record_exception)

    def routed() -> float:
        return one_span_each(lambda span, exc: span.record_exception(exc))

    def failcat() -> float:
        return one_span_each(lambda span, exc: record_failure(exc))

    def nested() -> float:
        excs = _fresh_exceptions(iterations)
        exporter.clear()
        start = time.thread_time()
        for exc in excs:
            try:
                with tracer.start_as_current_span("outer"):
                    with tracer.start_as_current_span("middle"):
                        with tracer.start_as_current_span("inner"):
                            raise exc
            except ConnectionError:
                pass
        return (time.thread_time() - start) / iterations

    def normal_path() -> float:
        # Cheap, so noisy on a shared machine: ten times the iterations.
        count = iterations * 10
        exporter.clear()
        start = time.thread_time()
        for _ in range(count):
            with tracer.start_as_current_span("op"):
                pass
        return (time.thread_time() - start) / count

    # Rounds alternate plain and instrumented, so load from other processes on a shared
    # machine weighs on both sides alike; each figure is the best of its rounds.
    results: dict[str, list[float]] = {}

    def measure(label: str, run: Callable[[], float]) -> None:
        results.setdefault(label, []).append(run())

    instrumentor = FailcatInstrumentor()
    for _ in range(rounds):
        measure("plain", normal_path)
        measure("nested_plain", nested)
        measure("bare", bare)
        measure("uninstrumented", failcat)
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
        try:
            failcat()  # warm caches (tracer, counter, compiled redaction rules)
            measure("failcat", failcat)
            measure("routed", routed)
            measure("nested", nested)
            events = [e for s in exporter.get_finished_spans() for e in s.events]
            assert len(events) == iterations  # one event per exception, not one per span
            assert all(KEY not in str(e.attributes) for e in events)
            measure("instrumented", normal_path)
        finally:
            instrumentor.uninstrument()
    best = {label: min(times) for label, times in results.items()}
    baseline, ours, ours_routed = best["bare"], best["failcat"], best["routed"]
    uninstrumented = best["uninstrumented"]
    nested_before, nested_after = best["nested_plain"], best["nested"]
    plain_before, plain_after = best["plain"], best["instrumented"]

    print(f"iterations per run            {iterations} (best of {rounds} rounds)")
    print(f"span.record_exception (SDK)   {baseline * 1e6:8.1f} us per failure")
    print(f"otel_failcat.record_failure   {ours * 1e6:8.1f} us per failure")
    print(f"span.record_exception, instr. {ours_routed * 1e6:8.1f} us per failure")
    print(f"record_failure, no instrument {uninstrumented * 1e6:8.1f} us per failure")
    print(f"3 nested spans, plain (3 ev.) {nested_before * 1e6:8.1f} us per failure")
    print(f"3 nested spans, instr. (1 ev.){nested_after * 1e6:8.1f} us per failure")
    print(f"span, no exception, plain     {plain_before * 1e6:8.1f} us")
    print(f"span, no exception, instr.    {plain_after * 1e6:8.1f} us")
    print(f"normal-path ratio             {plain_after / plain_before:8.2f}x")
    print(f"routed record_exception / SDK ratio    {ours_routed / baseline:.2f}x")
    print(f"3 nested spans instrumented / plain    {nested_after / nested_before:.2f}x")
    print(f"record_failure / record_exception ratio {ours / baseline:.2f}x")
    print(f"record_failure without / with instrument() {uninstrumented / ours:.2f}x")


if __name__ == "__main__":
    arguments = [int(argument) for argument in sys.argv[1:3]]
    main(*arguments)
