"""Environment variables read by the receiver's commands (``failcat serve`` and the others).

Each is read when a command builds its settings (``ReceiverSettings.from_sources`` for
``failcat serve``, the reading commands when they open the database), never at import time.
Flags win over variables, and variables over the defaults; the table of flags, variables and
defaults of ``failcat serve`` is in :mod:`collector_receiver.settings`. The agent's variables
(redaction, caps, hooks), which the receiver reads too for its own redaction, are in
:mod:`otel_failcat.environment_variables`.
"""

FAILCAT_DATABASE_URL = "FAILCAT_DATABASE_URL"
"""The database (``--db``): ``sqlite:///PATH`` or ``postgresql+psycopg://...``; default
:data:`DEFAULT_DATABASE_URL`. Read by ``serve``, ``db``, ``failures``, ``aggregate``, ``demo``.
Behind PgBouncer in transaction mode, end a PostgreSQL URL with ``?prepare_threshold=none``
(:mod:`collector_receiver.store._engine`)."""

DEFAULT_DATABASE_URL = "sqlite:///failcat.db"
"""The database used when neither ``--db`` nor ``FAILCAT_DATABASE_URL`` names one."""

FAILCAT_CATALOG = "FAILCAT_CATALOG"
"""Path of the catalog YAML file (``--catalog``); default: the catalog packaged with failcat.
Read by ``serve``, ``catalog`` and ``demo``."""

FAILCAT_HOST = "FAILCAT_HOST"
"""Address every listener of ``failcat serve`` binds (``--host``)."""

FAILCAT_GRPC_PORT = "FAILCAT_GRPC_PORT"
"""OTLP/gRPC port (``--grpc-port``); 0 disables the listener."""

FAILCAT_HTTP_PORT = "FAILCAT_HTTP_PORT"
"""OTLP/HTTP port (``--http-port``); 0 disables the listener."""

FAILCAT_API_PORT = "FAILCAT_API_PORT"
"""Port of ``/metrics``, the health checks and ``/api/v1`` (``--api-port``); 0 disables it."""

FAILCAT_MAX_REQUEST_BYTES = "FAILCAT_MAX_REQUEST_BYTES"
"""Largest request body, on the wire and once inflated (``--max-request-bytes``)."""

FAILCAT_MAX_INFLIGHT_BYTES = "FAILCAT_MAX_INFLIGHT_BYTES"
"""Most request bytes held at once by the requests being handled (``--max-inflight-bytes``)."""

FAILCAT_NO_MIGRATE = "FAILCAT_NO_MIGRATE"
"""``1`` (or ``true``, ``yes``): do not migrate the schema on start (``--no-migrate``)."""

FAILCAT_WRITE_BATCH_SIZE = "FAILCAT_WRITE_BATCH_SIZE"
"""Most failures written in one transaction by the group-commit writer (``--write-batch-size``)."""

FAILCAT_WRITE_QUEUE_SIZE = "FAILCAT_WRITE_QUEUE_SIZE"
"""Most requests waiting for the writer (``--write-queue-size``)."""

FAILCAT_READ_TIMEOUT = "FAILCAT_READ_TIMEOUT"
"""Seconds a request body may take to arrive once its headers have (``--read-timeout``)."""

FAILCAT_IDLE_TIMEOUT = "FAILCAT_IDLE_TIMEOUT"
"""Seconds an idle connection stays open (``--idle-timeout``)."""

FAILCAT_MAX_ATTRIBUTES = "FAILCAT_MAX_ATTRIBUTES"
"""Most attributes stored with a failure (``--max-attributes``; lower only)."""

FAILCAT_MAX_ATTRIBUTE_KEY_LENGTH = "FAILCAT_MAX_ATTRIBUTE_KEY_LENGTH"
"""Longest stored attribute key (``--max-attribute-key-length``; lower only)."""

FAILCAT_MAX_ATTRIBUTE_LIST_LENGTH = "FAILCAT_MAX_ATTRIBUTE_LIST_LENGTH"
"""Most values of a stored list (``--max-attribute-list-length``; lower only)."""

