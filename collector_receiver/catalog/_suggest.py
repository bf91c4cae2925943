"""Drafting catalog entries for failures no entry matches (``failcat catalog suggest``).

The loop from "what the catalog does not know" back into the catalog: each frequent UNCATALOGED
kind of failure (an exception type and a message template, see
:meth:`~collector_receiver.store.aggregates.AggregateQueries.uncataloged_patterns`) becomes a
draft entry that names the type and an RE2 pattern built from the template, with a guessed
category and severity. A draft is a starting point for a person: the guesses are marked as such in
YAML comments beside the count and an example message.

Nothing here is trusted on its own say-so: :func:`draft_entries` writes the YAML text, then loads
the current catalog's entries followed by that very text with the catalog loader
(:func:`~collector_receiver.catalog.parse_catalog`), and requires that the merged catalog match
each example to its draft. A pattern that would not match its example (a template of another
message of the group, an example past the matcher's window) is dropped from the draft, which then
matches on the type alone, and the comment says so.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from collector_receiver.catalog._catalog import Catalog, parse_catalog
from collector_receiver.catalog._model import CatalogEntry
from collector_receiver.catalog._validate import TYPE_NAME_RE
from collector_receiver.events import AttributeValue

__all__ = ["Draft", "SuggestionInput", "draft_entries", "guess_category"]

#: Characters of a template turned into a pattern; a longer template is matched on its start.
MAX_PATTERN_TEMPLATE_CHARS = 240
_EXAMPLE_CHARS = 160

# Each placeholder of otel_failcat.normalize as an RE2 class that matches what it replaced. They
# are wider than the template rules (a pattern is matched against stored messages, which the
# rules read already), never narrower; and the rules read the text with its whitespace runs made
# one space, so a value may span a newline or several spaces of the message (a quoted string, a
# path, an HTTP date).
_PLACEHOLDER_PATTERNS: Mapping[str, str] = {
    "<str>": r"""(?:'[^']*'|"(?:[^"\\]|\\.)*")""",
    "<url>": r"[A-Za-z][A-Za-z0-9+.-]*://\S+?",
    "<timestamp>": r"\S+(?:\s+\S+)*?",
    "<date>": r"\p{Nd}{4}-\p{Nd}{2}-\p{Nd}{2}",
    "<time>": r"\p{Nd}{2}:\p{Nd}{2}:\p{Nd}{2}(?:[.,]\p{Nd}+)?",
    "<uuid>": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "<email>": r"\S+@\S+?",
    "<ip>": r"[0-9A-Fa-f:.]+",
    "<path>": r"(?s:.+?)",
    "<hex>": r"0[xX][0-9a-fA-F]+",
    "<id>": r"[A-Za-z0-9]+",
    # \p{Nd}, not \d: the template rule reads any decimal digit (RE2's \d is ASCII only)
    "<num>": r"[-vV]?\p{Nd}+(?:\.\p{Nd}+)*(?:[eE][+-]?\p{Nd}+)?",
}
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in _PLACEHOLDER_PATTERNS))
# RE2 accepts a backslash before any punctuation; letters, digits and the rest stand for
# themselves (Python's re.escape would also escape "#", "&" and "~", which RE2 reads the same).
_RE2_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")

