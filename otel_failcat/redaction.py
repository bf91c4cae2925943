"""Secret redaction and length caps for exception messages and stacktraces.

Used by the agent before a failure leaves the process and again by the receiver before it stores
one (CONTRACT §2, §4), so a failure from an agent without ``otel_failcat`` never stores a secret
either. Each secret found is replaced by ``[REDACTED:<kind>]``; for credentials that come with a
label (``password=``, ``Authorization: Bearer``, ``user:pass@host``) the label is kept and only
the value goes.

Kinds, in the order they are applied:

====================  ========================================================================
``private_key``       ``-----BEGIN ... PRIVATE KEY-----`` blocks (also when cut off before END)
``password``          the password of ``scheme://user:password@host`` (user and host are kept)
``slack_webhook``     ``https://hooks.slack.com/services/...`` (and ``workflows``/``triggers``)
``jwt``               ``eyJ...``.``eyJ...``.``...`` JSON Web Tokens
``bearer_token``      ``Authorization: Bearer <token>`` and a free-standing ``Bearer <token>``
``basic_auth``        ``Authorization: Basic <b64>`` and a free-standing ``Basic <b64>``
``authorization``     any other ``Authorization:`` / ``Proxy-Authorization:`` credential
``anthropic_key``     ``sk-ant-...``
``openai_key``        ``sk-...``, ``sk-proj-...``, ``sk-svcacct-...`` (≥ 20 characters after
                      ``sk-``; masked forms such as ``sk-proj-****abcd`` too)
``aws_access_key_id`` ``AKIA``/``ASIA``/``ABIA``/``ACCA`` + 16 upper-case letters or digits
``aws_secret_key``    the 40-character value after ``aws_secret_access_key`` /
                      ``SecretAccessKey`` (``=`` or ``:``, quoted or not)
``github_token``      ``ghp_``, ``gho_``, ``ghs_``, ``ghu_``, ``ghr_`` tokens and ``github_pat_``
``google_api_key``    ``AIza`` + 35 characters
``slack_token``       ``xoxb-``, ``xoxa-``, ``xoxp-``, ``xoxr-``, ``xoxs-``, ``xoxo-``, ``xapp-``
``password`` /        values of ``password``/``passwd``/``pwd``/``passphrase``,
``api_key`` /         ``api_key``/``apikey``/``x-api-key``/``access_key``/``private_key``,
``token`` /           ``token``/``access_token``/``auth_token``/``refresh_token``/``id_token``,
``secret`` /          ``secret``/``client_secret``/``secret_key``,
``credential``        ``credential(s)`` pairs written ``key=value``, ``key: value``,
                      ``"key": "value"``; the key is kept
``email``             e-mail addresses
``custom``            matches of the ``FAILCAT_REDACTION_EXTRA_PATTERNS``
====================  ========================================================================

To keep ordinary messages intact, a label-driven value is only taken when it looks like a
credential: a quoted value or a ``key=value`` pair always is (except that ``token``/``key``/
``secret`` values need ≥ 8 characters there, so ``max_token=5`` stays); after ``:`` an unquoted
value must not be a plain word (``Invalid token: expired`` stays). The same rule keeps
``Bearer authentication`` and ``Basic realm`` intact.

All patterns are linear for Python's backtracking ``re``: every repetition is bounded, and no
quantified group repeats over characters its neighbour can also take. Each built-in rule is only
run near the places where its cheap needle (``sk-``, ``akia``, ``://``, ``token``, ``@`` ...)
occurs in the lower-cased text, in windows wide enough to hold its longest match, which makes
redaction of a stacktrace several times faster than scanning it with every rule.

Redaction is idempotent: ``redact(redact(t)) == redact(t)``. Removing one secret can change what
its neighbours look like, so the rules are applied in passes until a pass changes nothing (at
most four; a text without secrets takes one). An extra pattern that matches its own
``[REDACTED:custom]`` breaks idempotence; that is the pattern author's business.

Length caps, applied after redaction by :meth:`Redactor.message` and :meth:`Redactor.stacktrace`:

- Only the first ``2 * cap`` characters of a message are redacted at all (the rest could never
  be shown), which bounds the time spent on a huge message. If the redacted text is longer than
  the cap, its head is kept and ``…[truncated N chars]`` appended, the whole staying ≤ the cap.
- A stacktrace keeps its head (a quarter of the budget) *and its tail* (the rest): the tail holds
  the raising frame and the exception line, the most useful part. For a stacktrace longer than
  ``2 * cap`` only its first and last ``cap`` characters are redacted. The marker is
  ``\\n…[truncated N chars]\\n`` between head and tail.
- Such a window ends (or, for the tail, starts) at whitespace, not inside a word: a secret the
  window cut in two is no longer recognisable, and once the window's other secrets have shrunk
  to markers, its fragment could land in the part that is kept. The fragment is left out and
  counted instead.
- ``N`` counts the characters left out (of the redacted text, plus those never redacted).
- With redaction disabled the caps still apply.

Redaction never raises: if it fails unexpectedly the text is replaced by
``[REDACTED:unredactable]`` rather than risk a leak. Bad settings raise :class:`ValueError` with a
one-line reason when the settings are built, never later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from otel_failcat.environment_variables import (
    FAILCAT_MAX_MESSAGE_LENGTH,
    FAILCAT_MAX_STACKTRACE_LENGTH,
    FAILCAT_REDACTION_ENABLED,
    FAILCAT_REDACTION_EXTRA_PATTERNS,
)

__all__ = [
    "REDACTED",
    "RedactionSettings",
    "Redactor",
    "credential_key",
    "redact_attribute",
    "redaction_marker",
]

_V = TypeVar("_V")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_MAX_LENGTH = 100_000_000
_UNREDACTABLE = "[REDACTED:unredactable]"
_MAX_PASSES = 4


#: What replaces, whole, a value stored under a key that names a credential (CONTRACT §4).
REDACTED = "[REDACTED]"

#: The last key segments that name a credential, alone or as a ``_``-separated suffix.
_CREDENTIAL_KEY_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "private_key",
    "credential",
    "credentials",
    "secret_access_key",
)
_CREDENTIAL_KEY_SUFFIXES = tuple("_" + word for word in _CREDENTIAL_KEY_WORDS)


def credential_key(key: str) -> bool:
    """Whether an attribute key names a credential, so its value is replaced whole.

    The rule of CONTRACT §4: the key's last segment (after the last ``.``), lowercased and with
    ``-`` read as ``_``, is one of the credential words or ends with ``_`` and one of them.
    ``db.password``, ``auth_token``, ``client_secret``, ``http.request.header.x-api-key`` and
    ``aws.secret_access_key`` name credentials; ``gen_ai.usage.input_tokens`` and
    ``max_tokens`` do not.
    """
    segment = key.rpartition(".")[2].lower().replace("-", "_")
    return segment in _CREDENTIAL_KEY_WORDS or segment.endswith(_CREDENTIAL_KEY_SUFFIXES)


def redact_attribute(key: str, value: _V, redact_text: Callable[[str], str]) -> _V | str:
    """``value`` as it may be stored or exported under ``key``, secrets removed at any depth.

    A value under a key that names a credential (:func:`credential_key`) becomes
    :data:`REDACTED` whole, whatever its type; otherwise strings go through ``redact_text``
    (a :meth:`Redactor.message` or a memoised one), list items are treated as values under
    the same key, and the keys and values of nested maps likewise, each nested key judged on
    its own. ``None`` stays ``None``. The one walk both the agent and the receiver use.
    """
    if value is None:
        return value
    if credential_key(key):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, (list, tuple)):
        return [redact_attribute(key, item, redact_text) for item in value]  # type: ignore[return-value]
    if isinstance(value, dict):
        return {  # type: ignore[return-value]
            redact_text(inner): redact_attribute(inner, item, redact_text)
            for inner, item in value.items()
        }
    return value


def redaction_marker(kind: str) -> str:
    """The text that replaces a secret of ``kind``: ``[REDACTED:<kind>]``."""
    return f"[REDACTED:{kind}]"


@dataclass(frozen=True)
class RedactionSettings:
    """What to redact and how long messages and stacktraces may be.

    Validated on construction: ``ValueError`` with a one-line reason for a non-positive length or
    an extra pattern that does not compile or matches the empty string.
    """

    enabled: bool = True
    max_message_length: int = 4096
    max_stacktrace_length: int = 16384
    extra_patterns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, value in (
            ("max_message_length", self.max_message_length),
            ("max_stacktrace_length", self.max_stacktrace_length),
        ):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            if not 1 <= value <= _MAX_LENGTH:
                raise ValueError(f"{name} must be between 1 and {_MAX_LENGTH}, got {value}")
        for index, pattern in enumerate(self.extra_patterns, start=1):
            _compile_extra(pattern, index)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RedactionSettings:
        """Build settings from ``FAILCAT_*`` variables (``os.environ`` by default).

        Unset or empty variables take the defaults. Invalid values raise ``ValueError`` naming
        the variable; callers decide whether to fall back to the defaults.
        """
        env = os.environ if environ is None else environ
        enabled = _parse_bool(FAILCAT_REDACTION_ENABLED, env.get(FAILCAT_REDACTION_ENABLED), True)
        max_message = _parse_length(
            FAILCAT_MAX_MESSAGE_LENGTH, env.get(FAILCAT_MAX_MESSAGE_LENGTH), 4096
        )
        max_stack = _parse_length(
            FAILCAT_MAX_STACKTRACE_LENGTH, env.get(FAILCAT_MAX_STACKTRACE_LENGTH), 16384
        )
        raw_patterns = env.get(FAILCAT_REDACTION_EXTRA_PATTERNS) or ""
        patterns = tuple(line.strip() for line in raw_patterns.splitlines() if line.strip())
        for index, pattern in enumerate(patterns, start=1):
            try:
                _compile_extra(pattern, index)
            except ValueError as error:
                raise ValueError(f"{FAILCAT_REDACTION_EXTRA_PATTERNS}: {error}") from None
        return cls(
            enabled=enabled,
            max_message_length=max_message,
            max_stacktrace_length=max_stack,
            extra_patterns=patterns,
        )


def _parse_bool(name: str, raw: str | None, default: bool) -> bool:
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}: expected true or false, got {raw!r}")


def _parse_length(name: str, raw: str | None, default: int) -> int:
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError(f"{name}: expected a positive integer, got {raw!r}") from None
    if not 1 <= value <= _MAX_LENGTH:
        raise ValueError(f"{name}: expected an integer between 1 and {_MAX_LENGTH}, got {value}")
    return value


def _compile_extra(pattern: str, index: int) -> re.Pattern[str]:
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        reason = str(error).splitlines()[0]
        raise ValueError(f"extra pattern #{index} {pattern!r} is invalid: {reason}") from None
    if compiled.fullmatch("") is not None:
        raise ValueError(f"extra pattern #{index} {pattern!r} matches the empty string")
    return compiled


# ---------------------------------------------------------------------------------------------
# Rules

_Replace = Callable[["re.Match[str]"], str]
_PLAIN_WORD = re.compile(r"[A-Za-z][a-z]*")


def _looks_secret(value: str) -> bool:
    """False for a plain word (``expired``, ``Signature``) that merely follows a label."""
    return _PLAIN_WORD.fullmatch(value) is None


def _whole(kind: str) -> _Replace:
    marker = redaction_marker(kind)
    return lambda _match: marker


def _group_prefix(kind: str) -> _Replace:
    """Keep the ``prefix`` group, replace the rest of the match."""
    marker = redaction_marker(kind)
    return lambda match: match["prefix"] + marker


@dataclass(frozen=True)
class _Rule:
    """One kind of secret.

    With ``needles``, the pattern is only run near where one of them occurs in the lower-cased
    text: from ``before`` characters ahead of the needle to ``after`` characters past its start.
    ``before`` must cover the longest stretch of a match in front of its needle and ``after`` the
    whole longest match measured from the needle, so that a window never cuts a match short.
    """

    kind: str
    pattern: re.Pattern[str]
    replace: _Replace
    needles: tuple[str, ...] = ()
    before: int = 0
    after: int = 0

    def apply(self, text: str, lowered: str) -> str:
        if not self.needles or len(lowered) != len(text):
            return self.pattern.sub(self.replace, text)
        pieces: list[str] = []
        done = 0
        for hit in _needle_positions(lowered, self.needles):
            start = max(done, hit - self.before)
            end = min(len(text), hit + self.after)
            if end <= start:
                continue
            if self.before > _MAX_ANCHORED_BEFORE:
                matches: Iterable[re.Match[str]] = self.pattern.finditer(text, start, end)
            else:
                # A match holds its needle, so it starts at most `before` characters ahead of
                # it: trying those few starts is far cheaper than scanning the whole window.
                matches = _first_match_from(self.pattern, text, start, hit, end)
            for match in matches:
                pieces.append(text[done : match.start()])
                pieces.append(self.replace(match))
                done = match.end()
        if not pieces:
            return text
        pieces.append(text[done:])
        return "".join(pieces)


_MAX_ANCHORED_BEFORE = 16


def _needle_positions(lowered: str, needles: tuple[str, ...]) -> list[int]:
    """Where any of ``needles`` starts, ascending.

    ``str.find`` is used rather than a regex alternation: for a handful of literals it is
    several times faster than ``re`` on long text, and most texts hold none of them.
    """
    positions: list[int] = []
    for needle in needles:
        position = lowered.find(needle)
        while position != -1:
            positions.append(position)
            position = lowered.find(needle, position + 1)
    if len(needles) > 1:
        positions.sort()
    return positions


def _first_match_from(
    pattern: re.Pattern[str], text: str, first: int, last: int, end: int
) -> list[re.Match[str]]:
    """The match of ``pattern`` starting leftmost in ``[first, last]`` (and ending by ``end``)."""
    for position in range(first, last + 1):
        match = pattern.match(text, position, end)
        if match is not None:
            return [match]
    return []


def _url_password(match: re.Match[str]) -> str:
    return match["prefix"] + redaction_marker("password") + "@"


def _scheme_token(kind: str) -> _Replace:
    marker = redaction_marker(kind)

    def replace(match: re.Match[str]) -> str:
        if not _looks_secret(match["token"]):
            return match[0]
        return match["prefix"] + marker

    return replace


_KNOWN_SCHEMES = {
    "bearer": "bearer_token",
    "basic": "basic_auth",
}
_OTHER_SCHEMES = frozenset(
    {"token", "digest", "apikey", "api-key", "key", "hmac", "aws4-hmac-sha256"}
)


def _authorization(match: re.Match[str]) -> str:
    credential = match["cred"]
    if credential.startswith("[REDACTED"):
        return match[0]
    scheme = match["scheme"]
    if scheme is None:
        if not _looks_secret(credential):
            return match[0]
        return match["prefix"] + redaction_marker("authorization")
    lowered = scheme.lower()
    if lowered in _KNOWN_SCHEMES:
        kind = _KNOWN_SCHEMES[lowered]
    elif lowered in _OTHER_SCHEMES:
        kind = "authorization"
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


def _key_value(match: re.Match[str]) -> str:
    kind = _key_kind(match["key"])
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
        taken = assigned or _looks_secret(value)
    else:
        taken = len(value) >= 8 and (assigned or _looks_secret(value))
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
)


_AWS_SECRET_NAMES = ("aws_?secret_?(?:access_?)?key", "secretaccesskey")


def _word(alternatives: tuple[str, ...], not_after: str) -> str:
    """Case-insensitive ``alternatives`` that must not follow a character of ``[not_after]``.

    Written so that every branch begins with a literal character (both cases of the first
    letter) and checks what precedes it only after that character: Python's ``re`` then skips
    straight to the places where one of those characters occurs instead of trying every branch
    at every position, which makes these rules several times faster on long stacktraces.
    """
    branches = []
    for alternative in alternatives:
        first, rest = alternative[0], alternative[1:]
        for char in sorted({first.lower(), first.upper()}):
            branches.append(f"{char}(?<![{not_after}]{char})(?i:{rest})")
    return "(?:" + "|".join(branches) + ")"


def _rules() -> tuple[_Rule, ...]:
    return (
        _Rule(
            "private_key",
            re.compile(
                r"-----BEGIN[A-Z ]{0,40}PRIVATE KEY-----[A-Za-z0-9+/=\s:,.-]{0,16384}?"
                r"(?:-----END[A-Z ]{0,40}PRIVATE KEY-----|(?=[^A-Za-z0-9+/=\s:,.-])|\Z)"
            ),
            _whole("private_key"),
            ("private key-----",),
            before=64,
            after=16_700,
        ),
        _Rule(
            # Anchored on "://" (a literal, found fast); the scheme in front is left alone.
            "password",
            re.compile(r"(?P<prefix>://[^\s:/?#@\[\]\"'<>]{0,256}:)[^\s/?#\[\]\"'<>]{1,256}@"),
            _url_password,
            ("://",),
            after=530,
        ),
        _Rule(
            "slack_webhook",
            re.compile(
                r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{8,512}"
            ),
            _whole("slack_webhook"),
            ("hooks.slack.com",),
            before=8,
            after=600,
        ),
        _Rule(
            "jwt",
            re.compile(
                rf"eyJ(?<![{_B64URL}]eyJ)[{_B64URL}]{{5,4096}}\.eyJ[{_B64URL}]{{5,4096}}"
                rf"\.[{_B64URL}]{{0,4096}}"
            ),
            _whole("jwt"),
            ("eyj",),
            after=12_400,
        ),
        _Rule(
            "authorization",
            re.compile(
                rf"(?P<prefix>{_word(('proxy-authorization', 'authorization'), 'A-Za-z0-9-')}"
                r"[\"']?\s{0,8}[:=]\s{0,8}[\"']?)"
                r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9_-]{0,31})(?P<space>\s{1,8}))?"
                r"(?P<cred>[^\s\"',;]{1,4096})"
            ),
            _authorization,
            ("authorization",),
            before=8,
            after=4_200,
        ),
        _Rule(
            "bearer_token",
            re.compile(
                rf"(?P<prefix>{_word(('bearer',), 'A-Za-z0-9')}\s{{1,8}})"
                r"(?P<token>[A-Za-z0-9._~+/-]{8,4096}={0,3})(?![A-Za-z0-9._~+/=-])"
            ),
            _scheme_token("bearer_token"),
            ("bearer",),
            after=4_200,
        ),
        _Rule(
            "basic_auth",
            re.compile(
                rf"(?P<prefix>{_word(('basic',), 'A-Za-z0-9')}\s{{1,8}})"
                r"(?P<token>[A-Za-z0-9+/]{8,4096}={0,2})(?![A-Za-z0-9+/=])"
            ),
            _scheme_token("basic_auth"),
            ("basic",),
            after=4_200,
        ),
        _Rule(
            "anthropic_key",
            re.compile(rf"sk-ant-(?<![{_B64URL}]sk-ant-)[{_B64URL}*]{{20,512}}"),
            _whole("anthropic_key"),
            ("sk-ant-",),
            after=530,
        ),
        _Rule(
            "openai_key",
            re.compile(rf"sk-(?<![{_B64URL}]sk-)[{_B64URL}*]{{20,512}}"),
            _whole("openai_key"),
            ("sk-",),
            after=530,
        ),
        _Rule(
            "aws_access_key_id",
            re.compile(r"A(?<![A-Za-z0-9]A)(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
            _whole("aws_access_key_id"),
            ("akia", "asia", "abia", "acca"),
            after=30,
        ),
        _Rule(
            "aws_secret_key",
            re.compile(
                rf"(?P<prefix>{_word(_AWS_SECRET_NAMES, 'A-Za-z0-9')}"
                r"[\"']?\s{0,8}[:=]\s{0,8}[\"']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"
            ),
            _group_prefix("aws_secret_key"),
            ("secret",),
            before=8,
            after=120,
        ),
        _Rule(
            "github_token",
            re.compile(
                r"g(?<![A-Za-z0-9_]g)(?:h[pousr]_[A-Za-z0-9]{30,255}|ithub_pat_[A-Za-z0-9_]{22,255})"
                r"(?![A-Za-z0-9_])"
            ),
            _whole("github_token"),
            ("gh", "github_pat_"),
            after=280,
        ),
        _Rule(
            "google_api_key",
            re.compile(rf"AIza(?<![{_B64URL}]AIza)[{_B64URL}]{{35}}(?![{_B64URL}])"),
            _whole("google_api_key"),
            ("aiza",),
            after=50,
        ),
        _Rule(
            "slack_token",
            re.compile(r"x(?<![A-Za-z0-9-]x)(?:ox[abposr]|app)-[A-Za-z0-9-]{10,512}"),
            _whole("slack_token"),
            ("xox", "xapp-"),
            after=530,
        ),
        _Rule(
            "key_value",
            re.compile(
                rf"(?P<prefix>(?P<key>{_word(_KEY_NAMES, 'A-Za-z0-9')})(?![A-Za-z0-9])"
                r"(?P<sep>[\"']?\s{0,8}[:=]\s{0,8}))"
                # a double-quoted value may hold escaped quotes; an unterminated quote still
                # opens a value (a message cut off in the middle of one)
                r"(?:\"(?P<dq>(?:[^\"\\\n]|\\.){1,2048})\"|'(?P<sq>[^'\n]{1,4096})'"
                r"|(?P<openq>[\"']?)(?P<value>[^\s\"'&,;\[\](){}<>]{1,4096}))"
            ),
            _key_value,
            ("key", "secret", "token", "pass", "pwd", "credential"),
            before=16,
            after=4_200,
        ),
        _Rule(
            "email",
            re.compile(
                r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}"
                r"(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
            ),
            _whole("email"),
            ("@",),
            before=66,
            after=700,
        ),
    )


class Redactor:
    """Redacts secrets and caps lengths according to :class:`RedactionSettings`.

    Immutable after construction and safe to share between threads. Construction raises
    ``ValueError`` for an invalid extra pattern; the methods never raise.
    """

    def __init__(self, settings: RedactionSettings | None = None) -> None:
        self._settings = settings if settings is not None else RedactionSettings()
        custom = tuple(
            _Rule("custom", _compile_extra(pattern, index), _whole("custom"))
            for index, pattern in enumerate(self._settings.extra_patterns, start=1)
        )
        builtin = _rules()
        self._rules: tuple[_Rule, ...] = builtin + custom
        self._custom = custom
        # Most texts (attribute values, ordinary messages) hold no needle at all, and then only
        # the extra patterns need to run.
        needles = {needle for rule in builtin for needle in rule.needles}
        # A needle that contains another one adds nothing to "is any needle there?".
        self._needles = tuple(
            sorted(n for n in needles if not any(o != n and o in n for o in needles))
        )
        # The same question as one search, for short texts (most attribute values: "chat", a
        # model name), where one regex call beats a substring test per needle; past a few dozen
        # characters the substring tests win.
        self._needle_search = re.compile("|".join(map(re.escape, self._needles))).search

    @property
    def settings(self) -> RedactionSettings:
        return self._settings

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``[REDACTED:<kind>]`` (unchanged if disabled)."""
        if not self._settings.enabled:
            return text
        try:
            return self._redact(text)
        except Exception:
            # Never raise into the host, and never let an unredacted text through.
            return _UNREDACTABLE

    def message(self, text: str) -> str:
        """Redact an exception message and cap it to ``max_message_length`` (head kept)."""
        try:
            limit = self._settings.max_message_length
            raw = _head_window(text, 2 * limit)
            redacted = self.redact(raw)
            never_redacted = len(text) - len(raw)
            if len(redacted) <= limit and never_redacted == 0:
                return redacted
            return _cap_head(redacted, limit, never_redacted)
        except Exception:
            return _UNREDACTABLE

    def stacktrace(self, text: str) -> str:
        """Redact a stacktrace and cap it to ``max_stacktrace_length`` (head and tail kept)."""
        try:
            limit = self._settings.max_stacktrace_length
            if len(text) <= 2 * limit:
                redacted = self.redact(text)
                if len(redacted) <= limit:
                    return redacted
                return _cap_head_tail(redacted, redacted, limit, 0)
            head_raw, tail_raw = _head_window(text, limit), _tail_window(text, limit)
            never_redacted = len(text) - len(head_raw) - len(tail_raw)
            head, tail = self.redact(head_raw), self.redact(tail_raw)
            return _cap_head_tail(head, tail, limit, never_redacted)
        except Exception:
            return _UNREDACTABLE

    def _redact(self, text: str) -> str:
        if not isinstance(text, str):
            text = str(text)
        # A replacement changes what its neighbours see (``BEARER 0000=a@b.co``: once the e-mail
        # is gone, ``0000=`` ends where a token may end), so passes repeat until nothing changes;
        # a text without secrets costs one pass, one with secrets usually two.
        for _ in range(_MAX_PASSES):
            redacted = self._one_pass(text)
            if redacted == text:
                break
            text = redacted
        return text

    def _one_pass(self, text: str) -> str:
        lowered = text.lower()
        if len(lowered) <= _SHORT_TEXT:
            any_needle = self._needle_search(lowered) is not None
        else:
            any_needle = any(needle in lowered for needle in self._needles)
        rules = self._rules if any_needle else self._custom
        for rule in rules:
            replaced = rule.apply(text, lowered)
            if replaced != text:
                text = replaced
                lowered = text.lower()
        return text


