"""``benchmarks/bench_ingest_e2e.py --smoke`` runs end to end and writes its JSON.

Only that it runs and measures something: the figures of a smoke run mean nothing, so no
timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import databases

pytestmark = pytest.mark.slow

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_ingest_e2e.py"


@pytest.mark.parametrize("db", ["postgresql", "sqlite"])
def test_the_e2e_ingest_benchmark_writes_a_positive_row_per_path(tmp_path: Path, db: str) -> None:
    if db == "postgresql" and not databases.postgres_available():
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (.ci/run starts it)")
    output = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--smoke", "--db", db, "--json", str(output)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(output.read_text())
    assert [(row["path"], row["workers"]) for row in document["rows"]] == [
        ("ingest", 1),
        ("persist", 1),
    ]
    rows = {row["path"]: row for row in document["rows"]}
    for row in rows.values():
        assert row["product"] > 0 and row["limit"] > 0 and row["ratio"] > 0, row
        assert row["failures"] > 0, row
    assert rows["persist"]["failures"] == rows["persist"]["spans"]
    for row in rows.values():
        # One process: no worker split; SQLite's work is the receiver's, not a server's (a
        # smoke run is too short for a PostgreSQL backend's CPU ticks to be sure to move).
        assert row["worker_cpu_seconds"] == [], row
        assert row["database_cpu_seconds"] == 0 or db == "postgresql", row
    assert document["machine"]["nproc"] >= 1
