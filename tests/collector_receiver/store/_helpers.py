"""Building matched failures and reading back what the store holds, for the store's tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from collector_receiver.events import AttributeValue, FailureSource, MatchedFailure
from collector_receiver.store import FailureStore
from collector_receiver.store._rows import MATCH_COLUMNS
from collector_receiver.store.tables import failure_matches, failure_patterns
from collector_receiver.timeparse import utc_now

BASE_TIME = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def failure(
    n: int,
    *,
    fingerprint: str = "f" * 32,
    service_name: str = "checkout-agent",
    code: str = "LLM_RATE_LIMIT",
    occurred_at: datetime | None = None,
    message: str = "Rate limit reached for gpt-4o",
    attributes: dict[str, AttributeValue] | None = None,
    source: FailureSource = "span_event",
    trace_id: str | None = None,
) -> MatchedFailure:
    """A distinct failure per ``n`` (its event key), otherwise alike."""
    return MatchedFailure(
        event_key=f"{n:040x}",
        trace_id=trace_id if trace_id is not None else f"{n:032x}",
        span_id=f"{n:016x}",
        service_name=service_name,
        code=code,
        category="rate_limit",
        severity="high",
        catalog_version="2026.03",
        exception_type="openai.RateLimitError",
        exception_message=message,
        stacktrace='Traceback (most recent call last):\n  File "agent.py", line 3\n',
        fingerprint=fingerprint,
        message_template="Rate limit reached for <str>",
        source=source,
        occurred_at=occurred_at if occurred_at is not None else BASE_TIME + timedelta(seconds=n),
        attributes=attributes if attributes is not None else {"http.response.status_code": 429},
    )


def write_days_ago(url: str, first: int, days_ago: float, count: int) -> None:
    """``count`` failures (``failure(first)`` on) of ``days_ago`` days ago, a second apart going
    back, written in one batch as a late sender's would be."""
    store = FailureStore.from_url(url)
    at = utc_now() - timedelta(days=days_ago)
    try:
        store.write_batch(
            [failure(first + n, occurred_at=at - timedelta(seconds=n)) for n in range(count)]
        )
    finally:
        store.close()


def stored_rows(store: FailureStore) -> list[dict[str, Any]]:
    """Every row's id and readable columns (not the store's own, which older schemas lack)."""
    columns = [failure_matches.c[name] for name in ("id", *MATCH_COLUMNS)]
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(*columns).order_by(failure_matches.c.id))
        return [dict(row._mapping) for row in rows]


def stored_patterns(store: FailureStore) -> dict[str, dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(failure_patterns))
        return {row.fingerprint: dict(row._mapping) for row in rows}
