"""A stacktrace redacted frame by frame, the frames remembered, is the whole-text redaction.

``Redactor.stacktrace`` cuts a traceback into frame chunks and the lines between them, takes the
redactions of frames it has seen from a memo and redacts only the rest (``redaction._stacktrace``
explains why no rule's match reaches across a cut it makes). These tests hold it to the frozen
engine (``_frozen_redaction_v1``, which redacts the whole text) over thousands of tracebacks whose
frames repeat as real ones do, with secrets and the pieces of rules that span lines — labels at a
line's end, ``Bearer`` before a line break, PEM blocks, SQL passwords — in frame lines, source
lines, messages, chained sections and group margins; and check what the proof rests on: which
rules can match a line end at all, and that the memo stays within its bounds.
"""

from __future__ import annotations

import random
import re
import traceback

from hypothesis import given, settings
from hypothesis import strategies as st

from otel_failcat.redaction import RedactionSettings, Redactor
from otel_failcat.redaction._base64 import Base64Rule
from otel_failcat.redaction._engine import Rule, RunRule
from otel_failcat.redaction._stacktrace import FrameMemoRedaction, split_frames
from otel_failcat.redaction._tokens import token_rule
from tests.otel_failcat import _frozen_redaction_v1 as frozen
from tests.otel_failcat.test_redaction_equals_frozen_v1 import _SECRETS, _message

#: Pieces that end a line where a rule that spans lines would take the value from the next one.
_LINE_ENDS = (
    "password=",
    "token:",
    'api_key": ',
    "Authorization:",
    "Authorization: Bearer",
    "Proxy-Authorization = 'Token",
    "Bearer",
    "basic",
    "Cookie:",
    "Set-Cookie =",
    "IDENTIFIED BY",
    "identified with mysql_native_password by",
    "PASSWORD (",
    "aws_secret_access_key =",
    "-----BEGIN RSA PRIVATE KEY-----",
    '\\"secret\\":',
    "key",
    "KeyError",
    "max_tokens",
    "",
)
#: What the next line may begin with, for those to take.
_LINE_STARTS = (
    "",
    "    ",
    ": ",
    "= ",
    "'hunter2'",
    '"s3cr3t-value"',
    "Bearer abcdefghijklmnopqrstu",
    "hunter2hunter2",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
    "ValueError",
    "(",
    "  ",
)
_PATHS = (
    "/srv/app/agent/runner.py",
    "/app/.venv/lib/python3.12/site-packages/openai/_base_client.py",
    "/usr/lib/python3.12/asyncio/base_events.py",
    "/app/password/token.py",
    "C:\\Users\\dev\\agent\\llm.py",
)


