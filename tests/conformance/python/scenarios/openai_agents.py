"""The OpenAI Agents SDK: its real Chat Completions model over an httpx mock transport that
answers with tool calls, so turn limits, unknown tools, malformed arguments and failing tools go
through the SDK's own run loop."""

from __future__ import annotations

import asyncio
import json

import openai
from _mock_http import answer, async_client
from _scenario import report, run, run_wrapped
from agents import (
    Agent,
    GuardrailFunctionOutput,
    OpenAIChatCompletionsModel,
    Runner,
    function_tool,
    input_guardrail,
    output_guardrail,
)


def _tool_call(name: str, arguments: str) -> dict[str, object]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": name, "arguments": arguments},
                        }
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def _model(handler) -> OpenAIChatCompletionsModel:
    client = openai.AsyncOpenAI(
        api_key="sk-test",
        base_url="https://api.openai.test/v1",
        max_retries=0,
        http_client=async_client(handler),
    )
    return OpenAIChatCompletionsModel(model="gpt-4o", openai_client=client)


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


@function_tool(failure_error_function=None)
def book_flight(city: str) -> str:
    """Book a flight."""
    raise ConnectionResetError("the booking service closed the connection")


@function_tool(timeout=0.2, timeout_behavior="raise_exception")
async def search_hotels(city: str) -> str:
    """Search hotels (slower than its timeout)."""
    await asyncio.sleep(5)
    return "none"


def _text(text: str) -> dict[str, object]:
    return {
        "id": "chatcmpl-2",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o",
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


@output_guardrail
async def _no_prices(ctx, agent, output) -> GuardrailFunctionOutput:
    return GuardrailFunctionOutput(output_info="price", tripwire_triggered="$" in str(output))


def _run(agent: Agent, max_turns: int = 10):
    async def call() -> None:
        await Runner.run(agent, "plan my trip", max_turns=max_turns)

    return call


def _agent(handler, **kwargs: object) -> Agent:
    tools = [get_weather, book_flight, search_hotels]
    return Agent(name="planner", model=_model(handler), tools=tools, **kwargs)


@input_guardrail
async def _no_homework(ctx, agent, user_input) -> GuardrailFunctionOutput:
    return GuardrailFunctionOutput(output_info="homework", tripwire_triggered=True)


def _user_code_value_error() -> None:
    # An ordinary bug: the agent parses a number out of text that holds none.
    int(json.loads('{"days": "three"}')["days"])


city = json.dumps({"city": "Paris"})
run("max_turns", _run(_agent(answer(200, _tool_call("get_weather", city))), max_turns=2))
run("unknown_tool", _run(_agent(answer(200, _tool_call("get_forecast", city)))), via="log")
run("failing_tool", _run(_agent(answer(200, _tool_call("book_flight", city)))))
run("tool_timeout", _run(_agent(answer(200, _tool_call("search_hotels", city)))), via="log")
run(
    "output_guardrail",
    _run(_agent(answer(200, _text("The flight costs $420.")), output_guardrails=[_no_prices])),
)
run(
    "input_guardrail",
    _run(_agent(answer(200, _tool_call("get_weather", city)), input_guardrails=[_no_homework])),
)
run(
    "rate_limit",
    _run(
        _agent(
            answer(
                429,
                {
                    "error": {
                        "message": "Rate limit reached for gpt-4o on tokens per min (TPM).",
                        "type": "tokens",
                        "param": None,
                        "code": "rate_limit_exceeded",
                    }
                },
            )
        )
    ),
    via="span",
)
run("ordinary_value_error", _user_code_value_error)
# The same failures inside the agent's own wrapper (see _scenario: via="wrapped").
run_wrapped("failing_tool", "unknown_tool", "max_turns", "input_guardrail")
report()
