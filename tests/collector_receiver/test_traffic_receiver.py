"""``run_traffic`` against a real ``failcat serve`` subprocess, over OTLP/gRPC and OTLP/HTTP.

Every failure sent is stored exactly once, on the span it was sent on, under the code the
scenario expects from the default catalog; the same seed sends the same failures.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from collector_receiver.traffic import TrafficResult, TrafficSpec, run_traffic
from tests.e2e._receiver import ReceiverProcess, running_receiver
from tests.e2e._support import database, stored_failures

pytestmark = pytest.mark.slow


def _rows_of(result: TrafficResult, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored row of each failure sent, in the order sent (exactly one each)."""
    by_site: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        by_site.setdefault((row["trace_id"], row["span_id"]), []).append(row)
    found = []
    for failure in result.failures:
        matches = by_site.get((failure.trace_id, failure.span_id), [])
        assert len(matches) == 1, f"{failure} stored {len(matches)} times"
        found.append(matches[0])
    return found


def _attributes(row: dict[str, Any]) -> dict[str, Any]:
    value = row["attributes"]
    return dict(json.loads(value) if isinstance(value, str) else value)  # SQLite: JSON text


def _send(receiver: ReceiverProcess, protocol: str, **spec: Any) -> TrafficResult:
    endpoint = receiver.grpc_endpoint if protocol == "grpc" else receiver.http_endpoint
    return run_traffic(TrafficSpec(endpoint=endpoint, protocol=protocol, **spec))  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_every_failure_sent_is_stored_once_under_its_expected_code(
    kind: str, tmp_path: Path
) -> None:
    with (
        database(kind, tmp_path) as db_url,
        running_receiver(db_url, tmp_path / "receiver.log") as receiver,
    ):
        result = _send(receiver, "grpc", count=150, services=6, seed=20261128)
        rows = stored_failures(db_url)

    assert len(rows) == len(result.failures) == 150  # nothing more, nothing less
    stored = _rows_of(result, rows)
    for failure, row in zip(result.failures, stored, strict=True):
        assert row["code"] == failure.expected_code, (failure.scenario, row["exception_message"])
        assert row["service_name"] == failure.service_name
        assert row["source"] == failure.source
        assert row["exception_type"] == failure.exception_type

    codes = Counter(row["code"] for row in rows)
    assert len({row["service_name"] for row in rows}) == 6
    assert 0 < codes["UNCATALOGED"] < 0.25 * len(rows)  # mostly cataloged, some not
    assert len(codes) >= 15
    assert {row["source"] for row in rows} == {"span_event", "span_status"}
    event_rows = [r for r in rows if r["source"] == "span_event"]
    assert all(r["stacktrace"].startswith("Traceback (most recent call last):") for r in event_rows)
    assert all(_attributes(r)["deployment.environment.name"] == "demo" for r in rows)
    assert all(_attributes(r)["service.version"] for r in rows)
    # Cause chains travel: the types in failcat.cause_types and the chained tracebacks.
    chained = [r for r in event_rows if _attributes(r).get("failcat.cause_types")]
    assert chained
    for row in chained:
        causes = _attributes(row)["failcat.cause_types"]
        assert causes[-1].rsplit(".", 1)[-1] + ":" in row["stacktrace"]
        assert (
            "The above exception was the direct cause" in row["stacktrace"]
            or "During handling of the above exception" in row["stacktrace"]
        )
    # The fake API key never reaches the database.
    assert not any("sk-proj-" in r["exception_message"] + r["stacktrace"] for r in rows)


def test_same_seed_same_failures_over_grpc_and_http(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'failcat.db'}"
    with running_receiver(db_url, tmp_path / "receiver.log") as receiver:
        over_grpc = _send(receiver, "grpc", count=60, services=4, seed=7)
        over_http = _send(receiver, "http", count=60, services=4, seed=7)
        other_seed = _send(receiver, "http", count=60, services=4, seed=8)
        rows = stored_failures(db_url)

    assert len(rows) == 180
    assert {r["trace_id"] for r in rows} == {
        f.trace_id for result in (over_grpc, over_http, other_seed) for f in result.failures
    }

    def facts(result: TrafficResult) -> list[tuple[str, ...]]:
        return [
            (
                row["service_name"],
                row["code"],
                row["exception_type"],
                row["exception_message"],
                row["fingerprint"],
            )
            for row in _rows_of(result, rows)
        ]

    assert facts(over_grpc) == facts(over_http)
    assert facts(other_seed) != facts(over_grpc)
    assert over_grpc.seed == over_http.seed == 7
