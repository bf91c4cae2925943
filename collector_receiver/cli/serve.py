"""``failcat serve``: run the receiver (CONTRACT §4) until SIGTERM.

Flags and their environment variables are documented in :mod:`collector_receiver.settings`;
the service itself in :mod:`collector_receiver.server.receiver`. A bad flag, catalog or database
URL, or a port already in use ends the command with one line and exit status 2.
"""

from __future__ import annotations

import argparse
import signal
from typing import Any

from collector_receiver.attribute_limits import (
    DEFAULT_MAX_ATTRIBUTE_KEY_LENGTH,
    DEFAULT_MAX_ATTRIBUTE_LIST_LENGTH,
    DEFAULT_MAX_ATTRIBUTES,
    DEFAULT_MAX_ATTRIBUTES_BYTES,
)
from collector_receiver.cli._errors import CommandError
from collector_receiver.settings import (
    DEFAULT_API_PORT,
    DEFAULT_GRPC_PORT,
    DEFAULT_HTTP_PORT,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_INFLIGHT_BYTES,
    DEFAULT_MAX_LABEL_VALUES,
    DEFAULT_MAX_REQUEST_BYTES,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_WORKERS,
    ReceiverSettings,
    SettingsError,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="receive OTLP, store matched failures, serve metrics and the query API",
        description=(
            "Receive OTLP from agents or a Collector, match failures against the catalog, "
            "store them, and serve /metrics, /healthz, /readyz and /api/v1/. SIGHUP reloads "
            "the catalog; SIGTERM drains and exits. FAILCAT_AUTH_TOKEN turns on bearer auth."
        ),
    )
    parser.add_argument(
        "--db",
        dest="database_url",
        metavar="URL",
        help="database URL (env FAILCAT_DATABASE_URL; default sqlite:///failcat.db)",
    )
    parser.add_argument(
        "--catalog",
        dest="catalog_path",
        metavar="PATH",
        help="catalog YAML file (env FAILCAT_CATALOG; default: the packaged catalog)",
    )
    parser.add_argument("--host", help="address every listener binds (default 127.0.0.1)")
    parser.add_argument(
        "--grpc-port",
        metavar="PORT",
        help=f"OTLP/gRPC port, 0 disables (default {DEFAULT_GRPC_PORT})",
    )
    parser.add_argument(
        "--http-port",
        metavar="PORT",
        help=f"OTLP/HTTP port, 0 disables (default {DEFAULT_HTTP_PORT})",
    )
    parser.add_argument(
        "--api-port",
        metavar="PORT",
        help=f"metrics, health and query API port, 0 disables (default {DEFAULT_API_PORT})",
    )
    parser.add_argument(
        "--max-request-bytes",
        metavar="N",
        help=f"largest request, on the wire and inflated (default {DEFAULT_MAX_REQUEST_BYTES})",
    )
    parser.add_argument(
        "--max-inflight-bytes",
        metavar="N",
        help=(
            "most request bytes held at once before answering 503/UNAVAILABLE "
            f"(default {DEFAULT_MAX_INFLIGHT_BYTES})"
        ),
    )
    parser.add_argument(
        "--no-migrate", action="store_true", help="do not upgrade the database schema on start"
    )
    parser.add_argument(
        "--write-batch-size",
        metavar="N",
        help="most failures committed in one transaction (default 2000; 1 = no group commit)",
    )
    parser.add_argument(
        "--write-queue-size",
        metavar="N",
        help="most requests waiting for the database before answering 503 (default 256)",
    )
    parser.add_argument(
        "--read-timeout",
        metavar="SECONDS",
        help=(
            "drop a request whose body has not arrived this long after its headers "
            f"(env FAILCAT_READ_TIMEOUT; default {DEFAULT_READ_TIMEOUT:g})"
        ),
    )
    parser.add_argument(
        "--idle-timeout",
        metavar="SECONDS",
        help=(
            "close a connection this long without a request in progress "
            f"(env FAILCAT_IDLE_TIMEOUT; default {DEFAULT_IDLE_TIMEOUT:g})"
        ),
    )
    parser.add_argument(
        "--max-attributes",
        metavar="N",
        help=(
            "most attributes stored per failure, nested map entries included; lower only "
            f"(env FAILCAT_MAX_ATTRIBUTES; default {DEFAULT_MAX_ATTRIBUTES})"
        ),
    )
    parser.add_argument(
        "--max-attribute-key-length",
        metavar="N",
        help=(
            "longest stored attribute key, in characters; lower only "
            f"(env FAILCAT_MAX_ATTRIBUTE_KEY_LENGTH; default {DEFAULT_MAX_ATTRIBUTE_KEY_LENGTH})"
        ),
    )
    parser.add_argument(
        "--max-attribute-list-length",
        metavar="N",
        help=(
            "most values stored per attribute list; lower only "
            f"(env FAILCAT_MAX_ATTRIBUTE_LIST_LENGTH; default {DEFAULT_MAX_ATTRIBUTE_LIST_LENGTH})"
        ),
    )
    parser.add_argument(
        "--max-attributes-bytes",
        metavar="N",
        help=(
            "most bytes of attributes JSON stored per failure, at least 1024; lower only "
            f"(env FAILCAT_MAX_ATTRIBUTES_BYTES; default {DEFAULT_MAX_ATTRIBUTES_BYTES})"
        ),
    )
    parser.add_argument(
        "--max-label-values",
        metavar="N",
        help=(
            "distinct values kept per label of each counter, further ones count as _other "
            f"(env FAILCAT_MAX_LABEL_VALUES; default {DEFAULT_MAX_LABEL_VALUES})"
        ),
    )
    parser.add_argument(
        "--tls-cert",
        metavar="FILE",
        help="PEM certificate chain: serve TLS on every listener (env FAILCAT_TLS_CERT)",
    )
    parser.add_argument(
        "--tls-key",
        metavar="FILE",
        help="PEM private key of --tls-cert, unencrypted (env FAILCAT_TLS_KEY)",
    )
    parser.add_argument(
        "--tls-client-ca",
        metavar="FILE",
        help=(
            "PEM CA: require client certificates it signed (mutual TLS); /healthz and /readyz "
            "stay open (env FAILCAT_TLS_CLIENT_CA)"
        ),
    )
    parser.add_argument(
        "--metrics-auth",
        action="store_true",
        help="/metrics needs the bearer token too (env FAILCAT_METRICS_AUTH=1)",
    )
    parser.add_argument(
        "--workers",
        metavar="N",
        help=(
            "receiving processes sharing the OTLP ports; 9464 sums their metrics "
            f"(env FAILCAT_WORKERS; default {DEFAULT_WORKERS})"
        ),
    )
    parser.add_argument(
        "--retention",
        metavar="DURATION",
        help=(
            "delete failures, patterns and operation counts older than this (e.g. 30d), at "
            "start and every --retention-interval (env FAILCAT_RETENTION; default: keep all)"
        ),
    )
    parser.add_argument(
        "--retention-interval",
        metavar="DURATION",
        help="how often retention runs, at most 1h (env FAILCAT_RETENTION_INTERVAL; default 1h)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    flags = {
        name: getattr(args, name)
        for name in (
            "database_url",
            "catalog_path",
            "host",
            "grpc_port",
            "http_port",
            "api_port",
            "max_request_bytes",
            "max_inflight_bytes",
            "no_migrate",
            "write_batch_size",
            "write_queue_size",
            "read_timeout",
            "idle_timeout",
            "max_attributes",
            "max_attribute_key_length",
            "max_attribute_list_length",
            "max_attributes_bytes",
            "max_label_values",
            "tls_cert",
            "tls_key",
            "tls_client_ca",
            "metrics_auth",
            "workers",
            "retention",
            "retention_interval",
        )
    }
    try:
        settings = ReceiverSettings.from_sources(flags)
    except SettingsError as exc:
        raise CommandError(str(exc)) from None

    # A SIGTERM while the server stack is still being imported: nothing has started yet, so
    # exit 0 at once (serve() installs its own handler for the rest of the start-up).
    signal.signal(signal.SIGTERM, _exit_before_start)
    # Imported here so `failcat --help` stays fast and works without a loadable server stack.
    from collector_receiver.server import _logging
    from collector_receiver.server.receiver import StartupError, serve

    _logging.configure()
    try:
        if settings.workers > 1:
            from collector_receiver.server.workers import serve_workers

            return serve_workers(settings)
        return serve(settings)
    except StartupError as exc:
        raise CommandError(str(exc)) from None


def _exit_before_start(signum: int, frame: object) -> None:
    raise SystemExit(0)
