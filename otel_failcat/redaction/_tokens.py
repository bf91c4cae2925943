"""Provider tokens recognised by their published prefix and shape, without any label.

One :class:`~otel_failcat.redaction._engine.RunRule` holds them all: each format has at least 16
letters, digits, ``_`` or ``-`` in a row from its start (or right after a short dotted prefix
such as ``SG.`` or ``v1.0-``), so a text is only tried where such a run begins, and a text
without one (most messages) costs one ``bytes.translate``. The formats follow the providers'
documentation and the public rules of secret scanners (gitleaks, GitHub secret scanning);
lengths are given a little slack where a provider has changed them before.

A token must start at a boundary: not right after a letter, digit, ``_`` or ``-`` (an escaped
``\\n``/``\\r``/``\\t`` counts as a boundary), and it must not run on into more letters or
digits, so ``my_hf_…`` or a longer identifier that happens to begin like a token stay.
"""

from __future__ import annotations

import re

from otel_failcat.redaction._engine import RunRule, redaction_marker

_HEX_PAIRS = tuple(a + b for a in "0123456789abcdef" for b in "0123456789abcdef")

#: ``(kind, pattern, starts, shortest)``: ``starts`` are the first two characters any match can
#: have (a run is only tried where it begins with one); ``shortest`` is how many letters, digits,
#: ``_`` or ``-`` a match holds in a row from its start at the least (its shortest spelling, or
#: up to its first ``.`` or ``+``), so a run too short after that start is not tried: most runs
#: that begin like a token (``send_request``, ``base_events``, ``deployment_name``) are names
#: far shorter than any token. A kind may have several formats; order matters only where two
#: formats could match at the same place (none do today).
TOKEN_FORMATS: tuple[tuple[str, str, tuple[str, ...], int], ...] = (
    ("stripe_key", r"[sr]k_(?:live|test)_[A-Za-z0-9]{16,247}", ("sk", "rk"), 24),
    ("stripe_key", r"whsec_[A-Za-z0-9]{32,64}", ("wh",), 38),
    ("huggingface_token", r"(?:hf|api_org)_[A-Za-z0-9]{30,40}", ("hf", "ap"), 33),
    (
        "gitlab_token",
        r"gl(?:pat|dt|rt|rtr|ptt|soat|cbt|ft|imt|agent|oas|ffct|wt)-[A-Za-z0-9_-]{20,255}"
        r"(?:\.[A-Za-z0-9_-]{2,255}){0,2}",
        ("gl",),
        25,
    ),
    ("gitlab_token", r"GR1348941[A-Za-z0-9_-]{20,64}", ("GR",), 29),
    ("grafana_token", r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}", ("gl",), 46),
    ("groq_key", r"gsk_[A-Za-z0-9]{48,56}", ("gs",), 52),
    ("xai_key", r"xai-[A-Za-z0-9]{70,90}", ("xa",), 74),
    ("sendgrid_key", r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", ("SG",), 2),
    ("twilio_key", r"SK[0-9a-fA-F]{32}", ("SK",), 34),
    ("mailgun_key", r"key-[A-Za-z0-9]{32}", ("ke",), 36),
    ("mailchimp_key", r"[0-9a-f]{32}-us[0-9]{1,2}", _HEX_PAIRS, 36),
    ("npm_token", r"npm_[A-Za-z0-9]{36}", ("np",), 40),
    (
        "pypi_token",
        r"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,1000}",
        ("py",),
        70,
    ),
    ("docker_token", r"dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,64}", ("dc",), 36),
    ("cloudflare_ca_key", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}", ("v1",), 2),
    ("digitalocean_token", r"do[opr]_v1_[a-f0-9]{64}", ("do",), 71),
    ("shopify_token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", ("sh",), 38),
    ("linear_key", r"lin_(?:api_[A-Za-z0-9]{40}|oauth_[a-f0-9]{64})", ("li",), 48),
    # Notion's integration secrets are random base62: requiring a digit keeps identifiers
    # such as ``secret_`` + 43 letters out.
    ("notion_token", r"secret_(?=[A-Za-z]{0,42}[0-9])[A-Za-z0-9]{43}", ("se",), 50),
    ("notion_token", r"ntn_[0-9]{11}[A-Za-z0-9]{35}", ("nt",), 50),
    ("google_oauth_secret", r"GOCSPX-[A-Za-z0-9_-]{28}", ("GO",), 35),
    ("google_oauth_token", r"ya29\.[A-Za-z0-9_-]{30,2048}", ("ya",), 4),
    ("atlassian_token", r"ATATT3[A-Za-z0-9_-]{150,250}(?:=[A-Fa-f0-9]{8})?", ("AT",), 156),
    ("postman_key", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}", ("PM",), 64),
    ("vault_token", r"hv[sbr]\.[A-Za-z0-9_-]{24,255}", ("hv",), 3),
    ("databricks_token", r"dapi[a-f0-9]{32}(?:-[0-9])?", ("da",), 36),
    ("sentry_token", r"sntryu_[a-f0-9]{64}", ("sn",), 71),
    ("replicate_token", r"r8_[A-Za-z0-9]{37}", ("r8",), 40),
    ("perplexity_key", r"pplx-[A-Za-z0-9]{48}", ("pp",), 53),
    ("langsmith_key", r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}", ("ls",), 51),
    ("tavily_key", r"tvly-(?:dev-|prod-)?[A-Za-z0-9]{32}", ("tv",), 37),
    ("age_secret_key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", ("AG",), 74),
    ("new_relic_key", r"NRAK-[A-Z0-9]{27}", ("NR",), 32),
    ("aws_bedrock_key", r"ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{20,400}={0,2}", ("AB",), 22),
)

#: How far ahead of its first long run a format with a dotted prefix begins: ``SG.``,
#: ``v1.`` (of ``v1.0-``) 3, ``hvs.`` 4, ``ya29.`` 5.
_DOTTED_PREFIXES = (3, 4, 5)


def _pattern() -> re.Pattern[str]:
    branches = "|".join(
        f"(?P<{kind}__{index}>{pattern})"
        for index, (kind, pattern, _, _) in enumerate(TOKEN_FORMATS)
    )
    return re.compile(rf"(?:(?<![A-Za-z0-9_-])|(?<=\\[nrt]))(?:{branches})(?![A-Za-z0-9])")


def _replace(match: re.Match[str]) -> str:
    group = match.lastgroup or "provider_token__"
    return redaction_marker(group.rpartition("__")[0])


def token_rule() -> RunRule:
    starts: dict[str, int] = {}
    for _, _, format_starts, shortest in TOKEN_FORMATS:
        for start in format_starts:
            starts[start] = min(shortest, starts.get(start, shortest))
    return RunRule("provider_token", _pattern(), _replace, dotted=_DOTTED_PREFIXES, starts=starts)