# (category, severity, words that say it). The first category whose word appears wins; the type's
# words are read before the message's, so ``httpx.ReadTimeout: connection lost`` is a timeout.
_CATEGORY_WORDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "rate_limit",
        "high",
        ("rate limit", "ratelimit", "rate_limit", "too many requests", "throttl", "429"),
    ),
    (
        "context_length",
        "high",
        (
            "context length",
            "context_length",
            "context window",
            "maximum context",
            "too many tokens",
            "prompt is too long",
        ),
    ),
    ("overloaded", "high", ("overload", "529", "503", "service unavailable", "capacity")),
    ("timeout", "medium", ("timeout", "timed out", "deadline", "etimedout")),
    (
        "auth",
        "critical",
        (
            "auth",
            "unauthorized",
            "unauthenticated",
            "401",
            "403",
            "permission",
            "forbidden",
            "api key",
            "credential",
            "access denied",
        ),
    ),
    (
        "connection",
        "medium",
        (
            "connect",
            "econnre",
            "enotfound",
            "network",
            "dns",
            "fetch failed",
            "socket",
            "broken pipe",
            "reset by peer",
        ),
    ),
    ("content_filter", "medium", ("content filter", "content_filter", "safety", "moderation")),
    (
        "not_found",
        "medium",
        ("not found", "notfound", "not_found", "404", "no such", "does not exist", "unknown"),
    ),
    (
        "limit_exceeded",
        "high",
        ("recursion", "max turns", "maxturns", "budget", "quota", "limit exceeded", "usage limit"),
    ),
    ("retries_exhausted", "high", ("retry", "retries")),
    ("cancelled", "low", ("cancel", "abort")),
    ("resource", "high", ("memory", "disk", "no space", "too many open files")),
    ("output_parse", "medium", ("json", "parse", "decode", "validation", "schema")),
    ("tool", "medium", ("tool",)),
    ("bad_request", "medium", ("400", "bad request", "badrequest", "invalid")),
)
# A word counts where one starts ("403" is not in "14030", "auth" not in "oauth2"); a word may
# be a stem ("throttl", "overload"), but a number must end too.
_CATEGORY_SEARCHES = tuple(
    (
        category,
        severity,
        re.compile(
            "|".join(
                rf"(?<![a-z0-9]){re.escape(word)}" + (r"(?![0-9])" if word.isdigit() else "")
                for word in words
            )
        ),
    )
    for category, severity, words in _CATEGORY_WORDS
)
#: The category given when neither the type nor the message says one (marked as such).
FALLBACK_CATEGORY = ("bad_request", "medium")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True)
class SuggestionInput:
    """One uncataloged kind of failure: what the store counted (see ``UncatalogedPattern``)."""

    exception_type: str
    message_template: str
    occurrences: int
    example_message: str
    services: int = 1


@dataclass(frozen=True)
class Draft:
    """One drafted entry: its YAML text (comments included) and what it was drafted from."""

    code: str
    category: str
    category_word: str | None
    pattern: str | None
    source: SuggestionInput
    yaml_text: str


@dataclass(frozen=True)
class _Failure:
    """An example as the matcher reads it (satisfies ``MatchInput``)."""

    exception_type: str
    exception_message: str
    cause_types: Sequence[str] = ()
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    error_type: str | None = None


def guess_category(exception_type: str, message: str) -> tuple[str, str, str | None]:
    """``(category, severity, word)``: the first category a word of the type, else of the message,
    names; ``word`` is None when none does and the fallback is given."""
    short = exception_type.rsplit(".", 1)[-1]
    for text in (_CAMEL.sub(" ", short).lower() + " " + exception_type.lower(), message.lower()):
        for category, severity, words in _CATEGORY_SEARCHES:
            found = words.search(text)
            if found is not None:
                return category, severity, found.group()
    return (*FALLBACK_CATEGORY, None)


def pattern_from_template(template: str) -> str:
    """An RE2 pattern matching the messages of ``template``: literal text escaped, each
    placeholder its class, each space any run of (ASCII) whitespace, anchored at the start (and
    at the end unless the template was cut)."""
    cut = len(template) > MAX_PATTERN_TEMPLATE_CHARS
    text = template[:MAX_PATTERN_TEMPLATE_CHARS]
    if cut:  # do not end inside a placeholder
        opening = text.rfind("<")
        if opening > text.rfind(">"):
            text = text[:opening]
    pieces = [r"^\s*"]
    position = 0
    for placeholder in _PLACEHOLDER.finditer(text):
        pieces.append(_literal(text[position : placeholder.start()]))
        pieces.append(_PLACEHOLDER_PATTERNS[placeholder.group()])
        position = placeholder.end()
    pieces.append(_literal(text[position:]))
    if not cut:
        pieces.append(r"\s*$")
    return "".join(pieces)


def _literal(text: str) -> str:
    return r"\s+".join(_RE2_SPECIAL.sub(r"\\\1", part) for part in text.split(" "))


def _code_for(exception_type: str, taken: set[str]) -> str:
    short = exception_type.rsplit(".", 1)[-1]
    words = re.sub(r"[^A-Za-z0-9]+", "_", _CAMEL.sub("_", short)).strip("_").upper()
    base = words if words and words[0].isalpha() else f"ERROR_{words}".rstrip("_")
    base = re.sub(r"_+", "_", base)[:60]
    code, n = base, 2
    while code in taken:
        code = f"{base}_{n}"
        n += 1
    taken.add(code)
    return code