#: Up to this length a text is checked for needles with one regex search (see ``Redactor``).
_SHORT_TEXT = 48

_SPACES = (" ", "\n", "\t", "\r")


def _head_window(text: str, size: int) -> str:
    """``text[:size]``, ending before the word the cut would split (if the window has a space).

    A secret cut in two is not recognisable as one; leaving its fragment out of the window keeps
    it out of the output, however much the rest of the window shrinks when redacted.
    """
    if len(text) <= size or text[size].isspace():
        return text[:size]
    window = text[:size]
    last_space = max(window.rfind(space) for space in _SPACES)
    return window[: last_space + 1] if last_space >= 0 else window


def _tail_window(text: str, size: int) -> str:
    """``text[-size:]``, starting after the word the cut would split (see :func:`_head_window`)."""
    if len(text) <= size or text[-size - 1].isspace():
        return text[-size:]
    window = text[-size:]
    found = [at for at in (window.find(space) for space in _SPACES) if at >= 0]
    return window[min(found) :] if found else window


def _truncation(count: int) -> str:
    return f"…[truncated {count} chars]"


def _cap_head(text: str, limit: int, never_redacted: int) -> str:
    widest = len(_truncation(len(text) + never_redacted))
    keep = limit - widest
    if keep < 1:
        return text[:limit]
    return text[:keep] + _truncation(len(text) - keep + never_redacted)


def _cap_head_tail(head: str, tail: str, limit: int, never_redacted: int) -> str:
    widest = len(_truncation(len(head) + len(tail) + never_redacted)) + 2
    budget = limit - widest
    if budget < 2:
        return tail[-limit:]
    head_keep = budget // 4
    tail_keep = budget - head_keep
    if head is tail:
        dropped = len(head) - head_keep - tail_keep
    else:
        dropped = len(head) - head_keep + len(tail) - tail_keep + never_redacted
    return f"{head[:head_keep]}\n{_truncation(dropped)}\n{tail[-tail_keep:]}"
