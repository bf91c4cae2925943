"""Redaction against corpora of realistic messages: secrets go, everything else stays.

``data/secrets_positive.txt`` marks each secret as ``{{kind:secret}}``; the redacted message must
equal the message with exactly those spans replaced by ``[REDACTED:kind]`` — so the secret is
gone *and* the rest of the message survives byte for byte. ``data/secrets_negative.txt`` holds
ordinary error messages (trace ids, UUIDs, paths, ``sk`` words, versions, URLs without
credentials) that must come out unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from otel_failcat.redaction import Redactor

DATA = Path(__file__).parent / "data"
_SECRET = re.compile(r"\{\{(?P<kind>[a-z0-9_]+):(?P<secret>.+?)\}\}")


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


POSITIVE = _lines("secrets_positive.txt")
NEGATIVE = _lines("secrets_negative.txt")


def test_corpora_are_big_enough() -> None:
    assert len(POSITIVE) >= 100
    assert len(NEGATIVE) >= 50
    assert all(_SECRET.search(line) for line in POSITIVE), "every positive case marks a secret"


@pytest.mark.parametrize("case", POSITIVE)
def test_secret_is_replaced_and_the_rest_survives(case: str) -> None:
    message = _SECRET.sub(lambda m: m["secret"], case)
    expected = _SECRET.sub(lambda m: f"[REDACTED:{m['kind']}]", case)
    redacted = Redactor().redact(message)
    for match in _SECRET.finditer(case):
        assert match["secret"] not in redacted
    assert redacted == expected


@pytest.mark.parametrize("message", NEGATIVE)
def test_ordinary_message_is_unchanged(message: str) -> None:
    assert Redactor().redact(message) == message


@pytest.mark.parametrize("case", POSITIVE)
def test_redacting_twice_changes_nothing_more(case: str) -> None:
    redactor = Redactor()
    once = redactor.redact(_SECRET.sub(lambda m: m["secret"], case))
    assert redactor.redact(once) == once
