"""``failcat demo`` as the README runs it: the console script, in a fresh directory.

It must start the receiver on the embedded SQLite default (``failcat.db`` in the current
directory), send traffic, print what was stored and stop the receiver, even when a default port
is taken by something else.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from collector_receiver.settings import DEFAULT_GRPC_PORT
from tests.e2e._receiver import FAILCAT
from tests.e2e._support import stored_failures

pytestmark = pytest.mark.slow


def _demo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAILCAT_", "OTEL_"))}
    return subprocess.run(
        [FAILCAT, "demo", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


@contextmanager
def _default_grpc_port_taken() -> Iterator[None]:
    """Hold 127.0.0.1:4317 so the demo has to pick other ports (fine if someone else holds it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        try:
            sock.bind(("127.0.0.1", DEFAULT_GRPC_PORT))
            sock.listen()
        except OSError:
            pass  # already taken: the demo faces the same situation
        yield
    finally:
        sock.close()


def _section(stdout: str, title: str) -> list[str]:
    lines = stdout.splitlines()
    start = lines.index(title) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def test_demo_stores_and_summarises_in_the_current_directory(tmp_path: Path) -> None:
    with _default_grpc_port_taken():
        done = _demo(tmp_path, "--count", "60", "--services", "3", "--seed", "5")
    assert done.returncode == 0, done.stderr + done.stdout

    # The receiver started on other ports and was stopped; nothing is left listening.
    ready = re.search(r"OTLP/gRPC :(\d+), OTLP/HTTP :(\d+), metrics and API :(\d+)", done.stderr)
    assert ready is not None, done.stderr
    assert int(ready.group(1)) != DEFAULT_GRPC_PORT
    api_port = int(ready.group(3))
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", api_port)) != 0

    # The embedded default database in the current directory holds exactly what was sent.
    db_file = tmp_path / "failcat.db"
    assert db_file.is_file()
    rows = stored_failures(f"sqlite:///{db_file}")
    assert len(rows) == 60

    out = done.stdout
    assert re.search(
        r"^sent 60 failures \(\d+ cataloged, \d+ uncataloged\) in \d+ spans", out, re.M
    )
    assert "stored 60 of 60 failures in sqlite:///failcat.db" in out
    assert "receiver metric failcat_failures_total = 60" in out

    codes = _section(out, "Failures by code:")
    assert codes[0].split() == ["CODE", "CATEGORY", "SEVERITY", "COUNT"]
    table = {line.split()[0]: line.split()[1:] for line in codes[1:]}
    counts = {}
    for row in rows:
        counts[row["code"]] = counts.get(row["code"], 0) + 1
        assert table[row["code"]][:2] == [row["category"], row["severity"]]
    assert {code: int(cells[2]) for code, cells in table.items()} == counts

    services = _section(out, "Failures by service:")
    assert {line.split()[0] for line in services[1:]} == {r["service_name"] for r in rows}

    newest = _section(out, "Newest failures:")
    assert newest[0].split()[:3] == ["TIME", "(UTC)", "SERVICE"]
    trace_ids = {line.split()[-1] for line in newest[1:]}
    assert len(newest) == 1 + 8
    assert trace_ids <= {r["trace_id"] for r in rows}

    _assert_rates_match_the_database(out, f"sqlite:///{db_file}")

    hints = _section(out, "Where to look next:")
    first_trace = newest[1].split()[-1]
    assert any(f"failcat failures --trace-id {first_trace}" in line for line in hints)
    assert any("/metrics" in line for line in hints)
    assert any("/api/v1/failures" in line for line in hints)
    assert any("failcat rates --by tool" in line for line in hints)


def _stored_rates(db_url: str, column: str) -> dict[str, tuple[int, int]]:
    """(failures, operations) per value of a GenAI column, from the two tables of CONTRACT §5."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            failures = dict(
                connection.execute(
                    sa.text(
                        f"SELECT {column}, count(*) FROM failure_matches"
                        f" WHERE {column} IS NOT NULL GROUP BY {column}"
                    )
                ).all()
            )
            operations = dict(
                connection.execute(
                    sa.text(
                        f"SELECT {column}, sum(operations) FROM gen_ai_operations"
                        f" WHERE {column} IS NOT NULL GROUP BY {column}"
                    )
                ).all()
            )
    finally:
        engine.dispose()
    return {
        str(value): (int(failures.get(value, 0)), int(operations.get(value, 0)))
        for value in set(failures) | set(operations)
    }


def _assert_rates_match_the_database(out: str, db_url: str) -> None:
    """The two rate tables show what the database holds (one demo, one fresh database), the
    worst first, each rate failures / operations to one decimal."""
    sections = {
        "tool": next(line for line in out.splitlines() if line.startswith("Failure rates by tool")),
        "model": next(
            line for line in out.splitlines() if line.startswith("Failure rates by model")
        ),
    }
    for by, title in sections.items():
        lines = _section(out, title)
        assert lines[0].split() == [by.upper(), "FAILURES", "CALLS" if by == "tool" else
                                    "OPERATIONS", "RATE"]  # fmt: skip
        shown = {
            cells[0]: (int(cells[1]), int(cells[2]), " ".join(cells[3:]))
            for cells in (line.split() for line in lines[1:])
        }
        stored = _stored_rates(db_url, f"gen_ai_{by}")
        assert {value: (f, o) for value, (f, o, _) in shown.items()} == stored
        for failures, operations, rate in shown.values():
            assert rate == f"{failures / operations * 100:.1f} %"
        rates = [failures / operations for failures, operations, _ in shown.values()]
        assert rates == sorted(rates, reverse=True)
    # research-agent's fetch_page is the tool the traffic makes clearly worse than the others.
    assert _section(out, sections["tool"])[1].split()[0] == "fetch_page"


def test_a_second_demo_adds_to_the_same_database_and_counts_only_its_own(tmp_path: Path) -> None:
    first = _demo(tmp_path, "--count", "20", "--services", "2")
    second = _demo(tmp_path, "--count", "30", "--services", "2")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "stored 30 of 30 failures" in second.stdout
    assert len(stored_failures(f"sqlite:///{tmp_path / 'failcat.db'}")) == 50


def test_a_database_the_receiver_cannot_open_is_one_line_and_exit_1(tmp_path: Path) -> None:
    done = _demo(tmp_path, "--db", "nosuchdriver://somewhere/x", "--count", "5")
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("failcat demo: the receiver did not start: ")
    assert "nosuchdriver" in lines[0]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--count", "many"], "failcat demo: --count: 'many' is not an integer"),
        (["--services", "0"], "failcat demo: --services: must be from 1 to 6"),
    ],
)
def test_bad_flags_exit_2(tmp_path: Path, args: list[str], reason: str) -> None:
    done = _demo(tmp_path, *args)
    assert done.returncode == 2
    assert done.stderr.strip() == reason
    assert not (tmp_path / "failcat.db").exists()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_keep_running_serves_until_interrupted(tmp_path: Path, stop_signal: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAILCAT_", "OTEL_"))}
    with _default_grpc_port_taken():
        demo = subprocess.Popen(
            [FAILCAT, "demo", "--count", "15", "--services", "2", "--keep-running"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert demo.stdout is not None and demo.stderr is not None
            ready = demo.stderr.readline()
            api_port = int(re.search(r"metrics and API :(\d+)", ready).group(1))  # type: ignore[union-attr]
            for line in demo.stdout:
                if "keeps running" in line:
                    break
            else:
                pytest.fail(f"no 'keeps running' line; stderr: {demo.stderr.read()}")
            base = f"http://127.0.0.1:{api_port}"
            with urllib.request.urlopen(f"{base}/api/v1/failures?limit=5", timeout=10) as answer:
                items = json.load(answer)["items"]
            assert len(items) == 5
            with urllib.request.urlopen(f"{base}/metrics", timeout=10) as answer:
                assert b"failcat_failures_total" in answer.read()
            demo.send_signal(stop_signal)
            status = demo.wait(60)
        finally:
            if demo.poll() is None:
                demo.kill()
                demo.wait()
    assert status == 0  # an orderly stop either way
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", api_port)) != 0  # the receiver was stopped


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:///failcat.db", "sqlite:///failcat.db"),
        (
            "postgresql+psycopg://app:s3cr3t@db:5432/failcat",
            "postgresql+psycopg://app:***@db:5432/failcat",
        ),
        ("postgresql+psycopg://app@db/failcat", "postgresql+psycopg://app@db/failcat"),
        ("postgresql+psycopg://app:p@ss@db/failcat", "postgresql+psycopg://app:***@db/failcat"),
    ],
)
def test_printed_database_urls_hide_the_password(url: str, shown: str) -> None:
    from collector_receiver.demo import display_url

    assert display_url(url) == shown
