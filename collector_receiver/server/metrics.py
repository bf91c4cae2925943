"""The receiver's own metrics (CONTRACT §6): the one module that touches the OTel meter.

Instruments are recorded through the OpenTelemetry SDK and exposed in the Prometheus text
format by ``opentelemetry-exporter-prometheus``. Each :class:`ReceiverMetrics` owns its own
``MeterProvider`` and its own ``prometheus_client.CollectorRegistry`` — nothing is registered in
the process-global registry or set as the global meter provider, so two receivers (or tests) in
one process never see each other's numbers.

Exposed names (exactly)::

    failcat_failures_total{service_name,code,category,severity}      counter
    failcat_uncataloged_total{service_name,exception_type}           counter
    failcat_otlp_items_total{signal,outcome}                         counter
    failcat_persist_errors_total{reason}                             counter
    failcat_new_patterns_total{service_name,code}                    counter
    failcat_genai_failures_total{service_name,category,
        gen_ai_provider,gen_ai_model,gen_ai_tool}                    counter
    failcat_genai_operations_total{service_name,gen_ai_operation,
        gen_ai_provider,gen_ai_model,gen_ai_tool}                    counter
    failcat_request_duration_seconds{signal}                         histogram
    failcat_match_duration_seconds                                   histogram
    failcat_persist_duration_seconds                                 histogram
    failcat_ready                                                    gauge (1 ready, 0 not)

The counters whose labels are all from a fixed set — ``failcat_otlp_items_total`` for each of
the six ``signal``/``outcome`` pairs and ``failcat_persist_errors_total`` for each known
``reason`` — are exposed at 0 from the start, so an alert on ``increase(...) > 0`` or ``rate``
sees the first event (a counter born at 1 has no earlier sample to compare with).
``failcat_ready`` is set by whoever checks readiness (the API listener, on every scrape and
every ``/readyz``); it starts at 0. In ``failcat serve`` the check costs no database round trip
while the writer has committed or pinged in the last 5 s
(:mod:`collector_receiver.server._database_health` gives the staleness bound).

The distinct values of each label of each counter are capped (CONTRACT §6 r2,
``--max-label-values``, default 200): the first values seen are kept for the life of the
receiver, and any further value is counted under ``_other`` (:class:`LabelValueCap`). The
empty string and ``_other`` itself do not count toward the cap. So a sender that invents
service names or exception types by the thousand adds to ``_other`` only: the services
already counted keep their series, and the exposition stays bounded. The service names and
exception types that reach a label are the redacted ones (the prepare stage redacts them
before they are stored). The SDK's own limit on label sets per metric (2000 by default, past which
it folds new ones into an ``otel_metric_overflow`` series) is raised to what the cap lets
through, ``(cap + 2) ** 2``, so the cap alone decides.

The exporter's ``target_info`` and ``otel_scope_*`` labels are turned off. No label carries a
message, trace id or fingerprint. The failure counters move only for failures a committed
transaction newly inserted, so ``failcat_failures_total`` agrees with ``failure_matches``.

The two GenAI counters (CONTRACT §6 r2) are the numerator and denominator of failure rates by
tool, model and provider. ``failcat_genai_failures_total`` counts the newly inserted failures
with at least one GenAI column set; ``failcat_genai_operations_total`` adds the counts of the
:class:`~collector_receiver.events.OperationCounts` a transaction newly counted (those whose
delivery key the store had not seen), so a redelivered request moves neither. A GenAI label
that is absent is ``""``. Their labels are capped like the others; since up to four of them
vary freely (service, provider, model, tool), the SDK's series limit for these two is
``(cap + 2) ** 3``: a bound on memory that real traffic (a service's tools and models are few)
never nears, so the cap still decides each label.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Literal, get_args

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, generate_latest

from collector_receiver.events import NO_GENAI_CONTEXT, UNCATALOGED, MatchedFailure, OperationCounts
from collector_receiver.settings import DEFAULT_MAX_LABEL_VALUES

#: Content type of :meth:`ReceiverMetrics.exposition`.
EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Why a request was answered retryably (label ``reason`` of ``failcat_persist_errors_total``):
#: the database is unavailable, a transaction failed, the write queue is full, or too many
#: request bytes are in flight (the body was refused before decoding).
PersistErrorReason = Literal["unavailable", "store_error", "queue_full", "overloaded"]

#: Every value of the ``signal`` label (the OTLP signals).
SIGNALS = ("traces", "logs", "metrics")

#: The label value that stands for every value past the cap (:class:`LabelValueCap`).
OTHER_LABEL_VALUE = "_other"
_UNCOUNTED_VALUES = frozenset({"", OTHER_LABEL_VALUE})

#: Seconds; spans from sub-millisecond matching to slow multi-second commits.
_DURATION_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

_HISTOGRAMS = (
    "failcat.request.duration",
    "failcat.match.duration",
    "failcat.persist.duration",
)

_COUNTERS = (
    "failcat.failures",
    "failcat.uncataloged",
    "failcat.otlp.items",
    "failcat.persist.errors",
    "failcat.new.patterns",
)
_GENAI_COUNTERS = ("failcat.genai.failures", "failcat.genai.operations")


def _counter_views(max_label_values: int) -> list[View]:
    """Views that lift the SDK's own series limit above what the label cap lets through.

    The SDK keeps at most 2000 label sets per metric by default; past them it folds every new
    one into a single series labelled ``otel_metric_overflow="true"`` (and adds that label to
    every series of the metric), which would drop real services' new series and break the
    contract's label sets: 200 services meeting 11 catalog codes are enough. Two capped labels
    that vary freely (a service and a code or an exception type; category and severity follow
    the code) make at most ``(cap + 2) ** 2`` label sets, the cap's values plus ``""`` and
    ``_other``. An SDK too old to have the limit has no such folding, and takes plain views.
    The GenAI counters get ``(cap + 2) ** 3`` (see the module doc).
    """
    limit = (max_label_values + 2) ** 2 + 1
    genai_limit = (max_label_values + 2) ** 3 + 1
    try:
        return [
            View(instrument_name=name, aggregation_cardinality_limit=limit) for name in _COUNTERS
        ] + [
            View(instrument_name=name, aggregation_cardinality_limit=genai_limit)
            for name in _GENAI_COUNTERS
        ]
    except TypeError:
        return []


class LabelValueCap:
    """At most ``limit`` distinct values per label of each counter; the rest read ``_other``.

    Per counter and per label, the first ``limit`` values seen are kept for good; a later one is
    replaced by :data:`OTHER_LABEL_VALUE`. ``""`` and ``_other`` pass and do not count.
    Thread-safe: counters are recorded from the writer thread and the event loop alike.
    """

    def __init__(self, limit: int = DEFAULT_MAX_LABEL_VALUES) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"the label value cap must be an integer of at least 1, got {limit!r}")
        self.limit = limit
        self._seen: dict[tuple[str, str], set[str]] = {}
        self._lock = threading.Lock()

    def labels(self, counter: str, labels: Mapping[str, str]) -> dict[str, str]:
        """``labels`` of one measurement of ``counter``, each value kept or made ``_other``."""
        capped: dict[str, str] = {}
        with self._lock:
            for label, value in labels.items():
                if value not in _UNCOUNTED_VALUES:
                    seen = self._seen.get((counter, label))
                    if seen is None:
                        seen = self._seen[(counter, label)] = set()
                    if value not in seen:
                        if len(seen) >= self.limit:
                            value = OTHER_LABEL_VALUE
                        else:
                            seen.add(value)
                capped[label] = value
        return capped


class ReceiverMetrics:
    """Counters and histograms of one receiver; thread-safe (the writer thread records too).

    ``max_label_values`` caps the distinct values of each counter label (:class:`LabelValueCap`).
    """

    def __init__(self, max_label_values: int = DEFAULT_MAX_LABEL_VALUES) -> None:
        self._cap = LabelValueCap(max_label_values)
        self.registry = CollectorRegistry(auto_describe=False)
        self._reader = PrometheusMetricReader(
            disable_target_info=True,
            scope_info_enabled=False,
            registry=self.registry,
        )
        views = [
            View(
                instrument_name=name,
                aggregation=ExplicitBucketHistogramAggregation(_DURATION_BUCKETS),
            )
            for name in _HISTOGRAMS
        ]
        views += _counter_views(max_label_values)
        self._provider = MeterProvider(
            metric_readers=[self._reader],
            resource=Resource.create({"service.name": "failcat-receiver"}),
            views=views,
        )
        meter = self._provider.get_meter("collector_receiver")
        self._failures = meter.create_counter(
            "failcat.failures", description="Failures stored, by catalog code."
        )
        self._uncataloged = meter.create_counter(
            "failcat.uncataloged", description="Stored failures no catalog entry matched."
        )
        self._items = meter.create_counter(
            "failcat.otlp.items",
            description="OTLP spans, log records and data points received, by outcome.",
        )
        self._persist_errors = meter.create_counter(
            "failcat.persist.errors",
            description="Requests answered retryably (nothing of them stored), by reason.",
        )
        self._new_patterns = meter.create_counter(
            "failcat.new.patterns", description="Fingerprints stored for the first time."
        )
        self._genai_failures = meter.create_counter(
            "failcat.genai.failures",
            description="Failures stored with GenAI context, by provider, model and tool.",
        )
        self._genai_operations = meter.create_counter(
            "failcat.genai.operations",
            description="GenAI operation spans counted (the denominators of failure rates).",
        )
        self._request_duration = meter.create_histogram(
            "failcat.request.duration", unit="s", description="Time to answer an OTLP request."
        )
        self._match_duration = meter.create_histogram(
            "failcat.match.duration",
            unit="s",
            description="Time to redact, fingerprint and match one request's failures.",
        )
        self._persist_duration = meter.create_histogram(
            "failcat.persist.duration",
            unit="s",
            description="Time of one group-commit transaction.",
        )
        self._ready = False
        meter.create_observable_gauge(
            "failcat.ready",
            callbacks=[self._observe_ready],
            description="1 when the database answers and a catalog is loaded, else 0.",
        )
        # Known label sets start at 0 (see the module doc): adding 0 creates the series.
        for signal in SIGNALS:
            for outcome in ("accepted", "rejected"):
                self._items.add(0, {"signal": signal, "outcome": outcome})
        for reason in get_args(PersistErrorReason):
            self._persist_errors.add(0, {"reason": reason})

    def _observe_ready(self, options: CallbackOptions) -> Iterator[Observation]:
        yield Observation(1 if self._ready else 0)

    def set_ready(self, ready: bool) -> None:
        """Record the outcome of the latest readiness check (``failcat_ready``)."""
        self._ready = ready

    def record_committed(
        self,
        inserted: Iterable[MatchedFailure],
        new_patterns: Iterable[tuple[str, str]],
        operations: Iterable[OperationCounts] = (),
    ) -> None:
        """Count failures a committed transaction inserted, its new (service, code) patterns, and
        the GenAI operations it newly counted (``WriteResult.newly_counted_operations``).

        The batch is tallied per distinct label set first and each counter is added to once per
        set: a transaction of thousands of failures shares a handful of label sets, and an
        ``add`` costs far more than a dict update. Label sets are capped in the order they first
        appear, as adding failure by failure would, so the exposition is the same.
        """
        failures: Counter[tuple[str, str, str, str]] = Counter()
        uncataloged: Counter[tuple[str, str]] = Counter()
        genai: Counter[tuple[str, str, str, str, str]] = Counter()
        for failure in inserted:
            failures[(failure.service_name, failure.code, failure.category, failure.severity)] += 1
            if failure.code == UNCATALOGED:
                uncataloged[(failure.service_name, failure.exception_type)] += 1
            context = failure.gen_ai
            if context != NO_GENAI_CONTEXT:  # at least one of the five columns is set
                genai[
                    (
                        failure.service_name,
                        failure.category,
                        context.provider or "",
                        context.model or "",
                        context.tool or "",
                    )
                ] += 1
        cap = self._cap.labels
        for (service_name, code, category, severity), count in failures.items():
            labels = {
                "service_name": service_name,
                "code": code,
                "category": category,
                "severity": severity,
            }
            self._failures.add(count, cap("failures", labels))
        for (service_name, exception_type), count in uncataloged.items():
            labels = {"service_name": service_name, "exception_type": exception_type}
            self._uncataloged.add(count, cap("uncataloged", labels))
        for (service_name, code), count in Counter(new_patterns).items():
            labels = {"service_name": service_name, "code": code}
            self._new_patterns.add(count, cap("new_patterns", labels))
        for (service_name, category, provider, model, tool), count in genai.items():
            labels = {
                "service_name": service_name,
                "category": category,
                "gen_ai_provider": provider,
                "gen_ai_model": model,
                "gen_ai_tool": tool,
            }
            self._genai_failures.add(count, cap("genai_failures", labels))
        self._record_operations(operations)

    def _record_operations(self, operations: Iterable[OperationCounts]) -> None:
        # The counter's labels leave out the hour and the agent: one tally per label set first,
        # as for the failures (a request's spans share a handful of contexts).
        tally: Counter[tuple[str, str, str, str, str]] = Counter()
        for counted in operations:
            for key, count in counted.counts.items():
                context = key.context
                tally[
                    (
                        key.service_name,
                        context.operation or "",
                        context.provider or "",
                        context.model or "",
                        context.tool or "",
                    )
                ] += count
        cap = self._cap.labels
        for (service_name, operation, provider, model, tool), count in tally.items():
            labels = {
                "service_name": service_name,
                "gen_ai_operation": operation,
                "gen_ai_provider": provider,
                "gen_ai_model": model,
                "gen_ai_tool": tool,
            }
            self._genai_operations.add(count, cap("genai_operations", labels))

    def record_items(self, signal: str, accepted: int, rejected: int) -> None:
        """Count OTLP items of a request once its outcome is final."""
        if accepted:
            self._items.add(
                accepted, self._cap.labels("items", {"signal": signal, "outcome": "accepted"})
            )
        if rejected:
            self._items.add(
                rejected, self._cap.labels("items", {"signal": signal, "outcome": "rejected"})
            )

    def record_persist_error(self, reason: PersistErrorReason) -> None:
        self._persist_errors.add(1, self._cap.labels("persist_errors", {"reason": reason}))

    def record_request_duration(self, signal: str, seconds: float) -> None:
        self._request_duration.record(seconds, {"signal": signal})

    def record_match_duration(self, seconds: float) -> None:
        self._match_duration.record(seconds)

    def record_persist_duration(self, seconds: float) -> None:
        self._persist_duration.record(seconds)

    def exposition(self) -> bytes:
        """The Prometheus text exposition of every metric above."""
        return generate_latest(self.registry)

    def shutdown(self) -> None:
        self._provider.shutdown()


__all__ = [
    "EXPOSITION_CONTENT_TYPE",
    "OTHER_LABEL_VALUE",
    "SIGNALS",
    "LabelValueCap",
    "PersistErrorReason",
    "ReceiverMetrics",
]
