"""Builders shared by the server tests."""

from __future__ import annotations

from datetime import datetime, timezone

from collector_receiver.events import MatchedFailure


def matched_failure(
    key: str,
    *,
    service_name: str = "svc",
    code: str = "UNCATALOGED",
    exception_type: str = "builtins.ValueError",
) -> MatchedFailure:
    """A storable failure whose event key (and fingerprint) derive from ``key``."""
    return MatchedFailure(
        event_key=key.ljust(40, "0")[:40],
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        service_name=service_name,
        code=code,
        category="uncataloged" if code == "UNCATALOGED" else "rate_limit",
        severity="medium",
        catalog_version="test-1",
        exception_type=exception_type,
        exception_message=f"boom {key}",
        stacktrace="",
        fingerprint=key.ljust(32, "f")[:32],
        message_template="boom <str>",
        source="span_event",
        occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    )
