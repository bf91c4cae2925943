"""``failcat serve --workers N``: N receiving processes on the same ports (CONTRACT §4 r2).

One Python process receives on one core at most (the prepare stage and the writer hold the
GIL), so more cores need more processes. With ``--workers N`` (env ``FAILCAT_WORKERS``) and
N ≥ 2, ``failcat serve`` is a parent and N worker processes:

* **The parent** checks the settings and the TLS files, loads the catalog and migrates the
  schema **once**, then starts the workers and waits until every one listens (or one says why
  it cannot: that one line ends the command, exit status 2, and the others are stopped). Only
  then it opens the 9464 listener (``/metrics``, ``/healthz``, ``/readyz``, ``/api/v1/``, with
  the same TLS and token rules as one process) and logs ``started`` with the OTLP ports and
  ``workers``. The parent receives no OTLP, so it starts no group-commit writer either.
* **Each worker** is a ``multiprocessing`` *spawn* child (a fresh interpreter: nothing of the
  parent's threads, engine or event loop is inherited half-alive, as a fork would) running the
  ordinary :class:`~collector_receiver.server.receiver.Receiver` with its own pipeline,
  group-commit writer, database engine and TLS contexts, without migrating (it checks the
  schema the parent migrated). It binds the gRPC and OTLP/HTTP ports with ``SO_REUSEPORT``
  (gRPC sets it by default on Linux; aiohttp's sites are given ``reuse_port=True``), so the
  kernel spreads new connections over the workers. Each logs ``worker_started`` with its
  ``worker`` number and ``pid``, and serves its own ``/metrics`` and ``/readyz`` on a unix
  socket in a private directory (mode 0700) that only the parent reads: nothing of a worker
  is reachable over the network but the OTLP ports.
* **Metrics**: a scrape of the parent's ``/metrics`` fetches every worker's exposition and its
  own, parses them with ``prometheus_client.parser`` and sums each sample by name and labels
  (counters, histogram buckets, ``_sum`` and ``_count``); gauges (``failcat_ready``) take the
  minimum, so the exposition reads 1 only when every process is ready. Prometheus client's
  multiprocess mode does not fit: the receiver's instruments are the OTel SDK's, exported by its
  Prometheus reader into a private registry, not ``prometheus_client`` metrics writing to mmap
  files. The label cap (``--max-label-values``) holds per worker; the sum can hold up to N
  times as many values of a label before ``_other``.
* **Readiness**: ``/readyz`` answers 200 when the parent's own check (database, catalog) and
  every worker's ``/readyz`` do; else 503 with the first reason, prefixed ``worker K:``.
* **A worker that dies** (killed, out of memory) is not restarted: the parent logs
  ``worker_exited`` with its number and exit status, stops the others (they drain as on
  SIGTERM) and exits 1. A receiver with fewer processes than it was asked for would hide a
  fault; the orchestrator that restarts a failed ``failcat serve`` restarts the whole, and a
  client's unacknowledged requests are retried there.
* **SIGTERM** (or SIGINT) to the parent is forwarded to every worker; each stops accepting,
  finishes and commits what it acknowledged, and exits 0; then the parent closes its listener
  and exits 0. SIGHUP is forwarded too: every worker reloads the catalog file.

``--workers 1`` (the default) is exactly the single process of
:mod:`collector_receiver.server.receiver`: no children.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import multiprocessing
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from aiohttp import web
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from collector_receiver.server._logging import log_event
from collector_receiver.server.metrics import ReceiverMetrics
from collector_receiver.server.ops_http import build_api_app
from collector_receiver.server.receiver import (
    Receiver,
    StartupError,
    _remove_signal_handlers,
    _stop_requested,
    _StopRequested,
)
from collector_receiver.settings import ReceiverSettings

#: How long the parent waits for every worker to listen (each opens an engine, loads the
#: catalog and checks the schema).
_START_SECONDS = 60.0

#: Longest a worker may take to drain after SIGTERM: the receiver's own drain (30 s) and the
#: writer's (30 s), plus a margin; past it the worker is killed.
_STOP_SECONDS = 75.0

#: How long the parent waits for one worker's /metrics or /readyz on its socket.
_WORKER_HTTP_SECONDS = 5.0


@dataclass(frozen=True)
class _Worker:
    number: int
    process: BaseProcess
    socket_path: str


class WorkerPool:
    """The worker processes of one parent: start, ask, signal and stop them."""

    def __init__(self, settings: ReceiverSettings, count: int) -> None:
        if count < 2:
            raise ValueError(f"a worker pool needs at least 2 workers, got {count}")
        self.count = count
        # The parent migrated (or checked) the schema; the workers serve OTLP only.
        self._settings = replace(settings, api_port=0, migrate=False, workers=1)
        self._directory = tempfile.TemporaryDirectory(prefix="failcat-workers-")
        os.chmod(self._directory.name, 0o700)
        self.workers: list[_Worker] = []

    def start(self) -> None:
        """Start every worker and wait until each listens; StartupError with one line if not."""
        context = multiprocessing.get_context("spawn")
        pipes: dict[Connection, _Worker] = {}
        for number in range(1, self.count + 1):
            ours, theirs = context.Pipe(duplex=False)
            socket_path = str(Path(self._directory.name) / f"worker-{number}.sock")
            process = context.Process(
                target=_worker_main,
                args=(self._settings, number, socket_path, theirs),
                name=f"failcat-worker-{number}",
            )
            process.start()
            theirs.close()
            worker = _Worker(number, process, socket_path)
            self.workers.append(worker)
            pipes[ours] = worker
        waiting = dict(pipes)
        while waiting:
            ready = wait(list(waiting), timeout=_START_SECONDS)
            if not ready:
                raise StartupError(f"workers did not start within {_START_SECONDS:g}s")
            for conn in ready:
                assert isinstance(conn, Connection)
                worker = waiting.pop(conn)
                try:
                    message = conn.recv()
                except EOFError:
                    message = ("error", f"exited with status {worker.process.exitcode}")
                conn.close()
                if message[0] != "ready":
                    raise StartupError(f"worker {worker.number}: {message[1]}")

    def signal(self, signum: int) -> None:
        """Send ``signum`` to every worker still running."""
        for worker in self.workers:
            if worker.process.pid is not None and worker.process.is_alive():
                try:
                    os.kill(worker.process.pid, signum)
                except ProcessLookupError:
                    pass

    def wait_for_exit(self) -> _Worker:
        """Block until one worker exits; return it (not reaped: see :func:`_run_parent`)."""
        sentinels = {w.process.sentinel: w for w in self.workers}
        while True:
            for sentinel in wait(list(sentinels)):
                assert isinstance(sentinel, int)
                return sentinels[sentinel]

    def stop(self) -> bool:
        """SIGTERM every worker and wait for each to drain; True if every one exited 0."""
        self.signal(signal.SIGTERM)
        clean = True
        for worker in self.workers:
            worker.process.join(_STOP_SECONDS)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
                clean = False
            elif worker.process.exitcode != 0:
                clean = False
        self._directory.cleanup()
        return clean

    def expositions(self) -> Iterator[str]:
        """Each running worker's /metrics text (a worker that does not answer is left out)."""
        for worker in self.workers:
            answer = _unix_get(worker.socket_path, "/metrics")
            if answer is not None and answer[0] == 200:
                yield answer[1]

    def not_ready_reason(self) -> str | None:
        """None when every worker's /readyz answers 200, else the first one's reason."""
        for worker in self.workers:
            answer = _unix_get(worker.socket_path, "/readyz")
            if answer is None:
                return f"worker {worker.number} does not answer"
            if answer[0] != 200:
                try:
                    reason = str(json.loads(answer[1])["reason"])
                except (ValueError, KeyError, TypeError):
                    reason = answer[1].strip()
                return f"worker {worker.number}: {reason}"
        return None