def _line(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(_LINE_ENDS)
    if roll < 0.5:
        return rng.choice(_SECRETS)(rng).replace("\n", " ")
    if roll < 0.75:
        return _message(rng).replace("\n", " ")
    return rng.choice(_LINE_STARTS) + rng.choice(_LINE_ENDS)


def _frame(rng: random.Random, seen: list[str]) -> str:
    """A frame chunk; most often one seen before (code paths fail again and again)."""
    if seen and rng.random() < 0.6:
        return rng.choice(seen)
    name = rng.choice(
        ["run", "<module>", "_request", "password", "count_tokens", rng.choice(_LINE_ENDS)]
    )
    frame = f'  File "{rng.choice(_PATHS)}", line {rng.randint(1, 2000)}, in {name}\n'
    if rng.random() < 0.85:
        source = _line(rng) if rng.random() < 0.5 else "return await tool(**arguments)"
        frame += f"    {source}\n"
        if rng.random() < 0.2:
            frame += "    ^^^^^^^^~~~~~~~~\n"
    seen.append(frame)
    del seen[:-300]
    return frame


def _traceback(rng: random.Random, seen: list[str]) -> tuple[str, str]:
    """A traceback, with the message of its last exception line."""
    parts = []
    for _ in range(rng.randint(1, 3)):
        parts.append(
            rng.choice(["Traceback (most recent call last):\n", "", "  | ", _line(rng) + "\n"])
        )
        for _ in range(rng.randint(0, 10)):
            parts.append(_frame(rng, seen))
            if rng.random() < 0.1:
                parts.append(_line(rng) + "\n")  # a line between frames
            if rng.random() < 0.05:
                parts.append("  [Previous line repeated 7 more times]\n")
            if rng.random() < 0.05:  # an exception group's margin
                parts.append(f'  |   File "/g.py", line 3, in g\n  |     {_line(rng)}\n')
        parts.append(f"{rng.choice(['ValueError', 'KeyError', 'E'])}: {_line(rng)}\n")
        parts.append(
            rng.choice(
                [
                    "\nThe above exception was the direct cause of the following exception:\n\n",
                    "\nDuring handling of the above exception, another exception occurred:\n\n",
                    _line(rng) + "\n",
                    "",
                ]
            )
        )
    message = rng.choice([_line(rng), _message(rng), _line(rng) + "\n" + _line(rng), "timed out"])
    exception_type = rng.choice(["httpx.ReadTimeout", "Secret", "tokens.Error", "  | E", "E"])
    parts.append(f"{exception_type}: {message}" + rng.choice(["\n", ""]))
    return "".join(parts), message


_SIZES = (RedactionSettings(), RedactionSettings(max_message_length=80, max_stacktrace_length=400))


def test_generated_tracebacks_redact_as_frozen_frame_by_frame() -> None:
    rng = random.Random(111)
    pairs = [(Redactor(size), frozen.Redactor(size)) for size in _SIZES]
    seen: list[str] = []
    for _ in range(3_000):
        text, message = _traceback(rng, seen)
        for new, old in pairs:
            # As the agent and the receiver do: the message first, then the stacktrace.
            assert new.message(message) == old.message(message), message
            assert new.stacktrace(text) == old.stacktrace(text), text
    new = pairs[0][0]
    assert new._frames is not None
    entries, _ = new._frames.memo.size
    assert entries > 100  # the frames were remembered and taken from the memo


@settings(max_examples=400, deadline=None)
@given(
    pieces=st.lists(
        st.one_of(
            st.sampled_from(_LINE_ENDS),
            st.sampled_from(_LINE_STARTS),
            st.sampled_from(["\n", '  File "/a.py", line 1, in f\n', "    x\n", ": ", "'", "\\n"]),
            st.text(alphabet="aAkKeyYtTo:=\"' \n-_", max_size=12),
        ),
        max_size=40,
    ),
    repeat=st.booleans(),
)
def test_hypothesis_tracebacks_redact_as_frozen(pieces: list[str], repeat: bool) -> None:
    text = "".join(pieces)
    new, old = Redactor(), frozen.Redactor()
    if repeat:  # the memo holds the frames already
        new.stacktrace(text)
    message = text.rpartition(": ")[2].removesuffix("\n")
    new.message(message)
    assert new.stacktrace(text) == old.stacktrace(text)


def test_real_traceback_with_secrets_in_frames_and_message_loses_none() -> None:
    key = "sk-proj-" + "Zq9" * 12

    def call_tool(password: str) -> None:
        raise ConnectionError(f"token={password} rejected, Bearer {key}")

    password = "hunter2" * 2  # not written whole in a source line the traceback shows

    def run() -> None:
        try:
            call_tool(password)
        except ConnectionError as error:
            raise RuntimeError(f"tool failed: {error}") from error

    redactor = Redactor()
    texts = []
    for _ in range(3):
        try:
            run()
        except RuntimeError as error:
            texts.append("".join(traceback.format_exception(error)))
    for text in texts:
        redactor.message(text.rpartition("RuntimeError: ")[2].removesuffix("\n"))
        out = redactor.stacktrace(text)
        assert out == frozen.Redactor().stacktrace(text)
        assert key not in out and password not in out
        assert "[REDACTED:bearer_token]" in out and "[REDACTED:token]" in out


def test_frames_and_the_lines_between_them_are_cut_where_the_proof_allows() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/app/a.py", line 3, in f\n    g()\n    ^^^\n'
        '  File "/app/b.py", line 9, in g\n'
        "  [Previous line repeated 2 more times]\n"
        '  |   File "/app/c.py", line 1, in h\n'
        "ValueError: x"
    )
    segments = split_frames(text)
    assert "".join(s for s, _ in segments) == text
    assert [is_frame for _, is_frame in segments] == [False, True, True, False, False, False]
    assert segments[1][0].endswith("^^^\n")


