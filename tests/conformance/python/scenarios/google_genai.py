# ruff: noqa: E501 (provider error messages are quoted whole, as the services send them)
"""google-genai: Gemini API error bodies (google.rpc.Status JSON) through an httpx mock transport."""

from __future__ import annotations

import socket

from _mock_http import answer, client, read_timeout, refused
from _scenario import report, run, run_wrapped
from google import genai
from google.genai import types


def _generate(handler):
    def call() -> None:
        genai.Client(
            api_key="AIza-test",
            http_options=types.HttpOptions(
                httpx_client=client(handler),
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        ).models.generate_content(model="gemini-2.5-flash", contents="hello")

    return call


def _status(code: int, status: str, message: str) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "status": status}}


run(
    "resource_exhausted",
    _generate(
        answer(
            429,
            _status(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details.",
            ),
        )
    ),
)
run(
    "unavailable",
    _generate(
        answer(503, _status(503, "UNAVAILABLE", "The model is overloaded. Please try again later."))
    ),
    via="log",
)
run(
    "internal",
    _generate(answer(500, _status(500, "INTERNAL", "An internal error has occurred."))),
    via="span",
)
run(
    "deadline",
    _generate(
        answer(
            504,
            _status(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
        )
    ),
)
run(
    "api_key_invalid",
    _generate(
        answer(
            400, _status(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        )
    ),
    via="track",
)
run(
    "permission_denied",
    _generate(
        answer(
            403, _status(403, "PERMISSION_DENIED", "Permission denied on resource project demo.")
        )
    ),
)
run(
    "not_found",
    _generate(
        answer(
            404,
            _status(
                404,
                "NOT_FOUND",
                "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent.",
            ),
        )
    ),
)
run(
    "token_limit",
    _generate(
        answer(
            400,
            _status(
                400,
                "INVALID_ARGUMENT",
                "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
            ),
        )
    ),
)
run(
    "invalid_argument",
    _generate(
        answer(
            400,
            _status(
                400,
                "INVALID_ARGUMENT",
                "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\"",
            ),
        )
    ),
)
run("timeout", _generate(read_timeout()), via="thread")
run("connection", _generate(refused()))


def _embed_with_own_client() -> None:
    # The SDK's own client (httpx2, not one passed in) to a port nothing listens on.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gemini = genai.Client(
        api_key="AIza-test",
        http_options=types.HttpOptions(
            base_url=f"http://127.0.0.1:{port}/",
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )
    gemini.models.embed_content(model="gemini-embedding-001", contents="hello")


run("own_client_refused", _embed_with_own_client, via="track")
# The same failures inside the agent's own wrapper (see _scenario: via="wrapped").
run_wrapped("resource_exhausted", "token_limit", "not_found")
report()