def _quoted(text: str) -> str:
    """A YAML single-quoted scalar on one line (templates and titles hold no newline)."""
    return "'" + " ".join(text.split()).replace("'", "''") + "'"


def _comment(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _entry_yaml(
    suggestion: SuggestionInput,
    code: str,
    category: tuple[str, str, str | None],
    pattern: str | None,
    note: str | None,
) -> str:
    name, severity, word = category
    short = suggestion.exception_type.rsplit(".", 1)[-1] or "failure"
    title = f"{short}: {suggestion.message_template}" if suggestion.message_template else short
    lines = [
        f"  # {suggestion.occurrences} occurrences in {suggestion.services} service(s); example:",
        f"  #   {_comment(suggestion.example_message, _EXAMPLE_CHARS)}",
        (
            f"  # category guessed from {word!r} in the type or message; review it"
            if word is not None
            else f"  # category is a guess: nothing in the type or message names one; {name} "
            "is a placeholder, review it"
        ),
    ]
    if note:
        lines.append(f"  # {note}")
    lines += [
        f"  - code: {code}",
        f"    title: {_quoted(_comment(title, 100))}",
        f"    category: {name}",
        f"    severity: {severity}",
        "    priority: 100",
        "    match:",
    ]
    if TYPE_NAME_RE.fullmatch(suggestion.exception_type):
        lines.append(f"      exception_types: [{suggestion.exception_type}]")
    if pattern is not None:
        lines += ["      message_patterns:", f"        - {_quoted(pattern)}"]
    lines.append("    remediation: 'TODO: what to do when this happens.'")
    return "\n".join(lines) + "\n"


def _entries_yaml(entries: Sequence[CatalogEntry]) -> str:
    """The current entries in the file's own shape, as a YAML list indented under ``entries:``."""
    # Optional keys the file left out come back as None or "" (no remediation); leave them out
    # again, since the validator refuses an empty remediation that is written.
    data = [
        {key: value for key, value in entry.to_dict().items() if value not in (None, "")}
        for entry in entries
    ]
    if not data:
        return ""
    return textwrap.indent(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "  ")


def _merged(catalog: Catalog, block: str) -> Catalog:
    head = f"version: 2\ncatalog_version: {_quoted(catalog.catalog_version)}\nentries:\n"
    return parse_catalog(head + _entries_yaml(catalog.entries) + block, "<suggested entries>")


def draft_entries(suggestions: Sequence[SuggestionInput], catalog: Catalog) -> list[Draft]:
    """One validated draft per suggestion that ``catalog`` still does not match, in order.

    Raises :class:`~collector_receiver.catalog.CatalogError` only if a draft cannot be made to
    load (a bug here, not a user's mistake): every draft is loaded with ``catalog``'s entries.
    """
    taken = {entry.code for entry in catalog.entries}
    drafts: list[Draft] = []
    for suggestion in suggestions:
        example = _Failure(suggestion.exception_type, suggestion.example_message)
        if catalog.match(example).entry is not None:
            continue  # the catalog learnt it since the failures were stored
        code = _code_for(suggestion.exception_type, taken)
        category = guess_category(suggestion.exception_type, suggestion.example_message)
        has_type = TYPE_NAME_RE.fullmatch(suggestion.exception_type) is not None
        pattern: str | None = pattern_from_template(suggestion.message_template)
        note = None if has_type else "the type is not a class name, so the message alone matches"
        text = _entry_yaml(suggestion, code, category, pattern, note)
        if _merged(catalog, text).match(example).code != code and has_type:
            pattern = None
            note = "no pattern from the template matched the example; this matches the type alone"
            text = _entry_yaml(suggestion, code, category, pattern, note)
        verdict = _merged(catalog, text).match(example)
        if verdict.code != code:
            continue  # cannot be drafted to match its own example (no type, odd template)
        drafts.append(Draft(code, category[0], category[2], pattern, suggestion, text))
    # The drafts together, after the catalog, must load as one file too (codes stay unique).
    if drafts:
        _merged(catalog, "".join(draft.yaml_text for draft in drafts))
    return drafts
