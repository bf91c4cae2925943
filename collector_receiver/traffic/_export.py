"""Real OTLP span exporters (gRPC or HTTP/protobuf), counted, and stopped at the first failure.

:class:`CountingExporter` wraps the SDK's exporter: it counts the spans of every export the
receiver acknowledged, and after the first export that failed it fails every later one at once,
so an unreachable endpoint costs one exporter timeout, not one per batch. The reason is taken
from the SDK exporter's own error log (captured by :class:`ExportErrors`, which also keeps its
multi-line retry warnings off the user's terminal).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

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


def build_exporter(
    protocol: Protocol, endpoint: str, timeout: float, token: str | None
) -> SpanExporter:
    """The SDK's OTLP span exporter for ``protocol``, sending to ``endpoint`` (normalised)."""
    headers = {"authorization": f"Bearer {token}"} if token else None
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(
            endpoint=endpoint,
            insecure=endpoint.startswith("http://"),
            headers=headers,
            timeout=timeout,
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpSpanExporter,
    )

    return HttpSpanExporter(endpoint=f"{endpoint}/v1/traces", headers=headers, timeout=timeout)


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
            text = " ".join(record.getMessage().split())
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
