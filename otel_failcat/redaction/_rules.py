"""The built-in rules found near a literal needle: labelled credentials, URLs, headers, keys.

Provider tokens recognised by their prefix alone live in :mod:`._tokens`, base64-wrapped secrets
in :mod:`._base64`. The order of :func:`needle_rules` is the order of application (see the table
in :mod:`otel_failcat.redaction`).
"""

from __future__ import annotations

import re

from otel_failcat.redaction._engine import (
    Replace,
    Rule,
    group_prefix,
    looks_secret,
    redaction_marker,
    starts,
    whole,
    word,
    word_starts,
)

#: What stands between a label and its value, up to the ``:`` or ``=``: a quote (escaped in
#: JSON or a ``repr()`` for the key names) and spaces.
_KEY_SEPARATOR = r"(?:\\?[\"'])?\s{0,8}[:=]"
_HEADER_SEPARATOR = r"[\"']?\s{0,8}[:=]"
#: How every key name of ``_KEY_NAMES`` ends (``api_key``, ``client_secret``, ``DD_APP_KEY``).
_KEY_ENDINGS = ("key", "secret", "token", "passw(?:or)?d", "pwd", "passphrase", "credentials?")


def _label_gate(endings: tuple[str, ...], separator: str) -> re.Pattern[str]:
    """The end of a label and its separator (``key=``, ``Cookie:``), as :attr:`Rule.gate`."""
    return re.compile(f"(?i:{'|'.join(endings)}){separator}")


def _separator_reach(alternatives: tuple[str, ...], quote: int) -> int:
    """How far into a match ``label`` + ``quote`` characters + ``\\s{0,8}`` + ``[:=]`` its
    separator can lie, for labels written as :func:`word` alternatives (``[_-]?``, ``s?`` and
    ``(?:...)?`` optional, each counted once: the longest spelling)."""
    longest = max(
        len(re.sub(r"\[[^\]]*\]\?|.\?", "x", a.replace("(?:", "").replace(")?", "")))
        for a in alternatives
    )
    return longest + quote + 8 + 1


def _url_password(match: re.Match[str]) -> str:
    return match["prefix"] + redaction_marker("password") + "@"


def _scheme_token(kind: str) -> Replace:
    marker = redaction_marker(kind)

    def replace(match: re.Match[str]) -> str:
        if not looks_secret(match["token"]):
            return match[0]
        return match["prefix"] + marker

    return replace


_KNOWN_SCHEMES = {
    "bearer": "bearer_token",
    "basic": "basic_auth",
}
_OTHER_SCHEMES = frozenset(
    {"token", "digest", "apikey", "api-key", "key", "hmac", "aws4-hmac-sha256"}
    | {"negotiate", "ntlm", "sharedkey", "signature", "dpop", "mac", "sso-key", "splunk"}
)


def _authorization(match: re.Match[str]) -> str:
    credential = match["cred"]
    if credential.startswith("[REDACTED"):
        return match[0]
    scheme = match["scheme"]
    if scheme is None:
        if not looks_secret(credential):
            return match[0]
        return match["prefix"] + redaction_marker("authorization")
    lowered = scheme.lower()
    if lowered in _KNOWN_SCHEMES:
        kind = _KNOWN_SCHEMES[lowered]
    elif lowered in _OTHER_SCHEMES:
        kind = "authorization"
    elif looks_secret(scheme):
        # Not a scheme but a bare credential, followed by something else.
        return match["prefix"] + redaction_marker("authorization") + match["space"] + credential
    elif len(credential) >= 16 and looks_secret(credential):
        kind = "authorization"  # a scheme we do not know, with what looks like a credential
    else:
        return match[0]
    return match["prefix"] + scheme + match["space"] + redaction_marker(kind)


_PASSWORD_KEYS = frozenset({"password", "passwd", "pwd", "passphrase"})


def _key_kind(key: str) -> str:
    lowered = key.lower()
    if lowered in _PASSWORD_KEYS:
        return "password"
    if "secret" in lowered:
        return "secret"
    if "token" in lowered:
        return "token"
    if "credential" in lowered:
        return "credential"
    return "api_key"


