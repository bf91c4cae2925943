"""Configuration of ``failcat serve``: one frozen object built from CLI flags and the environment.

Precedence is flag > environment variable > default (the variables' names are constants of
:mod:`collector_receiver.environment_variables`). Every value is checked when the object is
built, so a mistake ends the command with one line before anything listens or touches the
database:

=========================  ===============================  ======================
flag                       environment                      default
=========================  ===============================  ======================
``--db``                   ``FAILCAT_DATABASE_URL``         ``sqlite:///failcat.db``
``--catalog``              ``FAILCAT_CATALOG``              the packaged catalog
``--host``                 ``FAILCAT_HOST``                 ``127.0.0.1``
``--grpc-port``            ``FAILCAT_GRPC_PORT``            ``4317`` (0 disables)
``--http-port``            ``FAILCAT_HTTP_PORT``            ``4318`` (0 disables)
``--api-port``             ``FAILCAT_API_PORT``             ``9464`` (0 disables)
``--max-request-bytes``    ``FAILCAT_MAX_REQUEST_BYTES``    64 MiB
``--max-inflight-bytes``   ``FAILCAT_MAX_INFLIGHT_BYTES``   256 MiB held at once
``--no-migrate``           ``FAILCAT_NO_MIGRATE=1``         migrate on start
``--write-batch-size``     ``FAILCAT_WRITE_BATCH_SIZE``     ``2000`` failures per transaction
``--write-queue-size``     ``FAILCAT_WRITE_QUEUE_SIZE``     ``256`` requests waiting to be written
``--read-timeout``         ``FAILCAT_READ_TIMEOUT``         ``30`` s for a request body to arrive
``--idle-timeout``         ``FAILCAT_IDLE_TIMEOUT``         ``60`` s before an idle connection ends
``--tls-cert``             ``FAILCAT_TLS_CERT``             no TLS (PEM certificate chain)
``--tls-key``              ``FAILCAT_TLS_KEY``              no TLS (PEM key, unencrypted)
``--tls-client-ca``        ``FAILCAT_TLS_CLIENT_CA``        no client certificates (PEM CA)
``--metrics-auth``         ``FAILCAT_METRICS_AUTH=1``       ``/metrics`` needs no token
``--workers``              ``FAILCAT_WORKERS``              ``1`` receiving process (1 to 64)
``--retention``            ``FAILCAT_RETENTION``            keep everything (a duration: ``30d``)
``--retention-interval``   ``FAILCAT_RETENTION_INTERVAL``   ``1h`` between prunes (at most 1h)
(none)                     ``FAILCAT_AUTH_TOKEN``           no authentication
(none)                     ``FAILCAT_TRACE_URL_TEMPLATE``   no trace links
=========================  ===============================  ======================

What a stored failure and the metrics may hold (CONTRACT §4, §6; the attribute caps can only be
lowered, and are described in :mod:`collector_receiver.attribute_limits`):

===============================  =====================================  ======================
flag                             environment                            default
===============================  =====================================  ======================
``--max-attributes``             ``FAILCAT_MAX_ATTRIBUTES``             ``128`` (nested entries
                                                                        count too)
``--max-attribute-key-length``   ``FAILCAT_MAX_ATTRIBUTE_KEY_LENGTH``   ``256`` characters
``--max-attribute-list-length``  ``FAILCAT_MAX_ATTRIBUTE_LIST_LENGTH``  ``128`` values
``--max-attributes-bytes``       ``FAILCAT_MAX_ATTRIBUTES_BYTES``       64 KiB of JSON (≥ 1024)
``--max-label-values``           ``FAILCAT_MAX_LABEL_VALUES``           ``200`` per label, then
                                                                        ``_other``
===============================  =====================================  ======================

Durations (``--retention``, ``--retention-interval``) are :mod:`collector_receiver.timeparse`'s:
a positive whole number and a unit ``s``, ``m``, ``h``, ``d`` or ``w``. The interval may not
exceed an hour (CONTRACT §5: retention runs at start and at least hourly), and without
``--retention`` it is refused rather than ignored.

The auth token is deliberately not a flag: a flag would show in ``ps`` output. A variable that
would open or weaken access — ``FAILCAT_AUTH_TOKEN`` or a ``FAILCAT_TLS_*`` path — is refused when
it is set but empty or blank, never read as "unset": a deployment template that failed to fill
in a secret must not start a receiver that is silently open or speaks plain text.
``--tls-cert`` and ``--tls-key`` go together; ``--tls-client-ca`` needs them; ``--metrics-auth``
needs ``FAILCAT_AUTH_TOKEN``. What TLS does on each listener is documented in
:mod:`collector_receiver.server._tls`; what the token protects in
:mod:`collector_receiver.server._auth`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from collector_receiver import environment_variables as variables
from collector_receiver.attribute_limits import (
    DEFAULT_MAX_ATTRIBUTE_KEY_LENGTH,
    DEFAULT_MAX_ATTRIBUTE_LIST_LENGTH,
    DEFAULT_MAX_ATTRIBUTES,
    DEFAULT_MAX_ATTRIBUTES_BYTES,
    MIN_ATTRIBUTES_BYTES,
)
from collector_receiver.environment_variables import DEFAULT_DATABASE_URL
from collector_receiver.timeparse import parse_duration

DEFAULT_HOST = "127.0.0.1"
DEFAULT_GRPC_PORT = 4317
DEFAULT_HTTP_PORT = 4318
DEFAULT_API_PORT = 9464
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_INFLIGHT_BYTES = 256 * 1024 * 1024
DEFAULT_WRITE_BATCH_SIZE = 2000
DEFAULT_WRITE_QUEUE_SIZE = 256
DEFAULT_MAX_LABEL_VALUES = 200
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_IDLE_TIMEOUT = 60.0
DEFAULT_WORKERS = 1
#: Most ``--workers``: far above the cores of a machine one receiver runs on, low enough that a
#: typo (``--workers 400``) is refused rather than forking hundreds of interpreters.
MAX_WORKERS = 64
#: How often ``--retention`` prunes by default, and at most (CONTRACT §5: "at least hourly").
DEFAULT_RETENTION_INTERVAL = timedelta(hours=1)


class SettingsError(ValueError):
    """An invalid setting; ``str()`` is one line naming the flag or variable and the value."""


@dataclass(frozen=True)
class ReceiverSettings:
    """Everything ``failcat serve`` needs to know, validated.

    A port of 0 means "do not open this listener".
    """

    database_url: str = DEFAULT_DATABASE_URL
    #: Path of the catalog YAML file; None = the catalog packaged with failcat.
    catalog_path: str | None = None
    host: str = DEFAULT_HOST
    grpc_port: int = DEFAULT_GRPC_PORT
    http_port: int = DEFAULT_HTTP_PORT
    api_port: int = DEFAULT_API_PORT
    #: Limit on a request body on the wire and after gzip inflation (and on a gRPC message).
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    #: Most request bytes (on the wire plus inflated) held by the requests being handled; a
    #: request that does not fit gets a retryable answer. One request alone is always taken.
    max_inflight_bytes: int = DEFAULT_MAX_INFLIGHT_BYTES
    migrate: bool = True
    #: Most failures written in one transaction by the group-commit writer (a single larger
    #: request is still written whole, alone). 1 turns group commit off.
    write_batch_size: int = DEFAULT_WRITE_BATCH_SIZE
    #: Most requests waiting for the writer; beyond it requests get a retryable answer.
    write_queue_size: int = DEFAULT_WRITE_QUEUE_SIZE
    #: Seconds a request body (HTTP) or message (gRPC) may take to arrive once its headers
    #: have; a request still arriving then is dropped and its in-flight bytes freed.
    read_timeout: float = DEFAULT_READ_TIMEOUT
    #: Seconds a connection may stay without a request in progress (also one that never sends
    #: a complete request line and headers) before it is closed, on every listener.
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    #: Caps on the attributes stored with a failure (:mod:`collector_receiver.attribute_limits`),
    #: each at least 1 (the byte budget at least 1024) and at most the contract's default.
    max_attributes: int = DEFAULT_MAX_ATTRIBUTES
    max_attribute_key_length: int = DEFAULT_MAX_ATTRIBUTE_KEY_LENGTH
    max_attribute_list_length: int = DEFAULT_MAX_ATTRIBUTE_LIST_LENGTH
    max_attributes_bytes: int = DEFAULT_MAX_ATTRIBUTES_BYTES
    #: Distinct values kept per label of each counter; further values count under ``_other``.
    max_label_values: int = DEFAULT_MAX_LABEL_VALUES
    auth_token: str | None = None
    trace_url_template: str | None = None
    #: PEM certificate chain and key served on every listener; both or neither.
    tls_cert: str | None = None
    tls_key: str | None = None
    #: PEM CA whose client certificates are required (mutual TLS); needs tls_cert.
    tls_client_ca: str | None = None
    #: Whether ``/metrics`` needs the bearer token too.
    metrics_auth: bool = False
    #: Receiving processes sharing the OTLP ports (:mod:`collector_receiver.server.workers`);
    #: 1 is one process and no children.
    workers: int = DEFAULT_WORKERS
    #: Delete failures, patterns and operation counts older than this, at start and every
    #: ``retention_interval`` (:mod:`collector_receiver.store.retention`); None keeps everything.
    retention: timedelta | None = None
    retention_interval: timedelta = DEFAULT_RETENTION_INTERVAL

    def __post_init__(self) -> None:
        if not self.database_url.strip():
            raise SettingsError("--db: the database URL is empty")
        if not self.host.strip():
            raise SettingsError("--host: the host is empty")
        for name, port in (
            ("--grpc-port", self.grpc_port),
            ("--http-port", self.http_port),
            ("--api-port", self.api_port),
        ):
            if not 0 <= port <= 65535:
                raise SettingsError(f"{name}: {port} is not a port (0-65535, 0 disables)")
        enabled = [p for p in (self.grpc_port, self.http_port, self.api_port) if p]
        if len(set(enabled)) != len(enabled):
            raise SettingsError("--grpc-port, --http-port and --api-port must differ")
        if self.max_request_bytes < 1024:
            raise SettingsError(
                f"--max-request-bytes: {self.max_request_bytes} is too small (at least 1024)"
            )
        if self.max_inflight_bytes < 1024:
            raise SettingsError(
                f"--max-inflight-bytes: {self.max_inflight_bytes} is too small (at least 1024)"
            )
        if self.write_batch_size < 1:
            raise SettingsError(f"--write-batch-size: {self.write_batch_size} must be at least 1")
        if self.write_queue_size < 1:
            raise SettingsError(f"--write-queue-size: {self.write_queue_size} must be at least 1")
        for flag, seconds in (
            ("--read-timeout", self.read_timeout),
            ("--idle-timeout", self.idle_timeout),
        ):
            if not 0 < seconds < math.inf:  # also refuses NaN
                raise SettingsError(f"{flag}: {seconds} is not a positive number of seconds")
        for flag, value, lowest, highest in (
            ("--max-attributes", self.max_attributes, 1, DEFAULT_MAX_ATTRIBUTES),
            (
                "--max-attribute-key-length",
                self.max_attribute_key_length,
                1,
                DEFAULT_MAX_ATTRIBUTE_KEY_LENGTH,
            ),
            (
                "--max-attribute-list-length",
                self.max_attribute_list_length,
                1,
                DEFAULT_MAX_ATTRIBUTE_LIST_LENGTH,
            ),
            (
                "--max-attributes-bytes",
                self.max_attributes_bytes,
                MIN_ATTRIBUTES_BYTES,
                DEFAULT_MAX_ATTRIBUTES_BYTES,
            ),
        ):
            if not lowest <= value <= highest:
                raise SettingsError(
                    f"{flag}: {value} is out of range ({lowest} to {highest}; "
                    "the limits can be lowered, not raised)"
                )
        if self.max_label_values < 1:
            raise SettingsError(f"--max-label-values: {self.max_label_values} must be at least 1")
        if self.auth_token is not None and not self.auth_token.strip():
            raise SettingsError(
                "FAILCAT_AUTH_TOKEN is set but empty: set a token or unset the variable"
            )
        if self.metrics_auth and self.auth_token is None:
            raise SettingsError("--metrics-auth needs FAILCAT_AUTH_TOKEN to be set")
        for flag, path in (
            ("--tls-cert", self.tls_cert),
            ("--tls-key", self.tls_key),
            ("--tls-client-ca", self.tls_client_ca),
        ):
            if path is not None and not path.strip():
                raise SettingsError(f"{flag}: the path is empty")
        if (self.tls_cert is None) != (self.tls_key is None):
            given, missing = (
                ("--tls-cert", "--tls-key") if self.tls_key is None else ("--tls-key", "--tls-cert")
            )
            raise SettingsError(f"{given} needs {missing} too (a certificate and its key)")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise SettingsError("--tls-client-ca needs --tls-cert and --tls-key")
        if self.trace_url_template is not None and "{trace_id}" not in self.trace_url_template:
            raise SettingsError("FAILCAT_TRACE_URL_TEMPLATE must contain {trace_id}")
        if not 1 <= self.workers <= MAX_WORKERS:
            raise SettingsError(f"--workers: {self.workers} is out of range (1 to {MAX_WORKERS})")
        if self.retention is not None and self.retention <= timedelta(0):
            raise SettingsError("--retention: must be a positive duration")
        if not timedelta(0) < self.retention_interval <= DEFAULT_RETENTION_INTERVAL:
            raise SettingsError(
                "--retention-interval: must be from 1s to 1h (retention runs at least hourly)"
            )

    @classmethod
    def from_sources(
        cls,
        flags: Mapping[str, object] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ReceiverSettings:
        """Build from parsed flags (names as the dataclass fields; None = not given) and env.

        Raises :class:`SettingsError` with one line on any invalid value.
        """
        flags = dict(flags or {})
        env = os.environ if environ is None else environ

        def pick(field: str, variable: str) -> str | None:
            value = flags.get(field)
            if value is not None:
                return str(value)
            raw = env.get(variable)
            return raw if raw not in (None, "") else None

        def integer(field: str, variable: str, flag: str, default: int) -> int:
            raw = pick(field, variable)
            if raw is None:
                return default
            try:
                return int(raw)
            except ValueError:
                source = flag if flags.get(field) is not None else variable
                raise SettingsError(f"{source}: {raw!r} is not an integer") from None

        def seconds(field: str, variable: str, flag: str, default: float) -> float:
            raw = pick(field, variable)
            if raw is None:
                return default
            source = flag if flags.get(field) is not None else variable
            try:
                value = float(raw)
            except ValueError:
                raise SettingsError(f"{source}: {raw!r} is not a number of seconds") from None
            if not 0 < value < math.inf:
                raise SettingsError(f"{source}: {raw!r} is not a positive number of seconds")
            return value

        def duration(field: str, variable: str, flag: str) -> timedelta | None:
            raw = pick(field, variable)
            if raw is None:
                return None
            source = flag if flags.get(field) is not None else variable
            try:
                return parse_duration(raw)
            except ValueError as exc:
                raise SettingsError(f"{source}: {exc}") from None

        def boolean(field: str, variable: str) -> bool:
            raw = env.get(variable, "").strip().lower()
            if raw not in ("", "0", "1", "true", "false", "yes", "no"):
                raise SettingsError(f"{variable}: {raw!r} is not a boolean")
            return bool(flags.get(field)) or raw in ("1", "true", "yes")

        def path(field: str, variable: str) -> str | None:
            # Unlike pick(): a variable set to "" is kept, so that it is refused, not ignored.
            value = flags.get(field)
            return str(value) if value is not None else env.get(variable)

        no_migrate = boolean("no_migrate", variables.FAILCAT_NO_MIGRATE)
        retention = duration("retention", variables.FAILCAT_RETENTION, "--retention")
        interval = duration(
            "retention_interval", variables.FAILCAT_RETENTION_INTERVAL, "--retention-interval"
        )
        if interval is not None and retention is None:
            raise SettingsError(
                "--retention-interval needs --retention (or FAILCAT_RETENTION): "
                "without it nothing is pruned"
            )
        if interval is not None and interval > DEFAULT_RETENTION_INTERVAL:
            source = (
                "--retention-interval"
                if flags.get("retention_interval") is not None
                else variables.FAILCAT_RETENTION_INTERVAL
            )
            raise SettingsError(f"{source}: longer than 1h (retention runs at least hourly)")
        auth = env.get(variables.FAILCAT_AUTH_TOKEN)
        template = env.get(variables.FAILCAT_TRACE_URL_TEMPLATE)
        return cls(
            database_url=pick("database_url", variables.FAILCAT_DATABASE_URL)
            or DEFAULT_DATABASE_URL,
            catalog_path=pick("catalog_path", variables.FAILCAT_CATALOG),
            host=pick("host", variables.FAILCAT_HOST) or DEFAULT_HOST,
            grpc_port=integer(
                "grpc_port", variables.FAILCAT_GRPC_PORT, "--grpc-port", DEFAULT_GRPC_PORT
            ),
            http_port=integer(
                "http_port", variables.FAILCAT_HTTP_PORT, "--http-port", DEFAULT_HTTP_PORT
            ),
            api_port=integer(
                "api_port", variables.FAILCAT_API_PORT, "--api-port", DEFAULT_API_PORT
            ),
            max_request_bytes=integer(
                "max_request_bytes",
                variables.FAILCAT_MAX_REQUEST_BYTES,
                "--max-request-bytes",
                DEFAULT_MAX_REQUEST_BYTES,
            ),
            max_inflight_bytes=integer(
                "max_inflight_bytes",
                variables.FAILCAT_MAX_INFLIGHT_BYTES,
                "--max-inflight-bytes",
                DEFAULT_MAX_INFLIGHT_BYTES,
            ),
            migrate=not no_migrate,
            write_batch_size=integer(
                "write_batch_size",
                variables.FAILCAT_WRITE_BATCH_SIZE,
                "--write-batch-size",
                DEFAULT_WRITE_BATCH_SIZE,
            ),
            write_queue_size=integer(
                "write_queue_size",
                variables.FAILCAT_WRITE_QUEUE_SIZE,
                "--write-queue-size",
                DEFAULT_WRITE_QUEUE_SIZE,
            ),
            read_timeout=seconds(
                "read_timeout",
                variables.FAILCAT_READ_TIMEOUT,
                "--read-timeout",
                DEFAULT_READ_TIMEOUT,
            ),
            idle_timeout=seconds(
                "idle_timeout",
                variables.FAILCAT_IDLE_TIMEOUT,
                "--idle-timeout",
                DEFAULT_IDLE_TIMEOUT,
            ),
            max_attributes=integer(
                "max_attributes",
                variables.FAILCAT_MAX_ATTRIBUTES,
                "--max-attributes",
                DEFAULT_MAX_ATTRIBUTES,
            ),
            max_attribute_key_length=integer(
                "max_attribute_key_length",
                variables.FAILCAT_MAX_ATTRIBUTE_KEY_LENGTH,
                "--max-attribute-key-length",
                DEFAULT_MAX_ATTRIBUTE_KEY_LENGTH,
            ),
            max_attribute_list_length=integer(
                "max_attribute_list_length",
                variables.FAILCAT_MAX_ATTRIBUTE_LIST_LENGTH,
                "--max-attribute-list-length",
                DEFAULT_MAX_ATTRIBUTE_LIST_LENGTH,
            ),
            max_attributes_bytes=integer(
                "max_attributes_bytes",
                variables.FAILCAT_MAX_ATTRIBUTES_BYTES,
                "--max-attributes-bytes",
                DEFAULT_MAX_ATTRIBUTES_BYTES,
            ),
            max_label_values=integer(
                "max_label_values",
                variables.FAILCAT_MAX_LABEL_VALUES,
                "--max-label-values",
                DEFAULT_MAX_LABEL_VALUES,
            ),
            auth_token=auth,
            trace_url_template=template or None,
            tls_cert=path("tls_cert", variables.FAILCAT_TLS_CERT),
            tls_key=path("tls_key", variables.FAILCAT_TLS_KEY),
            tls_client_ca=path("tls_client_ca", variables.FAILCAT_TLS_CLIENT_CA),
            metrics_auth=boolean("metrics_auth", variables.FAILCAT_METRICS_AUTH),
            workers=integer("workers", variables.FAILCAT_WORKERS, "--workers", DEFAULT_WORKERS),
            retention=retention,
            retention_interval=interval or DEFAULT_RETENTION_INTERVAL,
        )


__all__ = [
    "DEFAULT_API_PORT",
    "DEFAULT_DATABASE_URL",
    "DEFAULT_GRPC_PORT",
    "DEFAULT_HOST",
    "DEFAULT_HTTP_PORT",
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_INFLIGHT_BYTES",
    "DEFAULT_MAX_LABEL_VALUES",
    "DEFAULT_MAX_REQUEST_BYTES",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_RETENTION_INTERVAL",
    "DEFAULT_WORKERS",
    "DEFAULT_WRITE_BATCH_SIZE",
    "DEFAULT_WRITE_QUEUE_SIZE",
    "MAX_WORKERS",
    "ReceiverSettings",
    "SettingsError",
]
