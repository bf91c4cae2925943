"""Drive the synthetic agents: providers and exporters per service, the run plan, the flush.

Runs are sent until ``count`` of them have failed. Whether and where a run fails follows the
per-call failure rates of its service's model and tools (``_services.py``), plus a small share of
runs whose agent loop itself gives up (:data:`AGENT_FAILURE_RATE`); most runs succeed, so the
receiver counts several healthy GenAI operations for every failure, as it would in production.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from collector_receiver.traffic._agents import AgentRun, Pick
from collector_receiver.traffic._export import (
    CountingExporter,
    ExportState,
    build_exporter,
    captured_export_errors,
    normalize_endpoint,
)
from collector_receiver.traffic._model import SentFailure, TrafficError, TrafficResult, TrafficSpec
from collector_receiver.traffic._scenarios import (
    UNCATALOGED_SCENARIOS,
    Scenario,
    Stage,
    scenarios_for,
)
from collector_receiver.traffic._services import SERVICES, ServiceProfile
from otel_failcat import FailcatInstrumentor

#: Share of agent runs whose agent loop itself fails (turn or recursion limit, usage limit...),
#: for services whose stack has such failures.
AGENT_FAILURE_RATE = 0.03
_AGENT_STAGES: tuple[Stage, ...] = ("agent",)
#: Most spans one run produces (sizes the export queue so no span is ever dropped).
_MAX_SPANS_PER_RUN = 12
#: Runs per failure the queue is sized for: well above the least failing service's (about 7).
_RUNS_PER_FAILURE = 16
_TRACER_NAME = "failcat.traffic"

Progress = Callable[[int, int], None]


@dataclass
class _Agent:
    profile: ServiceProfile
    provider: TracerProvider
    scenarios: tuple[Scenario, ...]


def run_traffic(spec: TrafficSpec, progress: Progress | None = None) -> TrafficResult:
    """Send ``spec.count`` failures; raises :class:`TrafficError` (one line) if delivery fails."""
    endpoint = normalize_endpoint(spec.endpoint, spec.protocol)  # TrafficSpec checked it
    instrumentor = FailcatInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        raise TrafficError("otel_failcat is already instrumented in this process")
    seed = spec.seed if spec.seed is not None else random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    state = ExportState()
    queue_size = max(2048, (spec.count * _RUNS_PER_FAILURE + 16) * _MAX_SPANS_PER_RUN)
    agents = [
        _agent(profile, spec, endpoint, state, queue_size) for profile in SERVICES[: spec.services]
    ]
    failures: list[SentFailure] = []
    runs = 0
    operations = 0
    started = time.monotonic()
    with captured_export_errors() as errors:
        try:
            with _switching_instrumentation(instrumentor) as use:
                while len(failures) < spec.count and not state.failed:
                    agent = rng.choice(agents)
                    pick = _picker(rng, agent, spec.uncataloged_share)
                    loop_fails = rng.random() < AGENT_FAILURE_RATE
                    use(agent.provider)
                    run = AgentRun(
                        agent.provider.get_tracer(_TRACER_NAME),
                        agent.profile,
                        rng,
                        pick(_AGENT_STAGES) if loop_fails else None,
                        pick,
                    )
                    site = run.run()
                    runs += 1
                    operations += run.operations
                    scenario = run.scenario
                    if scenario is not None and site is not None:
                        failures.append(
                            SentFailure(
                                service_name=agent.profile.name,
                                scenario=scenario.name,
                                expected_code=scenario.expected_code,
                                exception_type=site.exception_type,
                                trace_id=site.trace_id,
                                span_id=site.span_id,
                                source="span_status" if scenario.error_type else "span_event",
                            )
                        )
                        if progress is not None:
                            progress(len(failures), spec.count)
                        if spec.rate > 0:
                            _pace(started, len(failures), spec.rate)
        finally:
            flushed = _flush_and_shut_down(agents, spec.timeout)
    seconds = time.monotonic() - started
    if state.failed:
        reason = errors.reason() or "the exporter reported a failure"
        raise TrafficError(
            f"could not deliver spans to {endpoint} over {_protocol_name(spec.protocol)}: {reason}"
        )
    if not flushed:
        raise TrafficError(
            f"spans to {endpoint} were not all delivered within {spec.timeout:g}s; "
            "is the receiver overloaded?"
        )
    return TrafficResult(
        endpoint=endpoint,
        protocol=spec.protocol,
        seed=seed,
        services=tuple(agent.profile.name for agent in agents),
        failures=tuple(failures),
        runs=runs,
        operations=operations,
        spans_sent=state.spans_sent,
        seconds=seconds,
    )


def _agent(
    profile: ServiceProfile, spec: TrafficSpec, endpoint: str, state: ExportState, queue: int
) -> _Agent:
    resource = Resource.create(
        {
            "service.name": profile.name,
            "service.version": profile.version,
            "service.namespace": "failcat-traffic",
            "deployment.environment.name": spec.environment,
        }
    )
    provider = TracerProvider(resource=resource, sampler=ALWAYS_ON)
    exporter = CountingExporter(
        build_exporter(spec.protocol, endpoint, spec.timeout, spec.token, spec.tls), state
    )
    provider.add_span_processor(
        BatchSpanProcessor(
            exporter,
            max_queue_size=queue,
            max_export_batch_size=512,
            schedule_delay_millis=500,
            export_timeout_millis=int(spec.timeout * 1000),
        )
    )
    return _Agent(profile, provider, scenarios_for(profile))


def _picker(rng: random.Random, agent: _Agent, uncataloged_share: float) -> Pick:
    """Draws the scenario of a failing step: a bug of the agent's own code (UNCATALOGED) at
    ``uncataloged_share``, else one of the service's cataloged scenarios, by weight, among
    those of the step's stages; None when the drawn pool has none of them."""

    def pick(stages: tuple[Stage, ...]) -> Scenario | None:
        own = rng.random() < uncataloged_share
        pool = [s for s in (UNCATALOGED_SCENARIOS if own else agent.scenarios) if s.stage in stages]
        if not pool:
            return None
        return rng.choices(pool, weights=[s.weight for s in pool])[0]

    return pick


@contextmanager
def _switching_instrumentation(
    instrumentor: FailcatInstrumentor,
) -> Iterator[Callable[[TracerProvider], None]]:
    """``use(provider)``: point otel_failcat at this service's provider (one at a time).

    Each synthetic service stands for a process of its own, instrumented once with its own
    provider; in this one process the instrumentor is re-pointed when the next run belongs to
    another service, so fingerprints and ``track`` spans carry the right ``service.name``.
    """
    current: list[TracerProvider] = []

    def use(provider: TracerProvider) -> None:
        if current and current[0] is provider:
            return
        if current:
            instrumentor.uninstrument()
            current.clear()
        instrumentor.instrument(tracer_provider=provider)
        current.append(provider)

    try:
        yield use
    finally:
        if current:
            instrumentor.uninstrument()


def _pace(started: float, done: int, rate: float) -> None:
    delay = started + done / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _flush_and_shut_down(agents: list[_Agent], timeout: float) -> bool:
    flushed = True
    for agent in agents:
        flushed = agent.provider.force_flush(int(timeout * 1000) + 5_000) and flushed
    for agent in agents:
        agent.provider.shutdown()
    return flushed


def _protocol_name(protocol: str) -> str:
    return "OTLP/gRPC" if protocol == "grpc" else "OTLP/HTTP"