def _escaped_quoted(match: re.Match[str], kind: str) -> str:
    """A value quoted with escaped quotes (``\\"x\\"`` in JSON, ``\\'x\\'`` in a repr)."""
    if match["ev"].startswith("[REDACTED"):
        return match[0]
    quote = "\\" + match["eq"]
    return f"{match['prefix']}{quote}{redaction_marker(kind)}{quote}"


def _key_value(match: re.Match[str]) -> str:
    kind = _key_kind(match["key"])
    if match["ev"] is not None:
        return _escaped_quoted(match, kind)
    double, single = match["dq"], match["sq"]
    quoted = double if double is not None else single
    if quoted is not None:
        if quoted.startswith("[REDACTED"):
            return match[0]
        quote = '"' if double is not None else "'"
        return f"{match['prefix']}{quote}{redaction_marker(kind)}{quote}"
    value = match["value"]
    if value.startswith("[REDACTED"):
        return match[0]
    if match["openq"]:
        return match["prefix"] + match["openq"] + redaction_marker(kind)
    assigned = "=" in match["sep"]
    if kind == "password":
        taken = assigned or looks_secret(value)
    else:
        taken = len(value) >= 8 and (assigned or looks_secret(value))
    if not taken:
        return match[0]
    return match["prefix"] + redaction_marker(kind)


_B64URL = r"A-Za-z0-9_\-"
_KEY_NAMES = (
    "x-api-key",
    "api[_-]?key",
    "apikey",
    "access[_-]?key",
    "private[_-]?key",
    "secret[_-]?key",
    "client[_-]?secret",
    "secret",
    "access[_-]?token",
    "auth[_-]?token",
    "refresh[_-]?token",
    "id[_-]?token",
    "token",
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "credentials?",
    # Datadog's DD_APP_KEY, Cloudflare's X-Auth-Key, Azure's AccountKey= / SharedAccessKey=
    "app[_-]?key",
    "application[_-]?key",
    "auth[_-]?key",
    "account[_-]?key",
    "shared[_-]?access[_-]?key",
)


_AWS_SECRET_NAMES = ("aws_?secret_?(?:access_?)?key", "secretaccesskey")
_AUTHORIZATION_NAMES = ("proxy-authorization", "authorization")
_COOKIE_NAMES = ("set-cookie", "cookie")


def _cookie(match: re.Match[str]) -> str:
    """Each cookie's value goes, its name stays; ``Set-Cookie`` attributes (``Path=/``) stay.

    Cookie names are fixed by the application (``sessionid``, ``csrftoken``) and say which
    failure this is; the values are the session.
    """
    pieces = match["value"].split(";")
    cookies = 1 if match["name"].lower().startswith("set") else len(pieces)
    for index in range(cookies):
        name, equals, value = pieces[index].partition("=")
        if value.startswith("[REDACTED") or (equals and not value.strip()):
            continue
        if equals:
            pieces[index] = name + equals + redaction_marker("cookie")
            continue
        bare = name.strip()
        if bare and not bare.startswith("[REDACTED") and looks_secret(bare):
            pieces[index] = name[: len(name) - len(name.lstrip())] + redaction_marker("cookie")
    return match["prefix"] + ";".join(pieces)


#: Query parameters whose value is a credential wherever the URL comes from.
_URL_PARAMETERS = (
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "signature",
    "sig",
    "access_token",
    "refresh_token",
    "id_token",
    "auth_token",
    "session_token",
    "private_token",
    "token",
    "api_key",
    "api-key",
    "apikey",
    "access_key",
    "secret_key",
    "client_secret",
    "secret",
    "key",
    "password",
    "passwd",
    "pwd",
    "code",
)


