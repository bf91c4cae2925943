"""message_template: variable parts become typed placeholders; the result is stable."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_failcat.normalize import MAX_TEMPLATE_INPUT, PLACEHOLDERS, message_template


@pytest.mark.parametrize(
    ("message", "template"),
    [
        ("HTTP 429 Too Many Requests", "HTTP <num> Too Many Requests"),
        ("Timeout after 30s", "Timeout after <num>s"),
        ("x = -5", "x = <num>"),
        ("rate 0.25 below -1.5", "rate <num> below <num>"),
        ("requires 1.2.3, found v2.0.10", "requires <num>, found <num>"),
        ("id 550e8400-e29b-41d4-a716-446655440000", "id <uuid>"),
        ("trace 4bf92f3577b34da6a3ce929d0e0e4736", "trace <id>"),
        ("at 0x7f3a2b1c", "at <hex>"),
        ("span_00f067aa0ba902b7 lost", "span_<id> lost"),
        ("digits 12345678901 only", "digits <num> only"),
        ("peer 10.0.0.1:5432 refused", "peer <ip>:<num> refused"),
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


@pytest.mark.parametrize(
    "hostile",
    ["a/", "a:", "1:", "a@", "./", "a_", "a-", "1-", "1.", "a1_", "x-1a2b3c-", "'a", "0x"],
)
def test_pathological_input_is_read_only_up_to_the_cut(hostile: str) -> None:
    # The work is bounded by the input size, not by a clock: text past MAX_TEMPLATE_INPUT is
    # never read (the template of a huge input is that of its first MAX_TEMPLATE_INPUT
    # characters), and every rule is a bounded, non-nested repetition over that prefix.
    huge = hostile * (4 * MAX_TEMPLATE_INPUT // len(hostile))
    template = message_template(huge)
    assert template == message_template(huge[:MAX_TEMPLATE_INPUT])


def test_placeholders_are_listed() -> None:
    for placeholder in ("<num>", "<id>", "<uuid>", "<hex>", "<ip>", "<url>", "<path>"):
        assert placeholder in PLACEHOLDERS
    for placeholder in ("<str>", "<email>", "<timestamp>", "<date>", "<time>"):
        assert placeholder in PLACEHOLDERS
    # fp.v1's number shapes are one placeholder now
    for gone in ("<int>", "<float>", "<version>"):
        assert gone not in PLACEHOLDERS


# --- grouping: one placeholder per kind of variable part, whatever its shape ---------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Please try again in 3s.", "Please try again in 1.4s."),
        ("retry after 250ms", "retry after 1.25ms"),
        ("limit 30000, used 29000.5", "limit 1e5, used -3"),
        ("requires numpy 1.26, found 1.24.3", "requires numpy 2, found v2.0.1"),
        ("request req_0123456789 failed", "request req_8f3a9c1d2e failed"),
        ("tool call call_AbC123xyz failed", "tool call call_QwErTyUiOpAs failed"),
        ("message msg_01XFDUDYJgAACzvnptvVoYEL", "message msg_0000000000000000000000ab"),
        ("completion chatcmpl-9xAbCdEf0123456789 cut", "completion chatcmpl-000000000001 cut"),
        ("job 01ARZ3NDEKTSV4RRFFQ69G5FAV lost", "job 01HZX4M8QJ7VY2K9T3B6N5W0RC lost"),
        ("span span_00f067aa0ba902b7", "span span_1234567"),
        ("range 1-5 bad", "range 10-250 bad"),
    ],
)
def test_one_template_whatever_the_shape_of_a_value(first: str, second: str) -> None:
    assert message_template(first) == message_template(second)


@pytest.mark.parametrize(
    ("message", "template"),
    [
        ("Please try again in 1.4s.", "Please try again in <num>s."),
        ("request req_0123456789 failed", "request req_<id> failed"),
        ("chatcmpl-9xAbCdEf0123 done", "chatcmpl-<id> done"),
        ("toolu_01A09q90qw90lq917835lq9", "toolu_<id>"),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "<id>"),
        ("range 1-5", "range <num>-<num>"),
        ("user-550e8400-e29b-41d4-a716-446655440000 gone", "user-<uuid> gone"),
    ],
)
def test_new_placeholders(message: str, template: str) -> None:
    assert message_template(message) == template


@pytest.mark.parametrize(
    "name",
    [
        # model names are kept whole, snapshot dates and all: a quota or an outage is per model
        "gpt-4o-2024-08-06",
        "gpt-4o-mini",
        "gpt-3.5-turbo-0125",
        "claude-3-5-sonnet-20241022",
        "gemini-1.5-pro-002",
        "llama-3.1-8b",
        "text-embedding-3-small",
        "o1-preview",
        # ordinary words with digits, and names joined by hyphens or underscores
        "gpt4",
        "v2",
        "utf8",
        "utf-8",
        "http2",
        "base64",
        "sha256",
        "x86_64",
        "python3.11",
        "oauth2",
        "int64",
        "k8s",
        "e2e",
        "max_tokens",
        "worker-17",
        "T5ForConditionalGeneration",
        "ConnectionResetError",
        "context_length_exceeded",
    ],
)
def test_names_and_words_stay(name: str) -> None:
    assert message_template(f"failed for {name} now") == f"failed for {name} now"


# Variable parts of every shape a real message carries them in.
_DIGITS = "0123456789"
_BASE62 = _DIGITS + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CROCKFORD = _DIGITS + "ABCDEFGHJKMNPQRSTVWXYZ"
_NUMBERS = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**15).map(str),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda x: f"{x:.3f}"),
    st.floats(min_value=1e-3, max_value=1e9).map(repr),
    # versions; four parts would be an IPv4 address, another placeholder
    st.lists(st.integers(0, 99), min_size=2, max_size=3).map(lambda p: ".".join(map(str, p))),
)


def _holds_digit_or_hump(body: str) -> bool:
    """What the documented id rule asks of a prefixed id's body (see the normalize module)."""
    if any(c.isdigit() for c in body):
        return len(body) >= 6
    return len(body) >= 12 and any(a.islower() and b.isupper() for a, b in itertools.pairwise(body))


