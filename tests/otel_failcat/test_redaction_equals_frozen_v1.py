"""Redaction is byte-identical to the frozen copy of its rules (``_frozen_redaction_v1``).

The package's engine is tuned for the cost of text never seen before (gates that skip a needle
with no separator near it, fewer candidate runs); the frozen copy is the engine as it was. Tens of
thousands of generated messages, stacktraces and attribute values (secrets of every kind in
random surroundings, labels without values, the pieces that sit at the rules' edges, real-shaped
tracebacks) and hypothesis' own texts must come out the same from both, through ``redact``,
``message`` and ``stacktrace``, with the default caps and with small ones.
``test_redaction_stacktrace_frames`` holds the frame-by-frame stacktrace redaction (frames taken
from a memo) to the same copy over tracebacks whose frames repeat.
"""

from __future__ import annotations

import base64
import random
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from otel_failcat.redaction import RedactionSettings, Redactor
from tests.otel_failcat import _frozen_redaction_v1 as frozen
from tests.otel_failcat.test_redaction import _SECRET_SOUP, _TEXT
from tests.otel_failcat.test_redaction_properties import _PLANTED

_ALNUM = string.ascii_letters + string.digits
_B64URL = _ALNUM + "_-"


def _body(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


# Each a secret (or a near miss) in a published shape; bodies random per draw.
_SECRETS = (
    lambda r: "sk-proj-" + _body(r, _B64URL, 18, 60),
    lambda r: "sk-ant-api03-" + _body(r, _B64URL, 18, 60),
    lambda r: "sk_live_" + _body(r, _ALNUM, 14, 40),
    lambda r: "ghp_" + _body(r, _ALNUM, 28, 40),
    lambda r: "github_pat_" + _body(r, _ALNUM + "_", 20, 90),
    lambda r: "AKIA" + _body(r, string.ascii_uppercase + string.digits, 15, 17),
    lambda r: "AIza" + _body(r, _B64URL, 34, 36),
    lambda r: "xoxb-" + _body(r, string.digits + "-", 8, 30),
    lambda r: "hf_" + _body(r, _ALNUM, 28, 42),
    lambda r: "glpat-" + _body(r, _B64URL, 18, 30),
    lambda r: "SG." + _body(r, _B64URL, 22, 22) + "." + _body(r, _B64URL, 43, 43),
    lambda r: "ya29." + _body(r, _B64URL, 28, 80),
    lambda r: "hvs." + _body(r, _B64URL, 22, 40),
    lambda r: "dapi" + _body(r, "0123456789abcdef", 31, 33),
    lambda r: "eyJ" + _body(r, _B64URL, 4, 30) + ".eyJ" + _body(r, _B64URL, 4, 30) + ".x",
    lambda r: base64.b64encode(f"u{r.randint(1, 99)}:{_body(r, _ALNUM, 4, 20)}".encode()).decode(),
    lambda r: base64.b64encode(("sk-" + _body(r, _ALNUM, 20, 30)).encode()).decode(),
    lambda r: _body(r, _ALNUM + "+/", 12, 40) + r.choice(["", "=", "=="]),
    lambda r: f"postgresql://agent:{_body(r, _ALNUM + '!$*', 1, 20)}@db:5432/app",
    lambda r: (
        f"https://h.example/cb?{r.choice(['sig', 'token', 'code', 'key'])}="
        + _body(r, _ALNUM, 3, 30)
    ),
    lambda r: f"{_body(r, _ALNUM + '._', 1, 12)}@{_body(r, string.ascii_lowercase, 1, 8)}.io",
    lambda r: "-----BEGIN RSA PRIVATE KEY-----\n" + _body(r, _ALNUM + "+/", 20, 80),
    lambda r: "https://hooks.slack.com/services/T" + _body(r, _ALNUM + "/", 6, 40),
    lambda r: f"CREATE USER a WITH PASSWORD '{_body(r, _ALNUM, 1, 12)}'",
)
_LABELS = (
    "password",
    "passwd",
    "pwd",
    "api_key",
    "x-api-key",
    "API-KEY",
    "apikey",
    "token",
    "max_tokens",
    "input_tokens",
    "access_token",
    "secret",
    "client_secret",
    "aws_secret_access_key",
    "SecretAccessKey",
    "credentials",
    "DD_APP_KEY",
    "AccountKey",
    "shared_access_key",
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "Set-Cookie",
    "Bearer",
    "Basic",
    "IDENTIFIED BY",
    "key",
    "keyboard",
    "monkey",
    "tokenizer",
)
_SEPARATORS = ("=", ": ", ":", " = ", '": "', "': '", '\\": \\"', " ", "\t:", "  =  ", "", "(")
_WORDS = (
    "failed",
    "expired",
    "Rate limit reached for gpt-4o on tokens per min",
    "retry",
    "ConnectionError",
    "request_id=req_0123456789abcdef",
    "max_tokens=4096",
    "\\n",
    "\\'",
    '"',
    "'",
    "[REDACTED:x]",
    "=",
    ":",
    "&",
    "?",
    "/",
    "@",
    "://",
    "{KEY}",
    "0123456789abcdef0123456789abcdef",
    "PydanticSchemaGenerationError",
    "_make_status_error_from_response",
)
_GLUE = (" ", "", ", ", "\n", "\t", "(", ")", "'", '"', "/", "-", "_", ".", ";", "=", "\\n")


def _value(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        return rng.choice(_SECRETS)(rng)
    if roll < 0.6:
        return _body(rng, _ALNUM + "-_.!*", 1, 24)
    return rng.choice(_WORDS)


def _piece(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(_LABELS) + rng.choice(_SEPARATORS) + _value(rng)
    if roll < 0.55:
        return rng.choice(_SECRETS)(rng)
    return rng.choice(_WORDS)


def _message(rng: random.Random) -> str:
    return "".join(rng.choice(_GLUE) + _piece(rng) for _ in range(rng.randint(1, 8)))


def _stacktrace(rng: random.Random) -> str:
    lines = ["Traceback (most recent call last):\n"]
    for _ in range(rng.randint(1, 30)):
        path = rng.choice(
            [
                "/srv/app/agent/runner.py",
                "/app/.venv/lib/python3.12/site-packages/openai/_base_client.py",
                "/usr/lib/python3.12/asyncio/base_events.py",
                "C:\\Users\\dev\\agent\\llm.py",
            ]
        )
        source = _message(rng) if rng.random() < 0.3 else rng.choice(_WORDS)
        lines.append(
            f'  File "{path}", line {rng.randint(1, 2000)}, in '
            f"{rng.choice(['run', '_request', 'call_tool', '<module>'])}\n    {source}\n"
        )
    lines.append(f"{rng.choice(['ValueError', 'openai.AuthenticationError'])}: {_message(rng)}")
    return "".join(lines)


_DEFAULT = RedactionSettings()
_SMALL = RedactionSettings(max_message_length=80, max_stacktrace_length=400)
_PAIRS = [(Redactor(s), frozen.Redactor(s)) for s in (_DEFAULT, _SMALL)]


def _assert_same(text: str) -> None:
    """The rules alone, and both caps (head; head and tail) with the default and small sizes."""
    new, old = _PAIRS[0]
    assert new.redact(text) == old.redact(text), text
    for new, old in _PAIRS:
        assert new.message(text) == old.message(text), text
        assert new.stacktrace(text) == old.stacktrace(text), text


def test_generated_messages_and_attribute_values_redact_as_frozen() -> None:
    rng = random.Random(11)
    new, old = _PAIRS[0]
    for index in range(20_000):
        text = _message(rng)
        if index % 10:
            assert new.redact(text) == old.redact(text), text
        else:
            _assert_same(text)


def test_generated_stacktraces_redact_as_frozen() -> None:
    rng = random.Random(12)
    for _ in range(1_000):
        _assert_same(_stacktrace(rng))


@settings(max_examples=600, deadline=None)
@given(text=st.one_of(_SECRET_SOUP, _TEXT))
def test_soup_redacts_as_frozen(text: str) -> None:
    _assert_same(text)


@settings(max_examples=600, deadline=None)
@given(case=_PLANTED)
def test_planted_secrets_redact_as_frozen(case: tuple[str, str]) -> None:
    _assert_same(case[0])
