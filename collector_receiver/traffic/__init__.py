"""Synthetic agents: realistic failures sent through the real OpenTelemetry SDK and OTLP exporters.

``failcat traffic`` and ``failcat demo`` use it; tests and benchmarks can too::

    from collector_receiver.traffic import TrafficSpec, run_traffic

    result = run_traffic(TrafficSpec(endpoint="127.0.0.1:4317", count=200, services=3, seed=7))
    print(result.summary_line())
    result.failures      # each SentFailure: service, trace id, span id, the code it should get

What is sent:

- **Services** (``--services K``, up to six): ``support-agent`` (OpenAI, LangChain, httpx),
  ``research-agent`` (Anthropic, LangGraph, httpx), ``coding-agent`` (LiteLLM, MCP, tenacity),
  ``planner-agent`` (pydantic-ai, Google GenAI), ``triage-agent`` (OpenAI Agents SDK, requests),
  ``data-agent`` (OpenAI, requests). Each has its own ``TracerProvider`` (resource
  ``service.name``, ``service.version``, ``deployment.environment.name``) with a
  ``BatchSpanProcessor`` and the SDK's OTLP exporter, gRPC or HTTP/protobuf.
- **Agent runs**: ``invoke_agent <service>`` spans (``gen_ai.agent.name``) with ``chat <model>``
  calls (``gen_ai.provider.name``, ``gen_ai.request.model``, usage), ``execute_tool <tool>``
  spans (``gen_ai.tool.name``) and the tools' HTTP client spans, each GenAI span with its
  ``gen_ai.operation.name``: the operations a receiver counts. A run carries at most one
  failure. Model and tool calls fail at per-call rates of their own (model calls 3-12 %, tool
  calls 2-8 %, research-agent's ``fetch_page`` 40 %: the one clearly worse tool), and 3 % of
  runs fail in the agent loop itself; most runs succeed, and runs are sent until ``count``
  have failed. :attr:`TrafficResult.operations` is how many GenAI spans were sent.
- **Failures**: about thirty kinds the default catalog knows (rate limits, overload, timeouts,
  context length, output parsing, tool errors, turn and recursion limits, retries exhausted...),
  raised as exceptions whose types carry the libraries' names (``openai.RateLimitError``), from
  library-looking frames, often chained (``raise APITimeoutError from ReadTimeout``), and recorded
  with ``otel_failcat.record_failure`` (handled) or ``otel_failcat.track`` (escaping); some are
  ERROR spans with ``error.type`` and no exception event. A share (``--uncataloged-share``,
  default 0.1) are plain bugs of the agents' own code (``KeyError``, ``AttributeError``, custom
  classes) that no catalog entry knows. One kind carries a fake API key in its message, which
  ``otel_failcat`` redacts before it leaves the process.

The seed fixes the mix (which service, which failure, in which order); trace ids and times are
new on every run. Delivery is checked through the exporters' results: if any export fails (say
the endpoint is unreachable) sending stops and :class:`TrafficError` says why in one line.

To a receiver that serves TLS, give an ``https://`` endpoint and ``tls=ClientTls(ca_file=…)``
(plus ``cert_file`` and ``key_file`` under mutual TLS; ``--ca``, ``--client-cert`` and
``--client-key`` of ``failcat traffic``).
"""

from collector_receiver.traffic._export import ClientTls
from collector_receiver.traffic._model import (
    MAX_COUNT,
    SentFailure,
    TrafficError,
    TrafficResult,
    TrafficSpec,
)
from collector_receiver.traffic._runner import run_traffic
from collector_receiver.traffic._services import MAX_SERVICES, SERVICES

#: Names of the synthetic services, in the order ``--services K`` takes them.
SERVICE_NAMES: tuple[str, ...] = tuple(service.name for service in SERVICES)

__all__ = [
    "MAX_COUNT",
    "MAX_SERVICES",
    "SERVICE_NAMES",
    "ClientTls",
    "SentFailure",
    "TrafficError",
    "TrafficResult",
    "TrafficSpec",
    "run_traffic",
]
