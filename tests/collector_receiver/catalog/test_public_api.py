"""The names other areas import from ``collector_receiver.catalog`` (docs/interfaces) stay put."""

from __future__ import annotations

import collector_receiver.catalog as catalog_package
from collector_receiver.events import FailureEvent


def test_all_is_pinned() -> None:
    assert sorted(catalog_package.__all__) == sorted(
        [
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
    )
    for name in catalog_package.__all__:
        assert getattr(catalog_package, name) is not None


def test_catalog_error_is_a_value_error() -> None:
    assert issubclass(catalog_package.CatalogError, ValueError)


def test_failure_event_satisfies_match_input() -> None:
    fields = set(FailureEvent.__dataclass_fields__)
    protocol = {"exception_type", "exception_message", "cause_types", "attributes", "error_type"}
    assert protocol <= fields
