"""Configuration of ``failcat serve``: one frozen object built from CLI flags and the environment.

Precedence is flag > environment variable > default. Every value is checked when the object is
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
(none)                     ``FAILCAT_AUTH_TOKEN``           no authentication
(none)                     ``FAILCAT_TRACE_URL_TEMPLATE``   no trace links
=========================  ===============================  ======================

The auth token is deliberately not a flag: a flag would show in ``ps`` output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///failcat.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_GRPC_PORT = 4317
DEFAULT_HTTP_PORT = 4318
DEFAULT_API_PORT = 9464
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_INFLIGHT_BYTES = 256 * 1024 * 1024
DEFAULT_WRITE_BATCH_SIZE = 2000
DEFAULT_WRITE_QUEUE_SIZE = 256


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
    auth_token: str | None = None
    trace_url_template: str | None = None

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
        if self.auth_token is not None and not self.auth_token.strip():
            raise SettingsError("FAILCAT_AUTH_TOKEN is set but empty")
        if self.trace_url_template is not None and "{trace_id}" not in self.trace_url_template:
            raise SettingsError("FAILCAT_TRACE_URL_TEMPLATE must contain {trace_id}")

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

        no_migrate_env = env.get("FAILCAT_NO_MIGRATE", "").strip().lower()
        if no_migrate_env not in ("", "0", "1", "true", "false", "yes", "no"):
            raise SettingsError(f"FAILCAT_NO_MIGRATE: {no_migrate_env!r} is not a boolean")
        no_migrate = bool(flags.get("no_migrate")) or no_migrate_env in ("1", "true", "yes")
        auth = env.get("FAILCAT_AUTH_TOKEN")
        template = env.get("FAILCAT_TRACE_URL_TEMPLATE")
        return cls(
            database_url=pick("database_url", "FAILCAT_DATABASE_URL") or DEFAULT_DATABASE_URL,
            catalog_path=pick("catalog_path", "FAILCAT_CATALOG"),
            host=pick("host", "FAILCAT_HOST") or DEFAULT_HOST,
            grpc_port=integer("grpc_port", "FAILCAT_GRPC_PORT", "--grpc-port", DEFAULT_GRPC_PORT),
            http_port=integer("http_port", "FAILCAT_HTTP_PORT", "--http-port", DEFAULT_HTTP_PORT),
            api_port=integer("api_port", "FAILCAT_API_PORT", "--api-port", DEFAULT_API_PORT),
            max_request_bytes=integer(
                "max_request_bytes",
                "FAILCAT_MAX_REQUEST_BYTES",
                "--max-request-bytes",
                DEFAULT_MAX_REQUEST_BYTES,
            ),
            max_inflight_bytes=integer(
                "max_inflight_bytes",
                "FAILCAT_MAX_INFLIGHT_BYTES",
                "--max-inflight-bytes",
                DEFAULT_MAX_INFLIGHT_BYTES,
            ),
            migrate=not no_migrate,
            write_batch_size=integer(
                "write_batch_size",
                "FAILCAT_WRITE_BATCH_SIZE",
                "--write-batch-size",
                DEFAULT_WRITE_BATCH_SIZE,
            ),
            write_queue_size=integer(
                "write_queue_size",
                "FAILCAT_WRITE_QUEUE_SIZE",
                "--write-queue-size",
                DEFAULT_WRITE_QUEUE_SIZE,
            ),
            auth_token=auth if auth != "" else None,
            trace_url_template=template or None,
        )


__all__ = [
    "DEFAULT_API_PORT",
    "DEFAULT_DATABASE_URL",
    "DEFAULT_GRPC_PORT",
    "DEFAULT_HOST",
    "DEFAULT_HTTP_PORT",
    "DEFAULT_MAX_INFLIGHT_BYTES",
    "DEFAULT_MAX_REQUEST_BYTES",
    "DEFAULT_WRITE_BATCH_SIZE",
    "DEFAULT_WRITE_QUEUE_SIZE",
    "ReceiverSettings",
    "SettingsError",
]
