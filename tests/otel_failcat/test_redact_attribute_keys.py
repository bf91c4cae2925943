"""Secrets written into attribute keys, at any depth, go like secrets in values."""

from __future__ import annotations

from otel_failcat.redaction import REDACTED, Redactor, redact_attribute

GITHUB = "ghp_" + "FAKEfake0123456789abcdefghijklmnopqr"
STRIPE = "sk_live_" + "FAKE0123456789abcdefABCDEF"


def test_nested_keys_that_embed_a_token_are_redacted() -> None:
    redactor = Redactor()
    value = {
        f"headers.{GITHUB}": "x",
        "inner": {STRIPE: ["plain", f"Bearer {GITHUB}"], "db.password": "hunter2-fake"},
    }
    redacted = redact_attribute("request", value, redactor.message)
    assert GITHUB not in repr(redacted)
    assert STRIPE not in repr(redacted)
    assert "hunter2-fake" not in repr(redacted)
    assert redacted == {
        "headers.[REDACTED:github_token]": "x",
        "inner": {
            "[REDACTED:stripe_key]": ["plain", "Bearer [REDACTED:bearer_token]"],
            "db.password": REDACTED,
        },
    }
