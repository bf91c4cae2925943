"""The failures the synthetic agents raise, each with the catalog code it must be stored under.

A :class:`Scenario` says where in an agent run the failure happens (``stage``), whether the agent
handles it (records it with ``record_failure`` and carries on) or lets it escape (``track``
records it and the run fails), how likely it is (``weight``), and how it is raised: through the
library stand-ins of :mod:`._library`, often as a chain (``raise X from Y``) the way SDKs wrap
transport errors. Types and messages follow the default catalog's own cases, so
``expected_code`` is what the packaged catalog answers; ``UNCATALOGED`` scenarios are ordinary
bugs of the agent's own code (real ``KeyError``, ``AttributeError``... and custom classes).
Scenarios with ``error_type`` raise nothing: the span only ends with status ERROR and the
attribute ``error.type`` (an HTTP tool call that answered 429, say).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from collector_receiver.traffic import _services as svc
from collector_receiver.traffic._library import LibraryPath, library_error, library_function
from collector_receiver.traffic._services import ServiceProfile

Stage = Literal["llm", "tool", "http", "agent"]

UNCATALOGED = "UNCATALOGED"

# -- library stand-ins ---------------------------------------------------------------------------

OpenAIRateLimitError = library_error("openai", "RateLimitError")
OpenAIBadRequestError = library_error("openai", "BadRequestError")
OpenAIAuthenticationError = library_error("openai", "AuthenticationError")
OpenAIInternalServerError = library_error("openai", "InternalServerError")
OpenAIAPITimeoutError = library_error("openai", "APITimeoutError")
AnthropicRateLimitError = library_error("anthropic", "RateLimitError")
AnthropicOverloadedError = library_error("anthropic", "OverloadedError")
AnthropicBadRequestError = library_error("anthropic", "BadRequestError")
AnthropicAPIConnectionError = library_error("anthropic", "APIConnectionError")
HttpxReadTimeout = library_error("httpx", "ReadTimeout")
HttpxConnectError = library_error("httpx", "ConnectError")
HttpxHTTPStatusError = library_error("httpx", "HTTPStatusError")
OutputParserException = library_error("langchain_core.exceptions", "OutputParserException")
ToolException = library_error("langchain_core.tools.base", "ToolException")
GraphRecursionError = library_error("langgraph.errors", "GraphRecursionError", RecursionError)
LiteLLMRateLimitError = library_error("litellm.exceptions", "RateLimitError")
LiteLLMContextWindowExceededError = library_error(
    "litellm.exceptions", "ContextWindowExceededError"
)
McpToolError = library_error("mcp.server.fastmcp.exceptions", "ToolError")
McpError = library_error("mcp.shared.exceptions", "McpError")
RetryError = library_error("tenacity", "RetryError")
UsageLimitExceeded = library_error("pydantic_ai.exceptions", "UsageLimitExceeded")
UnexpectedModelBehavior = library_error("pydantic_ai.exceptions", "UnexpectedModelBehavior")
GenaiClientError = library_error("google.genai.errors", "ClientError")
GenaiServerError = library_error("google.genai.errors", "ServerError")
MaxTurnsExceeded = library_error("agents.exceptions", "MaxTurnsExceeded")
InputGuardrailTripwireTriggered = library_error(
    "agents.exceptions", "InputGuardrailTripwireTriggered"
)
AgentsToolTimeoutError = library_error("agents.exceptions", "ToolTimeoutError")
RequestsConnectionError = library_error("requests.exceptions", "ConnectionError")
RequestsReadTimeout = library_error("requests.exceptions", "ReadTimeout")

# -- where library errors are raised --------------------------------------------------------------

_OPENAI_CLIENT = LibraryPath(
    "openai/_base_client.py", ("post", "request", "_request", "_make_status_error_from_response")
)
_OPENAI_RETRY = LibraryPath("openai/_base_client.py", ("post", "request", "_retry_request"))
_ANTHROPIC_CLIENT = LibraryPath(
    "anthropic/_base_client.py", ("post", "request", "_request", "_make_status_error")
)
_ANTHROPIC_RETRY = LibraryPath("anthropic/_base_client.py", ("post", "request", "_retry_request"))
_HTTPX_TRANSPORT = LibraryPath(
    "httpx/_transports/default.py", ("handle_request", "map_httpcore_exceptions")
)
_HTTPX_RESPONSE = LibraryPath("httpx/_models.py", ("raise_for_status",))
_LANGCHAIN_PARSER = LibraryPath(
    "langchain_core/output_parsers/json.py", ("parse_result", "_parse_json")
)
_LANGCHAIN_TOOL = LibraryPath(
    "langchain_core/tools/base.py", ("invoke", "run", "_handle_tool_error")
)
_LANGGRAPH_LOOP = LibraryPath("langgraph/pregel/main.py", ("invoke", "stream", "_check_recursion"))
_LITELLM = LibraryPath(
    "litellm/litellm_core_utils/exception_mapping_utils.py", ("completion", "exception_type")
)
_MCP_SESSION = LibraryPath(
    "mcp/shared/session.py", ("call_tool", "send_request", "_raise_on_timeout")
)
_MCP_SERVER = LibraryPath("mcp/server/fastmcp/tools/tool_manager.py", ("call_tool",))
_TENACITY = LibraryPath("tenacity/__init__.py", ("__call__", "iter", "_post_stop_check_actions"))
_PYDANTIC_AI = LibraryPath(
    "pydantic_ai/_agent_graph.py", ("run", "_finish_handling", "_check_usage")
)
_GENAI = LibraryPath("google/genai/_api_client.py", ("request", "_request", "raise_for_response"))
_AGENTS_RUNNER = LibraryPath("agents/run.py", ("run", "_run_single_turn", "_check_turns"))
_AGENTS_TOOL = LibraryPath("agents/tool.py", ("invoke_function_tool", "_with_timeout"))
_AGENTS_GUARDRAIL = LibraryPath("agents/run.py", ("run", "_run_input_guardrails"))
_REQUESTS = LibraryPath("requests/adapters.py", ("send",))
_URLLIB3 = LibraryPath("urllib3/connectionpool.py", ("urlopen", "_make_request"))


@dataclass(frozen=True)
class FailureContext:
    """What a failing step knows: its service, the tool and URL in use, the run's random source."""

    service: ServiceProfile
    tool: str
    url: str
    rng: random.Random


