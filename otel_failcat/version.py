"""The version of the ``otel-failcat`` distribution."""

__version__ = "0.1.0"
