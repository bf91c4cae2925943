"""Turning a parsed YAML document into validated :class:`CatalogEntry` objects, or refusing it.

Validation is strict and stops at the first problem, in file order: a catalog is refused as a
whole rather than half-applied, and the one-line error names the file, the entry (code and
position counted from 1) and what is wrong, with the YAML line when it is known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NoReturn

import re2

from collector_receiver.catalog._matcher import compile_pattern, re2_reason
from collector_receiver.catalog._model import (
    SEVERITIES,
    AttributeRule,
    CatalogEntry,
    CatalogError,
    MatchRule,
    Scalar,
)
from collector_receiver.catalog._text import quote
from collector_receiver.catalog._yaml import LoadedYaml
from collector_receiver.events import UNCATALOGED

#: The only format this loader reads.
FORMAT_VERSION = 2

TOP_LEVEL_KEYS = ("version", "catalog_version", "entries")
REQUIRED_ENTRY_KEYS = ("code", "title", "category", "severity", "match")
# CONTRACT §3 names priority, remediation and runbook_url as optional; the default catalog
# gives every entry a remediation (its own test holds it to that).
OPTIONAL_ENTRY_KEYS = ("priority", "remediation", "runbook_url")
MATCH_KINDS = ("exception_types", "message_patterns", "attributes", "error_types")

CODE_RE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
CATEGORY_RE = re.compile(r"[a-z][a-z_]*")
# A Python-style dotted name: ``TimeoutError``, ``openai._exceptions.RateLimitError``.
TYPE_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
URL_RE = re.compile(r"https?://\S+")


class _Context:
    """Where a problem is: the file, and the entry being validated if any."""

    def __init__(self, source: str, doc: LoadedYaml) -> None:
        self.source = source
        self.doc = doc
        self.entry: str | None = None
        self.line: int | None = None

    def fail(self, reason: str, node: object = None) -> NoReturn:
        line = self.doc.line_of(node) if node is not None else None
        line = line or self.line
        where = f"{self.source}: " + (f"{self.entry}: " if self.entry else "")
        suffix = f" (line {line})" if line else ""
        raise CatalogError(f"{where}{reason}{suffix}")


def validate(doc: LoadedYaml, source: str) -> tuple[str, tuple[CatalogEntry, ...]]:
    """``(catalog_version, entries)`` of a parsed catalog, or :class:`CatalogError`."""
    ctx = _Context(source, doc)
    data = doc.data
    if data is None:
        ctx.fail("the file is empty (expected 'version: 2', 'catalog_version' and 'entries')")
    # Until the document is known to be a catalog (a mapping with 'version'), nothing of it is
    # quoted back: `failcat catalog validate /etc/shadow` must not print the file's first line.
    if not isinstance(data, dict):
        ctx.fail(f"not a failcat catalog: the top level must be a mapping, not {_shape(data)}")
    if "version" not in data:
        ctx.fail(
            "not a failcat catalog: missing 'version' "
            f"(this loader reads version: {FORMAT_VERSION})",
            data,
        )
    _unknown_keys(ctx, data, TOP_LEVEL_KEYS, "top-level key")
    version = data["version"]
    if not _is_int(version) or version != FORMAT_VERSION:
        ctx.fail(
            f"unsupported version {_short(version)} (this loader reads version: {FORMAT_VERSION})",
            data,
        )
    if "catalog_version" not in data:
        ctx.fail("missing 'catalog_version' (a string shown on every stored match)", data)
    catalog_version = data["catalog_version"]
    if not isinstance(catalog_version, str) or not catalog_version.strip():
        ctx.fail(
            f"catalog_version must be a non-empty string, not {_kind(catalog_version)} "
            '(quote it: catalog_version: "2025.1")',
            data,
        )
    if "entries" not in data:
        ctx.fail("missing 'entries' (a list of entries)", data)
    raw_entries = data["entries"]
    if not isinstance(raw_entries, list):
        ctx.fail(f"entries must be a list, not {_kind(raw_entries)}", data)
    entries: list[CatalogEntry] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(raw_entries):
        entry = _entry(ctx, raw, index, first_index)
        first_index[entry.code] = index
        entries.append(entry)
    return catalog_version, tuple(entries)


def _entry(ctx: _Context, raw: Any, index: int, first_index: dict[str, int]) -> CatalogEntry:
    ctx.entry = f"entry #{index + 1}"
    ctx.line = None
    if not isinstance(raw, dict):
        ctx.fail(f"an entry must be a mapping, not {_kind(raw)}")
    ctx.line = ctx.doc.line_of(raw)
    if "code" not in raw:
        ctx.fail("missing required key 'code'")
    code = raw["code"]
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        ctx.fail(f"code {_short(code)} is not UPPER_SNAKE_CASE (like RATE_LIMITED)")
    ctx.entry = f"entry {code} (#{index + 1})"
    if code == UNCATALOGED:
        ctx.fail(f"code {UNCATALOGED} is reserved for failures no entry matches")
    if code in first_index:
        ctx.fail(f"duplicate code {code} (first used by entry #{first_index[code] + 1})")
    _unknown_keys(ctx, raw, REQUIRED_ENTRY_KEYS + OPTIONAL_ENTRY_KEYS, "entry key")
    for key in REQUIRED_ENTRY_KEYS:
        if key not in raw:
            ctx.fail(f"missing required key {key!r}")
    title = _text(ctx, raw, "title")
    category = raw["category"]
    if not isinstance(category, str) or not CATEGORY_RE.fullmatch(category):
        ctx.fail(
            f"category {_short(category)} must be a lowercase word (letters and _, like rate_limit)"
        )
    severity = raw["severity"]
    if not isinstance(severity, str) or severity not in SEVERITIES:
        ctx.fail(f"unknown severity {_short(severity)} (expected one of: {', '.join(SEVERITIES)})")
    remediation = _text(ctx, raw, "remediation") if "remediation" in raw else ""
    priority = raw.get("priority", 0)
    if not _is_int(priority):
        ctx.fail(f"priority must be an integer, not {_kind(priority)}")
    runbook_url = raw.get("runbook_url")
    if runbook_url is not None and (
        not isinstance(runbook_url, str) or not URL_RE.fullmatch(runbook_url)
    ):
        ctx.fail(f"runbook_url {_short(runbook_url)} must be an http(s) URL")
    return CatalogEntry(
        code=code,
        title=title,
        category=category,
        severity=severity,
        match=_match(ctx, raw["match"]),
        remediation=remediation,
        priority=priority,
        runbook_url=runbook_url,
        index=index,
        line=ctx.line,
    )


def _match(ctx: _Context, raw: Any) -> MatchRule:
    if not isinstance(raw, dict):
        ctx.fail(f"match must be a mapping of match kinds, not {_kind(raw)}")
    if not raw:
        ctx.fail(f"match is empty (give at least one of: {', '.join(MATCH_KINDS)})", raw)
    _unknown_keys(ctx, raw, MATCH_KINDS, "match kind")
    exception_types = _string_list(ctx, raw, "exception_types")
    for position, name in enumerate(exception_types):
        if not TYPE_NAME_RE.fullmatch(name):
            ctx.fail(
                f"match.exception_types[{position}] {_short(name)} is not a dotted type name "
                "(like openai.RateLimitError)",
                raw,
            )
    patterns = _string_list(ctx, raw, "message_patterns")
    for position, pattern in enumerate(patterns):
        try:
            compile_pattern(pattern)
        except re2.error as exc:
            ctx.fail(
                f"match.message_patterns[{position}] {_short(pattern)} is not a valid RE2 regex: "
                f"{re2_reason(exc)}",
                raw,
            )
    attributes = _attributes(ctx, raw)
    error_types = _string_list(ctx, raw, "error_types", allow_int=True)
    return MatchRule(
        exception_types=tuple(exception_types),
        message_patterns=tuple(patterns),
        attributes=attributes,
        error_types=tuple(error_types),
    )


def _attributes(ctx: _Context, match: dict[str, Any]) -> tuple[AttributeRule, ...]:
    if "attributes" not in match:
        return ()
    raw = match["attributes"]
    if not isinstance(raw, dict):
        ctx.fail(
            f"match.attributes must be a mapping of attribute to value, not {_kind(raw)}", match
        )
    if not raw:
        ctx.fail("match.attributes is empty", match)
    rules = []
    for key, value in raw.items():
        if not isinstance(key, str) or not key:
            ctx.fail(f"match.attributes key {_short(key)} must be a non-empty string", raw)
        label = f"match.attributes[{_short(key)}]"
        if isinstance(value, dict):
            if set(value) != {"pattern"}:
                extra = sorted(str(k) for k in value if k != "pattern")
                why = f"unknown key {extra[0]!r}" if extra else "missing 'pattern'"
                ctx.fail(f"{label}: {why} (a mapping value is {{pattern: <RE2 regex>}})", value)
            pattern = value["pattern"]
            if not isinstance(pattern, str) or not pattern:
                ctx.fail(f"{label}.pattern must be a non-empty string, not {_kind(pattern)}", value)
            try:
                compile_pattern(pattern)
            except re2.error as exc:
                ctx.fail(
                    f"{label}.pattern {_short(pattern)} is not a valid RE2 regex: "
                    f"{re2_reason(exc)}",
                    value,
                )
            rules.append(AttributeRule(key=key, pattern=pattern))
        elif isinstance(value, list):
            if not value:
                ctx.fail(f"{label} is an empty list", raw)
            for item in value:
                _scalar(ctx, item, label, raw)
            rules.append(AttributeRule(key=key, values=tuple(value), listed=True))
        else:
            rules.append(AttributeRule(key=key, values=(_scalar(ctx, value, label, raw),)))
    return tuple(rules)


def _scalar(ctx: _Context, value: Any, label: str, node: object) -> Scalar:
    if isinstance(value, (str, int, float)):  # bool is an int
        return value
    ctx.fail(
        f"{label} must be a string, number or boolean, a list of them, or {{pattern: ...}}, "
        f"not {_kind(value)}",
        node,
    )


def _string_list(
    ctx: _Context, match: dict[str, Any], kind: str, allow_int: bool = False
) -> list[str]:
    if kind not in match:
        return []
    value = match[kind]
    if not isinstance(value, list):
        ctx.fail(f"match.{kind} must be a list, not {_kind(value)}", match)
    if not value:
        ctx.fail(f"match.{kind} is an empty list", match)
    out = []
    for position, item in enumerate(value):
        if allow_int and _is_int(item):
            item = str(item)
        if not isinstance(item, str) or not item:
            ctx.fail(
                f"match.{kind}[{position}] must be a non-empty string, not {_kind(item)}", match
            )
        out.append(item)
    return out


def _text(ctx: _Context, raw: Mapping[str, Any], key: str) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        ctx.fail(f"{key} must be a non-empty string, not {_kind(value)}")
    return value


def _unknown_keys(
    ctx: _Context, raw: Mapping[Any, Any], allowed: tuple[str, ...], what: str
) -> None:
    for key in raw:
        if key not in allowed:
            ctx.fail(
                f"unknown {what} {_short(key)} (allowed: {', '.join(allowed)})",
                raw,
            )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shape(value: object) -> str:
    """What a value is, without any of its content (for documents that are not catalogs)."""
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return _kind(value)


def _kind(value: object) -> str:
    """A short description of a wrong value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {_short(value)}" if value.strip() else "an empty string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _short(value: object) -> str:
    """A wrong value quoted for an error line."""
    return quote(value, limit=60)
