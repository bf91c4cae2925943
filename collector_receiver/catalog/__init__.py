"""The failure catalog: which known failure a failure is, how bad, and what to do about it.

A catalog is a YAML file (format version 2, CONTRACT §3; full reference in ``docs/catalog.md``)::

    version: 2
    catalog_version: "2025.11.1"
    entries:
      - code: RATE_LIMITED
        title: The model provider rate-limited the request
        category: rate_limit
        severity: medium
        priority: 10
        match:
          exception_types: [openai.RateLimitError, anthropic.RateLimitError]
        remediation: Back off and retry; ask the provider for a higher quota.
        runbook_url: https://runbooks.example.com/rate-limited

Use::

    catalog = load_catalog()          # the default catalog shipped in this package
    match = catalog.match(event)      # any FailureEvent (or MatchInput)
    match.code, match.reasons         # "RATE_LIMITED", ("RATE_LIMITED: exception_types ...",)
    draft_entries(uncataloged, catalog)   # drafts for what no entry matches (catalog suggest)

Matching, in short: all match kinds an entry gives must hold, any one element within a kind
suffices; type names match fully qualified names, base classes (``failcat.base_types``), cause
chains, short class names and module aliases (``openai.RateLimitError`` matches
``openai._exceptions.RateLimitError``); the highest ``priority`` wins, then file order; nothing
matching gives ``UNCATALOGED``. An exception group is classified by the first failure inside it
that matches, else by itself. Only the first 64 Ki characters of a message are scanned.

A :class:`Catalog` is immutable and thread-safe: reload by building a new one and swapping the
reference. Loading refuses a whole file on its first problem with a one-line
:class:`CatalogError`.
"""

from __future__ import annotations

from collector_receiver.catalog._catalog import (
    MAX_CATALOG_BYTES,
    Catalog,
    default_catalog_path,
    load_catalog,
    parse_catalog,
)
from collector_receiver.catalog._matcher import MAX_MESSAGE_CHARS
from collector_receiver.catalog._model import (
    SEVERITIES,
    AttributeRule,
    CatalogEntry,
    CatalogError,
    Match,
    MatchInput,
    MatchRule,
)
from collector_receiver.catalog._suggest import Draft, SuggestionInput, draft_entries

__all__ = [
    "MAX_CATALOG_BYTES",
    "MAX_MESSAGE_CHARS",
    "SEVERITIES",
    "AttributeRule",
    "Catalog",
    "CatalogEntry",
    "CatalogError",
    "Draft",
    "Match",
    "MatchInput",
    "MatchRule",
    "SuggestionInput",
    "default_catalog_path",
    "draft_entries",
    "load_catalog",
    "parse_catalog",
]
