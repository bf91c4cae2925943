"""otel-failcat's agent side: every failure of an agent process as an OpenTelemetry span event.

(The instrumentor and the explicit API are being written; see the README.)
"""

from otel_failcat.version import __version__

__all__ = ["__version__"]
