"""The one place that turns an exception into telemetry: a span event or log record, and a count.

Every mechanism (the hooks, :func:`otel_failcat.record_failure`, :func:`otel_failcat.track`)
calls :meth:`FailureRecorder.record`. It:

1. enters the re-entrancy guard (a failure while recording is never recorded),
2. skips an exception object it has already recorded (identity dedupe), and an exception
   group whose every leaf it has already recorded (the same failures, seen again),
3. builds the attributes: qualified type, redacted and capped message and stacktrace,
   fingerprint, mechanism, handled, cause types, base types, and for an exception group the
   types, messages (redacted), bases and causes of the failures inside it, plus the caller's
   attributes — redacted too: a value under a key that names a credential (``db.password``,
   ``…authorization``) becomes ``[REDACTED]`` whole, any other string (and a key) goes through
   the same redactor as the message (CONTRACT §4),
4. adds the ``exception`` event to the given span, else the current recording span, else a new
   span ``failcat.unhandled_exception`` ended at once; and/or emits an OTel log record when
   ``OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`` says so,
5. adds one to the counter ``failcat.agent.failures``.

The redactor, caps and signal mode come from the :class:`~otel_failcat._settings.AgentSettings`
it is given (``instrument()`` builds them once). Providers not given explicitly are the global
ones, looked up at record time, so the explicit API works without ``instrument()`` and follows a
provider set later; such a recorder without settings reads them from the environment when it
records, as the explicit API always has. Nothing raises out of
:meth:`~FailureRecorder.record` or :meth:`~FailureRecorder.flush`; internal errors are reported
through :mod:`otel_failcat._internal_errors`.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry._logs import LoggerProvider, LogRecord, SeverityNumber, get_logger_provider
from opentelemetry.metrics import Counter, MeterProvider
from opentelemetry.trace import Span, Status, StatusCode, Tracer, TracerProvider
from opentelemetry.util.types import AttributeValue

from otel_failcat import attributes as names
from otel_failcat._dedupe import SeenExceptions
from otel_failcat._exception_info import (
    MAX_CAUSE_DETAILS,
    MAX_GROUP_LEAVES,
    MAX_LEAF_CAUSE_TYPES,
    base_types,
    cause_chain,
    cause_types,
    format_stacktrace,
    group_leaves,
    is_exception_group,
    qualified_type_name,
    safe_message,
)
from otel_failcat._guard import recording
from otel_failcat._internal_errors import report_internal_error
from otel_failcat._recorded_on import RecordedOn
from otel_failcat._settings import RECORDING_VARIABLES, AgentSettings
from otel_failcat.fingerprint import compute_fingerprint
from otel_failcat.redaction import Redactor, redact_attribute
from otel_failcat.version import __version__

#: Caller-supplied attributes, as OpenTelemetry accepts them.
Attributes = Mapping[str, AttributeValue]

_SCOPE_NAME = "otel_failcat"
_UNKNOWN_SERVICE = "unknown_service"
#: The cap of each message inside an exception group: up to 16 travel on one event, and the
#: receiver bounds an event's attributes in all (64 KiB by default), so each gets less room
#: than the group's own message. The head, where a message says what went wrong, is kept.
MAX_GROUP_MESSAGE_LENGTH = 512


@dataclass(frozen=True)
class _Telemetry:
    """Tracer, counter and logger bound to one triple of providers (rebuilt when one changes)."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    tracer: Tracer
    counter: Counter
    service_name: str

    def matches(self, tp: object, mp: object, lp: object) -> bool:
        return (
            self.tracer_provider is tp and self.meter_provider is mp and self.logger_provider is lp
        )