@dataclass(frozen=True)
class Scenario:
    """One kind of failure and where it happens in an agent run (see the module docstring)."""

    name: str
    #: The library family it belongs to; None: any service can hit it.
    family: str | None
    expected_code: str
    stage: Stage
    #: True: the agent records it with ``record_failure`` and goes on; False: it escapes ``track``.
    handled: bool
    weight: float
    raise_failure: Callable[[FailureContext], None] | None = None
    #: For a status-only failure: the span's ``error.type`` (no exception, no event).
    error_type: str | None = None
    #: Set on the failing span (``http.response.status_code``...).
    span_attributes: Mapping[str, Any] = field(default_factory=dict)


def _org(rng: random.Random) -> str:
    return "org-" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))


def _hex(rng: random.Random, digits: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(digits))


# -- OpenAI --------------------------------------------------------------------------------------


def openai_rate_limit(ctx: FailureContext) -> None:
    used = ctx.rng.randint(29_000, 29_990)
    library_function(_OPENAI_CLIENT)(
        OpenAIRateLimitError(
            "Error code: 429 - {'error': {'message': 'Rate limit reached for "
            f"{ctx.service.model} in organization {_org(ctx.rng)} on tokens per min (TPM): "
            f"Limit 30000, Used {used}, Requested {ctx.rng.randint(800, 4000)}. Please try again "
            f"in {ctx.rng.uniform(0.5, 9):.3f}s.', 'type': 'tokens', 'param': None, "
            "'code': 'rate_limit_exceeded'}}"
        ),
    )


def openai_context_length(ctx: FailureContext) -> None:
    tokens = ctx.rng.randint(128_100, 190_000)
    library_function(_OPENAI_CLIENT)(
        OpenAIBadRequestError(
            "Error code: 400 - {'error': {'message': \"This model's maximum context length is "
            f"128000 tokens. However, your messages resulted in {tokens} tokens. Please reduce "
            "the length of the messages.\", 'type': 'invalid_request_error', 'param': "
            "'messages', 'code': 'context_length_exceeded'}}"
        ),
    )


def openai_timeout(ctx: FailureContext) -> None:
    try:
        library_function(_HTTPX_TRANSPORT)(HttpxReadTimeout("The read operation timed out"))
    except Exception as transport_error:
        library_function(_OPENAI_RETRY)(
            OpenAIAPITimeoutError("Request timed out."), transport_error
        )


