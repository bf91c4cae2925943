"""The catalog's value types: entries, their match rules, the result of a match, the error.

Everything here is immutable (frozen dataclasses holding tuples and read-only mappings), so a
loaded catalog can be shared by every thread of the receiver and swapped as a whole on reload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from collector_receiver.events import AttributeValue

#: The severities an entry may carry, most severe first.
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")

#: The category and severity of a failure that no entry matches.
UNCATALOGED_CATEGORY = "uncataloged"
UNCATALOGED_SEVERITY = "medium"

#: A scalar a catalog may compare an attribute with.
Scalar = str | int | float | bool


class CatalogError(ValueError):
    """A catalog that cannot be used. ``str(error)`` is one line naming the file, the entry and why.

    Shapes: ``"<file>: <reason>"`` for problems of the file as a whole and
    ``"<file>: entry <CODE> (#<n>): <reason>"`` for one entry, where ``n`` counts entries from 1;
    a ``(line <k>)`` suffix points into the YAML when the position is known.
    """


class MatchInput(Protocol):
    """What :meth:`Catalog.match` reads from a failure.

    :class:`collector_receiver.events.FailureEvent` satisfies it. Two more attributes are read
    when the object has them, so that inputs written before they existed keep working:
    ``base_types`` (a sequence of type names, the type's bases nearest first) and
    ``group_leaves`` (a sequence of :class:`collector_receiver.events.GroupLeaf`, the failures
    inside an exception group) and ``cause_leaves`` (the same for the first links of the cause
    chain, outermost first).
    """

    @property
    def exception_type(self) -> str: ...
    @property
    def exception_message(self) -> str: ...
    @property
    def cause_types(self) -> Sequence[str]: ...
    @property
    def attributes(self) -> Mapping[str, AttributeValue]: ...
    @property
    def error_type(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class AttributeRule:
    """One ``attributes`` condition: the attribute equals one of ``values``, or matches ``pattern``.

    ``values`` keeps the catalog's scalars as written; comparison goes through their canonical
    text (see :func:`collector_receiver.catalog._attributes.canonical_text`), so ``429`` equals the
    string ``"429"``. ``listed`` records whether the YAML wrote a list, for faithful round trips.
    """

    key: str
    values: tuple[Scalar, ...] = ()
    pattern: str | None = None
    listed: bool = False

    def to_yaml_value(self) -> Any:
        """The value as it is written in the catalog file."""
        if self.pattern is not None:
            return {"pattern": self.pattern}
        if self.listed:
            return list(self.values)
        return self.values[0]


@dataclass(frozen=True, slots=True)
class MatchRule:
    """The ``match`` block of an entry. Every kind that is non-empty must hold; within a kind any
    one element suffices."""

    exception_types: tuple[str, ...] = ()
    message_patterns: tuple[str, ...] = ()
    attributes: tuple[AttributeRule, ...] = ()
    error_types: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The block as it is written in the catalog file (kinds that are empty left out)."""
        out: dict[str, Any] = {}
        if self.exception_types:
            out["exception_types"] = list(self.exception_types)
        if self.message_patterns:
            out["message_patterns"] = list(self.message_patterns)
        if self.attributes:
            out["attributes"] = {rule.key: rule.to_yaml_value() for rule in self.attributes}
        if self.error_types:
            out["error_types"] = list(self.error_types)
        return out


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One validated catalog entry. ``index`` is its position in the file, counting from 0;
    ``line`` its first line in the YAML when it was loaded from text."""

    code: str
    title: str
    category: str
    severity: str
    match: MatchRule
    remediation: str
    priority: int = 0
    runbook_url: str | None = None
    index: int = 0
    line: int | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the keys of the catalog format (used by ``failcat catalog list
        --json`` and the query API)."""
        return {
            "code": self.code,
            "title": self.title,
            "category": self.category,
            "severity": self.severity,
            "priority": self.priority,
            "match": self.match.to_dict(),
            "remediation": self.remediation,
            "runbook_url": self.runbook_url,
        }


@dataclass(frozen=True, slots=True)
class Match:
    """The verdict of :meth:`Catalog.match` for one failure.

    ``entry`` is None when no entry matched; then ``code`` is ``UNCATALOGED``, ``category``
    ``uncataloged`` and ``severity`` ``medium``. ``reasons`` says, one line per kind, which rule of
    the winning entry matched what. ``group_leaf`` is the position (from 0) of the leaf of an
    exception group that decided the verdict, None when the failure's own type and message did.
    """

    code: str
    category: str
    severity: str
    catalog_version: str
    entry: CatalogEntry | None
    reasons: tuple[str, ...] = ()
    group_leaf: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (used by ``failcat catalog match --json``)."""
        return {
            "code": self.code,
            "category": self.category,
            "severity": self.severity,
            "catalog_version": self.catalog_version,
            "priority": self.entry.priority if self.entry is not None else None,
            "title": self.entry.title if self.entry is not None else None,
            "reasons": list(self.reasons),
            "group_leaf": self.group_leaf,
        }
