"""``failcat serve`` wired together: the one place that connects decode, matching, store,
metrics and listeners (CONTRACT §4).

Lifecycle of :class:`Receiver`:

1. :meth:`Receiver.open` (blocking, before any listener): read and check the TLS files
   (:mod:`collector_receiver.server._tls`), load the catalog, migrate the schema (with
   ``--no-migrate``: check it is current), open the store: one database engine (one pool) for
   the process, shared by the writer and the query API. Any problem raises
   :class:`StartupError` with one line.
2. :meth:`Receiver.start`: start the group-commit writer (only when an OTLP port is enabled: the
   parent of ``--workers`` has none, and no writer), raise the open-file soft limit to the
   hard limit (:mod:`collector_receiver.server._rlimit`), start the gRPC, OTLP/HTTP and API
   listeners on ``--host``; log ``started`` with the ports and the open-file limit
   (``open_files``, null when unlimited; ``open_files_raised_from`` when it was raised).
   With ``--retention``, start pruning in a thread beside ingest: now and every
   ``--retention-interval`` (:mod:`collector_receiver.server._retention`).
3. While running: ``SIGHUP`` reloads the catalog file in a worker thread, so a large catalog
   never stalls the listeners (a bad or over-large file is refused and logged, the old
   catalog stays); the database going away and coming back is logged once each way.
   Readiness (``/readyz``, ``failcat_ready``) follows the writer's commits and failures and
   pings the database only when neither is recent
   (:mod:`collector_receiver.server._database_health`).
4. :meth:`Receiver.stop` (``SIGTERM``/``SIGINT``): stop accepting on the OTLP listeners, let the
   requests in flight finish (their failures are committed and acknowledged), drain the
   writer, close the store, then the API listener. :func:`serve` then returns 0 — also when
   ``SIGTERM`` arrives during steps 1-2 (the migration's transaction is rolled back).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
import threading
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from grpc import aio

from collector_receiver._one_line import one_line
from collector_receiver.attribute_limits import AttributeLimits
from collector_receiver.catalog import Catalog, CatalogError, load_catalog
from collector_receiver.prepare import FailurePreparer
from collector_receiver.server._batch_writer import GroupCommitWriter
from collector_receiver.server._database_health import DatabaseHealth
from collector_receiver.server._inflight import InflightBytes
from collector_receiver.server._logging import log_event
from collector_receiver.server._retention import RetentionJob
from collector_receiver.server._rlimit import raise_open_file_limit
from collector_receiver.server._tls import ServerTls, TlsError, TlsSite, load_server_tls
from collector_receiver.server.ingest import OtlpIngest
from collector_receiver.server.metrics import ReceiverMetrics
from collector_receiver.server.ops_http import ReadinessCheck, build_api_app
from collector_receiver.server.otlp_grpc import build_grpc_server
from collector_receiver.server.otlp_http import build_otlp_http_app
from collector_receiver.server.query_api import ApiSettings, add_api_routes
from collector_receiver.settings import ReceiverSettings
from collector_receiver.store import (
    FailureStore,
    StoreError,
    StoreUnavailable,
    WriteResult,
    current_revision,
    display_url,
    head_revision,
    upgrade,
)
from collector_receiver.store.timeline import TimelineQueries
from collector_receiver.ui import UiSettings, add_ui_routes
from otel_failcat.redaction import RedactionSettings, Redactor

#: Failures that may wait for the writer, at least (else 4 transactions' worth): with messages
#: and stacktraces capped, this bounds the queue's memory to some hundreds of MB at worst.
_MIN_QUEUED_FAILURES = 10_000

#: How long SIGTERM waits for requests in flight before closing connections anyway.
_DRAIN_SECONDS = 30.0


class StartupError(Exception):
    """The receiver cannot start; ``str()`` is one line for the user."""


class Receiver:
    """One running receiver: listeners, writer thread, store, catalog and metrics.

    The keywords are for ``--workers`` (:mod:`collector_receiver.server.workers`): ``metrics``
    replaces the receiver's own, ``more_readiness`` is asked after its own readiness check,
    ``reuse_port`` binds the OTLP/HTTP port with ``SO_REUSEPORT``, and ``started_event`` and
    ``log_fields`` name and complete the line logged once listening.
    """

    def __init__(
        self,
        settings: ReceiverSettings,
        *,
        metrics: ReceiverMetrics | None = None,
        more_readiness: ReadinessCheck | None = None,
        reuse_port: bool = False,
        started_event: str = "started",
        log_fields: Mapping[str, object] | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or ReceiverMetrics(settings.max_label_values)
        self._more_readiness = more_readiness
        self._reuse_port = reuse_port
        self._started_event = started_event
        self._log_fields = dict(log_fields or {})
        self._store: FailureStore | None = None
        self._preparer: FailurePreparer | None = None
        self._writer: GroupCommitWriter[WriteResult] | None = None
        self._grpc: aio.Server | None = None
        self._http_runner: web.AppRunner | None = None
        self._api_runner: web.AppRunner | None = None
        self._queries: TimelineQueries | None = None
        self._health = DatabaseHealth(self._ping_database)
        self._database_down = False
        self._state_lock = threading.Lock()
        self._reload_task: asyncio.Task[None] | None = None
        self._reload_again = False
        self._tls: ServerTls | None = None
        self._retention: RetentionJob | None = None
        #: Ports actually listening, by listener name.
        self.ports: dict[str, int] = {}

    # -- start -----------------------------------------------------------------------------

    def open(self) -> None:
        """Migrate, load the catalog and open the store (blocking; before listening)."""
        settings = self.settings
        if settings.tls_cert is not None and settings.tls_key is not None:
            try:
                self._tls = load_server_tls(
                    settings.tls_cert, settings.tls_key, settings.tls_client_ca
                )
            except TlsError as exc:
                raise StartupError(str(exc)) from None
        try:
            redactor = Redactor(RedactionSettings.from_env())
        except ValueError as exc:
            raise StartupError(str(exc)) from None
        try:
            catalog = load_catalog(settings.catalog_path)
        except CatalogError as exc:
            raise StartupError(f"catalog refused: {exc}") from None
        except OSError as exc:
            raise StartupError(f"catalog cannot be read: {exc}") from None
        try:
            if settings.migrate:
                upgrade(settings.database_url)
            else:
                _check_schema(settings.database_url)
        except StoreError as exc:
            doing = "database migration failed" if settings.migrate else "database check failed"
            raise StartupError(f"{doing}: {one_line(exc)}") from None
        try:
            self._store = FailureStore.from_url(settings.database_url)
        except StoreError as exc:
            raise StartupError(one_line(exc)) from None
        limits = AttributeLimits(
            max_attributes=settings.max_attributes,
            max_key_length=settings.max_attribute_key_length,
            max_list_length=settings.max_attribute_list_length,
            max_bytes=settings.max_attributes_bytes,
        )
        self._preparer = FailurePreparer(catalog, redactor, limits)

    async def start(self) -> None:
        """Start the writer and every enabled listener; raises StartupError on a busy port."""
        if self._store is None or self._preparer is None:
            raise RuntimeError("Receiver.open() must run first")
        settings = self.settings
        # No OTLP port (the parent of --workers): no writer thread, nothing would reach it.
        ingest = self._start_ingest() if settings.grpc_port or settings.http_port else None
        open_files = raise_open_file_limit()  # before the listeners: each connection is a file
        if open_files.problem is not None:
            log_event(
                "open_file_limit_kept",
                logging.WARNING,
                open_files=open_files.soft,
                reason=open_files.problem,
            )
        try:
            if ingest is not None and settings.grpc_port:
                self._grpc = build_grpc_server(
                    ingest,
                    settings.max_request_bytes,
                    settings.auth_token,
                    read_timeout=settings.read_timeout,
                    idle_timeout=settings.idle_timeout,
                    reuse_port=self._reuse_port,
                )
                address = _address(settings.host, settings.grpc_port)
                try:
                    if self._tls is not None:
                        bound = self._grpc.add_secure_port(address, self._tls.grpc_credentials())
                    else:
                        bound = self._grpc.add_insecure_port(address)
                except RuntimeError as exc:
                    raise StartupError(f"cannot listen on {address} (gRPC): {exc}") from None
                if not bound:
                    raise StartupError(f"cannot listen on {address} (gRPC)")
                await self._grpc.start()
                self.ports["grpc"] = bound
            if ingest is not None and settings.http_port:
                http_app = build_otlp_http_app(
                    ingest,
                    settings.max_request_bytes,
                    settings.auth_token,
                    read_timeout=settings.read_timeout,
                    idle_timeout=settings.idle_timeout,
                )
                self._http_runner = await _listen(
                    http_app,
                    settings.host,
                    settings.http_port,
                    "OTLP/HTTP",
                    ssl_context=self._tls.otlp_http_context if self._tls else None,
                    handshake_timeout=settings.idle_timeout,
                    reuse_port=self._reuse_port,
                )
                self.ports["http"] = settings.http_port
            if settings.api_port:
                api_app = build_api_app(
                    self.metrics,
                    self.readiness,
                    settings.auth_token,
                    add_routes=self._api_routes(),
                    read_timeout=settings.read_timeout,
                    idle_timeout=settings.idle_timeout,
                    metrics_auth=settings.metrics_auth,
                    require_client_certificate=self._tls is not None and self._tls.mutual,
                )
                self._api_runner = await _listen(
                    api_app,
                    settings.host,
                    settings.api_port,
                    "API",
                    ssl_context=self._tls.api_context if self._tls else None,
                    handshake_timeout=settings.idle_timeout,
                )
                self.ports["api"] = settings.api_port
        except BaseException:
            await self.stop(log=False)
            raise
        catalog = self._preparer.catalog
        fields: dict[str, object] = dict(
            host=settings.host,
            grpc_port=self.ports.get("grpc", 0),
            http_port=self.ports.get("http", 0),
            api_port=self.ports.get("api", 0),
            tls="off" if self._tls is None else "mutual" if self._tls.mutual else "on",
            open_files=open_files.soft,
            open_files_raised_from=open_files.raised_from,
            catalog=catalog.source,
            catalog_version=catalog.catalog_version,
            entries=len(catalog.entries),
            database=display_url(settings.database_url),
        )
        log_event(self._started_event, logging.INFO, **(fields | self._log_fields))
        if settings.retention is not None:
            # After the listeners: the first prune runs beside ingest, never delaying it.
            self._retention = RetentionJob(
                self._store, settings.retention, settings.retention_interval
            )
            self._retention.start()

    def _start_ingest(self) -> OtlpIngest:
        """Start the group-commit writer; the ingest pipeline the OTLP listeners hand work to."""
        if self._store is None or self._preparer is None:
            raise RuntimeError("Receiver.open() must run first")
        settings = self.settings
        self._writer = GroupCommitWriter(
            self._store.write_batch,
            max_batch_failures=settings.write_batch_size,
            max_queued_requests=settings.write_queue_size,
            max_queued_failures=max(4 * settings.write_batch_size, _MIN_QUEUED_FAILURES),
            on_commit=self._committed,
            on_error=self._write_failed,
            is_retryable_group_error=lambda exc: isinstance(exc, StoreUnavailable),
        )
        self._writer.start()
        return OtlpIngest(
            self._preparer,
            self._writer,
            self.metrics,
            InflightBytes(settings.max_inflight_bytes),
        )

    def _api_routes(self) -> Callable[[web.Application], None]:
        if self._store is None:
            raise RuntimeError("Receiver.open() must run first")
        # The store's engine: one pool for the process, closed with the store.
        # One reader for the API and the web UI at "/", so both show the same rows.
        self._queries = TimelineQueries(self._store.engine)
        api_settings = ApiSettings(
            trace_url_template=self.settings.trace_url_template,
            catalog_provider=lambda: self.catalog,
        )
        ui_settings = UiSettings(
            trace_url_template=self.settings.trace_url_template,
            catalog_provider=lambda: self.catalog,
            auth_token=self.settings.auth_token,
        )
        queries = self._queries

        def add(app: web.Application) -> None:
            add_api_routes(app, queries, api_settings)
            add_ui_routes(app, queries, ui_settings)

        return add

    # -- running ---------------------------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        if self._preparer is None:
            raise RuntimeError("no catalog loaded yet")
        return self._preparer.catalog

    def reload_catalog(self) -> bool:
        """Load the catalog file again; keep the old one (and say why) if the new one is bad."""
        if self._preparer is None:
            return False
        try:
            catalog = load_catalog(self.settings.catalog_path)
        except (CatalogError, OSError) as exc:
            log_event(
                "catalog_refused",
                logging.ERROR,
                reason=str(exc),
                kept_catalog_version=self._preparer.catalog.catalog_version,
            )
            return False
        # One attribute assignment: a request in flight sees the old or the new catalog whole.
        self._preparer.catalog = catalog
        log_event(
            "catalog_reloaded",
            catalog=catalog.source,
            catalog_version=catalog.catalog_version,
            entries=len(catalog.entries),
        )
        return True

    def request_reload(self) -> None:
        """SIGHUP: reload the catalog in a worker thread, never on the event loop.

        Parsing and compiling a large catalog takes seconds; on the loop it would stall every
        listener. Reloads do not overlap: a SIGHUP during one makes one more run after it (the
        file may have changed again meanwhile), however many arrive.
        """
        if self._reload_task is not None and not self._reload_task.done():
            self._reload_again = True
            return
        self._reload_task = asyncio.get_running_loop().create_task(self._reload_in_thread())

    async def _reload_in_thread(self) -> None:
        while True:
            self._reload_again = False
            await asyncio.to_thread(self.reload_catalog)
            if not self._reload_again:
                return

    async def readiness(self) -> str | None:
        """None when ready (catalog loaded, database answering), else a one-line reason."""
        if self._preparer is None:
            return "no catalog loaded"
        if self._store is None:
            return "the store is closed"
        reason = await self._health.check()
        if reason is None and self._more_readiness is not None:
            reason = await self._more_readiness()
        return reason

    def _ping_database(self) -> str | None:
        """Worker thread: None when the database answers ``SELECT 1``, else why not."""
        store = self._store
        if store is None:
            return "the store is closed"
        try:
            store.ping()
        except StoreError as exc:
            return f"the database is unreachable: {one_line(exc)}"
        return None

    def _committed(self, result: WriteResult, seconds: float) -> None:
        self.metrics.record_persist_duration(seconds)
        self.metrics.record_committed(
            result.inserted,
            [(p.service_name, p.code) for p in result.new_patterns],
            result.newly_counted_operations,  # a redelivered request's operations move nothing
        )
        self._health.reachable()
        self._set_database_down(False, None)

    def _write_failed(self, error: BaseException, seconds: float) -> None:
        # Only an unavailable database says it is away; another StoreError (a refused
        # transaction) came from a database that answered.
        if isinstance(error, StoreUnavailable):
            self._health.unreachable(f"the database is unreachable: {one_line(error)}")
            self._set_database_down(True, error)

    def _set_database_down(self, down: bool, error: BaseException | None) -> None:
        with self._state_lock:
            if down == self._database_down:
                return
            self._database_down = down
        if down:
            log_event("database_unavailable", logging.ERROR, reason=one_line(error or ""))
        else:
            log_event("database_recovered")

    # -- stop ------------------------------------------------------------------------------

    async def stop(self, log: bool = True) -> None:
        """Stop accepting, finish requests in flight, drain the writer, close everything."""
        if log:
            log_event("stopping")
        if self._retention is not None:
            await self._retention.stop()  # ends after its current batch, before the store closes
            self._retention = None
        closing: list[Any] = []
        if self._grpc is not None:
            closing.append(self._grpc.stop(_DRAIN_SECONDS))
        if self._http_runner is not None:
            closing.append(self._http_runner.cleanup())
        await asyncio.gather(*closing, return_exceptions=True)
        self._grpc = None
        self._http_runner = None
        if self._writer is not None:
            await asyncio.to_thread(self._writer.close, _DRAIN_SECONDS)
            self._writer = None
        if self._api_runner is not None:
            await self._api_runner.cleanup()
            self._api_runner = None
        if self._queries is not None:
            self._queries.close()
            self._queries = None
        if self._store is not None:
            self._store.close()
            self._store = None
        self.metrics.shutdown()
        if log:
            log_event("stopped")


class _StopRequested(KeyboardInterrupt):
    """SIGTERM arrived while the receiver was still opening (loading, migrating).

    A KeyboardInterrupt so that the database drivers treat it as they treat Ctrl-C: psycopg
    cancels the statement it is waiting on, SQLAlchemy rolls back and drops the connection.
    The migration runs in one transaction, so nothing of it stays behind.
    """


def _stop_requested(signum: int, frame: object) -> None:
    raise _StopRequested


def serve(settings: ReceiverSettings) -> int:
    """Run the receiver until SIGTERM/SIGINT; 0 after a clean drain. Raises StartupError.

    A SIGTERM during start-up (a long migration, a database that is slow to answer) stops it
    there and returns 0 as well: an orchestrator stopping a receiver that is not up yet sees a
    clean exit, not a kill.
    """
    receiver = Receiver(settings)
    previous = signal.signal(signal.SIGTERM, _stop_requested)
    try:
        receiver.open()
        # From here on the event loop's handler (installed first thing in _run) replaces ours.
        return asyncio.run(_run(receiver))
    except _StopRequested:
        asyncio.run(receiver.stop(log=False))
        log_event("stopped", during="startup")
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


async def _run(receiver: Receiver) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    # Installed before the listeners start: a SIGTERM while they do stops right after.
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, receiver.request_reload)
    try:
        await receiver.start()  # on failure it has closed what it opened
    except BaseException:
        _remove_signal_handlers(loop)
        raise
    try:
        await stop.wait()
    finally:
        _remove_signal_handlers(loop)
        await receiver.stop()
    return 0


def _remove_signal_handlers(loop: asyncio.AbstractEventLoop) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.remove_signal_handler(signum)


async def _listen(
    app: web.Application,
    host: str,
    port: int,
    name: str,
    *,
    ssl_context: ssl.SSLContext | None = None,
    handshake_timeout: float = 60.0,
    reuse_port: bool = False,
) -> web.AppRunner:
    runner = web.AppRunner(
        app, handle_signals=False, access_log=None, shutdown_timeout=_DRAIN_SECONDS
    )
    await runner.setup()
    site: web.BaseSite
    if ssl_context is None:
        site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
    else:
        site = TlsSite(
            runner,
            host,
            port,
            ssl_context=ssl_context,
            handshake_timeout=handshake_timeout,
            reuse_port=reuse_port,
        )
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise StartupError(f"cannot listen on {_address(host, port)} ({name}): {exc}") from None
    return runner


def _check_schema(url: str) -> None:
    """With ``--no-migrate``, refuse to start on a schema this failcat cannot write to."""
    found, wanted = current_revision(url), head_revision()
    if found != wanted:
        raise StartupError(
            f"the database schema is at revision {found or 'none'}, this failcat needs {wanted}: "
            "run `failcat db upgrade` or start without --no-migrate"
        )


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


__all__ = ["Receiver", "StartupError", "serve"]
