"""Properties over every kind of secret: a planted secret never survives, ordinary text does.

Each strategy draws a secret in its provider's published format (random alphabets and lengths)
with the part that makes it a secret — the body the output must not contain. The surroundings
are random words, numbers and punctuation, with the secret at a token boundary (a secret glued
to a word is another word), and the whole may then be quoted as JSON, shown as a Python
``repr()``, or, for tokens, put in a URL.
"""

from __future__ import annotations

import base64
import json
import string

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from otel_failcat.redaction import Redactor

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64URL = ALNUM + "_-"
B64 = ALNUM + "+/"
UPPER_DIGITS = string.ascii_uppercase + string.digits

Planted = tuple[str, str]  # (the secret as it appears in text, the body that must disappear)


def _chars(alphabet: str, low: int, high: int | None = None) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=low, max_size=low if high is None else high)


def _random(alphabet: str, low: int, high: int | None = None) -> st.SearchStrategy[str]:
    # A body with at least one digit and one letter, as every generated key has.
    return _chars(alphabet, low, high).filter(
        lambda body: any(c.isdigit() for c in body) and any(c.isalpha() for c in body)
    )


def _prefixed(
    prefixes: list[str], alphabet: str, low: int, high: int | None = None
) -> st.SearchStrategy[Planted]:
    return st.builds(
        lambda prefix, body: (prefix + body, prefix + body),
        st.sampled_from(prefixes),
        _random(alphabet, low, high),
    )


def _joined(*parts: st.SearchStrategy[str] | str) -> st.SearchStrategy[Planted]:
    drawn = [st.just(part) if isinstance(part, str) else part for part in parts]
    return st.tuples(*drawn).map(lambda pieces: ("".join(pieces), "".join(pieces)))


_GITLAB = ["glpat-", "gldt-", "glrt-", "glptt-", "glsoat-", "glcbt-", "glft-", "gloas-"]
_GITLAB += ["glimt-", "glagent-", "glffct-", "GR1348941"]

