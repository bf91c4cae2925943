"""Throughput of redaction, message templates and fingerprints against trivial baselines.

Everything is measured in the same run on the same inputs, so the ratios (not the absolute
times) are what to compare between machines:

- baseline ``lower``: ``str.lower()`` over the text, about the cheapest full pass possible;
- baseline ``one regex``: one compiled ``re`` search for an OpenAI-style key, what the most naive
  scrubber would do.

Inputs are realistic: agent-side error messages (with and without secrets, drawn from the test
corpora when present, else a built-in sample), ordinary agent failures without secrets (the
false-positive corpus ``ordinary_failures.txt``, the common case) and Python tracebacks of
~20-60 frames, some chained, some long enough to be capped: once with every frame new, once
with frames that repeat between tracebacks (``stack, rep.``), as real code paths do. The
caches, the redactor's frame memo included, are emptied before each pass.

Times are the CPU time of the measuring thread (``time.thread_time``): on a shared machine the
wall clock also counts the waits for a core.

Run: ``.venv/bin/python benchmarks/bench_redaction.py [--rounds N] [--seed S]``
"""

from __future__ import annotations

import argparse
import random
import re
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import otel_failcat.fingerprint
import otel_failcat.normalize
from otel_failcat.fingerprint import compute_fingerprint
from otel_failcat.normalize import message_template
from otel_failcat.redaction import Redactor

_DATA = Path(__file__).resolve().parent.parent / "tests" / "otel_failcat" / "data"
_SECRET_MARK = re.compile(r"\{\{[a-z0-9_]+:(.+?)\}\}")

_SAMPLE_MESSAGES = [
    "openai.RateLimitError: Error code: 429 - Rate limit reached for gpt-4o on tokens per min",
    "httpx.ConnectTimeout: timed out connecting to https://api.openai.com/v1/chat/completions",
    "Incorrect API key provided: sk-proj-FAKE0123456789abcdefABCDEFghij. Check your key.",
    "psycopg.OperationalError: connection to postgresql://agent:FAKEpw1@db:5432/app failed",
    "request 550e8400-e29b-41d4-a716-446655440000 failed after 3 attempts at 10.0.0.7:8080",
    "KeyError: 'max_tokens'",
]


def _messages() -> list[str]:
    messages: list[str] = []
    for name in ("secrets_positive.txt", "secrets_negative.txt"):
        path = _DATA / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.startswith("#"):
                    messages.append(_SECRET_MARK.sub(lambda m: m[1], line))
    return messages or list(_SAMPLE_MESSAGES)


def _ordinary_failures() -> list[str]:
    """The corpus of ordinary agent failure messages (no secrets), if the tests are there."""
    path = _DATA / "ordinary_failures.txt"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        line.replace("\\n", "\n") for line in lines if line.strip() and not line.startswith("#")
    ]


def _stacktraces(rng: random.Random, count: int, frames_repeat: bool = False) -> list[str]:
    """Tracebacks of 20-60 frames, a quarter of them chained.

    ``frames_repeat``: a frame's line number and arguments are its own (fixed by file and
    function), as in real code, where the same code paths fail at the same lines again and
    again; else each frame draws them anew, so no frame is ever seen twice (the worst case for
    the redactor's frame memo).
    """
    roots = ["/srv/app", "/home/dev/checkout", "/app"]
    functions = ["run", "dispatch", "call_tool", "complete", "invoke", "parse", "retry", "send"]
    stacktraces = []
    for index in range(count):
        root = rng.choice(roots)
        frames = []
        for depth in range(rng.randint(20, 60)):
            function = rng.choice(functions)
            if depth % 3 == 0:
                path = f"{root}/.venv/lib/python3.11/site-packages/httpx/_client{depth}.py"
            else:
                path = f"{root}/agent/module{depth}.py"
            if frames_repeat:
                place = zlib.crc32(f"{path}:{function}".encode()) % 54_000
                line, timeout = 1 + place % 900, 1 + place // 900
            else:
                line, timeout = rng.randint(1, 900), rng.randint(1, 60)
            frames.append(
                f'  File "{path}", line {line}, in {function}\n'
                f"    result = {function}(request, timeout={timeout})\n"
            )
        body = "Traceback (most recent call last):\n" + "".join(frames)
        message = rng.choice(_SAMPLE_MESSAGES)
        text = body + message
        if index % 4 == 0:
            text = (
                text
                + "\n\nThe above exception was the direct cause of the following exception:\n\n"
                + body
                + "agent.errors.ToolFailed: tool failed"
            )
        stacktraces.append(text)
    return stacktraces