class SummedMetrics(ReceiverMetrics):
    """The parent's metrics: its own, plus every worker's, summed (see the module doc)."""

    def __init__(self, pool: WorkerPool, max_label_values: int) -> None:
        super().__init__(max_label_values)
        self._pool = pool

    def exposition(self) -> bytes:
        texts = [super().exposition().decode("utf-8"), *self._pool.expositions()]
        return summed_exposition(texts)


def summed_exposition(texts: Sequence[str]) -> bytes:
    """Expositions merged: samples summed by name and labels, gauges at their minimum.

    Families keep the order they first appear in; the result is the text format again.
    """
    from prometheus_client.exposition import generate_latest

    families: dict[str, Metric] = {}
    values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            merged = families.setdefault(
                family.name, Metric(family.name, family.documentation, family.type, family.unit)
            )
            samples = values.setdefault(family.name, {})
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                if key not in samples:
                    samples[key] = sample.value
                elif merged.type == "gauge":
                    samples[key] = min(samples[key], sample.value)
                else:
                    samples[key] += sample.value
    for name, family in families.items():
        for (sample_name, labels), value in values[name].items():
            family.add_sample(sample_name, dict(labels), value)

    class _Merged:
        def collect(self) -> Iterator[Metric]:
            yield from families.values()

    return generate_latest(_Merged())


