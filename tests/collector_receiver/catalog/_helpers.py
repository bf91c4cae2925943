"""Small catalogs and failures for the catalog tests, written out in full so that each test
shows exactly what it matches against."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from collector_receiver.catalog import Catalog, parse_catalog
from collector_receiver.events import AttributeValue, FailureEvent, GroupLeaf


def entry(code: str, match: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """A valid entry dict with the given ``match`` block; ``extra`` overrides or adds keys."""
    data: dict[str, Any] = {
        "code": code,
        "title": f"title of {code}",
        "category": "tool",
        "severity": "high",
        "match": dict(match),
        "remediation": f"fix {code}",
    }
    data.update(extra)
    return data


def catalog_text(*entries: Mapping[str, Any], catalog_version: str = "test-1") -> str:
    """Catalog YAML with these entries, in this order."""
    document = {"version": 2, "catalog_version": catalog_version, "entries": list(entries)}
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(document, Dumper=dumper, sort_keys=False, allow_unicode=True)


def build(*entries: Mapping[str, Any], catalog_version: str = "test-1") -> Catalog:
    """A parsed catalog with these entries, in this order."""
    return parse_catalog(catalog_text(*entries, catalog_version=catalog_version), "test.yaml")


def failure(
    exception_type: str = "",
    message: str = "",
    causes: Sequence[str] = (),
    attributes: Mapping[str, AttributeValue] | None = None,
    error_type: str | None = None,
    *,
    bases: Sequence[str] = (),
    leaves: Sequence[GroupLeaf] = (),
    cause_leaves: Sequence[GroupLeaf] = (),
) -> FailureEvent:
    """A span-event failure carrying just what matching reads."""
    return FailureEvent(
        source="span_event",
        service_name="agent",
        exception_type=exception_type,
        exception_message=message,
        stacktrace="",
        time_unix_nano=1,
        trace_id=None,
        span_id=None,
        attributes=dict(attributes or {}),
        cause_types=tuple(causes),
        error_type=error_type,
        base_types=tuple(bases),
        group_leaves=tuple(leaves),
        cause_leaves=tuple(cause_leaves),
    )


VALID_ENTRY_YAML = """\
  - code: RATE_LIMITED
    title: Rate limited
    category: rate_limit
    severity: medium
    match:
      exception_types: [openai.RateLimitError]
    remediation: Back off.
"""


def catalog_yaml(entries_yaml: str, header: str = 'version: 2\ncatalog_version: "1"\n') -> str:
    """Hand-written catalog YAML (for tests that need exact lines or invalid shapes)."""
    return f"{header}entries:\n{entries_yaml}"
