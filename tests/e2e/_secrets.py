"""Fake secrets of many kinds, each made fresh with its own distinctive body.

Shared by the planting agent (``_secrets_agent.py``, run as a script) and the test that looks
for the bodies afterwards (``test_secrets_never_stored.py``). Every body is random, so a body
found anywhere later can only have come from the one place it was planted.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class SecretKind:
    name: str
    #: Text as a sender would have it, and the part of it that must never be stored.
    make: Callable[[random.Random], tuple[str, str]]
    #: Whether the receiver's rules recognised this kind before the 2026-12 redaction work.
    established: bool


def _text(rng: random.Random, size: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


def _openai(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 48)
    return f"sk-proj-{body}", body


def _anthropic(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 80)
    return f"sk-ant-api03-{body}AA", body


def _aws_access_key_id(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 16, string.ascii_uppercase + string.digits)
    return f"AKIA{body}", body


def _aws_secret(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 40)
    return f"aws_secret_access_key={body}", body


def _github(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 36)
    return f"ghp_{body}", body


def _jwt(rng: random.Random) -> tuple[str, str]:
    header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    claims = json.dumps({"sub": _text(rng, 12), "admin": True}).encode()
    payload = base64.urlsafe_b64encode(claims).decode().rstrip("=")
    signature = _text(rng, 43)
    return f"{header}.{payload}.{signature}", signature


def _bearer(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 40)
    return f"Authorization: Bearer {body}", body


def _url_password(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 18)
    return f"postgresql://app:{body}@db.internal:5432/orders", body


def _stripe(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 32)
    return f"sk_live_{body}", body


def _huggingface(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 34, string.ascii_letters)
    return f"hf_{body}", body


def _pem_escaped(rng: random.Random) -> tuple[str, str]:
    # A private key as it shows inside a JSON string: the line breaks are backslash-n.
    body = _text(rng, 64)
    lines = "\\n".join(["MIIEowIBAAKCAQEA" + body, _text(rng, 64), _text(rng, 20) + "=="])
    return f"-----BEGIN RSA PRIVATE KEY-----\\n{lines}\\n-----END RSA PRIVATE KEY-----", body


def _sql_password(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 16)
    return f"ALTER USER app WITH PASSWORD '{body}'", body


def _gitlab(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 20)
    return f"glpat-{body}", body


def _sendgrid(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 43)
    return f"SG.{_text(rng, 22)}.{body}", body


def _groq(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 52)
    return f"gsk_{body}", body


def _presigned_url(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 64, "0123456789abcdef")
    return (
        "https://reports.s3.amazonaws.com/q3.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Date=20261203T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        f"&X-Amz-Signature={body}",
        body,
    )


def _cookie(rng: random.Random) -> tuple[str, str]:
    body = _text(rng, 32)
    return f"Cookie: session={body}; theme=dark", body


KINDS = (
    SecretKind("openai_key", _openai, True),
    SecretKind("anthropic_key", _anthropic, True),
    SecretKind("aws_access_key_id", _aws_access_key_id, True),
    SecretKind("aws_secret_key", _aws_secret, True),
    SecretKind("github_token", _github, True),
    SecretKind("jwt", _jwt, True),
    SecretKind("bearer_token", _bearer, True),
    SecretKind("url_password", _url_password, True),
    SecretKind("stripe_key", _stripe, False),
    SecretKind("huggingface_token", _huggingface, False),
    SecretKind("pem_escaped", _pem_escaped, False),
    SecretKind("sql_password", _sql_password, False),
    SecretKind("gitlab_token", _gitlab, False),
    SecretKind("sendgrid_key", _sendgrid, False),
    SecretKind("groq_key", _groq, False),
    SecretKind("presigned_url", _presigned_url, False),
    SecretKind("cookie_header", _cookie, False),
)

#: Keys whose value is replaced whole, whatever it looks like (CONTRACT §4 r2).
CREDENTIAL_KEYS = (
    "password",
    "db.password",
    "openai.api_key",
    "auth_token",
    "client_secret",
    "aws.secret_access_key",
    "http.request.header.authorization",
    "http.request.header.x-api-key",
    "http.request.header.cookie",
)


def plain_value(rng: random.Random) -> str:
    """A value no text rule recognises: only the credential key can tell it is secret."""
    return "v" + _text(rng, 23)