def serve_workers(settings: ReceiverSettings) -> int:
    """Run a parent and ``settings.workers`` workers until SIGTERM; 0 after a clean drain.

    Raises StartupError (one line) when the parent or a worker cannot start; 1 when a worker
    died while running.
    """
    pool = WorkerPool(settings, settings.workers)

    async def workers_ready() -> str | None:
        return await asyncio.to_thread(pool.not_ready_reason)

    parent = Receiver(
        replace(settings, grpc_port=0, http_port=0),
        metrics=SummedMetrics(pool, settings.max_label_values),
        more_readiness=workers_ready,
        log_fields={
            "grpc_port": settings.grpc_port,
            "http_port": settings.http_port,
            "workers": settings.workers,
        },
    )
    previous = signal.signal(signal.SIGTERM, _stop_requested)
    running = False  # from here on _run_parent closes the parent, whatever happens
    try:
        parent.open()
        pool.start()
        running = True
        return asyncio.run(_run_parent(parent, pool))
    except _StopRequested:
        log_event("stopped", during="startup")
        return 0
    finally:
        pool.stop()  # at once when they have all exited already
        if not running:
            asyncio.run(parent.stop(log=False))
        signal.signal(signal.SIGTERM, previous)


async def _run_parent(parent: Receiver, pool: WorkerPool) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    def reload() -> None:
        parent.request_reload()
        pool.signal(signal.SIGHUP)

    loop.add_signal_handler(signal.SIGHUP, reload)
    try:
        await parent.start()  # on failure it has closed what it opened
    except BaseException:
        _remove_signal_handlers(loop)
        raise
    try:
        exited = asyncio.ensure_future(asyncio.to_thread(pool.wait_for_exit))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait((exited, stopping), return_when=asyncio.FIRST_COMPLETED)
        status = 0
        # A worker exits 0 only when it was told to stop (Ctrl-C reaches the whole process
        # group): the others are stopping too.
        if exited.done():
            # The sentinel is ready once the child's end of the pipe is closed, which the kernel
            # does while the process exits, a moment before it can be reaped: until joined its
            # ``exitcode`` may still be None. Joined here, not in the waiting thread: that one
            # may still be waiting while ``pool.stop`` joins the workers, and two threads
            # reaping one child make the loser see it as still running (ECHILD).
            await asyncio.to_thread(exited.result().process.join, _STOP_SECONDS)
        if exited.done() and exited.result().process.exitcode != 0:
            worker = exited.result()
            log_event(
                "worker_exited",
                logging.ERROR,
                worker=worker.number,
                pid=worker.process.pid,
                exit_status=worker.process.exitcode,
            )
            status = 1
        stopping.cancel()
        log_event("stopping")
        if not await asyncio.to_thread(pool.stop):
            status = 1
        # The waiting thread returns once every worker has exited.
        await asyncio.gather(exited, return_exceptions=True)
    finally:
        _remove_signal_handlers(loop)
        await parent.stop(log=False)
    log_event("stopped")
    return status


# -- in a worker -------------------------------------------------------------------------------


def _worker_main(
    settings: ReceiverSettings, number: int, socket_path: str, parent: Connection
) -> None:
    """A worker process: the receiver on the shared OTLP ports; exits with its status."""
    from collector_receiver.server import _logging

    _logging.configure()
    signal.signal(signal.SIGTERM, _stop_requested)
    receiver: Receiver | None = None
    try:
        # Built inside the try: the parent stops every worker when one cannot start, and a
        # SIGTERM can arrive while this one is still being built.
        receiver = Receiver(
            replace(settings, retention=None),  # the parent prunes, once for all the workers
            reuse_port=True,
            started_event="worker_started",
            log_fields={"worker": number, "pid": os.getpid(), "metrics_socket": socket_path},
        )
        receiver.open()
        status = asyncio.run(_run_worker(receiver, socket_path, parent))
    except StartupError as exc:
        parent.send(("error", str(exc)))
        sys.exit(2)
    except _StopRequested:
        if receiver is not None:
            asyncio.run(receiver.stop(log=False))
        sys.exit(0)
    sys.exit(status)


async def _run_worker(receiver: Receiver, socket_path: str, parent: Connection) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGHUP, receiver.request_reload)
    runner: web.AppRunner | None = None
    try:
        await receiver.start()  # on failure it has closed what it opened
    except BaseException:
        _remove_signal_handlers(loop)
        raise
    try:
        runner = web.AppRunner(
            build_api_app(receiver.metrics, receiver.readiness), handle_signals=False
        )
        await runner.setup()
        await web.UnixSite(runner, socket_path).start()
        parent.send(("ready",))
        parent.close()
        await stop.wait()
    finally:
        _remove_signal_handlers(loop)
        if runner is not None:
            await runner.cleanup()
        await receiver.stop()
    return 0


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=_WORKER_HTTP_SECONDS)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(_WORKER_HTTP_SECONDS)
        sock.connect(self._path)
        self.sock = sock


def _unix_get(socket_path: str, path: str) -> tuple[int, str] | None:
    """GET ``path`` from a worker's socket: (status, body), or None if it does not answer."""
    connection = _UnixConnection(socket_path)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        connection.close()


__all__ = ["SummedMetrics", "WorkerPool", "serve_workers", "summed_exposition"]
