"""One synthetic agent run: a realistic span tree, with at most one failure in it.

Which call fails is decided as the run goes: each ``chat`` call fails with the service's
``model_failure_rate``, each tool call with its tool's ``failure_rate`` (on the tool's span or on
the HTTP call under it), until one has failed; the scenario of that failure is then drawn by
the run's :data:`Pick` for the stage. A failure of the agent loop itself (``stage`` ``agent``)
is decided by the caller before the run starts (it may wrap the whole run) and leaves the
calls healthy.

The tree follows the OpenTelemetry GenAI semantic conventions::

    invoke_agent support-agent              gen_ai.operation.name=invoke_agent, agent name
    ├── chat gpt-4o               (CLIENT)  gen_ai.provider.name, gen_ai.request.model, usage
    ├── execute_tool web_search             gen_ai.tool.name, gen_ai.tool.call.id
    │   └── GET                   (CLIENT)  http.request.method, url.full, status code
    └── chat gpt-4o               (CLIENT)  finish_reasons ["stop"]

The failure of a :class:`~._scenarios.Scenario` lands on the span of its ``stage``:

- handled (``record_failure``): the failing span gets status ERROR and ``error.type``, the event
  goes on it, and the agent carries on (a retry that works, a tool result that says it failed);
- unhandled: the failing step runs inside ``otel_failcat.track``, which records the exception,
  sets ERROR and ``error.type`` on that span and re-raises; the run ends, its ``invoke_agent``
  span gets status ERROR without ``error.type`` (so the receiver does not count it twice);
- status only: the span ends with ERROR and ``error.type``, no exception at all.

Spans are started with ``record_exception=False`` and ``set_status_on_exception=False`` so the SDK
adds no second, unredacted ``exception`` event of its own.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, format_span_id
from opentelemetry.trace import format_trace_id as _format_trace_id
from opentelemetry.util.types import AttributeValue

from collector_receiver.traffic._scenarios import FailureContext, Scenario, Stage
from collector_receiver.traffic._services import ServiceProfile, Tool
from otel_failcat import record_failure, track
from otel_failcat.attributes import ERROR_TYPE


@dataclass(frozen=True)
class FailureSite:
    """Where a failure was put: the span that carries it."""

    trace_id: str
    span_id: str
    exception_type: str


#: Draws the scenario of a failing step from the stages it may be (None: none fits, no failure).
Pick = Callable[[tuple[Stage, ...]], Scenario | None]

_LLM_STAGES: tuple[Stage, ...] = ("llm",)
_TOOL_STAGES: tuple[Stage, ...] = ("tool", "http")


def _never(stages: tuple[Stage, ...]) -> Scenario | None:
    return None


class _RunAborted(Exception):
    """An unhandled failure ended the run (internal: the run's caller swallows it)."""


@dataclass
class AgentRun:
    """One run of ``service``.

    ``scenario`` is an agent-stage failure decided before the run (None: the calls may fail at
    their rates, each failure's scenario drawn by ``pick``); after :meth:`run` it is the
    scenario of the run's failure, if any.
    """

    tracer: Tracer
    service: ServiceProfile
    rng: random.Random
    scenario: Scenario | None
    pick: Pick = field(default=_never)
    site: FailureSite | None = None
    #: GenAI operation spans this run started (invoke_agent, chat, execute_tool).
    operations: int = 0

    def run(self) -> FailureSite | None:
        """Run the agent; the place of its failure, or None for a healthy run."""
        chosen = self.rng.choice(self.service.tools)
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": self.service.name,
            "gen_ai.conversation.id": f"conv_{self.rng.getrandbits(64):016x}",
        }
        name = f"invoke_agent {self.service.name}"
        scenario = self.scenario
        self.operations += 1
        try:
            if scenario is not None and scenario.stage == "agent" and not scenario.handled:
                # The agent loop itself gives up (max turns, recursion limit): track the run.
                with track(name, attributes=attributes):
                    self._steps(chosen)
            else:
                with self._span(name, attributes) as span:
                    try:
                        self._steps(chosen)
                    except _RunAborted:
                        span.set_status(Status(StatusCode.ERROR, "agent run failed"))
        except Exception:
            if self.site is None:
                raise  # not a failure of the scenario: a bug of the simulation itself
            # Otherwise the failure was recorded where it happened; the "framework" moves on.
        return self.site

    # -- the steps of a run ----------------------------------------------------------------------

    def _steps(self, tool: Tool) -> None:
        self._chat(["tool_calls"])
        self._tool(tool)
        if self.rng.random() < 0.4:
            self._chat(["tool_calls"])
            self._tool(tool)
        self._agent_check(tool.name, tool.url)
        self._chat(["stop"])

    def _chat(self, finish_reasons: list[str]) -> None:
        service = self.service
        self.operations += 1
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": service.provider,
            "gen_ai.request.model": service.model,
            "server.address": _server_of(service.provider),
        }
        self._roll(service.model_failure_rate, _LLM_STAGES)
        scenario = self._failing("llm")
        if scenario is not None and not scenario.handled:
            self._unhandled(f"chat {service.model}", attributes, scenario, "", "")
            return
        with self._span(f"chat {service.model}", attributes, SpanKind.CLIENT) as span:
            if scenario is not None:
                self._handled_failure(span, scenario, "", "")
                # The SDK retried and the retry worked: the span still tells what went wrong.
            span.set_attributes(
                {
                    "gen_ai.response.model": service.model,
                    "gen_ai.response.finish_reasons": finish_reasons,
                    "gen_ai.usage.input_tokens": self.rng.randint(400, 12_000),
                    "gen_ai.usage.output_tokens": self.rng.randint(20, 900),
                }
            )

    def _tool(self, chosen: Tool) -> None:
        tool, url = chosen.name, chosen.url
        self.operations += 1
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.call.id": f"call_{self.rng.getrandbits(48):012x}",
        }
        # A tool call fails on its own span (tool stage) or on the HTTP call under it.
        self._roll(chosen.failure_rate, _TOOL_STAGES)
        scenario = self._failing("tool")
        if scenario is not None and not scenario.handled:
            self._unhandled(f"execute_tool {tool}", attributes, scenario, tool, url)
            return
        with self._span(f"execute_tool {tool}", attributes) as span:
            if scenario is not None:
                self._handled_failure(span, scenario, tool, url)
                return  # the tool's error goes back to the model as the tool result
            self._http(tool, url)

    def _http(self, tool: str, url: str) -> None:
        host = url.split("/")[2]
        attributes: dict[str, AttributeValue] = {
            "http.request.method": "GET",
            "url.full": url,
            "server.address": host,
            "server.port": 443,
        }
        scenario = self._failing("http")
        with self._span("GET", attributes, SpanKind.CLIENT) as span:
            if scenario is None:
                span.set_attribute("http.response.status_code", 200)
                return
            self._handled_failure(span, scenario, tool, url)

    def _agent_check(self, tool: str, url: str) -> None:
        scenario = self._failing("agent")
        if scenario is None:
            return
        span = _current_span()  # invoke_agent: every step's span has ended
        if span is None:
            return
        if not scenario.handled:
            # Escapes the tracked invoke_agent span, which records it (see run()).
            self._note_site(span, scenario)
            self._fail(scenario, tool, url)
        else:
            self._handled_failure(span, scenario, tool, url, set_status=False)

    # -- failures ----------------------------------------------------------------------------------

    def _roll(self, rate: float, stages: tuple[Stage, ...]) -> None:
        """Whether this call fails (at ``rate``, once per run); if so, draw its scenario."""
        if self.scenario is not None or self.site is not None:
            return
        if self.rng.random() < rate:
            self.scenario = self.pick(stages)

    def _failing(self, stage: str) -> Scenario | None:
        scenario = self.scenario
        if scenario is None or scenario.stage != stage or self.site is not None:
            return None
        return scenario

    def _fail(self, scenario: Scenario, tool: str, url: str) -> None:
        assert scenario.raise_failure is not None
        try:
            scenario.raise_failure(FailureContext(self.service, tool, url, self.rng))
        except Exception as exc:
            if self.site is not None:
                self.site = replace(self.site, exception_type=_type_name(exc))
            raise

    def _unhandled(
        self,
        name: str,
        attributes: Mapping[str, AttributeValue],
        scenario: Scenario,
        tool: str,
        url: str,
    ) -> None:
        """The step fails and the exception escapes its tracked span; the run is over."""
        try:
            with track(name, attributes=attributes) as span:
                self._note_site(span, scenario)
                span.set_attributes(dict(scenario.span_attributes))
                self._fail(scenario, tool, url)
        except Exception as exc:
            raise _RunAborted() from exc

    def _handled_failure(
        self, span: Span, scenario: Scenario, tool: str, url: str, set_status: bool = True
    ) -> None:
        self._note_site(span, scenario)
        span.set_attributes(dict(scenario.span_attributes))
        if scenario.raise_failure is None:  # status only: no exception, no event
            assert scenario.error_type is not None
            span.set_attribute(ERROR_TYPE, scenario.error_type)
            # An HTTP span leaves the description empty: the HTTP conventions say it must not
            # repeat what http.response.status_code already tells (and a "502 from ..." text
            # would read to the catalog as a JavaScript SDK's message).
            description = None if scenario.stage == "http" else f"{scenario.error_type} from {tool}"
            span.set_status(Status(StatusCode.ERROR, description))
            return
        try:
            self._fail(scenario, tool, url)
        except Exception as exc:
            if set_status:
                span.set_attribute(ERROR_TYPE, _type_name(exc))
                span.set_status(Status(StatusCode.ERROR))
            record_failure(exc, attributes={"agent.step": _span_name(span)})

    def _note_site(self, span: Span, scenario: Scenario) -> None:
        context = span.get_span_context()
        self.site = FailureSite(
            trace_id=_format_trace_id(context.trace_id),
            span_id=format_span_id(context.span_id),
            exception_type=scenario.error_type or "",
        )

    @contextmanager
    def _span(
        self,
        name: str,
        attributes: Mapping[str, AttributeValue],
        kind: SpanKind = SpanKind.INTERNAL,
    ) -> Iterator[Span]:
        with self.tracer.start_as_current_span(
            name,
            kind=kind,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            yield span


def _span_name(span: Span) -> str:
    """The span's name (SDK spans have one; anything else gets an empty string)."""
    return str(getattr(span, "name", ""))


def _current_span() -> Span | None:
    span = trace.get_current_span()
    return span if span.is_recording() else None


def _type_name(exc: BaseException) -> str:
    module = type(exc).__module__
    qualname = type(exc).__qualname__
    return qualname if module == "builtins" else f"{module}.{qualname}"


def _server_of(provider: str) -> str:
    return {
        "openai": "api.openai.com",
        "anthropic": "api.anthropic.com",
        "gcp.gemini": "generativelanguage.googleapis.com",
    }.get(provider, "llm.internal.example")
