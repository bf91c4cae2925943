"""otel-failcat's agent side: every failure of an agent process as OpenTelemetry data.

One line turns it on, with no code change::

    opentelemetry-instrument python agent.py

or by hand::

    from otel_failcat import FailcatInstrumentor
    FailcatInstrumentor().instrument(tracer_provider=..., meter_provider=..., logger_provider=...)

It captures unhandled exceptions of the main thread, of other threads and of asyncio tasks and
callbacks, ``logging`` records at ERROR and above that carry an exception, what the code hands
it with :func:`record_failure` and :func:`track`, and what the SDK's own spans record with
``Span.record_exception`` (once, on the innermost span). Each failure becomes a span event
``exception`` (attributes in :mod:`otel_failcat.attributes`) and a count on the counter
``failcat.agent.failures``; secrets are redacted first. See ``docs/agent.md``.
"""

from otel_failcat._instrumentor import FailcatInstrumentor
from otel_failcat._track import record_failure, track
from otel_failcat.version import __version__

__all__ = ["FailcatInstrumentor", "__version__", "record_failure", "track"]
