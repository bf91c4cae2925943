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


# -- hand-computed mixes for the aggregation job (window [11:00, 12:00), baseline the 24h before)

WINDOW_START = NOW - timedelta(hours=1)
BASELINE_START = NOW - timedelta(hours=25)


def spread(n: int, start: timedelta, span: timedelta, **kwargs: str) -> list[MatchedFailure]:
    """``n`` failures evenly inside [NOW - start, NOW - start + span)."""
    step = span / n
    return [failure(NOW - start + step * i, **kwargs) for i in range(n)]


def stable_mix() -> list[MatchedFailure]:
    """Window 12/6/2 and baseline 60/30/10 of RATE_LIMITED/TIMEOUT/UNCATALOGED: JSD 0."""
    rows: list[MatchedFailure] = []
    # Window [11:00, 12:00): 12 RATE_LIMITED (planner), 6 TIMEOUT (coder), 2 UNCATALOGED.
    rows += spread(11, timedelta(minutes=59), timedelta(minutes=59), code="RATE_LIMITED")
    rows.append(failure(WINDOW_START, code="RATE_LIMITED"))  # on the window's start: inside
    rows += spread(6, timedelta(minutes=50), timedelta(minutes=40), code="TIMEOUT", service="coder")
    rows += spread(2, timedelta(minutes=30), timedelta(minutes=10), code="UNCATALOGED")
    # Baseline: 60 / 30 / 10, the same mix.
    rows += spread(59, timedelta(hours=24), timedelta(hours=23), code="RATE_LIMITED")
    rows.append(failure(BASELINE_START, code="RATE_LIMITED"))  # on the baseline's start: inside
    rows += spread(30, timedelta(hours=20), timedelta(hours=10), code="TIMEOUT", service="coder")
    rows += spread(10, timedelta(hours=5), timedelta(hours=3), code="UNCATALOGED")
    # Outside both: at the window's end (exclusive) and just before the baseline.
    rows.append(failure(NOW, code="TOOL_FAILED"))
    rows.append(failure(BASELINE_START - timedelta(microseconds=1), code="TOOL_FAILED"))
    return rows


def drifted_mix() -> list[MatchedFailure]:
    """Baseline 100 RATE_LIMITED; window 5 RATE_LIMITED + 15 new PROVIDER_OVERLOADED."""
    rows: list[MatchedFailure] = []
    # Baseline: 100 RATE_LIMITED. Window: 5 RATE_LIMITED and 15 PROVIDER_OVERLOADED, a code
    # (and fingerprint) never seen before, first at 11:10.
    rows += spread(100, timedelta(hours=25), timedelta(hours=24), code="RATE_LIMITED")
    rows += spread(5, timedelta(minutes=55), timedelta(minutes=50), code="RATE_LIMITED")
    rows += spread(
        15,
        timedelta(minutes=50),
        timedelta(minutes=45),
        code="PROVIDER_OVERLOADED",
        exception_type="anthropic.InternalServerError",
        fingerprint="0f" * 16,
    )
    return rows