def _url_parameter(match: re.Match[str]) -> str:
    value = match["value"]
    if value.startswith("[REDACTED"):
        return match[0]
    # An OAuth authorization code (RFC 6749 §10.5: keep it confidential) is long and random;
    # ``?code=404`` or ``?code=invalid_request`` is not one.
    if match["name"].lower() == "code" and (len(value) < 16 or not looks_secret(value)):
        return match[0]
    return match["prefix"] + redaction_marker("url_credential")


def _sql_password(match: re.Match[str]) -> str:
    if match["ev"] is not None:
        return _escaped_quoted(match, "password")
    quote = "'" if match["sq"] is not None else '"'
    value = match["sq"] if match["sq"] is not None else match["dq"]
    if value.startswith("[REDACTED"):
        return match[0]
    return f"{match['prefix']}{quote}{redaction_marker('password')}{quote}"


# A text quoted inside a JSON string or a Python repr has its quotes escaped: ``\\"x\\"``.
_ESCAPED_QUOTED = r"""\\(?P<eq>["'])(?P<ev>[^"'\\\n]{1,2048})\\(?P=eq)"""
_SQL_STRING = (
    r"""(?:'(?P<sq>(?:[^'\\\n]|''|\\.){1,1024})'|"(?P<dq>(?:[^"\\\n]|""|\\.){1,1024})"|"""
    + _ESCAPED_QUOTED
    + ")"
)


#: What a match of a rule that can span lines may hold from its needle to a line end it crosses
#: (see :attr:`Rule.line_tail`), lower-cased: the rest of the label, then the separator's
#: quote, spaces, ``:``/``=`` and spaces (an ``Authorization`` scheme and its spaces), where the
#: value would begin on the next line.
_LABEL_REST = r"[a-z0-9_\-]*"
_KEY_TAIL = re.compile(_LABEL_REST + r"""(?:\\?["'])?\s*(?:[:=]\s*)?""")
_COOKIE_TAIL = re.compile(_LABEL_REST + r"""["']?\s*(?:[:=]\s*)?""")
_AUTHORIZATION_TAIL = re.compile(
    _LABEL_REST + r"""["']?\s*(?:[:=]\s*(?:["']?[a-z][a-z0-9_\-]*\s*)?)?"""
)
_WORD_TAIL = re.compile(r"[a-z]*\s*")  # Bearer, Basic: the spaces before the token
_SQL_TAIL = re.compile(r"[a-z0-9_\s(]*")  # IDENTIFIED WITH plugin BY, PASSWORD (, ...
_PEM_TAIL = re.compile(r"[a-z0-9+/=\s:,.()@\\-]*")  # the header's rest, a PEM body


