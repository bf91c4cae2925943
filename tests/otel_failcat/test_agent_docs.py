"""``docs/agent.md`` documents every environment variable, hook name and mechanism the package
knows, so a new setting cannot ship undocumented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from otel_failcat import environment_variables
from otel_failcat._settings import HOOK_NAMES
from otel_failcat.attributes import Mechanism

AGENT_DOC = Path(__file__).resolve().parents[2] / "docs" / "agent.md"


def _section(title: str) -> str:
    text = AGENT_DOC.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/agent.md has no section {title!r}"
    return match.group(1)


def _table_rows(section: str) -> dict[str, str]:
    """First cell (without backticks) -> the whole row, for each row of the section's tables."""
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            rows[line.split("|")[1].strip().strip("`")] = line
    return rows


def test_every_environment_variable_has_a_row() -> None:
    declared = {
        value
        for name, value in vars(environment_variables).items()
        if name.isupper() and isinstance(value, str)
    }
    rows = _table_rows(_section("Environment variables"))
    assert declared <= set(rows), sorted(declared - set(rows))
    assert "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS" in rows


def test_every_hook_name_is_listed_under_the_disabled_hooks_variable() -> None:
    row = _table_rows(_section("Environment variables"))["FAILCAT_DISABLED_HOOKS"]
    assert all(f"`{hook}`" in row for hook in HOOK_NAMES)


def test_every_mechanism_has_a_row_in_what_is_captured() -> None:
    rows = _table_rows(_section("What is captured"))
    assert set(get_args(Mechanism)) <= set(rows)
