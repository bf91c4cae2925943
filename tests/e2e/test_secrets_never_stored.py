"""No planted secret is stored or served, whatever route it takes (CONTRACT §4 r2).

A real ``failcat serve`` on SQLite and on PostgreSQL is fed by a plain OpenTelemetry SDK agent
in a subprocess — no ``otel_failcat``, so the receiver alone must redact — over gRPC and HTTP.
The agent (``_secrets_agent.py``) plants fresh fake secrets of every kind of ``_secrets.KINDS``
in every route a failure can take, and values under credential-named keys. Afterwards no
secret's distinctive body may appear anywhere: in any column of any row of
``failure_matches`` and ``failure_patterns`` (selected whole, cast to text), in the answers of
``/api/v1/failures``, ``/api/v1/failures/{id}``, ``/api/v1/traces/{id}/failures`` and
``/api/v1/patterns``, or in ``/metrics``.

Each secret sits beside a marker word unique to it: a route whose text the receiver stores
must show its markers (else the test would prove nothing about it). ``pytest -s`` prints the
counts per route and per kind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from collector_receiver._text_table import text_table
from tests.e2e._receiver import ReceiverProcess, http_get, running_receiver
from tests.e2e._secrets import CREDENTIAL_KEYS, KINDS
from tests.e2e._support import database

pytestmark = pytest.mark.slow

AGENT = Path(__file__).with_name("_secrets_agent.py")
REDACTED = "[REDACTED]"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def receiver(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReceiverProcess]:
    directory = tmp_path_factory.mktemp("secrets")
    with (
        database(request.param, directory) as url,
        running_receiver(url, directory / "receiver.log") as process,
    ):
        yield process


@pytest.fixture(scope="module")
def planted(receiver: ReceiverProcess) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [
            sys.executable,
            str(AGENT),
            "--grpc-endpoint",
            receiver.grpc_endpoint,
            "--http-endpoint",
            receiver.http_endpoint,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["ok"], f"an export was not acknowledged:\n{result.stderr}"
    return report


def _database_text(db_url: str) -> str:
    """Every column of every row of both tables, as text."""
    engine = sa.create_engine(db_url)
    texts: list[str] = []
    try:
        with engine.connect() as connection:
            for table in ("failure_matches", "failure_patterns"):
                if engine.dialect.name == "postgresql":
                    rows = connection.execute(sa.text(f"SELECT t::text FROM {table} t"))
                else:
                    rows = connection.execute(sa.text(f"SELECT * FROM {table}"))
                texts.extend(" ".join(str(value) for value in row) for row in rows)
    finally:
        engine.dispose()
    assert texts, "nothing was stored"
    return "\n".join(texts)


def _get(url: str) -> Any:
    status, body = http_get(url)
    assert status == 200, (url, status, body[:200])
    return json.loads(body)


def _pages(url: str) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        query = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
        page = _get(f"{url}?{urlencode(query)}")
        yield page
        cursor = page["next_cursor"]
        if not cursor:
            return


def _served_text(api_url: str, trace_ids: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """Every answer of the query API about the stored failures, and ``/metrics``."""
    api = f"{api_url}/api/v1"
    texts: list[str] = []
    failures: list[dict[str, Any]] = []
    for page in _pages(f"{api}/failures"):
        texts.append(json.dumps(page))
        failures.extend(page["items"])
    for failure in failures:
        texts.append(json.dumps(_get(f"{api}/failures/{failure['id']}")))
    for trace_id in sorted(set(trace_ids) | {f["trace_id"] for f in failures if f["trace_id"]}):
        texts.append(json.dumps(_get(f"{api}/traces/{trace_id}/failures")))
    texts.extend(json.dumps(page) for page in _pages(f"{api}/patterns"))
    status, metrics = http_get(f"{api_url}/metrics")
    assert status == 200
    texts.append(metrics.decode("utf-8"))
    return "\n".join(texts), failures


def _credential_keys_stored(value: Any, found: Counter[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in CREDENTIAL_KEYS and item == REDACTED:
                found[key] += 1
            _credential_keys_stored(item, found)
    elif isinstance(value, list):
        for item in value:
            _credential_keys_stored(item, found)


def test_no_planted_secret_is_stored_or_served(
    receiver: ReceiverProcess, planted: dict[str, Any]
) -> None:
    served, failures = _served_text(receiver.api_url, planted["trace_ids"])
    haystack = _database_text(receiver.db_url) + "\n" + served
    plants = planted["plants"]

    routes: dict[str, Counter[str]] = {}
    kinds: dict[str, Counter[str]] = {kind.name: Counter() for kind in KINDS}
    survivors: list[str] = []
    undelivered: list[str] = []
    for plant in plants:
        counts = routes.setdefault(plant["route"], Counter())
        counts["planted"] += 1
        kinds[plant["kind"]]["planted"] += 1
        if plant["marker"] in haystack:
            counts["stored"] += 1
        elif plant["stored"]:
            undelivered.append(f"{plant['route']} ({plant['kind']}, {plant['protocol']})")
        if plant["body"] in haystack:
            counts["survived"] += 1
            kinds[plant["kind"]]["survived"] += 1
            survivors.append(f"{plant['kind']} via {plant['route']} ({plant['protocol']})")

    credentials = routes.setdefault("credential-named keys", Counter())
    found: Counter[str] = Counter()
    for failure in failures:
        _credential_keys_stored(failure["attributes"], found)
    for credential in planted["credentials"]:
        credentials["planted"] += 1
        if credential["body"] in haystack:
            credentials["survived"] += 1
            survivors.append(f"a value under {credential['key']} ({credential['protocol']})")
    credentials["stored"] = sum(found.values())

    # Shown with ``pytest -s``: the figures per route and per kind of secret.
    database_kind = receiver.db_url.partition(":")[0]
    print(f"\nplanted secrets, {database_kind}: {len(failures)} failures stored")
    route_rows = [
        [route, str(c["planted"]), str(c["stored"]), str(c["survived"])]
        for route, c in sorted(routes.items())
    ]
    print("\n".join(text_table(["route", "planted", "stored", "survived"], route_rows)))
    kind_rows = [
        [
            kind.name,
            "yes" if kind.established else "new",
            str(kinds[kind.name]["planted"]),
            str(kinds[kind.name]["survived"]),
        ]
        for kind in KINDS
    ]
    print("\n".join(text_table(["kind", "rules", "planted", "survived"], kind_rows)))

    assert not undelivered, f"these routes never reached the store: {undelivered}"
    assert sorted(found) == sorted(CREDENTIAL_KEYS)
    assert all(count == 2 * len(KINDS) * 2 for count in found.values()), found
    assert not survivors, f"{len(survivors)} secrets survived: {survivors}"
