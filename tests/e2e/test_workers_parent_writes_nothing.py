"""The parent of ``--workers`` receives no OTLP, so it starts no group-commit writer thread.

``serve_workers`` builds its own receiver with both OTLP ports at 0 and only the 9464 port open;
a writer thread there would hold a connection and compete for the parent's interpreter while
writing nothing. The same receiver with an OTLP port does start one (the check can fail).
Real PostgreSQL, real listeners on free ports.
"""

from __future__ import annotations

import asyncio
import threading
import urllib.request
from dataclasses import replace

from collector_receiver.demo.children import free_ports
from collector_receiver.server.receiver import Receiver
from collector_receiver.settings import ReceiverSettings

WRITER_THREAD = "failcat-writer"


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return bytes(answer.read())


def writer_threads() -> int:
    return sum(thread.name == WRITER_THREAD for thread in threading.enumerate())


async def started_receiver(settings: ReceiverSettings) -> Receiver:
    receiver = Receiver(settings)
    receiver.open()
    await receiver.start()
    return receiver


async def test_a_receiver_without_otlp_ports_has_no_writer_and_still_answers(
    postgres_url: str,
) -> None:
    ports = free_ports()
    settings = ReceiverSettings(
        database_url=postgres_url, grpc_port=ports.grpc, http_port=ports.http, api_port=ports.api
    )
    before = writer_threads()
    parent = await started_receiver(replace(settings, grpc_port=0, http_port=0))
    try:
        assert writer_threads() == before
        assert "grpc" not in parent.ports and "http" not in parent.ports
        assert await parent.readiness() is None  # the database is pinged instead
        exposition = await asyncio.to_thread(get, f"http://127.0.0.1:{ports.api}/metrics")
        assert b"failcat_ready" in exposition
    finally:
        await parent.stop(log=False)

    single = await started_receiver(replace(settings, http_port=0, api_port=0))
    try:
        assert writer_threads() == before + 1
    finally:
        await single.stop(log=False)
    assert writer_threads() == before
