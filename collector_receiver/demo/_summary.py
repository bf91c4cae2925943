"""What ``failcat demo`` prints at the end: what was sent, what was stored, where to look next.

:class:`StoredSummary` is what the database holds for the demo's window (codes with their
category and severity, services, the newest failures, and the failure rates by tool and by
model from the store's rates query); :func:`scrape_failures_total` reads the receiver's
``failcat_failures_total`` from ``/metrics``; :func:`print_summary` prints both with the
traffic's summary line and the commands to look further. Tables are
:func:`collector_receiver._text_table.text_table`'s, indented two spaces, counts right-aligned.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from collector_receiver._text_table import text_table
from collector_receiver.demo.children import HOST, Ports
from collector_receiver.environment_variables import DEFAULT_DATABASE_URL
from collector_receiver.presentation import rate_percent
from collector_receiver.store import display_url  # the URL is printed on a terminal
from collector_receiver.traffic import TrafficResult

__all__ = ["Rate", "StoredSummary", "print_summary", "scrape_failures_total"]


@dataclass(frozen=True)
class Rate:
    """One line of a rates table: a tool's (or model's) failures and operations."""

    value: str
    failures: int
    operations: int
    #: failures / operations; None when no operation was counted.
    failure_rate: float | None


@dataclass(frozen=True)
class StoredSummary:
    """What the database holds for the demo's window."""

    codes: tuple[tuple[str, str, str, int], ...]  # code, category, severity, count
    services: tuple[tuple[str, int], ...]
    newest: tuple[tuple[datetime, str, str, str, str], ...]  # time, service, code, type, trace
    #: Failure rates by tool and by model since ``rates_since`` (the hour the demo began in:
    #: operations are counted per hour), worst first.
    rates_by_tool: tuple[Rate, ...] = ()
    rates_by_model: tuple[Rate, ...] = ()
    rates_since: datetime | None = None

    @property
    def total(self) -> int:
        return sum(count for *_, count in self.codes)


def scrape_failures_total(api_port: int) -> float | None:
    """The sum of ``failcat_failures_total`` on the receiver's /metrics (None if unreadable)."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(f"http://{HOST}:{api_port}/metrics", timeout=5) as response:
            text = response.read().decode("utf-8")
    except (OSError, ValueError):
        return None
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "failcat_failures_total":
                total += sample.value
    return total


def print_summary(
    out: TextIO,
    *,
    db_url: str,
    keep_running: bool,
    ports: Ports,
    result: TrafficResult,
    stored: StoredSummary,
    failures_total: float | None,
) -> None:
    """The demo's report: what was sent, what was stored, and where to look next."""
    sent = len(result.failures)
    uncataloged = sum(row[3] for row in stored.codes if row[0] == "UNCATALOGED")
    lines = [
        result.summary_line(),
        f"stored {stored.total} of {sent} failures in {display_url(db_url)}: "
        f"{len(stored.codes)} codes "
        f"({uncataloged} UNCATALOGED) from {len(stored.services)} services",
    ]
    if stored.total != sent:
        lines.append(f"WARNING: {sent - stored.total} failures sent were not found in the database")
    if failures_total is not None:
        lines.append(
            f"receiver metric failcat_failures_total = {failures_total:g} "
            f"(all failures it committed since it started)"
        )
    lines += ["", "Failures by code:"]
    lines += _indented_table(
        ["CODE", "CATEGORY", "SEVERITY", "COUNT"],
        [
            [code, category, severity, str(count)]
            for code, category, severity, count in stored.codes
        ],
        right=(3,),
    )
    lines += ["", "Failures by service:"]
    lines += _indented_table(
        ["SERVICE", "COUNT"], [[name, str(count)] for name, count in stored.services], right=(1,)
    )
    since = f"since {stored.rates_since:%H:%M} UTC, " if stored.rates_since else ""
    lines += ["", f"Failure rates by tool ({since}failures / calls, worst first):"]
    lines += _rates_table("TOOL", "CALLS", stored.rates_by_tool)
    lines += ["", f"Failure rates by model ({since}failures / operations, worst first):"]
    lines += _rates_table("MODEL", "OPERATIONS", stored.rates_by_model)
    lines += ["", "Newest failures:"]
    lines += _indented_table(
        ["TIME (UTC)", "SERVICE", "CODE", "TYPE", "TRACE ID"],
        [
            [when.strftime("%H:%M:%S.%f")[:-3], service, code, exc_type, trace]
            for when, service, code, exc_type, trace in stored.newest
        ],
    )
    db = "" if db_url == DEFAULT_DATABASE_URL else f" --db {display_url(db_url)}"
    trace = stored.newest[0][4] if stored.newest else "<trace id>"
    api = f"http://{HOST}:{ports.api}"
    running = "" if keep_running else " (while it runs: failcat demo --keep-running)"
    hints = [
        (f"failcat failures{db} --trace-id {trace}", "one trace's failures, with stacktraces"),
        (f"failcat failures{db} --code UNCATALOGED", "what the catalog does not know yet"),
        (f"failcat aggregate{db} --window 1h", "counts, shares, new patterns, drift"),
        (f"failcat rates{db} --by tool --since 1h", "failure rates by tool (or model, provider)"),
        (f"open {api}/", "the web UI: overview, failures, rates, catalog" + running),
        (f"curl {api}/metrics", "Prometheus counters" + running),
        (f"curl '{api}/api/v1/failures?limit=5'", "the query API" + running),
    ]
    width = max(len(command) for command, _ in hints)
    lines += ["", "Where to look next:"]
    lines += [f"  {command.ljust(width)}  # {why}" for command, why in hints]
    print("\n".join(lines), file=out, flush=True)


def _rates_table(what: str, denominator: str, rates: Sequence[Rate]) -> list[str]:
    return _indented_table(
        [what, "FAILURES", denominator, "RATE"],
        [
            [rate.value, str(rate.failures), str(rate.operations), rate_percent(rate.failure_rate)]
            for rate in rates
        ],
        right=(1, 2, 3),
    )


def _indented_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: Collection[int] = ()
) -> list[str]:
    if not rows:
        return ["  (none)"]
    return ["  " + line for line in text_table(headers, rows, right=right)]
