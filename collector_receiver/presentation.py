"""How stored failures and patterns look to a reader: the JSON of ``/api/v1`` and trace links.

The store answers with plain rows (:class:`~collector_receiver.store.queries.StoredFailure`,
:class:`~collector_receiver.store.queries.StoredPattern`); this module turns them into the item
shapes of the query API (CONTRACT §7, described in ``server/openapi.json``), which
``failcat failures --json`` prints too, so the two cannot drift apart:

- :func:`failure_json`: every column of the failure, times in RFC 3339 UTC (``...Z``), and
  ``trace_url``, the failure's link into a trace backend (None without a template or a trace);
- :func:`pattern_json`: one fingerprint with its first and last occurrence and their count;
- :func:`rate_json`: one value of a GenAI dimension with its failures, operations and rate,
  and :func:`rates_json` the whole answer of ``/api/v1/rates`` (``failcat rates --json``);
- :func:`list_json`: a list answer, ``{"items": [...], "next_cursor": ...}``;
- :func:`render_trace_url`: ``FAILCAT_TRACE_URL_TEMPLATE`` filled in for one failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from collector_receiver.timeparse import format_time

if TYPE_CHECKING:  # the store's rows; importing them at run time would load SQLAlchemy
    from collector_receiver.store.queries import StoredFailure, StoredPattern
    from collector_receiver.store.rates import RateRow


def render_trace_url(
    template: str | None, trace_id: str | None, span_id: str | None, service_name: str
) -> str | None:
    """Fill ``{trace_id}``, ``{span_id}`` and ``{service_name}`` into a trace-link template.

    Plain substitution rather than :meth:`str.format`, because trace-backend URLs (Grafana
    Explore's ``left={"datasource":...}``) are full of braces of their own. Values are
    percent-encoded. None when there is no template or the failure has no trace.
    """
    if not template or not trace_id:
        return None
    return (
        template.replace("{trace_id}", quote(trace_id, safe=""))
        .replace("{span_id}", quote(span_id or "", safe=""))
        .replace("{service_name}", quote(service_name, safe=""))
    )


def failure_json(failure: StoredFailure, trace_url_template: str | None) -> dict[str, Any]:
    """The item shape of ``GET /api/v1/failures`` (and ``failcat failures --json``)."""
    return {
        "id": failure.id,
        "event_key": failure.event_key,
        "trace_id": failure.trace_id,
        "span_id": failure.span_id,
        "service_name": failure.service_name,
        "code": failure.code,
        "category": failure.category,
        "severity": failure.severity,
        "catalog_version": failure.catalog_version,
        "exception_type": failure.exception_type,
        "exception_message": failure.exception_message,
        "stacktrace": failure.stacktrace,
        "fingerprint": failure.fingerprint,
        "source": failure.source,
        "occurred_at": format_time(failure.occurred_at),
        "received_at": format_time(failure.received_at),
        "attributes": dict(failure.attributes),
        "gen_ai_provider": failure.gen_ai_provider,
        "gen_ai_model": failure.gen_ai_model,
        "gen_ai_operation": failure.gen_ai_operation,
        "gen_ai_tool": failure.gen_ai_tool,
        "gen_ai_agent": failure.gen_ai_agent,
        "trace_url": render_trace_url(
            trace_url_template, failure.trace_id, failure.span_id, failure.service_name
        ),
    }


def pattern_json(pattern: StoredPattern) -> dict[str, Any]:
    """The item shape of ``GET /api/v1/patterns``."""
    return {
        "fingerprint": pattern.fingerprint,
        "code": pattern.code,
        "service_name": pattern.service_name,
        "exception_type": pattern.exception_type,
        "message_template": pattern.message_template,
        "first_seen": format_time(pattern.first_seen),
        "last_seen": format_time(pattern.last_seen),
        "occurrences": pattern.occurrences,
    }


def rate_json(rate: RateRow) -> dict[str, Any]:
    """The item shape of ``GET /api/v1/rates``; ``failure_rate`` is None without operations."""
    return {
        "value": rate.value,
        "failures": rate.failures,
        "operations": rate.operations,
        "failure_rate": rate.failure_rate,
    }


def rates_json(by: str, rates: Iterable[RateRow]) -> dict[str, Any]:
    """The answer of ``GET /api/v1/rates`` (and ``failcat rates --json``): a list answer with
    every value in it (``next_cursor`` always None) and the dimension it was taken by."""
    return {**list_json((rate_json(rate) for rate in rates), None), "by": by}


def rate_percent(rate: float | None) -> str:
    """A failure rate as people read it: a percentage with one decimal (``26.3 %``), ``-``
    when no operation was counted (the rate is undefined, not zero)."""
    return "-" if rate is None else f"{rate * 100:.1f} %"


def list_json(items: Iterable[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    """A list answer: its items, and the cursor of the next page (None on the last one)."""
    return {"items": list(items), "next_cursor": next_cursor}


__all__ = [
    "failure_json",
    "list_json",
    "pattern_json",
    "rate_json",
    "rate_percent",
    "rates_json",
    "render_trace_url",
]