def openai_server_error(ctx: FailureContext) -> None:
    library_function(_OPENAI_CLIENT)(
        OpenAIInternalServerError(
            "Error code: 500 - {'error': {'message': 'The server had an error while processing "
            "your request. Sorry about that!', 'type': 'server_error'}}"
        ),
    )


def openai_bad_key(ctx: FailureContext) -> None:
    # A proxy that echoes the full key: the key must never reach the receiver (redaction).
    fake_key = "sk-proj-" + "".join(
        ctx.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        for _ in range(40)
    )
    library_function(_OPENAI_CLIENT)(
        OpenAIAuthenticationError(
            "Error code: 401 - {'error': {'message': 'Incorrect API key provided: "
            f"{fake_key}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.', 'type': 'invalid_request_error', "
            "'param': None, 'code': 'invalid_api_key'}}"
        ),
    )


# -- Anthropic -----------------------------------------------------------------------------------


def anthropic_overloaded(ctx: FailureContext) -> None:
    library_function(_ANTHROPIC_CLIENT)(
        AnthropicOverloadedError(
            "Error code: 529 - {'type': 'error', 'error': {'type': 'overloaded_error', "
            "'message': 'Overloaded'}}"
        ),
    )


def anthropic_rate_limit(ctx: FailureContext) -> None:
    library_function(_ANTHROPIC_CLIENT)(
        AnthropicRateLimitError(
            "Error code: 429 - {'type': 'error', 'error': {'type': 'rate_limit_error', "
            "'message': 'This request would exceed the rate limit for your organization "
            f"({_hex(ctx.rng, 4)}) of 50,000 input tokens per minute.'}}}}"
        ),
    )


def anthropic_prompt_too_long(ctx: FailureContext) -> None:
    tokens = ctx.rng.randint(200_100, 260_000)
    library_function(_ANTHROPIC_CLIENT)(
        AnthropicBadRequestError(
            "Error code: 400 - {'type': 'error', 'error': {'type': 'invalid_request_error', "
            f"'message': 'prompt is too long: {tokens} tokens > 200000 maximum'}}}}"
        ),
    )


# -- LangChain / LangGraph -----------------------------------------------------------------------


def langchain_output_parser(ctx: FailureContext) -> None:
    completion = 'Sure! Here is the plan: {"steps": ["search", "answer"'
    try:
        json.loads(completion)  # a real JSONDecodeError from the standard library
    except json.JSONDecodeError as decode_error:
        library_function(_LANGCHAIN_PARSER)(
            OutputParserException(f"Invalid json output: {completion}"),
            decode_error,
        )


def langchain_tool_exception(ctx: FailureContext) -> None:
    query = ctx.rng.choice(["latest release notes", "refund policy", "order status"])
    library_function(_LANGCHAIN_TOOL)(
        ToolException(f"Search backend returned HTTP 500 for query '{query}'"),
    )


def langgraph_recursion(ctx: FailureContext) -> None:
    library_function(_LANGGRAPH_LOOP)(
        GraphRecursionError(
            "Recursion limit of 25 reached without hitting a stop condition. You can increase "
            "the limit by setting the `recursion_limit` config key."
        ),
    )


# -- httpx / requests ------------------------------------------------------------------------------


def httpx_read_timeout(ctx: FailureContext) -> None:
    library_function(_HTTPX_TRANSPORT)(HttpxReadTimeout("The read operation timed out"))


def httpx_too_many_requests(ctx: FailureContext) -> None:
    library_function(_HTTPX_RESPONSE)(
        HttpxHTTPStatusError(
            f"Client error '429 Too Many Requests' for url '{ctx.url}'\n"
            "For more information check: "
            "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/429"
        ),
    )


def requests_connection_refused(ctx: FailureContext) -> None:
    host = ctx.url.split("/")[2]
    try:
        library_function(_URLLIB3)(ConnectionRefusedError(111, "Connection refused"))
    except ConnectionRefusedError as socket_error:
        library_function(_REQUESTS)(
            RequestsConnectionError(
                f"HTTPSConnectionPool(host='{host}', port=443): Max retries exceeded with url: "
                "/ (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at "
                f"0x7f{_hex(ctx.rng, 10)}>: Failed to establish a new connection: [Errno 111] "
                "Connection refused'))"
            ),
            socket_error,
        )


def requests_read_timeout(ctx: FailureContext) -> None:
    host = ctx.url.split("/")[2]
    library_function(_REQUESTS)(
        RequestsReadTimeout(
            f"HTTPSConnectionPool(host='{host}', port=443): Read timed out. (read timeout=10)"
        ),
    )