class FailureRecorder:
    """Records failures through the given providers, or the global ones when not given.

    ``settings``: the redactor, caps and signal mode to record with; None: those of the
    environment as it is when a failure is recorded (the explicit API without ``instrument()``).
    """

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        logger_provider: LoggerProvider | None = None,
        settings: AgentSettings | None = None,
    ) -> None:
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._logger_provider = logger_provider
        self._telemetry_cache: _Telemetry | None = None
        self._settings = settings
        self._settings_of_env: tuple[tuple[str | None, ...], AgentSettings] | None = None

    # -- settings --------------------------------------------------------------------------

    def settings(self) -> AgentSettings:
        """The settings given, else those of the recording variables as they are now."""
        if self._settings is not None:
            return self._settings
        # Rebuilt only when a variable changed: building compiles the redaction rules, which
        # costs about as much as recording a failure (benchmarks/bench_agent_record.py).
        values = tuple(os.environ.get(name) for name in RECORDING_VARIABLES)
        cached = self._settings_of_env
        if cached is not None and cached[0] == values:
            return cached[1]
        environ = {n: v for n, v in zip(RECORDING_VARIABLES, values, strict=True) if v is not None}
        settings = AgentSettings.from_env(environ)
        self._settings_of_env = (values, settings)
        return settings

    def redacted_attributes(self, attributes: Attributes | None) -> dict[str, AttributeValue]:
        """The caller's attributes as they may leave the process (keys and values redacted)."""
        return _redacted_attributes(attributes, self.settings().redactor)

    # -- providers -------------------------------------------------------------------------

    def providers(self) -> tuple[TracerProvider, MeterProvider, LoggerProvider]:
        """The providers in effect now (the injected ones, else the current globals)."""
        return (
            self._tracer_provider or trace.get_tracer_provider(),
            self._meter_provider or metrics.get_meter_provider(),
            self._logger_provider or get_logger_provider(),
        )

    def telemetry(self) -> _Telemetry:
        tp, mp, lp = self.providers()
        cached = self._telemetry_cache
        if cached is not None and cached.matches(tp, mp, lp):
            return cached
        meter = mp.get_meter(_SCOPE_NAME, __version__)
        built = _Telemetry(
            tracer_provider=tp,
            meter_provider=mp,
            logger_provider=lp,
            tracer=tp.get_tracer(_SCOPE_NAME, __version__),
            counter=meter.create_counter(
                names.FAILURES_COUNTER,
                unit=names.FAILURES_COUNTER_UNIT,
                description="Failures of this process recorded by otel_failcat.",
            ),
            service_name=_service_name(tp),
        )
        self._telemetry_cache = built
        return built

    def tracer(self) -> Tracer:
        """The tracer ``track`` starts its spans with."""
        return self.telemetry().tracer

    # -- recording -------------------------------------------------------------------------

    def record(
        self,
        exc: BaseException,
        mechanism: names.Mechanism,
        *,
        handled: bool,
        attributes: Attributes | None = None,
        span: Span | None = None,
        tb: TracebackType | None = None,
        timestamp: int | None = None,
    ) -> bool:
        """Record ``exc`` once; True if it was recorded now, False if skipped. Never raises.

        ``timestamp`` (nanoseconds since the epoch) dates the event or log record; None: now.
        """
        try:
            with recording() as entered:
                if not entered:
                    return False
                if not isinstance(exc, BaseException):
                    raise TypeError(f"expected an exception instance, got {type(exc).__name__}")
                seen = seen_exceptions()
                if not seen.first_sighting(exc) or _leaves_recorded(exc, seen):
                    return False
                self._emit(exc, mechanism, handled, attributes, span, tb, timestamp)
                return True
        except Exception:
            report_internal_error(f"recording a failure ({mechanism})")
            return False

    def _emit(
        self,
        exc: BaseException,
        mechanism: names.Mechanism,
        handled: bool,
        caller_attributes: Attributes | None,
        span: Span | None,
        tb: TracebackType | None,
        timestamp: int | None,
    ) -> None:
        telemetry = self.telemetry()
        target: Span | None = span if span is not None else trace.get_current_span()
        if target is not None and not target.is_recording():
            target = None
        settings = self.settings()
        redactor = settings.redactor
        exception_type = qualified_type_name(type(exc))
        message = redactor.message(safe_message(exc))
        stacktrace = redactor.stacktrace(format_stacktrace(exc, tb))
        caller = _redacted_attributes(caller_attributes, redactor)
        chain = cause_chain(exc)
        event_attributes: dict[str, AttributeValue] = dict(caller)
        event_attributes.update(
            {
                names.EXCEPTION_TYPE: exception_type,
                names.EXCEPTION_MESSAGE: message,
                names.EXCEPTION_STACKTRACE: stacktrace,
                names.FAILCAT_FINGERPRINT: compute_fingerprint(
                    _service_name_of(target) or telemetry.service_name,
                    exception_type,
                    message,
                    stacktrace,
                ),
                names.FAILCAT_MECHANISM: mechanism,
                names.FAILCAT_HANDLED: handled,
                # A tuple, as the SDK stores a sequence on a span; the OTel 1.27 SDK keeps a
                # log record's list as it is, and the two signals would then differ.
                names.FAILCAT_CAUSE_TYPES: tuple(qualified_type_name(type(c)) for c in chain),
                names.FAILCAT_BASE_TYPES: tuple(base_types(type(exc))),
            }
        )
        event_attributes.update(_cause_attributes(chain, redactor))
        # The group's leaves, walked once: its attributes, and what may place it in a trace.
        # A wrapper over a group (``raise StepFailed(...) from group``: what agent code makes
        # of an MCP client's or a task group's failure) is described by that group's leaves.
        leaves = group_leaves(exc) or _wrapped_group_leaves(chain)
        event_attributes.update(_group_attributes(leaves, redactor))
        mode = settings.signal_mode
        if mode == "dup":
            # The same failure leaves twice, as an event and a log record (often to two
            # requests): one id and one time on both let the receiver store it once.
            event_attributes[names.FAILCAT_RECORDING_ID] = uuid.uuid4().hex
            if timestamp is None:
                timestamp = time.time_ns()
        if mode in ("span", "dup"):
            spans = recorded_on()
            if target is None:
                # In the trace of a cause recorded on a span, or of the span an error answer of
                # this very message marked, if there is one (see _recorded_on).
                parent = spans.first_of(_linked(exc, chain, leaves)) or spans.answered(
                    _messages_of(exc, leaves)
                )
                target = telemetry.tracer.start_span(
                    names.UNHANDLED_SPAN_NAME,
                    context=None
                    if parent is None
                    else trace.set_span_in_context(trace.NonRecordingSpan(parent)),
                    attributes=dict(caller),
                )
                target.add_event(names.EXCEPTION_EVENT_NAME, event_attributes, timestamp)
                target.set_attribute(names.ERROR_TYPE, exception_type)
                target.set_status(Status(StatusCode.ERROR))
                target.end()
            else:
                target.add_event(names.EXCEPTION_EVENT_NAME, event_attributes, timestamp)
            spans.remember(exc, target.get_span_context())
        if mode in ("logs", "dup"):
            _emit_log_record(telemetry, event_attributes, message, target, timestamp)
        if mode == "logs" and target is not None:
            # The span holds no exception event: this one tells a receiver its ERROR status (a
            # library's, with error.type), and its relatives', is the failure the log record is.
            target.add_event(
                names.LOGGED_EXCEPTION_EVENT_NAME, {names.EXCEPTION_TYPE: exception_type}, timestamp
            )
        telemetry.counter.add(
            1,
            {
                names.EXCEPTION_TYPE: exception_type,
                names.FAILCAT_MECHANISM: mechanism,
                names.FAILCAT_HANDLED: handled,
            },
        )

    # -- flushing --------------------------------------------------------------------------

    def flush(self, timeout_millis: int) -> None:
        """``force_flush`` the tracer, meter and logger providers within ``timeout_millis`` total.

        Providers without ``force_flush`` (the API's no-op and proxy providers) are skipped.
        """
        deadline = time.monotonic() + timeout_millis / 1000
        for provider in self.providers():
            remaining = int((deadline - time.monotonic()) * 1000)
            if remaining <= 0:
                return
            force_flush = getattr(provider, "force_flush", None)
            if not callable(force_flush):
                continue
            try:
                force_flush(timeout_millis=remaining)
            except Exception:
                report_internal_error("flushing providers")


