"""Where the operations files live, and the tools that check them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "alerts" / "failcat.rules.yml"
#: Every promtool unit-test file beside the rules.
RULE_TESTS = tuple(sorted((ROOT / "alerts").glob("*.test.yml")))
OVERVIEW_DASHBOARD = ROOT / "dashboards" / "failcat-overview.json"
POSTGRES_DASHBOARD = ROOT / "dashboards" / "failcat-failures-postgres.json"
COLLECTOR_CONFIG = ROOT / "otel-collector.yaml"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"


def tool(name: str) -> str:
    """The path of a Prometheus tool; fail (not skip) when it is missing: CI installs it."""
    found = shutil.which(name) or (
        f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
    )
    if found is None:
        pytest.fail(f"{name} is not installed (scripts/ensure-services.sh installs it)")
    return found


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``promtool`` with ``args``; its exit status and output, whatever they are."""
    return subprocess.run(
        [tool("promtool"), *map(str, args)], capture_output=True, text=True, timeout=120
    )
