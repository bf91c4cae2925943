"""``benchmarks/bench_scale_out.py --smoke`` runs end to end and writes its JSON.

Only that it runs and measures something on either schema (a plain or a partitioned
``failure_matches``, with or without ``failcat db prune``): the figures of a smoke run mean
nothing, so no timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import databases

pytestmark = pytest.mark.slow

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_scale_out.py"


def test_the_scale_out_benchmark_writes_a_row_per_fleet_and_the_storage_figures(
    tmp_path: Path,
) -> None:
    if not databases.postgres_available():
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (.ci/run starts it)")
    output = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--smoke", "--json", str(output)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads(output.read_text())
    assert [(row["receivers"], row["workers"]) for row in document["rows"]] == [(1, 1), (2, 1)]
    for row in document["rows"]:
        assert row["failures_per_second"] > 0 and row["limit"] > 0, row
        assert row["per_worker"] == pytest.approx(row["failures_per_second"] / row["receivers"])

    sizes = document["sizes"]
    # Every failure of the last run (its requests and the warm-up, stored once) is counted.
    assert sizes["failures"] == document["rows"][-1]["failures"] + 20
    assert sizes["patterns"] > 0
    assert sizes["matches_table_bytes"] > 0 and sizes["matches_index_bytes"] > 0
    assert sizes["patterns_bytes"] > 0
    if sizes["partitioned"]:
        assert sum(p["rows"] for p in sizes["partitions"]) == sizes["failures"]
        assert all(p["bytes"] > 0 for p in sizes["partitions"])
    else:
        assert sizes["partitions"] == []

    prune = document["prune"]
    if prune["measured"]:
        assert prune["rows_deleted"] == sizes["failures"]  # every row is months old
        assert prune["seconds_per_million"] > 0 and prune["startup_seconds"] > 0
    else:
        assert prune["note"].startswith("not measured: ")