def _redacted_attributes(
    attributes: Attributes | None, redactor: Redactor
) -> dict[str, AttributeValue]:
    """The caller's attributes as they may leave the process (keys and values redacted)."""
    if not attributes:
        return {}
    return {
        redactor.message(key): redact_attribute(key, value, redactor.message)
        for key, value in attributes.items()
    }


def _linked(
    exc: BaseException, chain: list[BaseException], leaves: list[BaseException]
) -> list[BaseException]:
    """What ``exc`` was raised from (its cause ``chain``) and, for an exception group, its
    ``leaves`` and theirs: the exceptions whose recording puts ``exc`` in a trace (see
    _recorded_on).

    Not for a retry's verdict (an exception carrying its ``last_attempt``, tenacity's
    ``RetryError``): it is a failure of its own, retries exhausted, over attempts that were
    each recorded in a trace of their own; put under the last one, the receiver would fold it
    into that attempt and lose its category."""
    if hasattr(exc, "last_attempt"):
        return []
    linked = list(chain)  # exc's cause chain, walked once by the caller
    for leaf in leaves:
        linked.append(leaf)
        linked.extend(cause_chain(leaf))
    return linked


def _messages_of(exc: BaseException, leaves: list[BaseException]) -> list[str]:
    """``exc``'s message, and for an exception group its ``leaves``' (as raised, not redacted)."""
    return [safe_message(exc), *(safe_message(leaf) for leaf in leaves)]


