# ruff: noqa: E501 (provider error messages are quoted whole, as the services send them)
"""pydantic-ai: function models that misbehave, limits actually hit, and provider errors.

``FunctionModel`` stands in for the model where the failure is pydantic-ai's own (output or tool
retries exhausted, usage limits); the OpenAI model over an httpx mock transport where the
provider answers with an error, so pydantic-ai's mapping of the SDK's errors runs; and the
Anthropic model, whose SDK marks its own span failed.
"""

from __future__ import annotations

import anthropic
import httpx2
import openai
from _mock_http import answer, async_client, read_timeout, refused
from _scenario import report, run, run_wrapped
from _sdk_span import sdk_span
from anthropic.resources.beta.messages import AsyncMessages as AnthropicBetaMessages
from pydantic import BaseModel
from pydantic_ai import Agent, ModelRetry
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.usage import UsageLimits


class Forecast(BaseModel):
    city: str
    celsius: float


def _prose(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    # Never the structured output the agent asks for: output validation fails every time.
    if info.output_tools:
        name = info.output_tools[0].name
        return ModelResponse(parts=[ToolCallPart(name, {"city": "Paris", "celsius": "warm"})])
    return ModelResponse(parts=[TextPart("It is warm in Paris.")])


def _calls_weather(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return ModelResponse(parts=[ToolCallPart("weather", {"city": "Paris"})])


def _output_retries() -> None:
    Agent(FunctionModel(_prose), output_type=Forecast, retries=1).run_sync("weather?")


def _tool_retries() -> None:
    agent = Agent(FunctionModel(_calls_weather), retries=1)

    @agent.tool_plain
    def weather(city: str) -> str:
        raise ModelRetry(f"the weather service has no data for {city}")

    agent.run_sync("weather in Paris?")


def _unknown_tool() -> None:
    # The model keeps calling a tool the agent lacks: the message is the retries one, and only
    # the cause (pydantic-ai's _UnknownTool) says the tool was missing.
    agent = Agent(FunctionModel(_calls_weather), retries=1)

    @agent.tool_plain
    def forecast(city: str) -> str:
        return "sunny"

    agent.run_sync("weather in Paris?")


def _request_limit() -> None:
    agent = Agent(FunctionModel(_calls_weather))

    @agent.tool_plain
    def weather(city: str) -> str:
        return "sunny"

    agent.run_sync("weather in Paris?", usage_limits=UsageLimits(request_limit=3))


def _tool_calls_limit() -> None:
    agent = Agent(FunctionModel(_calls_weather))

    @agent.tool_plain
    def weather(city: str) -> str:
        return "sunny"

    agent.run_sync("weather in Paris?", usage_limits=UsageLimits(tool_calls_limit=2))


def _openai_agent(handler):
    def call() -> None:
        client = openai.AsyncOpenAI(
            api_key="sk-test",
            base_url="https://api.openai.test/v1",
            max_retries=0,
            http_client=async_client(handler),
        )
        model = OpenAIChatModel("gpt-4o", provider=OpenAIProvider(openai_client=client))
        Agent(model).run_sync("hello")

    return call


def _openai_error(status: int, message: str, type_: str, code: str | None):
    return _openai_agent(
        answer(status, {"error": {"message": message, "type": type_, "param": None, "code": code}})
    )


def _anthropic_agent(status: int, kind: str, message: str, **settings: int):
    def call() -> None:
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        body = {"type": "error", "error": {"type": kind, "message": message}}
        client = anthropic.AsyncAnthropic(
            api_key="sk-ant-test",
            max_retries=0,
            http_client=async_client(answer(status, body, http=httpx2), httpx2),
        )
        provider = AnthropicProvider(anthropic_client=client)
        model = AnthropicModel("claude-sonnet-4-5", provider=provider)
        Agent(model, model_settings=settings or None).run_sync("hello")

    return call


# The Anthropic SDK's own span is marked overloaded_error; pydantic-ai wraps the SDK's error in
# its own (ModelOverloadedError), another object, which is what the agent records.
_anthropic_overloaded = _anthropic_agent(529, "overloaded_error", "Overloaded")


def _under_sdk_span(call):
    # An instrumentation's client span around the SDK's call (_sdk_span) records the SDK's
    # error there, below the agent's record of pydantic-ai's wrapper of it, in the same trace.
    # max_tokens is set so the SDK takes the request at once (without it, it first refuses
    # the non-streamed call with a ValueError that pydantic-ai answers by streaming, and
    # that span would record the ValueError too).
    def under() -> None:
        with sdk_span(AnthropicBetaMessages, "anthropic", "claude-sonnet-4-5", awaited=True):
            call()

    return under


def _user_code_type_error() -> None:
    # An ordinary bug in a tool: the agent's own code adds a number to a string.
    agent = Agent(FunctionModel(_calls_weather))

    @agent.tool_plain
    def weather(city: str) -> str:
        readings = {"Paris": 21}
        return "temperature: " + readings[city]  # type: ignore[operator]

    agent.run_sync("weather in Paris?")


run("output_retries_exceeded", _output_retries)
run("tool_retries_exceeded", _tool_retries, via="log")
run("request_limit", _request_limit, via="track")
run("tool_calls_limit", _tool_calls_limit)
run(
    "rate_limit",
    _openai_error(
        429,
        "Rate limit reached for gpt-4o on tokens per min (TPM).",
        "tokens",
        "rate_limit_exceeded",
    ),
    via="span",
)
run(
    "context_window",
    _openai_error(
        400,
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130517 tokens.",
        "invalid_request_error",
        "context_length_exceeded",
    ),
)
run(
    "auth",
    _openai_error(
        401, "Incorrect API key provided: sk-test.", "invalid_request_error", "invalid_api_key"
    ),
)
run(
    "not_found",
    _openai_error(
        404,
        "The model `gpt-9` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
)
run(
    "server_error",
    _openai_error(
        500, "The server had an error while processing your request.", "server_error", None
    ),
    via="thread",
)
run("timeout", _openai_agent(read_timeout()))
run("connection", _openai_agent(refused()))
run("ordinary_tool_type_error", _user_code_type_error)
run("unknown_tool", _unknown_tool, via="log")
run("anthropic_overloaded", _anthropic_overloaded)
run("anthropic_overloaded_no_user_span", _anthropic_overloaded, user_span=False)
run(
    "anthropic_overloaded_sdk_span",
    _under_sdk_span(_anthropic_agent(529, "overloaded_error", "Overloaded", max_tokens=64)),
)
run(
    "anthropic_rate_limit_sdk_span",
    _under_sdk_span(
        _anthropic_agent(
            429,
            "rate_limit_error",
            "This request would exceed the rate limit for your organization of 50,000 input tokens per minute.",
            max_tokens=64,
        )
    ),
    via="track",
)
# The same failures inside the agent's own wrapper (see _scenario: via="wrapped").
run_wrapped("output_retries_exceeded", "unknown_tool", "request_limit", "ordinary_tool_type_error")
report()