# -- LiteLLM / MCP / tenacity --------------------------------------------------------------------


def litellm_rate_limit(ctx: FailureContext) -> None:
    try:
        openai_rate_limit(ctx)
    except Exception as provider_error:
        library_function(_LITELLM)(
            LiteLLMRateLimitError(
                "litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit reached "
                f"for {ctx.service.model} in organization {_org(ctx.rng)} on requests per min "
                "(RPM): Limit 500"
            ),
            provider_error,
        )


def litellm_context_window(ctx: FailureContext) -> None:
    tokens = ctx.rng.randint(128_500, 150_000)
    library_function(_LITELLM)(
        LiteLLMContextWindowExceededError(
            "litellm.ContextWindowExceededError: litellm.BadRequestError: "
            "ContextWindowExceededError: OpenAIException - This model's maximum context length "
            f"is 128000 tokens. However, your messages resulted in {tokens} tokens."
        ),
    )


def mcp_unknown_tool(ctx: FailureContext) -> None:
    library_function(_MCP_SERVER)(McpToolError(f"Unknown tool: {ctx.tool}_v2"))


def mcp_request_timeout(ctx: FailureContext) -> None:
    library_function(_MCP_SESSION)(
        McpError("Timed out while waiting for response to ClientRequest. Waited 30.0 seconds."),
    )


def tenacity_retries_exhausted(ctx: FailureContext) -> None:
    try:
        try:
            library_function(_HTTPX_TRANSPORT)(HttpxConnectError("All connection attempts failed"))
        except Exception as transport_error:
            library_function(_ANTHROPIC_RETRY)(
                AnthropicAPIConnectionError("Connection error."), transport_error
            )
    except Exception as last_attempt:
        library_function(_TENACITY)(
            RetryError(
                f"RetryError[<Future at 0x7f{_hex(ctx.rng, 8)} state=finished raised "
                "APIConnectionError>]"
            ),
            last_attempt,
        )


def file_not_found(ctx: FailureContext) -> None:
    path = f"/workspace/repo/src/{ctx.rng.choice(['planner', 'tools', 'memory'])}.py"
    raise FileNotFoundError(2, "No such file or directory", path)


# -- pydantic-ai / Google GenAI ------------------------------------------------------------------


def pydantic_ai_usage_limit(ctx: FailureContext) -> None:
    library_function(_PYDANTIC_AI)(
        UsageLimitExceeded("The next request would exceed the request_limit of 50"),
    )


def pydantic_ai_output_retries(ctx: FailureContext) -> None:
    library_function(_PYDANTIC_AI)(
        UnexpectedModelBehavior("Exceeded maximum retries (1) for output validation"),
    )


def genai_resource_exhausted(ctx: FailureContext) -> None:
    library_function(_GENAI)(
        GenaiClientError(
            "429 RESOURCE_EXHAUSTED. {'error': {'code': 429, 'message': 'You exceeded your "
            "current quota, please check your plan and billing details.', 'status': "
            "'RESOURCE_EXHAUSTED'}}"
        ),
    )


def genai_overloaded(ctx: FailureContext) -> None:
    library_function(_GENAI)(
        GenaiServerError(
            "503 UNAVAILABLE. {'error': {'code': 503, 'message': 'The model is overloaded. "
            "Please try again later.', 'status': 'UNAVAILABLE'}}"
        ),
    )


# -- OpenAI Agents SDK ---------------------------------------------------------------------------


def agents_max_turns(ctx: FailureContext) -> None:
    library_function(_AGENTS_RUNNER)(MaxTurnsExceeded("Max turns (10) exceeded"))


def agents_input_guardrail(ctx: FailureContext) -> None:
    library_function(_AGENTS_GUARDRAIL)(
        InputGuardrailTripwireTriggered("Guardrail InputGuardrail triggered tripwire"),
    )


def agents_tool_timeout(ctx: FailureContext) -> None:
    library_function(_AGENTS_TOOL)(
        AgentsToolTimeoutError(f"Tool '{ctx.tool}' timed out after 10 seconds."),
    )


# -- bugs of the agents' own code (uncataloged) ----------------------------------------------------


def missing_choices_key(ctx: FailureContext) -> None:
    response: dict[str, Any] = {"id": f"chatcmpl-{_hex(ctx.rng, 12)}", "choices": []}
    try:
        response["choices"][0]
    except IndexError:
        # A fallback that reads a key the response does not have: KeyError during IndexError.
        response["message"]