def _leaves_recorded(exc: BaseException, seen: SeenExceptions) -> bool:
    """Whether ``exc`` is an exception group whose every leaf was recorded already.

    Such a group is those failures seen once more on their way out (an MCP client's task group
    re-raising what its request span recorded), not a failure of its own: recording it would
    make two rows of one failure. A group with any new leaf is recorded, leaves and all. When
    the walk stopped at its bound there may be leaves it did not reach, so the group is recorded.

    A leaf raised ``from None`` while handling an exception recorded already counts as recorded:
    ``from None`` says it stands in for that exception (mcp's client records the
    ``TimeoutError`` on its request span, then raises ``MCPError("Request ... timed out") from
    None`` out of its task group), so the group restates that one failure. A leaf raised
    ``from`` an exception (a wrapper with a cause of its own meaning, tenacity's ``RetryError``)
    does not.
    """
    leaves = group_leaves(exc)
    return (
        bool(leaves)
        and len(leaves) < MAX_GROUP_LEAVES
        and all(leaf in seen or _restates_recorded(leaf, seen) for leaf in leaves)
    )


def _restates_recorded(leaf: BaseException, seen: SeenExceptions) -> bool:
    """Whether ``leaf`` was raised ``from None`` while handling an exception recorded already."""
    context = leaf.__context__
    return leaf.__suppress_context__ and leaf.__cause__ is None and context in seen


def _wrapped_group_leaves(chain: list[BaseException]) -> list[BaseException]:
    """The leaves of the first exception group among the described links of a cause chain
    (none when there is none): what the wrapper of a group is classified by."""
    for link in chain[:MAX_CAUSE_DETAILS]:
        if is_exception_group(link):
            return group_leaves(link)
    return []


def _cause_attributes(chain: list[BaseException], redactor: Redactor) -> dict[str, AttributeValue]:
    """The first links of the cause chain beyond their types, aligned with
    ``failcat.cause_types`` (see :mod:`.attributes`); ``{}`` without a chain.

    An agent's wrapper (``raise StepFailed("step failed") from exc``) says nothing of what
    failed; the receiver classifies it by its causes when its own type names no entry, and a
    catalog entry for a cause needs its message (``context_length_exceeded`` in a
    ``BadRequestError``'s) and its bases (a botocore class generated below ``ClientError``).
    The messages are capped like a group leaf's: several travel on one event.
    """
    if not chain:
        return {}
    described = chain[:MAX_CAUSE_DETAILS]
    join = names.GROUP_NAME_SEPARATOR.join
    return {
        names.FAILCAT_CAUSE_MESSAGES: tuple(
            redactor.message(safe_message(link), limit=MAX_GROUP_MESSAGE_LENGTH)
            for link in described
        ),
        names.FAILCAT_CAUSE_BASE_TYPES: tuple(join(base_types(type(link))) for link in described),
    }


