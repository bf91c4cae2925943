"""Real OTLP span exporters (gRPC or HTTP/protobuf), counted, and stopped at the first failure.

:class:`CountingExporter` wraps the SDK's exporter: it counts the spans of every export the
receiver acknowledged, and after the first export that failed it fails every later one at once,
so an unreachable endpoint costs one exporter timeout, not one per batch. The reason is taken
from the SDK exporter's own error log (captured by :class:`ExportErrors`, which also keeps its
multi-line retry warnings off the user's terminal).

For an ``https://`` endpoint, :class:`ClientTls` names the CA to trust (default: the system's, or
the SDK's ``OTEL_EXPORTER_OTLP_CERTIFICATE``) and a client certificate for mutual TLS.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from collector_receiver._one_line import one_line

if TYPE_CHECKING:
    import grpc

Protocol = Literal["grpc", "http"]

DEFAULT_GRPC_ENDPOINT = "http://127.0.0.1:4317"
DEFAULT_HTTP_ENDPOINT = "http://127.0.0.1:4318"

#: The loggers of the SDK's OTLP exporters (gRPC and HTTP).
_EXPORTER_LOGGER = "opentelemetry.exporter.otlp"


def normalize_endpoint(endpoint: str | None, protocol: Protocol) -> str:
    """``endpoint`` as a URL with scheme and port; raises ValueError with a one-line reason.

    ``host:port`` gets ``http://``; for HTTP a trailing ``/v1/traces`` is accepted (the base URL
    is what is returned).
    """
    if not endpoint:
        return DEFAULT_GRPC_ENDPOINT if protocol == "grpc" else DEFAULT_HTTP_ENDPOINT
    text = endpoint.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{endpoint!r} must be an http:// or https:// URL or host:port")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{endpoint!r} has an invalid port") from None
    if not parts.hostname:
        raise ValueError(f"{endpoint!r} has no host")
    if port is None:
        raise ValueError(f"{endpoint!r} has no port (e.g. 127.0.0.1:4317)")
    path = parts.path.rstrip("/")
    if protocol == "grpc" and path:
        raise ValueError(f"{endpoint!r}: a gRPC endpoint has no path")
    if path.endswith("/v1/traces"):
        path = path[: -len("/v1/traces")]
    return f"{parts.scheme}://{parts.netloc}{path}"


@dataclass(frozen=True)
class ClientTls:
    """PEM files for an ``https://`` endpoint (``--ca``, ``--client-cert``, ``--client-key``)."""

    #: The CA that signed the receiver's certificate; None = the system's trust store.
    ca_file: str | None = None
    #: Certificate and key presented to a receiver that requires them (mutual TLS).
    cert_file: str | None = None
    key_file: str | None = None


def build_exporter(
    protocol: Protocol,
    endpoint: str,
    timeout: float,
    token: str | None,
    tls: ClientTls | None = None,
) -> SpanExporter:
    """The SDK's OTLP span exporter for ``protocol``, sending to ``endpoint`` (normalised)."""
    headers = {"authorization": f"Bearer {token}"} if token else None
    tls = tls or ClientTls()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        insecure = endpoint.startswith("http://")
        return OTLPSpanExporter(
            endpoint=endpoint,
            insecure=insecure,
            credentials=None if insecure or tls == ClientTls() else _grpc_credentials(tls),
            headers=headers,
            timeout=timeout,
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpSpanExporter,
    )

    session = None
    if tls.ca_file is not None:
        import requests

        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override the CA set on a session
        # (psf/requests#4650); a CA given on the command line must win.
        session = requests.Session()
        session.trust_env = False
    return HttpSpanExporter(
        endpoint=f"{endpoint}/v1/traces",
        headers=headers,
        timeout=timeout,
        certificate_file=tls.ca_file,
        client_certificate_file=tls.cert_file,
        client_key_file=tls.key_file,
        session=session,
    )


def _grpc_credentials(tls: ClientTls) -> grpc.ChannelCredentials:
    import grpc

    def read(path: str | None) -> bytes | None:
        return Path(path).read_bytes() if path is not None else None

    return grpc.ssl_channel_credentials(
        root_certificates=read(tls.ca_file),
        private_key=read(tls.key_file),
        certificate_chain=read(tls.cert_file),
    )


@dataclass
class ExportState:
    """Shared by every service's exporter: spans acknowledged, and the first failure."""

    spans_sent: int = 0
    exports: int = 0
    failed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class CountingExporter(SpanExporter):
    """Delegates to ``inner``; counts acknowledged spans; fails fast after a failed export."""

    def __init__(self, inner: SpanExporter, state: ExportState) -> None:
        self._inner = inner
        self._state = state

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._state.failed:
            return SpanExportResult.FAILURE
        try:
            result = self._inner.export(spans)
        except Exception:  # an exporter should not raise; if it does, it did not deliver
            result = SpanExportResult.FAILURE
        with self._state.lock:
            self._state.exports += 1
            if result == SpanExportResult.SUCCESS:
                self._state.spans_sent += len(spans)
            else:
                self._state.failed = True
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


class ExportErrors(logging.Handler):
    """Keeps the first error the SDK exporters logged, as one line."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.first_error: str | None = None
        self.last_warning: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = one_line(record.getMessage())
        except Exception:
            return
        if record.levelno >= logging.ERROR:
            if self.first_error is None:
                self.first_error = text
        else:
            self.last_warning = text

    def reason(self) -> str | None:
        """The first error; with the last retry warning when the error itself is generic."""
        error, warning = self.first_error, self.last_warning
        if error and warning and "timeout, max retries" in error:
            return f"{warning.removesuffix('.')} (gave up: timeout or retries exhausted)"
        return error or warning


@contextmanager
def captured_export_errors() -> Iterator[ExportErrors]:
    """Route the exporters' log to an :class:`ExportErrors` (and not to stderr) meanwhile."""
    logger = logging.getLogger(_EXPORTER_LOGGER)
    handler = ExportErrors()
    saved = (logger.propagate, logger.level)
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate, level = saved
        logger.setLevel(level)