def none_has_no_content(ctx: FailureContext) -> None:
    message: Any = None  # the model answered with a tool call only
    message.content.strip()


def cost_per_token(ctx: FailureContext) -> None:
    usage = {"completion_tokens": 0, "cost": 0.0042}
    usage["cost"] / usage["completion_tokens"]


def custom_domain_error(ctx: FailureContext) -> None:
    error = library_error(f"{ctx.service.package}.billing", "InvoiceMismatch")
    cents = ctx.rng.randint(1000, 9000)
    raise error(
        f"invoice total {cents / 100:.2f} does not equal line items {(cents - 10) / 100:.2f}"
    )


def unexpected_state(ctx: FailureContext) -> None:
    error = library_error(f"{ctx.service.package}.workflow", "StateError")
    raise error(f"step {ctx.rng.randint(2, 9)} finished twice for session {_hex(ctx.rng, 6)}")


# -- the table -----------------------------------------------------------------------------------

_429 = {"http.response.status_code": 429}

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "openai_rate_limit",
        svc.OPENAI,
        "OPENAI_RATE_LIMIT",
        "llm",
        True,
        6,
        openai_rate_limit,
        span_attributes=_429,
    ),
    Scenario(
        "openai_context_length",
        svc.OPENAI,
        "OPENAI_CONTEXT_LENGTH_EXCEEDED",
        "llm",
        False,
        2,
        openai_context_length,
        span_attributes={"http.response.status_code": 400},
    ),
    Scenario("openai_timeout", svc.OPENAI, "OPENAI_API_TIMEOUT", "llm", True, 3, openai_timeout),
    Scenario(
        "openai_server_error",
        svc.OPENAI,
        "OPENAI_SERVER_ERROR",
        "llm",
        True,
        2,
        openai_server_error,
        span_attributes={"http.response.status_code": 500},
    ),
    Scenario(
        "openai_bad_key",
        svc.OPENAI,
        "OPENAI_AUTHENTICATION",
        "llm",
        False,
        1,
        openai_bad_key,
        span_attributes={"http.response.status_code": 401},
    ),
    Scenario(
        "anthropic_overloaded",
        svc.ANTHROPIC,
        "ANTHROPIC_OVERLOADED",
        "llm",
        True,
        5,
        anthropic_overloaded,
        span_attributes={"http.response.status_code": 529},
    ),
    Scenario(
        "anthropic_rate_limit",
        svc.ANTHROPIC,
        "ANTHROPIC_RATE_LIMIT",
        "llm",
        True,
        4,
        anthropic_rate_limit,
        span_attributes=_429,
    ),
    Scenario(
        "anthropic_prompt_too_long",
        svc.ANTHROPIC,
        "ANTHROPIC_PROMPT_TOO_LONG",
        "llm",
        False,
        2,
        anthropic_prompt_too_long,
        span_attributes={"http.response.status_code": 400},
    ),
    Scenario(
        "langchain_output_parser",
        svc.LANGCHAIN,
        "LANGCHAIN_OUTPUT_PARSER",
        "llm",
        False,
        3,
        langchain_output_parser,
    ),
    Scenario(
        "langchain_tool_exception",
        svc.LANGCHAIN,
        "LANGCHAIN_TOOL_EXCEPTION",
        "tool",
        True,
        2,
        langchain_tool_exception,
    ),
    Scenario(
        "langgraph_recursion",
        svc.LANGGRAPH,
        "LANGGRAPH_RECURSION_LIMIT",
        "agent",
        False,
        2,
        langgraph_recursion,
    ),
    Scenario("httpx_read_timeout", svc.HTTPX, "HTTPX_TIMEOUT", "http", True, 3, httpx_read_timeout),
    Scenario(
        "httpx_too_many_requests",
        svc.HTTPX,
        "HTTP_CLIENT_TOO_MANY_REQUESTS",
        "http",
        True,
        2,
        httpx_too_many_requests,
        span_attributes=_429,
    ),
    Scenario(
        "requests_connection_refused",
        svc.REQUESTS,
        "REQUESTS_CONNECTION_ERROR",
        "http",
        True,
        2,
        requests_connection_refused,
    ),
    Scenario(
        "requests_read_timeout",
        svc.REQUESTS,
        "REQUESTS_TIMEOUT",
        "http",
        True,
        2,
        requests_read_timeout,
    ),
    Scenario(
        "litellm_rate_limit",
        svc.LITELLM,
        "LITELLM_RATE_LIMIT",
        "llm",
        True,
        4,
        litellm_rate_limit,
        span_attributes=_429,
    ),
    Scenario(
        "litellm_context_window",
        svc.LITELLM,
        "LITELLM_CONTEXT_WINDOW_EXCEEDED",
        "llm",
        False,
        2,
        litellm_context_window,
    ),
    Scenario("mcp_unknown_tool", svc.MCP, "MCP_UNKNOWN_TOOL", "tool", True, 2, mcp_unknown_tool),
    Scenario(
        "mcp_request_timeout", svc.MCP, "MCP_REQUEST_TIMEOUT", "tool", True, 2, mcp_request_timeout
    ),
    Scenario(
        "tenacity_retries_exhausted",
        svc.TENACITY,
        "TENACITY_RETRY_ERROR",
        "llm",
        False,
        2,
        tenacity_retries_exhausted,
    ),
    Scenario(
        "file_not_found", svc.STDLIB, "PYTHON_FILE_NOT_FOUND", "tool", True, 1, file_not_found
    ),
    Scenario(
        "pydantic_ai_usage_limit",
        svc.PYDANTIC_AI,
        "PYDANTIC_AI_USAGE_LIMIT",
        "agent",
        False,
        2,
        pydantic_ai_usage_limit,
    ),
    Scenario(
        "pydantic_ai_output_retries",
        svc.PYDANTIC_AI,
        "PYDANTIC_AI_OUTPUT_RETRIES_EXCEEDED",
        "agent",
        False,
        2,
        pydantic_ai_output_retries,
    ),
    Scenario(
        "genai_resource_exhausted",
        svc.GOOGLE_GENAI,
        "GOOGLE_GENAI_RESOURCE_EXHAUSTED",
        "llm",
        True,
        4,
        genai_resource_exhausted,
        span_attributes=_429,
    ),
    Scenario(
        "genai_overloaded",
        svc.GOOGLE_GENAI,
        "GOOGLE_GENAI_SERVER_ERROR",
        "llm",
        True,
        2,
        genai_overloaded,
        span_attributes={"http.response.status_code": 503},
    ),
    Scenario(
        "agents_max_turns",
        svc.OPENAI_AGENTS,
        "AGENTS_MAX_TURNS_EXCEEDED",
        "agent",
        False,
        2,
        agents_max_turns,
    ),
    Scenario(
        "agents_input_guardrail",
        svc.OPENAI_AGENTS,
        "AGENTS_INPUT_GUARDRAIL",
        "agent",
        False,
        1,
        agents_input_guardrail,
    ),
    Scenario(
        "agents_tool_timeout",
        svc.OPENAI_AGENTS,
        "AGENTS_TOOL_TIMEOUT",
        "tool",
        True,
        2,
        agents_tool_timeout,
    ),
    # Status only: an HTTP call inside a tool that failed without raising.
    Scenario(
        "http_status_429",
        None,
        "HTTP_STATUS_429",
        "http",
        True,
        2,
        error_type="429",
        span_attributes=_429,
    ),
    Scenario(
        "http_status_502",
        None,
        "HTTP_STATUS_5XX",
        "http",
        True,
        1,
        error_type="502",
        span_attributes={"http.response.status_code": 502},
    ),
    Scenario(
        "tool_timeout_status", None, "ERROR_TYPE_TIMEOUT", "tool", True, 1, error_type="timeout"
    ),
)

UNCATALOGED_SCENARIOS: tuple[Scenario, ...] = (
    Scenario("missing_choices_key", None, UNCATALOGED, "llm", False, 3, missing_choices_key),
    Scenario("none_has_no_content", None, UNCATALOGED, "llm", False, 3, none_has_no_content),
    Scenario("cost_per_token", None, UNCATALOGED, "agent", True, 1, cost_per_token),
    Scenario("custom_domain_error", None, UNCATALOGED, "tool", False, 2, custom_domain_error),
    Scenario("unexpected_state", None, UNCATALOGED, "agent", False, 1, unexpected_state),
)


def scenarios_for(service: ServiceProfile) -> tuple[Scenario, ...]:
    """The cataloged scenarios a service can hit: its families' plus the generic ones."""
    return tuple(s for s in SCENARIOS if s.family is None or s.family in service.families)
