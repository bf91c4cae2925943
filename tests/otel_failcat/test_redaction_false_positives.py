"""How often redaction changes an ordinary agent failure message that holds no secret.

``data/ordinary_failures.txt`` holds 340 realistic messages (OpenAI, Anthropic, LangChain,
httpx, asyncio, boto, Google, psycopg, pydantic, Python built-ins, tool errors with paths, ids,
hashes, model names and URLs). The catalog matches on messages, so a redaction that fires on
one of them costs a match: the rate is pinned at most 1 % (3 messages), and a failure names the
rules that fired.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from otel_failcat.redaction import Redactor

DATA = Path(__file__).parent / "data"
_KIND = re.compile(r"\[REDACTED:([a-z0-9_]+)\]")
MAX_RATE = 0.01


def _messages() -> list[str]:
    text = (DATA / "ordinary_failures.txt").read_text(encoding="utf-8")
    return [
        line.replace("\\n", "\n")
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_the_corpus_is_big_and_distinct() -> None:
    messages = _messages()
    assert len(messages) >= 300
    assert len(set(messages)) == len(messages)


def test_false_positive_rate_is_at_most_one_percent() -> None:
    redactor = Redactor()
    messages = _messages()
    changed = {m: redactor.message(m) for m in messages if redactor.message(m) != m}
    fired = Counter(kind for out in changed.values() for kind in _KIND.findall(out))
    rate = len(changed) / len(messages)
    assert rate <= MAX_RATE, (
        f"{len(changed)}/{len(messages)} ordinary messages changed ({rate:.1%}); "
        f"rules that fired: {dict(fired)}; first: {next(iter(changed.items()))}"
    )
