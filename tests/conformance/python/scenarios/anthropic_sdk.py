# ruff: noqa: E501 (provider error messages are quoted whole, as the services send them)
"""The Anthropic Python SDK: its documented error bodies through an httpx mock transport."""

from __future__ import annotations

import anthropic
import httpx2
from _mock_http import answer, client, read_timeout, refused
from _scenario import report, run, run_wrapped


def _messages(handler):
    def call() -> None:
        anthropic.Anthropic(
            api_key="sk-ant-test", max_retries=0, http_client=client(handler, httpx2)
        ).messages.create(
            model="claude-sonnet-4-5",
            max_tokens=64,
            messages=[{"role": "user", "content": "hello"}],
        )

    return call


def _long_request() -> None:
    # The SDK itself refuses: max_tokens this large may take over 10 minutes unstreamed, so it
    # raises before any request leaves (the transport would answer 200).
    anthropic.Anthropic(
        api_key="sk-ant-test",
        max_retries=0,
        http_client=client(answer(200, {"type": "message"}, None, httpx2), httpx2),
    ).messages.create(
        model="claude-sonnet-4-5",
        max_tokens=300_000,
        messages=[{"role": "user", "content": "Write the whole book."}],
    )


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None):
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return _messages(answer(status, body, headers, httpx2))


run(
    "rate_limit",
    _error(
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your organization of 50,000 input tokens per minute.",
        {"retry-after": "3"},
    ),
)
run("overloaded", _error(529, "overloaded_error", "Overloaded"), via="log")
run("server_error", _error(500, "api_error", "Internal server error"), via="span")
run(
    "prompt_too_long",
    _error(400, "invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum"),
    via="track",
)
run("auth", _error(401, "authentication_error", "invalid x-api-key"))
run(
    "permission",
    _error(
        403,
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
)
run("not_found", _error(404, "not_found_error", "model: claude-9"))
run(
    "request_too_large",
    _error(413, "request_too_large", "Request exceeds the maximum allowed number of bytes."),
)
run(
    "billing",
    _error(402, "billing_error", "Your credit balance is too low to access the Anthropic API."),
)
run(
    "bad_request",
    _error(
        400,
        "invalid_request_error",
        'messages: roles must alternate between "user" and "assistant"',
    ),
)
run("timeout", _messages(read_timeout(httpx2)), via="thread")
run("connection", _messages(refused(httpx2)))
run("conflict", _error(409, "conflict_error", "Storage is in use"), via="log")
run("streaming_required", _long_request, via="log")
run("client_closed_request", _error(499, "api_error", "Client closed request"))
# The SDK instruments itself: with nothing recorded by the agent, its own span (status ERROR,
# error.type `client_timeout_error`) is the failure's only record.
run("own_span_timeout", _messages(read_timeout(httpx2)), via="none")
# No span of the agent's own open: the SDK's span (status ERROR, error.type overloaded_error, no
# exception event) is the root of a trace of its own, and the agent's record of the exception it
# raises must land on that span, not on a failcat.unhandled_exception span in another trace.
overloaded = _error(529, "overloaded_error", "Overloaded")
run("no_user_span_overloaded", overloaded, user_span=False)
run("no_user_span_overloaded_logged", overloaded, via="log", user_span=False)
run("no_user_span_timeout", _messages(read_timeout(httpx2)), user_span=False)
# The same failures inside the agent's own wrapper (see _scenario: via="wrapped").
run_wrapped("prompt_too_long", "overloaded", "auth", "streaming_required", "billing")
report()
