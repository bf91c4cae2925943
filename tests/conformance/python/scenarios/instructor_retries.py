"""instructor: a model that keeps answering with output its schema rejects, until instructor's
own retries run out; the OpenAI client underneath answers through an httpx mock transport."""

from __future__ import annotations

import json

import instructor
import openai
from _mock_http import answer, client
from _scenario import report, run
from pydantic import BaseModel, field_validator


class Forecast(BaseModel):
    city: str
    celsius: float

    @field_validator("celsius")
    @classmethod
    def plausible(cls, value: float) -> float:
        if not -90 <= value <= 60:
            raise ValueError("not a temperature on Earth")
        return value


def _tool_answer(arguments: object, finish_reason: str = "tool_calls") -> dict[str, object]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {
                                "name": "Forecast",
                                "arguments": arguments
                                if isinstance(arguments, str)
                                else json.dumps(arguments),
                            },
                        }
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def _extract(handler, retries: int = 2):
    def call() -> None:
        raw = openai.OpenAI(
            api_key="sk-test",
            base_url="https://api.openai.test/v1",
            max_retries=0,
            http_client=client(handler),
        )
        instructor.from_openai(raw).chat.completions.create(
            model="gpt-4o",
            response_model=Forecast,
            max_retries=retries,
            messages=[{"role": "user", "content": "weather in Paris"}],
        )

    return call


run(
    "validation_retries_exhausted",
    _extract(answer(200, _tool_answer({"city": "Paris", "celsius": 451}))),
)
run(
    "missing_field_retries_exhausted",
    _extract(answer(200, _tool_answer({"city": "Paris"}))),
    via="log",
)
run(
    "rate_limit",
    _extract(
        answer(
            429,
            {
                "error": {
                    "message": "Rate limit reached for gpt-4o on requests per min (RPM).",
                    "type": "requests",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            },
        ),
        retries=1,
    ),
    via="track",
)
# The model answers in prose where instructor asked for a tool call, every time: each attempt
# fails on instructor's own ResponseParsingError, and the retry verdict carries it.
run(
    "no_tool_call_retries_exhausted",
    _extract(
        answer(
            200,
            {
                "id": "chatcmpl-2",
                "object": "chat.completion",
                "created": 0,
                "model": "gpt-4o",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": "It is sunny in Paris."},
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            },
        ),
        retries=2,
    ),
)
# The model stopped at max_tokens mid-way through the tool call's arguments.
run(
    "incomplete_output",
    _extract(answer(200, _tool_answer('{"city": "Par', finish_reason="length"))),
    via="log",
)
report()
