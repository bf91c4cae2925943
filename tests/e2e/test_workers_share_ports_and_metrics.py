"""``failcat serve --workers 2`` on PostgreSQL: both workers receive on the shared ports, every
failure is stored once, the 9464 port sums the workers' counters, and SIGTERM drains them."""

from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e._receiver import http_get, running_receiver, start_receiver
from tests.e2e._support import stored_failures
from tests.e2e._workers import accepted_spans, failing_request, post_traces, worker_exposition

pytestmark = pytest.mark.slow

REQUESTS = 60
SPANS_PER_REQUEST = 5


def test_both_workers_receive_and_the_api_sums_their_counters(
    postgres_url: str, tmp_path: Path
) -> None:
    with running_receiver(
        postgres_url, tmp_path / "receiver.log", extra_args=["--workers", "2"]
    ) as receiver:
        started = receiver.log_events()
        workers = [e for e in started if e["event"] == "worker_started"]
        assert sorted(e["worker"] for e in workers) == [1, 2]
        assert len({e["pid"] for e in workers}) == 2
        assert receiver.process.pid not in {e["pid"] for e in workers}
        parent = next(e for e in started if e["event"] == "started")
        assert parent["workers"] == 2 and parent["grpc_port"] == receiver.grpc_port

        bodies = [failing_request(SPANS_PER_REQUEST)[0] for _ in range(REQUESTS)]
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda body: post_traces(receiver, body), bodies))
        assert statuses == [200] * REQUESTS

        sent = REQUESTS * SPANS_PER_REQUEST
        per_worker = [accepted_spans(worker_exposition(str(e["metrics_socket"]))) for e in workers]
        assert all(count > 0 for count in per_worker), per_worker  # the kernel used both
        assert sum(per_worker) == sent
        status, body = http_get(f"{receiver.api_url}/metrics")
        assert status == 200
        exposition = body.decode("utf-8")
        assert accepted_spans(exposition) == sent
        assert "failcat_ready 1.0" in exposition
        assert http_get(f"{receiver.api_url}/readyz")[0] == 200
        status, body = http_get(f"{receiver.api_url}/api/v1/failures?limit=1")
        assert status == 200

    rows = stored_failures(postgres_url)
    assert len(rows) == sent
    assert len({row["event_key"] for row in rows}) == sent


def test_sigterm_drains_every_worker_and_exits_0(postgres_url: str, tmp_path: Path) -> None:
    receiver = start_receiver(
        postgres_url, tmp_path / "receiver.log", extra_args=["--workers", "2"]
    )
    acknowledged: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def send() -> None:
        while not stop.is_set():
            body, trace_ids = failing_request(SPANS_PER_REQUEST)
            try:
                status = post_traces(receiver, body)
            except OSError:  # refused once the workers stop accepting
                return
            if status == 200:
                with lock:
                    acknowledged.update(trace_ids)

    senders = [threading.Thread(target=send) for _ in range(4)]
    try:
        for sender in senders:
            sender.start()
        while len(acknowledged) < 20 * SPANS_PER_REQUEST:
            assert receiver.alive(), receiver.log_text()
            threading.Event().wait(0.05)
        status = receiver.terminate()
    finally:
        stop.set()
        for sender in senders:
            sender.join(60)
        if receiver.alive():
            receiver.process.kill()
    assert status == 0, receiver.log_text()
    assert len([e for e in receiver.log_events() if e["event"] == "stopped"]) == 3
    stored = {row["trace_id"] for row in stored_failures(postgres_url)}
    assert acknowledged <= stored  # every acknowledged failure was committed before exit


def test_a_worker_that_dies_stops_the_whole_with_status_1(
    postgres_url: str, tmp_path: Path
) -> None:
    receiver = start_receiver(
        postgres_url, tmp_path / "receiver.log", extra_args=["--workers", "2"]
    )
    try:
        worker = next(e for e in receiver.log_events() if e["event"] == "worker_started")
        os.kill(int(str(worker["pid"])), signal.SIGKILL)
        status = receiver.process.wait(60)
    finally:
        if receiver.alive():
            receiver.process.kill()
    assert status == 1, receiver.log_text()
    exited = receiver.wait_for_event("worker_exited")
    assert exited["worker"] == worker["worker"] and exited["exit_status"] == -signal.SIGKILL
