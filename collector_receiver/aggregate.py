"""The aggregation job behind ``failcat aggregate``: what failed in the last window, against before.

Windows (half-open, so consecutive runs never count a failure twice)::

    baseline = [now - window - baseline, now - window)
    window   = [now - window,            now)

With ``--window 1h --baseline 24h`` at 12:00 the window is 11:00-12:00 and the baseline is
11:00 the day before until 11:00 today.

For the window the job reports counts per code (with its category and severity) and per service,
each code's share of the window and its share of the baseline (``baseline_share``, null when the
baseline holds no failures at all), the fingerprints first seen inside the window, and the
uncataloged count. Codes seen only in the baseline are listed too, with count 0, because a code
that vanished is part of a change in the mix.

Drift: the Jensen-Shannon divergence, base 2 (so it lies in [0, 1]), between the distribution of
codes in the window and in the baseline::

    M = (P + Q) / 2;   JSD = ½·KL(P‖M) + ½·KL(Q‖M),   KL(A‖B) = Σ a·log2(a/b)

0 means the same mix, 1 means no code in common. The score is null when either side holds no
failures. The verdict ``drifted`` is true only when the score is at least the threshold (default
0.1) **and** both the window and the baseline hold at least ``min_failures`` (default 20) failures:
a handful of failures says nothing about a mix.

The counting happens in SQL (:mod:`collector_receiver.store.aggregates`); this module only does
the arithmetic on one row per code and returns the result as the CONTRACT §9 object. How it
looks on a terminal is the command's business (``collector_receiver/cli/_aggregate_tables.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from collector_receiver.events import UNCATALOGED
from collector_receiver.store.aggregates import (
    AggregateQueries,
    AggregateRecord,
    CodeCount,
    WindowCounts,
)
from collector_receiver.timeparse import format_time

__all__ = [
    "DEFAULT_DRIFT_THRESHOLD",
    "DEFAULT_MIN_FAILURES",
    "DRIFT_METHOD",
    "AggregateSpec",
    "compute_aggregate",
    "jensen_shannon_divergence",
    "summarize",
    "to_record",
]

DRIFT_METHOD = "jensen_shannon_divergence_base2"
DEFAULT_DRIFT_THRESHOLD = 0.1
DEFAULT_MIN_FAILURES = 20
#: Shares and scores are rounded to this many decimals in the JSON.
_DIGITS = 6


@dataclass(frozen=True)
class AggregateSpec:
    """What one run computes; ``now`` is the end of the window (aware)."""

    now: datetime
    window: timedelta = timedelta(hours=1)
    baseline: timedelta = timedelta(hours=24)
    drift_threshold: float = DEFAULT_DRIFT_THRESHOLD
    min_failures: int = DEFAULT_MIN_FAILURES

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if self.window <= timedelta(0) or self.baseline <= timedelta(0):
            raise ValueError("window and baseline must be positive")
        if not 0.0 <= self.drift_threshold <= 1.0:
            raise ValueError(f"drift threshold {self.drift_threshold} is not within [0, 1]")
        if self.min_failures < 0:
            raise ValueError("min_failures must not be negative")

    @property
    def window_end(self) -> datetime:
        return self.now.astimezone(timezone.utc)

    @property
    def window_start(self) -> datetime:
        return self.window_end - self.window

    @property
    def baseline_end(self) -> datetime:
        return self.window_start

    @property
    def baseline_start(self) -> datetime:
        return self.window_start - self.baseline


def jensen_shannon_divergence(p: Mapping[str, int], q: Mapping[str, int]) -> float | None:
    """JSD (base 2, in [0, 1]) of two count vectors keyed by code; None if either is empty."""
    p_total = sum(p.values())
    q_total = sum(q.values())
    if p_total <= 0 or q_total <= 0:
        return None
    divergence = 0.0
    for key in set(p) | set(q):
        a = p.get(key, 0) / p_total
        b = q.get(key, 0) / q_total
        m = (a + b) / 2
        if a > 0:
            divergence += 0.5 * a * math.log2(a / m)
        if b > 0:
            divergence += 0.5 * b * math.log2(b / m)
    # Floating error can leave a hair outside [0, 1].
    return min(1.0, max(0.0, divergence))


def summarize(spec: AggregateSpec, counts: WindowCounts) -> dict[str, Any]:
    """The CONTRACT §9 object for these counts (pure: no database)."""
    window = {c.code: c for c in counts.window_codes}
    baseline = {c.code: c for c in counts.baseline_codes}
    window_total = sum(c.count for c in counts.window_codes)
    baseline_total = sum(c.count for c in counts.baseline_codes)

    by_code: list[dict[str, Any]] = []
    for code in set(window) | set(baseline):
        info: CodeCount = window.get(code) or baseline[code]
        count = window[code].count if code in window else 0
        base_count = baseline[code].count if code in baseline else 0
        by_code.append(
            {
                "code": code,
                "category": info.category,
                "severity": info.severity,
                "count": count,
                "share": round(count / window_total, _DIGITS) if window_total else 0.0,
                "baseline_share": (
                    round(base_count / baseline_total, _DIGITS) if baseline_total else None
                ),
            }
        )
    by_code.sort(key=lambda e: (-e["count"], -(e["baseline_share"] or 0.0), e["code"]))

    raw_score = jensen_shannon_divergence(
        {c: e.count for c, e in window.items()}, {c: e.count for c, e in baseline.items()}
    )
    # The verdict compares the score as reported, so the JSON never contradicts itself.
    score = None if raw_score is None else round(raw_score, _DIGITS)
    enough = window_total >= spec.min_failures and baseline_total >= spec.min_failures
    drifted = bool(enough and score is not None and score >= spec.drift_threshold)
    return {
        "window": {"start": format_time(spec.window_start), "end": format_time(spec.window_end)},
        "baseline": {
            "start": format_time(spec.baseline_start),
            "end": format_time(spec.baseline_end),
        },
        "totals": {
            "failures": window_total,
            "uncataloged": window[UNCATALOGED].count if UNCATALOGED in window else 0,
            "services": len(counts.window_services),
            "codes": len(window),
        },
        "by_code": by_code,
        "by_service": [
            {"service_name": s.service_name, "count": s.count} for s in counts.window_services
        ],
        "new_patterns": [
            {
                "fingerprint": p.fingerprint,
                "code": p.code,
                "exception_type": p.exception_type,
                "first_seen": format_time(p.first_seen),
                "occurrences": p.occurrences,
            }
            for p in counts.new_patterns
        ],
        "drift": {
            "method": DRIFT_METHOD,
            "score": score,
            "threshold": spec.drift_threshold,
            "drifted": drifted,
        },
    }


def compute_aggregate(queries: AggregateQueries, spec: AggregateSpec) -> dict[str, Any]:
    """Read the counts for ``spec`` from the database and summarise them."""
    counts = queries.window_counts(
        spec.window_start, spec.window_end, spec.baseline_start, spec.baseline_end
    )
    return summarize(spec, counts)


def to_record(
    spec: AggregateSpec, result: Mapping[str, Any], computed_at: datetime
) -> AggregateRecord:
    """The ``failure_aggregates`` row of one run."""
    return AggregateRecord(
        computed_at=computed_at,
        window_start=spec.window_start,
        window_end=spec.window_end,
        baseline_start=spec.baseline_start,
        baseline_end=spec.baseline_end,
        total=int(result["totals"]["failures"]),
        uncataloged=int(result["totals"]["uncataloged"]),
        drift_score=result["drift"]["score"],
        drifted=bool(result["drift"]["drifted"]),
        result=result,
    )
