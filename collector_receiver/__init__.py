"""otel-failcat's receiver: OTLP in, failures matched against the catalog and stored, counters out.

Install with ``pip install 'otel-failcat[receiver]'``; run with ``failcat serve``.
"""

__all__: list[str] = []