TOKENS: dict[str, st.SearchStrategy[Planted]] = {
    "stripe_key": st.one_of(
        _prefixed(["sk_live_", "sk_test_", "rk_live_", "rk_test_"], ALNUM, 24, 99),
        _prefixed(["whsec_"], ALNUM, 32),
    ),
    "huggingface_token": _prefixed(["hf_"], ALNUM, 34),
    "gitlab_token": _prefixed(_GITLAB, B64URL, 20, 40),
    "grafana_token": _joined("glsa_", _random(ALNUM, 32), "_", _chars(HEX, 8)),
    "groq_key": _prefixed(["gsk_"], ALNUM, 52),
    "xai_key": _prefixed(["xai-"], ALNUM, 80),
    "sendgrid_key": _joined("SG.", _random(B64URL, 22), ".", _random(B64URL, 43)),
    "twilio_key": _prefixed(["SK"], HEX, 32),
    "mailgun_key": _prefixed(["key-"], ALNUM, 32),
    "mailchimp_key": _joined(_random(HEX, 32), "-us", _chars(string.digits, 1, 2)),
    "npm_token": _prefixed(["npm_"], ALNUM, 36),
    "pypi_token": _prefixed(
        ["pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"], B64URL, 60, 160
    ),
    "docker_token": _prefixed(["dckr_pat_", "dckr_oat_"], B64URL, 27),
    "cloudflare_ca_key": _joined("v1.0-", _random(HEX, 24), "-", _random(HEX, 146)),
    "digitalocean_token": _prefixed(["dop_v1_", "doo_v1_", "dor_v1_"], HEX, 64),
    "shopify_token": _prefixed(["shpat_", "shpca_", "shppa_", "shpss_"], HEX, 32),
    "linear_key": _prefixed(["lin_api_"], ALNUM, 40),
    "notion_token": st.one_of(
        _prefixed(["secret_"], ALNUM, 43),
        _joined("ntn_", _chars(string.digits, 11), _random(ALNUM, 35)),
    ),
    "google_oauth_secret": _prefixed(["GOCSPX-"], B64URL, 28),
    "google_oauth_token": _prefixed(["ya29."], B64URL, 60, 200),
    "atlassian_token": _prefixed(["ATATT3"], B64URL, 186),
    "postman_key": _joined("PMAK-", _random(HEX, 24), "-", _random(HEX, 34)),
    "vault_token": _prefixed(["hvs.", "hvb.", "hvr."], B64URL, 24, 95),
    "databricks_token": _prefixed(["dapi"], HEX, 32),
    "sentry_token": _prefixed(["sntryu_"], HEX, 64),
    "replicate_token": _prefixed(["r8_"], ALNUM, 37),
    "perplexity_key": _prefixed(["pplx-"], ALNUM, 48),
    "langsmith_key": _joined(
        st.sampled_from(["lsv2_pt_", "lsv2_sk_"]), _random(HEX, 32), "_", _chars(HEX, 10)
    ),
    "tavily_key": _prefixed(["tvly-", "tvly-dev-"], ALNUM, 32),
    "age_secret_key": _prefixed(["AGE-SECRET-KEY-1"], "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58),
    "new_relic_key": _prefixed(["NRAK-"], UPPER_DIGITS, 27),
    "aws_bedrock_key": _prefixed(["ABSKQmVkcm9ja0FQSUtleS"], B64, 100, 150),
    "anthropic_key": _prefixed(["sk-ant-api03-", "sk-ant-admin01-"], B64URL, 40, 95),
    "openai_key": _prefixed(["sk-", "sk-proj-", "sk-svcacct-", "sk-admin-"], B64URL, 40, 160),
    "aws_access_key_id": _prefixed(["AKIA", "ASIA", "ABIA", "ACCA"], UPPER_DIGITS, 16),
    "github_token": st.one_of(
        _prefixed(["ghp_", "gho_", "ghs_", "ghu_", "ghr_"], ALNUM, 36),
        _prefixed(["github_pat_"], ALNUM + "_", 82),
    ),
    "google_api_key": _prefixed(["AIza"], B64URL, 35),
    "slack_token": _joined(
        st.sampled_from(["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"]),
        _chars(string.digits, 12),
        "-",
        _chars(string.digits, 13),
        "-",
        _random(ALNUM, 24),
    ),
    "jwt": _joined(
        "eyJ",
        _random(B64URL, 10, 40),
        ".eyJ",
        _random(B64URL, 10, 80),
        ".",
        _random(B64URL, 20, 60),
    ),
    "slack_webhook": _joined(
        "https://hooks.slack.com/services/T",
        _random(ALNUM, 8),
        "/B",
        _random(ALNUM, 8),
        "/",
        _random(ALNUM, 24),
    ),
}

_VALUE = _random(ALNUM + "-_.!*", 10, 30)
_KEY_NAMES = ["password", "passwd", "api_key", "apikey", "x-api-key", "access_token", "secret"]
_KEY_NAMES += ["client_secret", "refresh_token", "auth_token", "MY_SERVICE_API_KEY", "DD_APP_KEY"]
_KEY_NAMES += ["DD_API_KEY", "TWILIO_AUTH_TOKEN", "CLOUDFLARE_API_TOKEN", "AccountKey"]
_URL_PARAMETERS = ["sig", "signature", "X-Amz-Signature", "X-Amz-Credential", "token", "key"]
_URL_PARAMETERS += ["X-Amz-Security-Token", "X-Goog-Signature", "X-Goog-Credential", "api_key"]
_URL_PARAMETERS += ["apikey", "access_token", "refresh_token", "client_secret", "password", "code"]
_PEM_TYPES = ["", "RSA ", "EC ", "ENCRYPTED ", "OPENSSH ", "DSA "]


def _pem(kind: str, lines: list[str], newline: str, cut: bool) -> Planted:
    begin, end = f"-----BEGIN {kind}PRIVATE KEY-----", f"-----END {kind}PRIVATE KEY-----"
    if kind == "PGP ":
        begin, end = begin[:-5] + " BLOCK-----", end[:-5] + " BLOCK-----"
    block = newline.join([begin, *lines] + ([] if cut else [end]))
    return block, lines[-1]


def _base64_of(text: str) -> Planted:
    encoded = base64.b64encode(text.encode()).decode()
    return encoded, encoded.rstrip("=")


_USER = _random(ALNUM, 5, 12)
LABELLED: dict[str, st.SearchStrategy[Planted]] = {
    "password_in_url": st.builds(
        lambda scheme, user, password: (
            f"{scheme}://{user}:{password}@db.internal:5432/app",
            password,
        ),
        st.sampled_from(["postgresql", "redis", "amqp", "https", "mysql"]),
        st.sampled_from(["agent", "deploy", ""]),
        _random(ALNUM + "!$*_~.-", 8, 24),
    ),
    "bearer_token": st.builds(
        lambda label, token: (label + token, token),
        st.sampled_from(["Authorization: Bearer ", "Bearer ", "authorization=Bearer "]),
        _random(ALNUM + "._~+/-", 20, 60),
    ),
    "basic_auth": st.builds(
        lambda label, user, password: (
            label + _base64_of(f"{user}:{password}")[0],
            _base64_of(f"{user}:{password}")[1],
        ),
        st.sampled_from(["Authorization: Basic ", "Proxy-Authorization: Basic ", "basic "]),
        _USER,
        _random(ALNUM, 8, 20),
    ),
    "authorization": st.builds(
        lambda scheme, token: (f"Authorization: {scheme}{token}", token),
        st.sampled_from(["Token ", "Digest ", ""]),
        _random(ALNUM, 20, 40),
    ),
    "cookie": st.builds(
        lambda header, name, value: (f"{header}: {name}={value}; Path=/; HttpOnly", value),
        st.sampled_from(["Cookie", "Set-Cookie", "cookie"]),
        st.sampled_from(["sessionid", "csrftoken", "_session", "JSESSIONID"]),
        _VALUE,
    ),
    "url_credential": st.builds(
        lambda name, value: (f"https://bucket.example.com/o/k.bin?v=2&{name}={value}&x=1", value),
        st.sampled_from(_URL_PARAMETERS),
        _random(ALNUM + "%-_.~", 16, 60),
    ),
    "sql_password": st.builds(
        lambda statement, value: (statement.format(value), value),
        st.sampled_from(
            [
                "CREATE USER agent WITH PASSWORD '{}'",
                "ALTER ROLE agent ENCRYPTED PASSWORD '{}' VALID UNTIL 'infinity'",
                "CREATE USER 'app'@'%' IDENTIFIED BY '{}'",
                "ALTER USER app IDENTIFIED WITH mysql_native_password BY '{}'",
                "SET PASSWORD = PASSWORD('{}')",
            ]
        ),
        _random(ALNUM + "!#$%^&*()-_=+[]{};:,./<>?|", 8, 30),
    ),
    "key_value": st.builds(
        lambda form, key, value: (form.format(key, value), value),
        st.sampled_from(["{}={}", "{}: {}", '"{}": "{}"', "'{}': '{}'", "{} = '{}'"]),
        st.sampled_from(_KEY_NAMES),
        _VALUE,
    ),
    "aws_secret_key": st.builds(
        lambda label, value: (label + value, value),
        st.sampled_from(
            ["aws_secret_access_key=", "AWS_SECRET_ACCESS_KEY: ", '"SecretAccessKey": "']
        ),
        _random(ALNUM + "/+", 40),
    ),
    "private_key": st.builds(
        _pem,
        st.sampled_from([*_PEM_TYPES, "PGP "]),
        st.lists(_random(B64, 64), min_size=1, max_size=6),
        st.sampled_from(["\n", "\\n", "\r\n"]),
        st.booleans(),
    ),
    "email": _joined(
        _random(ALNUM + "._+", 3, 20), "@", _random(string.ascii_lowercase, 3, 12), ".example.org"
    ),
    "base64_secret": st.one_of(
        st.builds(lambda u, p: _base64_of(f"{u}:{p}"), _USER, _random(ALNUM, 8, 20)),
        TOKENS["openai_key"].map(lambda planted: _base64_of(planted[0])),
        TOKENS["github_token"].map(lambda planted: _base64_of(planted[0])),
        st.builds(lambda p: _base64_of(f"postgres://agent:{p}@db:5432/app"), _random(ALNUM, 8, 20)),
    ),
}

_WORDS = st.lists(
    st.one_of(
        _chars(ALNUM, 1, 12),
        st.integers(-(10**6), 10**9).map(str),
        st.sampled_from(
            [".", ",", ";", ":", "!", "?", "(", ")", "[", "]", "{", "}", "-", "'", '"']
        ),
    ),
    max_size=8,
).map(" ".join)
# What may stand right next to a secret: nothing that continues a token.
_BOUNDARY = st.sampled_from(
    [" ", "\n", "\t", '"', "'", "(", ")", "[", "]", "{", "}", ",", "=", "<", ">", "|"]
)


@st.composite
def _in_context(
    draw: st.DrawFn, planted: st.SearchStrategy[Planted], urls: bool
) -> tuple[str, str]:
    secret, body = draw(planted)
    if urls and draw(st.booleans()):
        secret = draw(
            st.sampled_from(
                [
                    f"https://api.example.com/v1/{secret}/items",
                    f"https://h.example/cb?state=x&t={secret}",
                ]
            )
        )
    before, after = draw(_WORDS), draw(_WORDS)
    assume(body not in before and body not in after)  # the words are not the secret
    text = before + draw(_BOUNDARY) + secret + draw(_BOUNDARY) + after
    quoting = draw(st.sampled_from(["plain", "json", "repr", "traceback"]))
    if quoting == "json":
        text = json.dumps({"error": text, "status": 401})
    elif quoting == "repr":
        text = repr({"message": text, "attempt": 2})
    elif quoting == "traceback":
        text = (
            "Traceback (most recent call last):\n"
            '  File "/srv/app/agent/tools.py", line 42, in call_tool\n'
            f"    raise ToolError({text!r})\nagent.errors.ToolError: {text}"
        )
    return text, body


_PLANTED = st.one_of(
    *(_in_context(strategy, urls=True) for strategy in TOKENS.values()),
    *(_in_context(strategy, urls=kind == "base64_secret") for kind, strategy in LABELLED.items()),
)
_REDACTOR = Redactor()


@settings(max_examples=1500, deadline=None)
@given(case=_PLANTED)
def test_a_planted_secret_never_survives(case: tuple[str, str]) -> None:
    text, body = case
    assert body in text
    for redact in (_REDACTOR.redact, _REDACTOR.message, _REDACTOR.stacktrace):
        assert body not in redact(text), redact.__name__


def test_every_kind_has_a_strategy() -> None:
    from otel_failcat.redaction._tokens import TOKEN_FORMATS

    assert {kind for kind, *_ in TOKEN_FORMATS} <= TOKENS.keys()


# --- ordinary text --------------------------------------------------------------------------

_MODELS = ["gpt-4o-mini", "gpt-4.1", "o3-mini", "claude-3-5-sonnet-20241022", "claude-sonnet-4-5"]
_MODELS += [
    "gemini-1.5-pro-002",
    "llama-3.1-70b-instruct",
    "mistral-large-2407",
    "text-embedding-3-small",
]
# Words that label a credential make what follows one (``Bearer <uuid>`` is a bearer token).
_LABELS = ("bearer", "basic", "token", "secret", "pass", "pwd", "key", "cookie", "credential")
_LABELS += ("authorization", "identified", "sk", "gh", "xox")


def _not_a_label(word: str) -> bool:
    return not any(label in word.lower() for label in _LABELS)


_WORD = _chars(string.ascii_letters, 1, 12).filter(_not_a_label)
_IDENTIFIER = st.lists(
    _chars(string.ascii_lowercase, 2, 9).filter(_not_a_label), min_size=1, max_size=5
).map("_".join)
_PATH = st.lists(
    _chars(string.ascii_lowercase + string.digits + "_-", 1, 14), min_size=1, max_size=6
).map(lambda parts: "/" + "/".join(parts) + ".py")
_SAFE_PARAMETERS = [
    "page",
    "sort",
    "limit",
    "offset",
    "q",
    "lang",
    "model",
    "region",
    "format",
    "v",
]
_URL = st.builds(
    lambda host, path, name, value: f"https://{host}.example.com/{path}?{name}={value}&page=2",
    _chars(string.ascii_lowercase, 3, 10),
    _chars(string.ascii_lowercase + "/", 1, 20),
    st.sampled_from(_SAFE_PARAMETERS),
    _chars(string.ascii_lowercase + string.digits, 1, 12),
)
_TIMESTAMP = st.datetimes().map(lambda moment: moment.isoformat() + "Z")
_ORDINARY_PIECE = st.one_of(
    st.uuids().map(str),
    _chars(HEX, 32),  # trace ids, md5
    _chars(HEX, 16),  # span ids
    _chars(HEX, 40),  # git SHAs
    _chars(HEX, 64),  # sha256
    st.sampled_from(_MODELS),
    _IDENTIFIER,
    _PATH,
    _URL,
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    _TIMESTAMP,
    _WORD,
    st.sampled_from([".", ",", ":", "(", ")", "'", '"', "->", "|", "=", "[", "]"]),
)
_ORDINARY = st.lists(_ORDINARY_PIECE, min_size=1, max_size=12).map(" ".join)


@settings(max_examples=1000, deadline=None)
@given(text=_ORDINARY)
def test_ordinary_text_comes_through_unchanged(text: str) -> None:
    assert _REDACTOR.redact(text) == text
    assert _REDACTOR.message(text) == text
