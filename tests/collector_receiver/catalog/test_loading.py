"""Loading catalogs from files and text: what a good file gives, what a bad path says."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from collector_receiver.catalog import (
    Catalog,
    CatalogError,
    default_catalog_path,
    load_catalog,
    parse_catalog,
)
from tests.collector_receiver.catalog._helpers import build, catalog_text, entry

FULL_ENTRY = entry(
    "RATE_LIMITED",
    {
        "exception_types": ["openai.RateLimitError"],
        "message_patterns": [r"(?i)rate limit"],
        "attributes": {
            "http.response.status_code": 429,
            "gen_ai.system": ["openai", "azure"],
            "server.address": {"pattern": r"\.openai\.com$"},
        },
        "error_types": ["429"],
    },
    category="rate_limit",
    severity="medium",
    priority=10,
    runbook_url="https://runbooks.example.com/rate-limited",
)


def test_load_catalog_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(catalog_text(FULL_ENTRY, catalog_version="2025.11.1"), encoding="utf-8")
    catalog = load_catalog(path)
    assert catalog.version == 2
    assert catalog.catalog_version == "2025.11.1"
    assert catalog.source == str(path)
    assert [e.code for e in catalog.entries] == ["RATE_LIMITED"]
    loaded = catalog.entries[0]
    assert (loaded.priority, loaded.index, loaded.line) == (10, 0, 4)


def test_entries_round_trip_through_to_dict() -> None:
    catalog = build(FULL_ENTRY, entry("PLAIN", {"error_types": ["500"]}))
    expected = {**FULL_ENTRY}
    assert catalog.entries[0].to_dict() == expected
    assert catalog.entries[1].to_dict()["priority"] == 0
    assert catalog.entries[1].to_dict()["runbook_url"] is None
    again = parse_catalog(catalog_text(*(e.to_dict() for e in catalog.entries)))
    assert again.entries == catalog.entries
    assert catalog.to_dict()["catalog_version"] == "test-1"


def test_catalog_and_entries_are_immutable() -> None:
    catalog = build(FULL_ENTRY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog.catalog_version = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog.entries[0].code = "X"  # type: ignore[misc]
    assert isinstance(catalog.entries, tuple)
    assert isinstance(catalog.entries[0].match.message_patterns, tuple)


def test_missing_file_is_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(info.value) == f"{path}: cannot read the file: No such file or directory"


def test_directory_is_a_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read the file"):
        load_catalog(tmp_path)


def test_non_utf8_file_is_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"version: 2\ncatalog_version: caf\xe9\n")
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(info.value) == f"{path}: not UTF-8 text (invalid byte at offset 31)"


def test_parse_catalog_names_the_source_in_errors() -> None:
    with pytest.raises(CatalogError, match=r"^inline: unsupported version 3"):
        parse_catalog('version: 3\ncatalog_version: "1"\nentries: []\n', source="inline")


def test_default_catalog_path_is_inside_the_package() -> None:
    path = default_catalog_path()
    assert path.name == "default.yaml"
    assert path.parent.name == "catalog"
    assert path.parent.parent.name == "collector_receiver"


def test_constructing_a_catalog_directly_still_checks_patterns() -> None:
    good = build(entry("OK", {"message_patterns": ["ok"]})).entries[0]
    bad = dataclasses.replace(good, match=dataclasses.replace(good.match, message_patterns=("(",)))
    with pytest.raises(
        CatalogError, match="message_patterns\\[0\\] '\\(' is not a valid RE2 regex"
    ):
        Catalog(version=2, catalog_version="x", entries=(bad,), source="direct")


def test_yaml_merge_keys_may_share_fields_between_entries() -> None:
    text = """\
version: 2
catalog_version: "1"
entries:
  - &provider_error
    code: OPENAI_ERROR
    title: Provider error
    category: overloaded
    severity: high
    remediation: Retry later.
    match: {exception_types: [openai.InternalServerError]}
  - <<: *provider_error
    code: ANTHROPIC_ERROR
    match: {exception_types: [anthropic.InternalServerError]}
"""
    catalog = parse_catalog(text)
    second = catalog.entries[1]
    assert (second.code, second.severity, second.remediation) == (
        "ANTHROPIC_ERROR",
        "high",
        "Retry later.",
    )
    assert second.match.exception_types == ("anthropic.InternalServerError",)
