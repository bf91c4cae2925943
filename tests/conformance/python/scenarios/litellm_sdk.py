# ruff: noqa: E501 (provider error messages are quoted whole, as the services send them)
"""LiteLLM: OpenAI- and Anthropic-shaped error answers through its own provider code.

The OpenAI route takes an ``openai.OpenAI`` client, the Anthropic route LiteLLM's own
``HTTPHandler``; both get an httpx mock transport, so LiteLLM's exception mapping runs as is.
"""

from __future__ import annotations

import litellm
import openai
from _mock_http import answer, client, read_timeout, refused
from _scenario import report, run, run_wrapped
from litellm.llms.custom_httpx.http_handler import HTTPHandler

MESSAGES = [{"role": "user", "content": "hello"}]


def _openai(handler):
    def call() -> None:
        litellm.completion(
            model="openai/gpt-4o",
            messages=MESSAGES,
            num_retries=0,
            client=openai.OpenAI(
                api_key="sk-test",
                base_url="https://api.openai.test/v1",
                max_retries=0,
                http_client=client(handler),
            ),
        )

    return call


def _anthropic(handler):
    def call() -> None:
        litellm.completion(
            model="anthropic/claude-sonnet-4-5",
            messages=MESSAGES,
            num_retries=0,
            api_key="sk-ant-test",
            client=HTTPHandler(client=client(handler)),
        )

    return call


def _openai_error(status: int, message: str, type_: str, code: str | None):
    return _openai(
        answer(status, {"error": {"message": message, "type": type_, "param": None, "code": code}})
    )


def _anthropic_error(status: int, kind: str, message: str):
    return _anthropic(
        answer(status, {"type": "error", "error": {"type": kind, "message": message}})
    )


run(
    "rate_limit",
    _openai_error(
        429,
        "Rate limit reached for gpt-4o on requests per min (RPM): Limit 500, Used 500, Requested 1.",
        "requests",
        "rate_limit_exceeded",
    ),
)
run(
    "context_window",
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
run(
    "content_policy",
    _openai_error(
        400,
        "Your request was rejected as a result of our safety system.",
        "invalid_request_error",
        "content_policy_violation",
    ),
)
run(
    "bad_request",
    _openai_error(
        400,
        "Invalid value for 'temperature': must be between 0 and 2.",
        "invalid_request_error",
        "invalid_value",
    ),
)
run(
    "service_unavailable",
    _openai_error(
        503, "The server is currently overloaded with other requests.", "server_error", None
    ),
    via="span",
)
run("timeout", _openai(read_timeout()))
run("connection", _openai(refused()), via="thread")
run("anthropic_overloaded", _anthropic_error(529, "overloaded_error", "Overloaded"))
run(
    "anthropic_rate_limit",
    _anthropic_error(
        429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"
    ),
)
run(
    "anthropic_prompt_too_long",
    _anthropic_error(
        400, "invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum"
    ),
)
# The same failures inside the agent's own wrapper (see _scenario: via="wrapped").
run_wrapped("context_window", "content_policy", "service_unavailable")
report()
