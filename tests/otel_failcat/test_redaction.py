"""Redactor behaviour beyond the corpus: settings, caps, bad configuration, properties."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_failcat.redaction import RedactionSettings, Redactor, redaction_marker

OPENAI_KEY = "sk-proj-FAKE0123456789abcdefABCDEFghij"
_MARKER = re.compile(r"…\[truncated (\d+) chars\]")


# --- settings ---------------------------------------------------------------------------------


def test_defaults_without_environment() -> None:
    assert RedactionSettings.from_env({}) == RedactionSettings(
        enabled=True, max_message_length=4096, max_stacktrace_length=16384, extra_patterns=()
    )


def test_from_env_reads_every_variable() -> None:
    loaded = RedactionSettings.from_env(
        {
            "FAILCAT_REDACTION_ENABLED": " FALSE ",
            "FAILCAT_MAX_MESSAGE_LENGTH": "100",
            "FAILCAT_MAX_STACKTRACE_LENGTH": "2000",
            "FAILCAT_REDACTION_EXTRA_PATTERNS": "cust-[0-9]{6}\n\n  internal-[a-z]+  \r\n",
        }
    )
    assert loaded == RedactionSettings(
        enabled=False,
        max_message_length=100,
        max_stacktrace_length=2000,
        extra_patterns=("cust-[0-9]{6}", "internal-[a-z]+"),
    )


def test_from_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAILCAT_MAX_MESSAGE_LENGTH", "321")
    assert RedactionSettings.from_env().max_message_length == 321


def test_empty_values_mean_default() -> None:
    loaded = RedactionSettings.from_env(
        {"FAILCAT_REDACTION_ENABLED": "", "FAILCAT_MAX_MESSAGE_LENGTH": "  "}
    )
    assert loaded == RedactionSettings()


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("FAILCAT_REDACTION_ENABLED", "maybe", "expected true or false"),
        ("FAILCAT_MAX_MESSAGE_LENGTH", "ten", "expected a positive integer"),
        ("FAILCAT_MAX_MESSAGE_LENGTH", "0", "between 1 and"),
        ("FAILCAT_MAX_STACKTRACE_LENGTH", "-5", "between 1 and"),
        ("FAILCAT_MAX_STACKTRACE_LENGTH", "1.5", "expected a positive integer"),
        ("FAILCAT_REDACTION_EXTRA_PATTERNS", "ok-[0-9]+\nbroken(", "extra pattern #2"),
        ("FAILCAT_REDACTION_EXTRA_PATTERNS", "a*", "matches the empty string"),
    ],
)
def test_invalid_environment_is_a_one_line_value_error(
    variable: str, value: str, reason: str
) -> None:
    with pytest.raises(ValueError) as raised:
        RedactionSettings.from_env({variable: value})
    message = str(raised.value)
    assert variable in message
    assert reason in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_message_length": 0},
        {"max_stacktrace_length": -1},
        {"max_message_length": True},
        {"extra_patterns": ("[unclosed",)},
        {"extra_patterns": ("x?",)},
    ],
)
def test_invalid_settings_rejected_at_construction(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RedactionSettings(**kwargs)  # type: ignore[arg-type]


# --- redaction --------------------------------------------------------------------------------


def test_extra_patterns_are_redacted_as_custom() -> None:
    redactor = Redactor(RedactionSettings(extra_patterns=(r"cust-[0-9]{6}",)))
    assert redactor.redact("lookup of cust-123456 failed") == (
        f"lookup of {redaction_marker('custom')} failed"
    )


def test_disabled_redaction_keeps_secrets_but_still_caps() -> None:
    redactor = Redactor(RedactionSettings(enabled=False, max_message_length=64))
    assert redactor.redact(f"key {OPENAI_KEY}") == f"key {OPENAI_KEY}"
    capped = redactor.message("x" * 500)
    assert len(capped) <= 64
    assert _MARKER.search(capped)


def test_redact_never_raises_on_non_string() -> None:
    # The public type is str, but a host may hand anything; redaction must not raise.
    assert Redactor().redact(12345) == "12345"  # type: ignore[arg-type]
    assert Redactor().message(None) == "[REDACTED:unredactable]"  # type: ignore[arg-type]


def test_several_secrets_of_different_kinds_in_one_message() -> None:
    text = f"key={OPENAI_KEY} user=bob@example.com url=https://u:p4ss@h.example/x"
    assert Redactor().redact(text) == (
        "key=[REDACTED:openai_key] user=[REDACTED:email] url=https://u:[REDACTED:password]@h.example/x"
    )


def test_label_kept_value_redacted_for_plain_word_after_equals() -> None:
    assert Redactor().redact("password=hunter") == "password=[REDACTED:password]"
    assert Redactor().redact("password: hunter") == "password: hunter"


# --- caps ---------------------------------------------------------------------------------------


def test_short_message_is_not_marked() -> None:
    assert Redactor().message("short") == "short"


def test_message_cap_keeps_head_and_counts_dropped_characters() -> None:
    redactor = Redactor(RedactionSettings(max_message_length=100))
    text = "HEAD" + "x" * 1000
    capped = redactor.message(text)
    assert len(capped) <= 100
    assert capped.startswith("HEAD")
    match = _MARKER.search(capped)
    assert match is not None
    kept = match.start()
    assert int(match[1]) == len(text) - kept


def test_message_cap_redacts_secret_near_the_cut() -> None:
    redactor = Redactor(RedactionSettings(max_message_length=60))
    text = "a" * 40 + " " + OPENAI_KEY + " " + "b" * 200
    capped = redactor.message(text)
    assert "sk-proj" not in capped
    assert OPENAI_KEY[:12] not in capped


_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." + "S" * 40


def test_message_window_never_shows_the_front_of_a_secret_it_cut() -> None:
    # Only the first 2 * cap characters are redacted. Here the JWTs in front shrink to markers,
    # so the kept head reaches the window's end, where a Google key is cut after 19 characters
    # (too short to be recognised as one).
    redactor = Redactor(RedactionSettings(max_message_length=200))
    key = "AIza" + "SyD3xampleExampleExampleExample1234"
    front = f"{_JWT} " * 4
    text = front + "x" * (400 - len(front) - 20) + " " + key + " more words" * 50
    assert text.index(key) < 400 < text.index(key) + len(key)

    capped = redactor.message(text)

    assert "AIza" not in capped
    assert capped.startswith("[REDACTED:jwt] " * 4 + "x" * 20)
    assert _MARKER.search(capped)
    assert len(capped) <= 200


def test_stacktrace_tail_window_never_shows_the_back_of_a_secret_it_cut() -> None:
    # A stacktrace over 2 * cap keeps its last cap characters; the cut splits a JWT whose
    # signature, without its header, looks like nothing, and the JWTs after it shrink so much
    # that the kept tail reaches back to the cut.
    redactor = Redactor(RedactionSettings(max_stacktrace_length=400))
    tail = f" {_JWT}" * 4 + "\nValueError: the raising line"
    text = "Traceback (most recent call last):\n" + "f" * 2000 + " " + _JWT + tail
    cut, split = len(text) - 400, text.index(_JWT)
    assert split < cut < split + len(_JWT)

    capped = redactor.stacktrace(text)

    assert "SSSS" not in capped
    assert capped.endswith("ValueError: the raising line")
    assert len(capped) <= 400


def test_stacktrace_cap_keeps_head_and_tail() -> None:
    redactor = Redactor(RedactionSettings(max_stacktrace_length=400))
    frames = "".join(f'  File "/app/mod{i}.py", line {i}, in f{i}\n' for i in range(100))
    text = "Traceback (most recent call last):\n" + frames + "ValueError: the raising line"
    capped = redactor.stacktrace(text)
    assert len(capped) <= 400
    assert capped.startswith("Traceback (most recent call last):")
    assert capped.endswith("ValueError: the raising line")
    assert _MARKER.search(capped)


def test_huge_stacktrace_is_redacted_in_head_and_tail() -> None:
    redactor = Redactor(RedactionSettings(max_stacktrace_length=300))
    text = f"start {OPENAI_KEY}\n" + "y" * 10_000 + f"\nend {OPENAI_KEY}"
    capped = redactor.stacktrace(text)
    assert OPENAI_KEY not in capped
    assert capped.count("[REDACTED:openai_key]") == 2
    assert len(capped) <= 300


def test_tiny_caps_still_bound_the_output() -> None:
    redactor = Redactor(RedactionSettings(max_message_length=5, max_stacktrace_length=5))
    assert redactor.message("0123456789") == "01234"
    assert redactor.stacktrace("0123456789") == "56789"


def test_pathological_input_stays_fast() -> None:
    # Not a timing assertion on speed, a guard against catastrophic backtracking: each of these
    # would take minutes with an exponential or quadratic pattern.
    redactor = Redactor()
    hostile = [
        "sk-" + "a-" * 5000,
        "password=" * 3000,
        "a@" * 5000,
        "eyJ" + "a" * 5000 + ".eyJ" + "." * 5000,
        "http://" + "a:" * 5000,
        "Authorization: " * 2000,
        "-----BEGIN PRIVATE KEY-----" + "A" * 20000,
        "-----BEGIN PRIVATE KEY-----" + "\\nAAAA" * 5000,
        "Cookie: " * 2000,
        "Set-Cookie: a=" + "b; " * 5000,
        "?sig=" * 3000,
        "PASSWORD '" + "''" * 5000,
        "IDENTIFIED BY " * 2000,
        "A" * 20000,
        "aB3+" * 5000,
        "QUJD" * 5000 + "=",
        "glpat-" + "a-" * 5000,
        "SG." * 5000,
        "\\n" * 5000,
        "a_" * 10000,
    ]
    started = time.perf_counter()
    for text in hostile:
        redactor.stacktrace(text)
        redactor.message(text)
    assert time.perf_counter() - started < 20


# --- properties ---------------------------------------------------------------------------------

_SECRETISH = st.sampled_from(
    [OPENAI_KEY, "AKIAFAKE1234567890AB", "Bearer abc123def456", "a@b.co", "password=x", "'", '"']
)
_TEXT = st.lists(st.one_of(st.text(max_size=40), _SECRETISH), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, limit=st.integers(min_value=1, max_value=200))
def test_message_never_raises_and_respects_the_cap(text: str, limit: int) -> None:
    redactor = Redactor(RedactionSettings(max_message_length=limit, max_stacktrace_length=limit))
    assert len(redactor.message(text)) <= limit
    assert len(redactor.stacktrace(text)) <= limit


@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_redaction_is_idempotent(text: str) -> None:
    redactor = Redactor()
    once = redactor.redact(text)
    assert redactor.redact(once) == once
    capped = redactor.message(text)
    assert redactor.message(capped) == capped


@settings(max_examples=200, deadline=None)
@given(prefix=st.text(max_size=30), suffix=st.text(max_size=30))
def test_known_key_never_survives_any_context(prefix: str, suffix: str) -> None:
    assert OPENAI_KEY not in Redactor().redact(f"{prefix} {OPENAI_KEY} {suffix}")


_PIECES = st.sampled_from(
    [
        "sk-",
        "sk-ant-",
        "AKIA",
        "ghp_",
        "github_pat_",
        "AIza",
        "xoxb-",
        "eyJ",
        ".eyJ",
        "Bearer ",
        "basic ",
        "Authorization: ",
        "://",
        "u:p@",
        "password",
        "token",
        "api_key",
        "secret",
        "=",
        ": ",
        '"',
        "'",
        "@",
        "a@b.co",
        "[REDACTED:x]",
        "0123456789abcdef",
        "ABCDEFGHIJKLMNOP",
        "-----BEGIN PRIVATE KEY-----",
        " ",
        "\n",
        # the newer rules
        "sk_live_",
        "glpat-",
        "SG.",
        "v1.0-",
        "ya29.",
        "hf_",
        "Cookie: ",
        "Set-Cookie: ",
        "a=b; ",
        "?sig=",
        "&token=",
        "?code=",
        "PASSWORD '",
        "IDENTIFIED BY '",
        "''",
        "\\n",
        '\\"',
        "dXNlcjpwYXNzd29yZA==",
        "c2stcHJvai1GQUtFMDEyMzQ1Njc4OWFiY2RlZkFCQ0RFRmdoaWo=",
        "0123456789abcdefABCDEFGHIJ",
        "/",
        "+",
        "_",
        "-",
    ]
)
_SECRET_SOUP = st.lists(st.one_of(_PIECES, st.text(max_size=6)), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=_SECRET_SOUP)
def test_secret_soup_is_redacted_idempotently(text: str) -> None:
    redactor = Redactor()
    once = redactor.redact(text)
    assert redactor.redact(once) == once


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(_SECRET_SOUP, _TEXT))
def test_searching_near_needles_finds_what_a_full_scan_finds(text: str) -> None:
    # Rules only search windows around their needles; that must be a pure optimisation.
    for rule in Redactor()._rules:
        assert rule.apply(text, text.lower()) == rule.pattern.sub(rule.replace, text), rule.kind


def test_long_values_near_window_edges_are_redacted_whole() -> None:
    value = "v" * 500 + "1"
    for text in (f"api_key={value} tail", f"x-api-key: '{value}'", "token=" + "a1" * 300):
        redacted = Redactor().redact(text)
        assert "v" * 20 not in redacted
        assert "a1a1a1" not in redacted


def test_each_token_format_declares_no_more_token_characters_than_its_shortest_match() -> None:
    # A run shorter than a format's ``shortest`` is never tried for it: that must be a pure
    # optimisation. ``shortest`` may not exceed the minimum width of the format up to where it
    # may first leave the token characters (a ``.``, or a class holding ``+`` and ``/``).
    import re._parser as parser

    from otel_failcat.redaction._tokens import TOKEN_FORMATS

    for kind, pattern, _starts, shortest in TOKEN_FORMATS:
        leaves = re.search(r"\\\.|\[[^\]]*\+/\]", pattern)
        head = pattern if leaves is None else pattern[: leaves.start()].removesuffix("(?:")
        assert shortest <= parser.parse(head).getwidth()[0], kind
