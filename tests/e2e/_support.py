"""What e2e tests read back: stored rows, scraped metrics, agent runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e._receiver import http_get
from tests.support import databases

AGENT = Path(__file__).with_name("_agent.py")


@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    """A fresh database URL of ``kind`` (``sqlite`` or ``postgresql``)."""
    if kind == "sqlite":
        with nullcontext(f"sqlite:///{directory / 'failcat.db'}") as url:
            yield url
        return
    with databases.fresh_postgres_database() as url:
        yield url


def instrument_environment(endpoint: str, service: str, **variables: str) -> dict[str, str]:
    """The environment of an agent run under ``opentelemetry-instrument`` as a user runs it:
    this process's, without its ``OTEL_*``/``FAILCAT_*`` settings, exporting traces over
    OTLP/HTTP protobuf to ``endpoint`` as ``service`` (logs and metrics off), then
    ``variables``."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "FAILCAT_"))
    }
    environment.update(
        {
            "OTEL_SERVICE_NAME": service,
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            **variables,
        }
    )
    return environment


def stored_failures(db_url: str) -> list[dict[str, Any]]:
    """Every row of failure_matches as a dict."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT * FROM failure_matches ORDER BY id"))
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def scrape(api_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``/metrics`` as {(sample name, sorted labels): value}."""
    status, body = http_get(f"{api_url}/metrics")
    assert status == 200
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(body.decode("utf-8")):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def metric_sum(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    total = 0.0
    for (sample_name, sample_labels), value in samples.items():
        found = dict(sample_labels)
        if sample_name == name and all(found.get(k) == v for k, v in labels.items()):
            total += value
    return total


def start_agent(
    jobs: Sequence[str],
    *,
    grpc_endpoint: str,
    http_endpoint: str,
    extra: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[str]:
    """Start the SDK agent script in a fresh interpreter; see :func:`agent_report`.

    The agent sees no ``OTEL_`` variable of ours, only those in ``env`` (e.g. the TLS ones).
    """
    argv = [
        sys.executable,
        str(AGENT),
        "--grpc-endpoint",
        grpc_endpoint,
        "--http-endpoint",
        http_endpoint,
        *extra,
    ]
    for job in jobs:
        argv += ["--job", job]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    environ.update(env or {})
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ
    )


def agent_report(process: subprocess.Popen[str], timeout: float = 120.0) -> dict[str, Any]:
    """Wait for an agent; its JSON report (``ok``, ``failures``) plus its ``stderr``."""
    stdout, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, stderr
    report: dict[str, Any] = json.loads(stdout)
    report["stderr"] = stderr
    return report


def run_agent(
    jobs: Sequence[str],
    *,
    grpc_endpoint: str,
    http_endpoint: str,
    extra: Sequence[str] = (),
    timeout: float = 120.0,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run the SDK agent script to the end; its JSON report."""
    process = start_agent(
        jobs, grpc_endpoint=grpc_endpoint, http_endpoint=http_endpoint, extra=extra, env=env
    )
    return agent_report(process, timeout)
