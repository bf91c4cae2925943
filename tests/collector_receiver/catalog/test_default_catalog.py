"""The packaged default catalog: its size and coverage, and that it classifies real failures right.

The cases live in ``default_cases.yaml`` next to this file: realistic exception types, messages,
cause chains and span attributes as agents of each library report them, each with the code it
must get, plus ordinary bugs that must stay ``UNCATALOGED``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector_receiver.catalog import Catalog, load_catalog
from collector_receiver.events import UNCATALOGED, FailureEvent

CASES_FILE = Path(__file__).with_name("default_cases.yaml")

#: The categories CONTRACT §3 names; the default catalog must use every one of them.
CONTRACT_CATEGORIES = frozenset(
    {
        "rate_limit",
        "overloaded",
        "timeout",
        "connection",
        "auth",
        "context_length",
        "content_filter",
        "bad_request",
        "not_found",
        "output_parse",
        "tool",
        "limit_exceeded",
        "retries_exhausted",
        "cancelled",
        "resource",
    }
)

MIN_ENTRIES = 80
MIN_NEGATIVE_CASES = 15


def _load_cases() -> dict[str, list[dict[str, Any]]]:
    with CASES_FILE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {"positive": list(data["positive"]), "negative": list(data["negative"])}


CASES = _load_cases()


def _case_id(index: int, case: Mapping[str, Any]) -> str:
    return f"{index:03d}-{case.get('expect', 'negative')}-{case['exception_type'] or 'no-type'}"


def _event(case: Mapping[str, Any]) -> FailureEvent:
    """A failure as the receiver would extract it from OTLP, carrying the case's fields."""
    return FailureEvent(
        source="span_event",
        service_name="agent",
        exception_type=str(case["exception_type"]),
        exception_message=str(case.get("message", "")),
        stacktrace="",
        time_unix_nano=1_764_000_000_000_000_000,
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        attributes=dict(case.get("attributes") or {}),
        error_type=case.get("error_type"),
        cause_types=tuple(case.get("cause_types") or ()),
        base_types=tuple(case.get("base_types") or ()),
    )


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_default_catalog_has_enough_entries(catalog: Catalog) -> None:
    assert len(catalog.entries) >= MIN_ENTRIES, len(catalog.entries)
    assert catalog.version == 2
    assert catalog.catalog_version


def test_default_catalog_uses_every_contract_category(catalog: Catalog) -> None:
    used = {entry.category for entry in catalog.entries}
    missing = sorted(CONTRACT_CATEGORIES - used)
    assert not missing, f"categories without an entry: {missing}"


def test_every_entry_has_a_title_and_actionable_remediation(catalog: Catalog) -> None:
    thin = [e.code for e in catalog.entries if len(e.title) < 10 or len(e.remediation) < 30]
    assert not thin, f"entries with a missing or one-word title/remediation: {thin}"


def test_every_entry_has_a_positive_case(catalog: Catalog) -> None:
    covered = {case["expect"] for case in CASES["positive"]}
    missing = sorted({entry.code for entry in catalog.entries} - covered)
    assert not missing, f"catalog entries without a positive case: {missing}"


def test_every_positive_case_names_an_existing_code(catalog: Catalog) -> None:
    codes = {entry.code for entry in catalog.entries}
    unknown = sorted({case["expect"] for case in CASES["positive"]} - codes)
    assert not unknown, f"cases expect codes the catalog does not have: {unknown}"


def test_there_are_enough_negative_cases() -> None:
    assert len(CASES["negative"]) >= MIN_NEGATIVE_CASES


@pytest.mark.parametrize(
    "case",
    CASES["positive"],
    ids=[_case_id(i, c) for i, c in enumerate(CASES["positive"])],
)
def test_positive_case_gets_its_code(catalog: Catalog, case: Mapping[str, Any]) -> None:
    match = catalog.match(_event(case))
    assert match.code == case["expect"], (
        f"expected {case['expect']}, got {match.code}; reasons: {match.reasons}"
    )
    assert match.entry is not None
    assert match.category == match.entry.category
    assert match.catalog_version == catalog.catalog_version


@pytest.mark.parametrize(
    "case",
    CASES["negative"],
    ids=[_case_id(i, c) for i, c in enumerate(CASES["negative"])],
)
def test_ordinary_bug_stays_uncataloged(catalog: Catalog, case: Mapping[str, Any]) -> None:
    match = catalog.match(_event(case))
    assert match.code == UNCATALOGED, f"matched {match.code}; reasons: {match.reasons}"
    assert match.entry is None


def test_every_runbook_url_points_at_a_row_of_the_docs(catalog: Catalog) -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "default-catalog.md").read_text("utf-8")
    dangling = [
        entry.code
        for entry in catalog.entries
        if entry.runbook_url and f'<a id="{entry.runbook_url.rpartition("#")[2]}"></a>' not in docs
    ]
    assert not dangling, f"runbook_url anchors missing from docs/default-catalog.md: {dangling}"