def _is_bare_id(token: str) -> bool:
    """What the documented rule asks of an id without a prefix (see the normalize module)."""
    digit_after_letter = any(a.isalpha() and b.isdigit() for a, b in itertools.pairwise(token))
    if not digit_after_letter:
        return False
    if all(c in "0123456789abcdef" for c in token):
        return len(token) >= 8
    return len(token) >= 16 and sum(c.isdigit() for c in token) >= 2


# The body of a prefixed id (the prefix, ``req_``, is part of the skeleton: it names the kind).
_ID_BODIES = st.one_of(
    st.text(alphabet=_BASE62, min_size=6, max_size=40),
    st.text(alphabet="0123456789abcdef", min_size=8, max_size=32),
    st.text(alphabet=_DIGITS, min_size=6, max_size=20),
).filter(_holds_digit_or_hump)
_BARE_IDS = st.one_of(
    st.text(alphabet=_CROCKFORD, min_size=26, max_size=26),  # ULIDs
    st.text(alphabet=_BASE62, min_size=16, max_size=40),
    st.text(alphabet="0123456789abcdef", min_size=8, max_size=64),  # hashes, trace ids
).filter(_is_bare_id)
_SKELETONS = st.sampled_from(
    [
        "Rate limit reached for gpt-4o in organization org-{i}. Please try again in {n}s.",
        "request req_{i} failed after {n} attempts ({b})",
        "Error code: {n} - {{'error': {{'message': 'overloaded', 'request_id': 'req_{i}'}}}}",
        "tool call_{i} timed out after {n}ms at step {n}",
        "completion chatcmpl-{i} of msg_{i} for toolu_{i} cut at {n} tokens",
        "job {b} lost",
        "context length {n} exceeds the limit of {n} tokens for claude-3-5-sonnet-20241022",
        "{b}: retry {n} of {n} in {n}h, {n}% used, {n}MB free",
    ]
)


@st.composite
def _filled(draw: st.DrawFn, skeleton: str) -> str:
    # Every {n}, {i}, {b} gets a fresh draw (a unit written after a number is the skeleton's).
    out, rest = [], skeleton
    while "{" in rest:
        head, _, tail = rest.partition("{")
        if tail.startswith("{"):  # an escaped brace
            out.append(head + "{")
            rest = tail[1:]
            continue
        key, _, rest = tail.partition("}")
        value = {
            "n": _NUMBERS,
            "i": _ID_BODIES,
            "b": _BARE_IDS,
        }[key]
        out.append(head + draw(value))
    out.append(rest.replace("}}", "}"))
    return "".join(out)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), skeleton=_SKELETONS)
def test_variable_parts_never_split_a_group(data: st.DataObject, skeleton: str) -> None:
    first = data.draw(_filled(skeleton))
    second = data.draw(_filled(skeleton))
    assert message_template(first) == message_template(second)


_WORDS = st.sampled_from(
    [
        "timeout",
        "rate",
        "limit",
        "quota",
        "exceeded",
        "gpt-4o",
        "gpt-4o-mini",
        "claude-3-5-sonnet-20241022",
        "utf8",
        "base64",
        "v2",
        "http2",
        "ConnectionError",
        "ValueError",
        "tool",
        "not",
        "found",
        "max_tokens",
        "x86_64",
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    words=st.lists(_WORDS, min_size=1, max_size=8),
    other=st.lists(_WORDS, min_size=1, max_size=8),
    number=_NUMBERS,
)
def test_different_failures_never_merge(words: list[str], other: list[str], number: str) -> None:
    # Distinct wording gives distinct templates, with a variable part in the same place.
    first = " ".join([*words, number])
    second = " ".join([*other, number])
    if words != other:
        assert message_template(first) != message_template(second)
    assert message_template(first) == " ".join([*words, "<num>"])


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
