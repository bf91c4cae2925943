"""A GenAI instrumentation's span around a provider SDK's call, for one case at a time.

Instrumentation libraries of provider SDKs (opentelemetry-instrumentation-anthropic and
-openai, openinference's) wrap the SDK's ``create`` in a ``CLIENT`` span named
``chat <model>`` that records the exception escaping it. The SDK's own error is then an
exception event below whatever the framework above wraps it in (pydantic-ai's
``ModelOverloadedError``, LangChain's ``OpenAIRateLimitError``), in the same trace. They are
not installed here: ``opentelemetry-instrument`` would turn them on for every scenario. So
:func:`sdk_span` wraps the method as they do, through the OpenTelemetry SDK's own span (its
``record_exception``, which the failcat instrumentor completes), and only while its block runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind

_tracer = trace.get_tracer("failcat.conformance.sdk_instrumentation")


@contextmanager
def sdk_span(owner: type, provider: str, model: str, *, awaited: bool) -> Iterator[None]:
    """Run each call of ``owner.create`` in a ``chat <model>`` client span while the block
    runs (``awaited``: the method returns an awaitable, awaited inside the span)."""
    original: Callable[..., Any] = owner.__dict__["create"]
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
    }

    def span() -> Any:
        return _tracer.start_as_current_span(
            f"chat {model}", kind=SpanKind.CLIENT, attributes=attributes
        )

    if awaited:

        @functools.wraps(original)
        async def create(*args: Any, **kwargs: Any) -> Any:
            with span():
                return await original(*args, **kwargs)

    else:

        @functools.wraps(original)
        def create(*args: Any, **kwargs: Any) -> Any:
            with span():
                return original(*args, **kwargs)

    owner.create = create
    try:
        yield
    finally:
        owner.create = original