FAILCAT_MAX_ATTRIBUTES_BYTES = "FAILCAT_MAX_ATTRIBUTES_BYTES"
"""Most bytes of a failure's attributes JSON (``--max-attributes-bytes``; lower only)."""

FAILCAT_MAX_LABEL_VALUES = "FAILCAT_MAX_LABEL_VALUES"
"""Distinct values kept per metric label before ``_other`` (``--max-label-values``)."""

FAILCAT_AUTH_TOKEN = "FAILCAT_AUTH_TOKEN"
"""Bearer token every request must carry; unset: no authentication. Deliberately not a flag
(it would show in ``ps``); set but blank is refused. ``failcat traffic`` and ``failcat demo``
send it."""

FAILCAT_METRICS_AUTH = "FAILCAT_METRICS_AUTH"
"""``1``: ``/metrics`` needs the bearer token too (``--metrics-auth``)."""

FAILCAT_TRACE_URL_TEMPLATE = "FAILCAT_TRACE_URL_TEMPLATE"
"""Link to a trace backend, with ``{trace_id}`` (and optionally ``{span_id}``,
``{service_name}``), shown as ``trace_url`` by ``/api/v1`` and ``failcat failures``."""

FAILCAT_TLS_CERT = "FAILCAT_TLS_CERT"
"""PEM certificate chain served on every listener (``--tls-cert``)."""

FAILCAT_TLS_KEY = "FAILCAT_TLS_KEY"
"""PEM private key of the certificate, unencrypted (``--tls-key``)."""

FAILCAT_TLS_CLIENT_CA = "FAILCAT_TLS_CLIENT_CA"
"""PEM CA whose client certificates are required, mutual TLS (``--tls-client-ca``)."""

FAILCAT_WORKERS = "FAILCAT_WORKERS"
"""Receiving processes sharing the OTLP ports (``--workers``; default 1, no child process)."""

FAILCAT_RETENTION = "FAILCAT_RETENTION"
"""Delete what is older than this duration, at start and every ``--retention-interval``
(``--retention``, e.g. ``30d``; default: keep everything)."""

FAILCAT_RETENTION_INTERVAL = "FAILCAT_RETENTION_INTERVAL"
"""How often retention runs (``--retention-interval``; default and most ``1h``)."""

__all__ = [
    "DEFAULT_DATABASE_URL",
    "FAILCAT_API_PORT",
    "FAILCAT_AUTH_TOKEN",
    "FAILCAT_CATALOG",
    "FAILCAT_DATABASE_URL",
    "FAILCAT_GRPC_PORT",
    "FAILCAT_HOST",
    "FAILCAT_HTTP_PORT",
    "FAILCAT_IDLE_TIMEOUT",
    "FAILCAT_MAX_ATTRIBUTES",
    "FAILCAT_MAX_ATTRIBUTES_BYTES",
    "FAILCAT_MAX_ATTRIBUTE_KEY_LENGTH",
    "FAILCAT_MAX_ATTRIBUTE_LIST_LENGTH",
    "FAILCAT_MAX_INFLIGHT_BYTES",
    "FAILCAT_MAX_LABEL_VALUES",
    "FAILCAT_MAX_REQUEST_BYTES",
    "FAILCAT_METRICS_AUTH",
    "FAILCAT_NO_MIGRATE",
    "FAILCAT_READ_TIMEOUT",
    "FAILCAT_RETENTION",
    "FAILCAT_RETENTION_INTERVAL",
    "FAILCAT_TLS_CERT",
    "FAILCAT_TLS_CLIENT_CA",
    "FAILCAT_TLS_KEY",
    "FAILCAT_TRACE_URL_TEMPLATE",
    "FAILCAT_WORKERS",
    "FAILCAT_WRITE_BATCH_SIZE",
    "FAILCAT_WRITE_QUEUE_SIZE",
]