#: Redactors whose stacktrace memo is emptied with the caches.
_REDACTORS: list[Redactor] = []


def _clear_caches() -> None:
    """Empty the memo caches of templates and stacktrace frames, so every pass pays full price."""
    for redactor in _REDACTORS:
        clear = getattr(redactor, "clear_memo", None)  # not in versions before it
        if clear is not None:
            clear()
    for cached in (
        otel_failcat.normalize._cached_template,
        otel_failcat.fingerprint._cached_fingerprint_frames,
        otel_failcat.fingerprint._python_file,
    ):
        cached.cache_clear()


def _best_of(function: Callable[[str], object], inputs: Sequence[str], rounds: int) -> float:
    """Best seconds per item over ``rounds`` passes (the best pass is the least disturbed).

    The inputs are distinct and the caches are emptied before each pass: these are the costs of
    text seen for the first time (``bench_prepare.py`` measures a realistic mix with repeats).
    """
    best = float("inf")
    for _ in range(rounds):
        _clear_caches()
        started = time.thread_time()
        for text in inputs:
            function(text)
        best = min(best, time.thread_time() - started)
    return best / len(inputs)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    # Distinct texts (a repeated one would be served from the template cache).
    messages = [f"{message} (attempt {n})" for n in range(20) for message in _messages()]
    stacktraces = _stacktraces(rng, 200)
    repeating = _stacktraces(rng, 200, frames_repeat=True)
    # Short span attribute values, which the receiver redacts one by one.
    attributes = [
        "gpt-4o-mini",
        "POST",
        "https://api.openai.com/v1/chat/completions",
        "agent-7",
        "429",
        "web_search",
        "chat gpt-4o",
        "user@example.com",
    ] * 200
    redactor = Redactor()
    _REDACTORS.append(redactor)
    naive = re.compile(r"sk-[A-Za-z0-9_-]{20,}")

    def one_regex(text: str) -> object:
        return naive.search(text)

    def fingerprint(text: str) -> str:
        return compute_fingerprint("bench-agent", "httpx.ReadTimeout", text[:200], text)

    rows: list[tuple[str, str, float, float, float]] = []
    for label, inputs, operations in (
        (
            "messages",
            messages,
            [
                ("Redactor.message", redactor.message),
                ("message_template", message_template),
                ("message + template", lambda t: message_template(redactor.message(t))),
            ],
        ),
        (
            "ordinary",
            [f"{message} (attempt {n})" for n in range(5) for message in _ordinary_failures()],
            [("Redactor.message", redactor.message)],
        ),
        (
            "attributes",
            attributes,
            [("Redactor.message", redactor.message)],
        ),
        (
            "stacktraces",
            stacktraces,
            [
                ("Redactor.stacktrace", redactor.stacktrace),
                ("in-app frames + fingerprint", fingerprint),
            ],
        ),
        (
            "stack, rep.",  # frames repeat between stacktraces, as in real code
            repeating,
            [("Redactor.stacktrace", redactor.stacktrace)],
        ),
    ):
        lower = _best_of(str.lower, inputs, args.rounds)
        regex = _best_of(one_regex, inputs, args.rounds)
        for name, operation in operations:
            seconds = _best_of(operation, inputs, args.rounds)
            rows.append((label, name, seconds, seconds / lower, seconds / regex))
        average = sum(map(len, inputs)) / len(inputs)
        print(
            f"{label}: {len(inputs)} items, {average:,.0f} chars on average; baselines "
            f"lower {lower * 1e6:.2f} µs, one regex {regex * 1e6:.2f} µs per item"
        )

    print()
    print(
        f"{'input':<12} {'operation':<28} {'µs/item':>9} {'items/s':>10}"
        f" {'/lower':>8} {'/regex':>8}"
    )
    for label, name, seconds, vs_lower, vs_regex in rows:
        print(
            f"{label:<12} {name:<28} {seconds * 1e6:>9.1f} {1 / seconds:>10,.0f}"
            f" {vs_lower:>8.1f} {vs_regex:>8.1f}"
        )


if __name__ == "__main__":
    main()
