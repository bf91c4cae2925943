"""message_template: variable parts become typed placeholders; the result is stable."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_failcat.normalize import MAX_TEMPLATE_INPUT, PLACEHOLDERS, message_template


@pytest.mark.parametrize(
    ("message", "template"),
    [
        ("HTTP 429 Too Many Requests", "HTTP <int> Too Many Requests"),
        ("Timeout after 30s", "Timeout after <int>s"),
        ("x = -5", "x = <int>"),
        ("rate 0.25 below -1.5", "rate <float> below <float>"),
        ("requires 1.2.3, found v2.0.10", "requires <version>, found <version>"),
        ("id 550e8400-e29b-41d4-a716-446655440000", "id <uuid>"),
        ("trace 4bf92f3577b34da6a3ce929d0e0e4736", "trace <hex>"),
        ("at 0x7f3a2b1c", "at <hex>"),
        ("span_00f067aa0ba902b7 lost", "span_<hex> lost"),
        ("digits 12345678901 only", "digits <int> only"),
        ("peer 10.0.0.1:5432 refused", "peer <ip>:<int> refused"),
        ("peer 2001:db8::8a2e:370:7334 down", "peer <ip> down"),
        ("peer fe80::1 down", "peer <ip> down"),
        ("peer 2001:0db8:0000:0000:0000:ff00:0042:8329 down", "peer <ip> down"),
        ("GET https://api.example.com/v1/items?id=3 failed.", "GET <url> failed."),
        ("see (https://example.com/x)", "see (<url>)"),
        ("postgres://u@db:5432/app down", "<url> down"),
        ("open /var/lib/app/data.db failed", "open <path> failed"),
        ("open ~/agents/x.json failed", "open <path> failed"),
        ("open ./run/x failed", "open <path> failed"),
        ("module src/agent/tools.py broke", "module <path> broke"),
        ("open C:\\Users\\bob\\agent.py failed", "open <path> failed"),
        ("open C:\\Program Files\\App\\run.exe failed", "open <path> failed"),
        ("share \\\\server\\share\\file.txt gone", "share <path> gone"),
        ("KeyError: 'user_id'", "KeyError: <str>"),
        ('tool "web_search" failed', "tool <str> failed"),
        ("can't find 'x' or don't know", "can't find <str> or don't know"),
        ("notify bob.smith@example.co.uk", "notify <email>"),
        ("at 2024-05-01T12:00:00.123Z", "at <timestamp>"),
        ("at 2024-05-01 12:00:00+02:00 local", "at <timestamp> local"),
        ("at 2024-05-01t12:00Z", "at <timestamp>"),
        ("on 2024-05-01 only", "on <date> only"),
        ("at 10:55:37.120 sharp", "at <time> sharp"),
        ("Date: Sat, 28 Nov 2026 10:55:37 GMT", "Date: <timestamp>"),
        ("  many\n\tspaces   here ", "many spaces here"),
        # kept as they are: words with digits, model names, and ordinary words
        ("model gpt4 and v2 and python3", "model gpt4 and v2 and python3"),
        ("and/or is not a path", "and/or is not a path"),
        ("Foo::Bar and std::vector", "Foo::Bar and std::vector"),
        ("deadbeef is a word here", "deadbeef is a word here"),
        ("no variables at all", "no variables at all"),
        ("step a: failed", "step a: failed"),
        ("", ""),
    ],
)
def test_template(message: str, template: str) -> None:
    assert message_template(message) == template


def test_same_failure_with_different_values_shares_a_template() -> None:
    first = "Request req-1a2b3c4d5e to 10.0.0.1 failed after 3 retries at 2024-01-01T00:00:00Z"
    second = (
        "Request req-9f8e7d6c5b to 192.168.1.20 failed after 12 retries at 2025-06-30T23:59:59Z"
    )
    assert message_template(first) == message_template(second)


def test_different_failures_keep_different_templates() -> None:
    assert message_template("rate limit exceeded") != message_template("quota exceeded")


def test_input_is_bounded() -> None:
    long = "word " * (MAX_TEMPLATE_INPUT // 2)
    assert len(message_template(long)) <= MAX_TEMPLATE_INPUT


def test_pathological_input_stays_fast() -> None:
    # A guard against catastrophic backtracking, not a speed target (see benchmarks/): with an
    # exponential or quadratic pattern any of these takes minutes.
    hostile = ["a/" * 8000, "a:" * 8000, "1:" * 8000, "'" + "a" * 16000, "a@" * 8000, "./" * 8000]
    started = time.perf_counter()
    for message in hostile:
        message_template(message)
    assert time.perf_counter() - started < 20


def test_placeholders_are_listed() -> None:
    for placeholder in ("<int>", "<float>", "<uuid>", "<hex>", "<ip>", "<url>", "<path>"):
        assert placeholder in PLACEHOLDERS
    for placeholder in ("<str>", "<email>", "<timestamp>", "<date>", "<version>"):
        assert placeholder in PLACEHOLDERS


_PIECES = st.sampled_from(
    [
        "'",
        '"',
        "1",
        "-2",
        "3.5",
        "/",
        "\\",
        ":",
        "::",
        ".",
        "@",
        "a",
        "f",
        "x.py",
        "0x1f",
        "2024-01-01",
        "T",
        "12:00:00",
        "http://",
        "C:",
        "<int>",
        " ",
        "\n",
        "deadbeef12",
        "10.0.0.1",
        "user@example.com",
    ]
)
_MESSAGES = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=30).map("".join),
)


@settings(max_examples=500, deadline=None)
@given(message=_MESSAGES)
def test_template_is_idempotent(message: str) -> None:
    once = message_template(message)
    assert message_template(once) == once


@settings(max_examples=300, deadline=None)
@given(message=_MESSAGES)
def test_template_is_deterministic(message: str) -> None:
    assert message_template(message) == message_template(message)
