"""Templates, frames and fingerprints are byte-identical to the frozen failcat.fp.v2 functions.

The package's functions are tuned for speed; the frozen copies (``_frozen_*_v2.py``) are the
recipe as it was. Tens of thousands of generated failures, with the variable parts of real
messages and tracebacks in random mixes and hypothesis' own texts, must give the same results.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from otel_failcat import fingerprint, normalize
from tests.otel_failcat import _frozen_fingerprint_v2 as frozen_fingerprint
from tests.otel_failcat import _frozen_normalize_v2 as frozen_normalize

# Messages as real failures carry them (the agent tests run without the receiver's YAML parser,
# so they are listed here rather than read from the catalog's cases).
_BASES = (
    "Error code: 429 - Rate limit reached for gpt-4o in organization org-abc on tokens per min",
    "Request timed out.",
    "Connection error.",
    "Unable to generate pydantic-core schema for <class 'pandas.core.frame.DataFrame'>",
    "Tool 'search' failed: HTTPSConnectionPool(host='api.example.com', port=443)",
    "context_length_exceeded: This model's maximum context length is 128000 tokens",
    "[Errno 2] No such file or directory: '/srv/app/config.yaml'",
    "ValidationError: 1 validation error for Plan\nsteps.0.tool\n  Field required",
    "",
)

# Variable parts of every kind, glued in ways that test the rules' edges (quotes after digits,
# values next to placeholders' brackets, Unicode digits, lone needles).
_PARTS = (
    lambda r: str(r.randint(-99999, 10**12)),
    lambda r: f"{r.random() * 10 ** r.randint(-3, 9):.{r.randint(1, 6)}f}",
    lambda r: f"{r.getrandbits(64):016x}",
    lambda r: f"0x{r.getrandbits(32):x}",
    lambda r: (
        f"{r.getrandbits(32):08x}-{r.getrandbits(16):04x}-4{r.getrandbits(12):03x}-"
        f"a{r.getrandbits(12):03x}-{r.getrandbits(48):012x}"
    ),
    lambda r: f"https://api{r.randint(1, 9)}.example.com/v1/x?id={r.randint(1, 999)}",
    lambda r: f"/srv/app/{r.choice(['a', 'b_c', 'd.e'])}/file{r.randint(1, 9)}.py",
    lambda r: f"src/{r.choice(['x', 'y'])}/main.{r.choice(['py', 'rs', 'tsx'])}",
    lambda r: f"C:\\Users\\u{r.randint(1, 9)}\\My Files\\a.txt",
    lambda r: f"'{r.choice(['alice', 'x y', ''])}'",
    lambda r: '"' + r.choice(["b", 'say \\"hi\\"', "1"]) + '"',
    lambda r: f"{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(0, 255)}",
    lambda r: f"fe80::{r.getrandbits(16):x}",
    lambda r: f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:05:07Z",
    lambda r: f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
    lambda r: f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.123",
    lambda r: "Sat, 28 Nov 2026 10:55:37 GMT",
    lambda r: f"user{r.randint(1, 99)}@mail.example.org",
    lambda r: f"v{r.randint(0, 9)}.{r.randint(0, 20)}.{r.randint(0, 99)}",
    lambda r: "٣٤٥",
    lambda r: r.choice(["can't", "a-b", "x:y", "@", "://", "/", "\\", "-", "<int>", "gpt4", "v2"]),
    # fp.v2's shapes: numbers with units, prefixed and bare ids, names joined by - and _
    lambda r: f"{r.choice(['3', '1.4', '250', '6.02e23'])}{r.choice(['s', 'ms', 'MB', ''])}",
    lambda r: (
        r.choice(["req_", "call_", "chatcmpl-", "a_b-", "x-"])
        + "".join(r.choice("0123456789abcdefXYZ") for _ in range(r.randint(1, 30)))
    ),
    lambda r: "".join(r.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(26)),
    lambda r: r.choice(["gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022", "llama-3.1-8b"]),
    lambda r: r.choice(["utf-8", "x86_64", "worker-17", "max_tokens", "1-5", "<num>", "<id>"]),
)
_GLUE = (" ", "", ", ", ": ", "=", "(", ")", "'", '"', "\n", "\t", "/", "-", "_", ".")


def _messages(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    bases = list(_BASES)
    messages = []
    for _ in range(count):
        pieces = [rng.choice(bases)]
        for _ in range(rng.randint(0, 6)):
            pieces.append(rng.choice(_GLUE) + rng.choice(_PARTS)(rng))
        rng.shuffle(pieces)
        messages.append("".join(pieces))
    return messages


def _stacktrace(rng: random.Random, last_line: str) -> str:
    lines = ["Traceback (most recent call last):"]
    for _ in range(rng.randint(0, 14)):
        path = rng.choice(
            [
                "/srv/app/agent/runner.py",
                "/app/tools/__init__.py",
                "/venv/lib/python3.12/site-packages/httpx/_client.py",
                "/usr/lib/python3.12/asyncio/base_events.py",
                "<frozen importlib._bootstrap>",
                "<string>",
                "C:\\Python311\\Lib\\json\\decoder.py",
            ]
        )
        margin = rng.choice(["  ", "    | ", "\t", "", " x "])
        func = rng.choice(["run", "Runner.step", "outer.<locals>.inner", "<module>", ""])
        lines.append(
            f'{margin}File "{path}", line {rng.randint(1, 900)}' + (f", in {func}" if func else "")
        )
        lines.append(f'    raise File "{path}", line 3, in f')
    return "\n".join([*lines, last_line])


def _assert_same(service: str, exception_type: str, message: str, stacktrace: str) -> None:
    assert normalize.message_template(message) == frozen_normalize.message_template(message)
    assert fingerprint.in_app_frames(stacktrace) == frozen_fingerprint.in_app_frames(stacktrace)
    assert fingerprint.compute_fingerprint(
        service, exception_type, message, stacktrace
    ) == frozen_fingerprint.compute_fingerprint(service, exception_type, message, stacktrace)


def test_generated_failures_give_the_frozen_templates_frames_and_fingerprints() -> None:
    rng = random.Random(11)
    for message in _messages(20_000, seed=11):
        stacktrace = _stacktrace(rng, f"ValueError: {message}")
        _assert_same("svc", "ValueError", message, stacktrace)


@settings(max_examples=3000, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("aAfFxX09٣ ._-:/\\'\"@<>~%+\n\tT,Zqs")) | st.characters(),
        max_size=120,
    )
)
def test_any_text_gives_the_frozen_template(message: str) -> None:
    assert normalize.message_template(message) == frozen_normalize.message_template(message)


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                '  File "',
                '"',
                ", line ",
                "7",
                ", in ",
                "f.g",
                "\n",
                " | ",
                "/a/b.py",
                "site-packages/",
                "x",
                "\t",
            ]
        ),
        max_size=40,
    )
)
def test_any_frame_like_text_gives_the_frozen_frames(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert fingerprint.in_app_frames(text) == frozen_fingerprint.in_app_frames(text)
