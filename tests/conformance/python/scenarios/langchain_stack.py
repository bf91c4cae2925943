# ruff: noqa: E501 (provider error messages are quoted whole, as the services send them)
"""LangChain: ChatOpenAI over an httpx mock transport, output parsers fed bad model text, and a
tool that fails."""

from __future__ import annotations

from _mock_http import answer, client, read_timeout, refused
from _scenario import report, run, run_wrapped
from _sdk_span import sdk_span
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.tools import ToolException, tool
from langchain_openai import ChatOpenAI
from openai.resources.chat.completions import Completions
from pydantic import BaseModel


class Forecast(BaseModel):
    city: str
    celsius: float


def _chat(handler):
    def call() -> None:
        ChatOpenAI(
            model="gpt-4o",
            api_key="sk-test",
            base_url="https://api.openai.test/v1",
            max_retries=0,
            http_client=client(handler),
        ).invoke("hello")

    return call


def _openai_error(status: int, message: str, type_: str, code: str | None):
    return _chat(
        answer(status, {"error": {"message": message, "type": type_, "param": None, "code": code}})
    )


def _under_sdk_span(call):
    # An instrumentation's client span around the OpenAI SDK's call (_sdk_span) records the
    # SDK's error there; ChatOpenAI raises its own class over it (OpenAIRateLimitError from
    # openai.RateLimitError, the same message), another object, which the agent records above.
    def under() -> None:
        with sdk_span(Completions, "openai", "gpt-4o", awaited=False):
            call()

    return under


def _json_parser() -> None:
    JsonOutputParser().parse('Sure! Here is the JSON: {"city": "Paris", "celsius": ')


def _pydantic_parser() -> None:
    PydanticOutputParser(pydantic_object=Forecast).parse('{"city": "Paris", "celsius": "warm"}')


@tool
def lookup_weather(city: str) -> str:
    """The weather in a city."""
    raise ToolException(f"the weather service has no station in {city}")


def _tool_exception() -> None:
    lookup_weather.invoke({"city": "Atlantis"})


def _user_code_attribute_error() -> None:
    # An ordinary bug: the agent treats the parsed dict as an object.
    parsed = JsonOutputParser().parse('{"city": "Paris"}')
    print(parsed.city)


run(
    "rate_limit",
    _openai_error(
        429,
        "Rate limit reached for gpt-4o on requests per min (RPM): Limit 500.",
        "requests",
        "rate_limit_exceeded",
    ),
)
run(
    "context_overflow",
    _openai_error(
        400,
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130517 tokens.",
        "invalid_request_error",
        "context_length_exceeded",
    ),
    via="log",
)
run(
    "auth",
    _openai_error(
        401, "Incorrect API key provided: sk-test.", "invalid_request_error", "invalid_api_key"
    ),
    via="track",
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
run("server_error", _openai_error(502, "Bad gateway.", "server_error", None), via="span")
run("timeout", _chat(read_timeout()))
run("connection", _chat(refused()), via="thread")
run("json_output_parser", _json_parser)
run("pydantic_output_parser", _pydantic_parser, via="log")
run("tool_exception", _tool_exception)
run("ordinary_attribute_error", _user_code_attribute_error)
run(
    "rate_limit_sdk_span",
    _under_sdk_span(
        _openai_error(
            429,
            "Rate limit reached for gpt-4o on requests per min (RPM): Limit 500.",
            "requests",
            "rate_limit_exceeded",
        )
    ),
)
run(
    "server_error_sdk_span",
    _under_sdk_span(_openai_error(500, "The server had an error.", "server_error", None)),
    via="span",
)
# The same failures inside the agent's own wrapper (see _scenario: via="wrapped").
run_wrapped("context_overflow", "json_output_parser", "tool_exception")
report()
