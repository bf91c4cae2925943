"""Stored failures for the inspection tests, written through the real write path.

``seed(url, failures)`` migrates the database to head and stores the failures with
``FailureStore.write_batch`` exactly as the receiver does, so the queries under test read rows
the real writer produced (and ``failure_patterns`` as it maintains it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from collector_receiver.events import MatchedFailure
from collector_receiver.store import FailureStore, upgrade

#: A fixed "now" so that every expected number can be worked out by hand.
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)

_CATEGORY = {
    "RATE_LIMITED": ("rate_limit", "medium"),
    "PROVIDER_OVERLOADED": ("overloaded", "high"),
    "TIMEOUT": ("timeout", "medium"),
    "CONTEXT_LENGTH_EXCEEDED": ("context_length", "high"),
    "TOOL_FAILED": ("tool", "medium"),
    "UNCATALOGED": ("uncataloged", "medium"),
}

_counter = 0


def failure(
    occurred_at: datetime,
    code: str = "RATE_LIMITED",
    service: str = "planner",
    trace_id: str | None = None,
    span_id: str | None = None,
    exception_type: str | None = None,
    message: str = "Rate limit reached for requests",
    fingerprint: str | None = None,
) -> MatchedFailure:
    """One matched failure; every call gets a distinct event key."""
    global _counter
    _counter += 1
    category, severity = _CATEGORY.get(code, ("other", "low"))
    exc_type = exception_type or f"agent.errors.{code.title().replace('_', '')}Error"
    print_ = fingerprint or hashlib.sha256(f"{service}|{exc_type}".encode()).hexdigest()[:32]
    return MatchedFailure(
        event_key=hashlib.sha256(f"k{_counter}|{occurred_at.isoformat()}".encode()).hexdigest()[
            :40
        ],
        trace_id=trace_id,
        span_id=span_id,
        service_name=service,
        code=code,
        category=category,
        severity=severity,
        catalog_version="test-1",
        exception_type=exc_type,
        exception_message=message,
        stacktrace=(
            f'Traceback (most recent call last):\n  File "agent.py", line 1\n{exc_type}: {message}'
        ),
        fingerprint=print_,
        message_template=message,
        source="span_event",
        occurred_at=occurred_at,
        attributes={"gen_ai.system": "openai"},
    )


def minutes_ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def seed(url: str, failures: Sequence[MatchedFailure]) -> None:
    """Migrate ``url`` to head and store ``failures`` in one batch."""
    upgrade(url)
    store = FailureStore.from_url(url)
    try:
        if failures:
            store.write_batch(list(failures))
    finally:
        store.close()
