"""``bench_query_latency.py --smoke`` and ``bench_soak_rss.py --smoke`` run end to end on
PostgreSQL and write their JSON.

Only that they run and measure something real: a smoke run's figures mean nothing, so no timing
or memory bar is asserted (those are the benchmarks' job on a quiet machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import databases

pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(script: str, output: Path, timeout: float) -> dict[str, object]:
    if not databases.postgres_available():
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (.ci/run starts it)")
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--smoke", "--json", str(output)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    document: dict[str, object] = json.loads(output.read_text())
    return document


def test_the_query_latency_benchmark_times_every_case_and_explains_it(tmp_path: Path) -> None:
    document = _run("bench_query_latency.py", tmp_path / "q.json", timeout=180)
    results = document["results"]
    assert isinstance(results, list)
    assert [r["case"] for r in results] == [
        "floor: one by id",
        "trace",
        "service big",
        "service small",
        "service big, since=24h",
        "service small, since=24h",
        "service retired",
    ]
    for r in results:
        assert r["requests"] == 20
        assert 0 < r["p50_ms"] <= r["p95_ms"] <= r["p99_ms"] <= r["max_ms"], r
        assert r["ratio_p99_to_bar"] == pytest.approx(r["p99_ms"] / 20.0)
        # The plan is PostgreSQL's own EXPLAIN ANALYZE of the SQL the query method sent.
        assert any("failure_matches" in line for line in r["plan"]), r["plan"]
        assert any(line.startswith("Execution Time") for line in r["plan"]), r["plan"]
    by_case = {r["case"]: r for r in results}
    assert by_case["floor: one by id"]["items_per_answer"] == 1
    # Every trace sampled from the table has 1 to 20 failures; the big service fills a page.
    assert 1 <= by_case["trace"]["items_per_answer"] <= 20
    assert by_case["service big"]["items_per_answer"] == 50
    assert document["big_service"] != document["small_service"]


def test_the_soak_benchmark_samples_the_receiver_and_stores_every_failure(tmp_path: Path) -> None:
    document = _run("bench_soak_rss.py", tmp_path / "soak.json", timeout=180)
    traffic = document["traffic"]
    assert isinstance(traffic, dict)
    assert traffic["requests"] > 0 and traffic["failures"] > 0
    assert traffic["stored_failures"] == traffic["failures"]
    samples = document["samples"]
    assert isinstance(samples, list) and len(samples) >= 10
    processes = document["processes"]
    assert isinstance(processes, list) and len(processes) == 1
    (receiver,) = processes
    # Real readings of a live interpreter: tens of MB, the high-water mark at least the RSS.
    assert 20 < receiver["end_mb"] <= receiver["peak_mb"] < 4000, receiver
    assert document["peak_mb"] == receiver["peak_mb"]
    assert document["peak_ratio_to_bar"] == pytest.approx(receiver["peak_mb"] / 300.0)