def _can_match_newline(pattern: re.Pattern[str]) -> bool:
    """Whether some character the pattern may consume is a line end (read off its parse tree;
    look-arounds do not consume)."""
    parser = re._parser  # type: ignore[attr-defined]
    constants = re._constants  # type: ignore[attr-defined]
    newline = ord("\n")

    def in_set(items: list[tuple[object, object]]) -> bool:
        negated = any(op is constants.NEGATE for op, _ in items)
        categories = (
            constants.CATEGORY_SPACE,
            constants.CATEGORY_NOT_DIGIT,
            constants.CATEGORY_NOT_WORD,
            constants.CATEGORY_LINEBREAK,
        )
        hit = any(
            (op is constants.LITERAL and value == newline)
            or (op is constants.RANGE and value[0] <= newline <= value[1])  # type: ignore[index]
            or (op is constants.CATEGORY and value in categories)
            for op, value in items
        )
        return hit != negated

    def walk(items: object) -> bool:
        for op, value in items:  # type: ignore[attr-defined]
            if op is constants.LITERAL and value == newline:
                return True
            if op is constants.NOT_LITERAL and value != newline:
                return True
            if op is constants.ANY and pattern.flags & re.DOTALL:
                return True
            if op is constants.IN and in_set(value):
                return True
            if op in (constants.MAX_REPEAT, constants.MIN_REPEAT) and walk(value[2]):
                return True
            if op is constants.SUBPATTERN and walk(value[-1]):
                return True
            if op is constants.BRANCH and any(walk(branch) for branch in value[1]):
                return True
        return False

    return walk(parser.parse(pattern.pattern, pattern.flags))


def test_only_rules_with_a_line_tail_can_match_a_line_end() -> None:
    redactor = Redactor()
    spanning, bound = [], []
    for rule in redactor._rules:
        if isinstance(rule, Rule):
            (spanning if rule.line_tail is not None else bound).append(rule)
        else:
            assert isinstance(rule, RunRule | Base64Rule)
            bound.append(rule)
    assert {rule.kind for rule in spanning} == {
        "private_key",
        "authorization",
        "bearer_token",
        "basic_auth",
        "cookie",
        "sql_password",
        "aws_secret_key",
        "key_value",
    }
    for rule in bound:
        assert not _can_match_newline(rule.pattern), rule.kind
    assert not _can_match_newline(token_rule().pattern)
    for rule in spanning:
        assert _can_match_newline(rule.pattern), rule.kind


def test_the_memo_is_bounded_in_entries_and_characters() -> None:
    memo = FrameMemoRedaction(
        lambda text: text, [], lambda _: lambda _: set(), max_entries=50, max_chars=64 * 300
    ).memo
    for index in range(1_000):
        memo.put_all({f'  File "/app/m{index}.py", line 1, in f\n': "x" * (index % 200)})
        entries, chars = memo.size
        assert entries <= 50 and chars <= 64 * 300
    memo.put_all({"y" * 400: "y" * 400})  # longer than a sixty-fourth of the budget: not kept
    assert memo.get("y" * 400) is None


def test_extra_patterns_and_non_ascii_text_are_redacted_whole() -> None:
    custom = Redactor(RedactionSettings(extra_patterns=(r"File\s+\S+",)))
    assert custom._frames is None
    text = 'Traceback (most recent call last):\n  File "/a.py", line 1, in f\n    x\nE: é token=\n'
    for redactor, old in (
        (custom, frozen.Redactor(custom.settings)),
        (Redactor(), frozen.Redactor()),
    ):
        assert redactor.stacktrace(text) == old.stacktrace(text)


def test_an_email_far_after_another_is_cut_as_in_the_whole_text() -> None:
    # The e-mail rule takes every match in a needle's window, cut at the window's end, 700
    # characters after an earlier "@": a later address can lose all but its last letters there.
    # The frames between must not change where that cut falls.
    new, old = Redactor(), frozen.Redactor()
    frame = '  File "/srv/app/agent/runner.py", line 12, in run\n    return await tool(x)\n'
    for pad in range(0, 120, 2):
        text = (
            "ValueError: bad reply from ops@example.com\n"
            + frame * 8
            + "x" * pad
            + "\nKeyError: token someone@e.io.ConnectionError\n"
        )
        new.stacktrace(text)  # the frames are in the memo the second time
        assert new.stacktrace(text) == old.stacktrace(text), pad