def needle_rules() -> tuple[Rule, ...]:
    """The built-in needle rules, in the order they are applied."""
    return (
        Rule(
            "private_key",
            # Raw, or escaped inside JSON / a ``repr()`` (``\n`` written as two characters, so
            # the backslash belongs to the body); PKCS#8, PKCS#1, EC, ENCRYPTED, OPENSSH and PGP
            # blocks; a block cut off before END ends where base64 and armour headers end.
            re.compile(
                r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
                r"[A-Za-z0-9+/=\s:,.()@\\-]{0,16384}?"
                r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
                r"|(?=[^A-Za-z0-9+/=\s:,.()@\\-])|\Z)"
            ),
            whole("private_key"),
            ("private key",),
            before=64,
            after=16_800,
            line_tail=_PEM_TAIL,
        ),
        Rule(
            # Anchored on "://" (a literal, found fast); the scheme in front is left alone.
            "password",
            re.compile(r"(?P<prefix>://[^\s:/?#@\[\]\"'<>]{0,256}:)[^\s/?#\[\]\"'<>]{1,256}@"),
            _url_password,
            ("://",),
            after=530,
        ),
        Rule(
            "slack_webhook",
            re.compile(
                r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{8,512}"
            ),
            whole("slack_webhook"),
            ("hooks.slack.com",),
            before=8,
            after=600,
        ),
        Rule(
            "jwt",
            re.compile(
                rf"{starts('eyJ', _B64URL)}[{_B64URL}]{{5,4096}}\.eyJ[{_B64URL}]{{5,4096}}"
                rf"\.[{_B64URL}]{{0,4096}}"
            ),
            whole("jwt"),
            ("eyj",),
            after=12_400,
        ),
        Rule(
            "authorization",
            re.compile(
                rf"(?P<prefix>{word(_AUTHORIZATION_NAMES, 'A-Za-z0-9-')}"
                + _HEADER_SEPARATOR
                + r"\s{0,8}[\"']?)"
                r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9_-]{0,31})(?P<space>\s{1,8}))?"
                r"(?P<cred>[^\s\"',;]{1,4096})"
            ),
            _authorization,
            ("authorization",),
            before=8,
            after=4_200,
            gate=_label_gate(_AUTHORIZATION_NAMES, _HEADER_SEPARATOR),
            reach=_separator_reach(_AUTHORIZATION_NAMES, 1),
            starts_at=word_starts(_AUTHORIZATION_NAMES, "A-Za-z0-9-"),
            line_tail=_AUTHORIZATION_TAIL,
        ),
        Rule(
            "bearer_token",
            re.compile(
                rf"(?P<prefix>{word(('bearer',), 'A-Za-z0-9')}\s{{1,8}})"
                r"(?P<token>[A-Za-z0-9._~+/-]{8,4096}={0,3})(?![A-Za-z0-9._~+/-])"
            ),
            _scheme_token("bearer_token"),
            ("bearer",),
            after=4_200,
            line_tail=_WORD_TAIL,
        ),
        Rule(
            "basic_auth",
            re.compile(
                rf"(?P<prefix>{word(('basic',), 'A-Za-z0-9')}\s{{1,8}})"
                r"(?P<token>[A-Za-z0-9+/]{8,4096}={0,2})(?![A-Za-z0-9+/])"
            ),
            _scheme_token("basic_auth"),
            ("basic",),
            after=4_200,
            line_tail=_WORD_TAIL,
        ),
        Rule(
            "cookie",
            # A header value ends at a line end, a quote (a dict repr, JSON) or a backslash
            # (an escaped line end); RFC 6265 allows none of them inside a cookie.
            re.compile(
                rf"(?P<prefix>(?P<name>{word(_COOKIE_NAMES, 'A-Za-z0-9_-')})"
                r"(?![A-Za-z0-9_])" + _HEADER_SEPARATOR + r"\s{0,8}[\"']?)"
                r"(?P<value>[^\r\n\"'\\]{1,4096})"
            ),
            _cookie,
            ("cookie",),
            before=4,
            after=4_200,
            gate=_label_gate(("cookie",), _HEADER_SEPARATOR),
            reach=_separator_reach(_COOKIE_NAMES, 1),
            starts_at=word_starts(_COOKIE_NAMES, "A-Za-z0-9_-"),
            line_tail=_COOKIE_TAIL,
        ),
        Rule(
            "url_credential",
            # Only in a query string (after ``?`` or ``&``, ``&amp;`` in HTML); ``key=`` in
            # prose keeps the ``key_value`` treatment below.
            re.compile(
                r"(?P<prefix>[?&](?:amp;)?(?P<name>(?i:"
                + "|".join(re.escape(name) for name in _URL_PARAMETERS)
                + r"))=)(?P<value>[^&#\s\"'<>\\]{1,4096})"
            ),
            _url_parameter,
            ("?", "&"),
            after=4_200,
        ),
        Rule(
            "sql_password",
            # PostgreSQL ``PASSWORD 'x'`` (CREATE/ALTER ROLE/USER, also ENCRYPTED), MySQL
            # ``IDENTIFIED BY 'x'`` / ``IDENTIFIED WITH plugin BY 'x'`` / ``PASSWORD('x')``;
            # SQL doubles a quote inside a literal.
            re.compile(
                r"(?P<prefix>(?:(?<![A-Za-z0-9_])|(?<=\\[nrt]))(?i:password|identified"
                r"(?:\s{1,8}with\s{1,8}[A-Za-z0-9_]{1,64})?\s{1,8}by(?:\s{1,8}password)?)"
                r"(?:\s{1,8}|\s{0,8}\(\s{0,8}))" + _SQL_STRING
            ),
            _sql_password,
            ("password", "identified"),
            after=2_200,
            line_tail=_SQL_TAIL,
        ),
        Rule(
            "anthropic_key",
            re.compile(rf"{starts('sk-ant-', _B64URL)}[{_B64URL}*]{{20,512}}"),
            whole("anthropic_key"),
            ("sk-ant-",),
            after=530,
        ),
        Rule(
            "openai_key",
            re.compile(rf"{starts('sk-', _B64URL)}[{_B64URL}*]{{20,512}}"),
            whole("openai_key"),
            ("sk-",),
            after=530,
        ),
        Rule(
            "aws_access_key_id",
            re.compile(
                rf"{starts('A', 'A-Za-z0-9')}(?:KIA|SIA|BIA|CCA)[A-Z0-9]{{16}}(?![A-Za-z0-9])"
            ),
            whole("aws_access_key_id"),
            ("akia", "asia", "abia", "acca"),
            after=30,
        ),
        Rule(
            "aws_secret_key",
            re.compile(
                rf"(?P<prefix>{word(_AWS_SECRET_NAMES, 'A-Za-z0-9')}"
                + _KEY_SEPARATOR
                + r"\s{0,8}(?:\\?[\"'])?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+])"
            ),
            group_prefix("aws_secret_key"),
            ("secret",),
            before=8,
            after=120,
            gate=_label_gate(("key",), _KEY_SEPARATOR),
            reach=_separator_reach(_AWS_SECRET_NAMES, 2),
            starts_at=word_starts(_AWS_SECRET_NAMES, "A-Za-z0-9"),
            line_tail=_KEY_TAIL,
        ),
        Rule(
            "github_token",
            re.compile(
                rf"{starts('g', 'A-Za-z0-9_')}"
                r"(?:h[pousr]_[A-Za-z0-9]{30,255}|ithub_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])"
            ),
            whole("github_token"),
            ("gh", "github_pat_"),
            after=280,
        ),
        Rule(
            "google_api_key",
            re.compile(rf"{starts('AIza', _B64URL)}[{_B64URL}]{{35}}(?![{_B64URL}])"),
            whole("google_api_key"),
            ("aiza",),
            after=50,
        ),
        Rule(
            "slack_token",
            re.compile(rf"{starts('x', 'A-Za-z0-9-')}(?:ox[abposr]|app)-[A-Za-z0-9-]{{10,512}}"),
            whole("slack_token"),
            ("xox", "xapp-"),
            after=530,
        ),
        Rule(
            "key_value",
            re.compile(
                rf"(?P<prefix>(?P<key>{word(_KEY_NAMES, 'A-Za-z0-9')})(?![A-Za-z0-9])"
                r"(?P<sep>" + _KEY_SEPARATOR + r"\s{0,8}))"
                # a double-quoted value may hold escaped quotes; an unterminated quote still
                # opens a value (a message cut off in the middle of one)
                r"(?:" + _ESCAPED_QUOTED + r"|\"(?P<dq>(?:[^\"\\\n]|\\.){1,2048})\""
                r"|'(?P<sq>[^'\n]{1,4096})'"
                r"|(?P<openq>[\"']?)(?P<value>[^\s\"'&,;\[\](){}<>]{1,4096}))"
            ),
            _key_value,
            ("key", "secret", "token", "pass", "pwd", "credential"),
            before=16,
            after=4_200,
            gate=_label_gate(_KEY_ENDINGS, _KEY_SEPARATOR),
            reach=_separator_reach(_KEY_NAMES, 2),
            starts_at=word_starts(_KEY_NAMES, "A-Za-z0-9"),
            line_tail=_KEY_TAIL,
        ),
        Rule(
            "email",
            re.compile(
                r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}"
                r"(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
            ),
            whole("email"),
            ("@",),
            before=66,
            after=700,
        ),
    )
