"""The OpenAI Python SDK: provider-shaped error answers through an httpx mock transport."""

from __future__ import annotations

import json

import httpx
import openai
from _mock_http import answer as _answer
from _mock_http import client as _http
from _mock_http import read_timeout, refused
from _scenario import report, run, run_wrapped


def _client(handler) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sk-test",
        base_url="https://api.openai.test/v1",
        max_retries=0,
        http_client=_http(handler),
    )


def _chat(handler):
    def call() -> None:
        _client(handler).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
        )

    return call


def _error(message: str, type_: str, code: str | None, param: str | None = None):
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _truncated(request: httpx.Request) -> httpx.Response:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "finish_reason": "length",
                "message": {"role": "assistant", "content": '{"answer": "trunc'},
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 16, "total_tokens": 21},
    }
    return httpx.Response(200, json=body)


def _parse_truncated() -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        answer: str

    _client(_truncated).chat.completions.parse(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], response_format=Answer
    )


def _nginx_413(request: httpx.Request) -> httpx.Response:
    # A proxy in front of the API refuses the body before the API sees it: the SDK has no class
    # for 413 and raises its base APIStatusError over nginx's HTML page.
    page = (
        "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
        "<center><h1>413 Request Entity Too Large</h1></center>\r\n"
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return httpx.Response(413, text=page, headers={"content-type": "text/html"})


def _cloudflare_524(request: httpx.Request) -> httpx.Response:
    # Cloudflare in front of the API waited 100 s for the origin and gave up; its page is the
    # message of the SDK's InternalServerError.
    page = (
        '<!DOCTYPE html>\n<html lang="en-US">\n<head>\n'
        "<title>api.openai.com | 524: A timeout occurred</title>\n</head>\n"
        "<body><h1>A timeout occurred</h1><span>Error code 524</span></body>\n</html>\n"
    )
    return httpx.Response(524, text=page, headers={"content-type": "text/html"})


def _nginx_504(request: httpx.Request) -> httpx.Response:
    # The gateway gave up waiting for the API; the SDK words a non-JSON answer as its body.
    page = (
        "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
        "<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    return httpx.Response(504, text=page, headers={"content-type": "text/html"})


def _user_code_key_error() -> None:
    # An ordinary bug beside the SDK: the agent reads a key its own config never had.
    settings = json.loads('{"model": "gpt-4o"}')
    print(settings["temperature"])


run(
    "rate_limit",
    _chat(
        _answer(
            429,
            _error(
                "Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): "
                "Limit 30000, Used 30000, Requested 512. Please try again in 1.4s.",
                "tokens",
                "rate_limit_exceeded",
            ),
            {"retry-after": "2"},
        )
    ),
)
run(
    "insufficient_quota",
    _chat(
        _answer(
            429,
            _error(
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                "insufficient_quota",
            ),
        )
    ),
    via="log",
)
run(
    "context_length",
    _chat(
        _answer(
            400,
            _error(
                "This model's maximum context length is 128000 tokens. However, your messages "
                "resulted in 130517 tokens. Please reduce the length of the messages.",
                "invalid_request_error",
                "context_length_exceeded",
                "messages",
            ),
        )
    ),
    via="track",
)
run(
    "auth",
    _chat(
        _answer(
            401,
            _error(
                "Incorrect API key provided: sk-test. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            ),
        )
    ),
    via="span",
)
run(
    "model_not_found",
    _chat(
        _answer(
            404,
            _error(
                "The model `gpt-9` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
            ),
        )
    ),
)
run(
    "content_filter",
    _chat(
        _answer(
            400,
            _error(
                "Invalid prompt: your prompt was flagged as potentially violating our usage "
                "policy.",
                "invalid_request_error",
                "invalid_prompt",
            ),
        )
    ),
)
run(
    "server_error",
    _chat(
        _answer(
            500,
            _error("The server had an error while processing your request.", "server_error", None),
        )
    ),
)
run(
    "overloaded",
    _chat(
        _answer(
            503,
            _error(
                "The engine is currently overloaded, please try again later.", "server_error", None
            ),
        )
    ),
    via="thread",
)
run(
    "gateway_timeout",
    _chat(_answer(504, _error("Gateway timeout.", "server_error", None))),
    via="log",
)
run("gateway_timeout_page", _chat(_nginx_504), via="span")
# The SDK has no class for 408: after its retries it raises the base APIStatusError.
run(
    "request_timeout_408",
    _chat(_answer(408, _error("Request timed out.", "server_error", None))),
)
run("cdn_origin_timeout_524", _chat(_cloudflare_524), via="log")
run("timeout", _chat(read_timeout()))
run("connection", _chat(refused()), via="log")
run("output_length", _parse_truncated)
run(
    "bad_request",
    _chat(
        _answer(
            400,
            _error(
                "Invalid value for 'temperature': must be between 0 and 2.",
                "invalid_request_error",
                "invalid_value",
                "temperature",
            ),
        )
    ),
)
run("request_too_large", _chat(_nginx_413), via="track")
run("ordinary_key_error", _user_code_key_error)
# The same failures inside the agent's own wrapper (see _scenario: via="wrapped").
run_wrapped(
    "rate_limit",
    "context_length",
    "content_filter",
    "model_not_found",
    "gateway_timeout",
    "ordinary_key_error",
)
report()