def _group_attributes(leaves: list[BaseException], redactor: Redactor) -> dict[str, AttributeValue]:
    """The failures inside an exception group (its ``leaves``) as aligned lists (see
    :mod:`.attributes`).

    ``{}`` for an exception that is not a group (no leaves). The group stays one event rather
    than one per leaf: it is one failure (one ``raise`` escaping one task group), and the
    receiver stores one row per failure; the leaves are what it classifies that row by.
    """
    if not leaves:
        return {}
    join = names.GROUP_NAME_SEPARATOR.join
    return {
        names.FAILCAT_GROUP_EXCEPTION_TYPES: tuple(
            qualified_type_name(type(leaf)) for leaf in leaves
        ),
        names.FAILCAT_GROUP_MESSAGES: tuple(
            redactor.message(safe_message(leaf), limit=MAX_GROUP_MESSAGE_LENGTH) for leaf in leaves
        ),
        names.FAILCAT_GROUP_BASE_TYPES: tuple(join(base_types(type(leaf))) for leaf in leaves),
        names.FAILCAT_GROUP_CAUSE_TYPES: tuple(
            join(cause_types(leaf)[:MAX_LEAF_CAUSE_TYPES]) for leaf in leaves
        ),
    }


def _emit_log_record(
    telemetry: _Telemetry,
    event_attributes: Mapping[str, AttributeValue],
    message: str,
    span: Span | None,
    timestamp: int | None,
) -> None:
    logger = telemetry.logger_provider.get_logger(_SCOPE_NAME, __version__)
    log_context = (
        trace.set_span_in_context(span) if span is not None else otel_context.get_current()
    )
    common: dict[str, Any] = {
        "timestamp": timestamp if timestamp is not None else time.time_ns(),
        "severity_text": "ERROR",
        "severity_number": SeverityNumber.ERROR,
        "body": message,
        "attributes": dict(event_attributes),
    }
    try:
        record = LogRecord(context=log_context, event_name=names.EXCEPTION_EVENT_NAME, **common)
    except TypeError:
        # OpenTelemetry API before 1.35: no context or event name on LogRecord yet.
        span_context = trace.get_current_span(log_context).get_span_context()
        record = LogRecord(
            trace_id=span_context.trace_id,
            span_id=span_context.span_id,
            trace_flags=span_context.trace_flags,
            **common,
        )
    logger.emit(record)


def _service_name(tracer_provider: object) -> str:
    return _resource_service_name(getattr(tracer_provider, "resource", None)) or _UNKNOWN_SERVICE


def _service_name_of(span: Span | None) -> str | None:
    # The receiver fingerprints with the resource the span is exported under, which is the
    # span's own (an SDK span of another provider than ours has another resource).
    return _resource_service_name(getattr(span, "resource", None)) if span is not None else None


def _resource_service_name(resource: Any) -> str | None:
    value = getattr(resource, "attributes", {}).get("service.name") if resource else None
    return value if isinstance(value, str) and value else None


# -- process-wide state, created on first use (nothing at import) ------------------------------

_state_lock = threading.Lock()
_seen: SeenExceptions | None = None
_recorded_on: RecordedOn | None = None
_active: FailureRecorder | None = None


def seen_exceptions() -> SeenExceptions:
    """The process-wide dedupe set: one exception object is recorded once, by any recorder."""
    global _seen
    if _seen is None:
        with _state_lock:
            if _seen is None:
                _seen = SeenExceptions()
    return _seen


def recorded_on() -> RecordedOn:
    """The process-wide table of the span each recorded exception went on."""
    global _recorded_on
    if _recorded_on is None:
        with _state_lock:
            if _recorded_on is None:
                _recorded_on = RecordedOn()
    return _recorded_on


def active_recorder() -> FailureRecorder:
    """The recorder of ``instrument()`` while instrumented, else one using global providers."""
    global _active
    if _active is None:
        with _state_lock:
            if _active is None:
                _active = FailureRecorder()
    return _active


def set_active_recorder(recorder: FailureRecorder | None) -> None:
    """Install ``recorder`` for the explicit API (None: back to the global providers)."""
    global _active
    _active = recorder
