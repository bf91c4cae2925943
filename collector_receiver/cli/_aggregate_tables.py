"""The text report of ``failcat aggregate`` (its default output; ``--json`` prints the object).

One result of :func:`collector_receiver.aggregate.compute_aggregate` (the CONTRACT §9 object)
becomes a header of four lines (window, baseline, totals, the drift verdict) and tables of codes,
services and new patterns, drawn by :func:`collector_receiver._text_table.text_table`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collector_receiver._text_table import text_table

__all__ = ["render_tables"]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def render_tables(result: Mapping[str, Any]) -> str:
    """A human-readable report of one result (the default output of ``failcat aggregate``)."""
    totals = result["totals"]
    drift = result["drift"]
    failures = totals["failures"]
    uncataloged_share = totals["uncataloged"] / failures if failures else 0.0
    score = "n/a" if drift["score"] is None else f"{drift['score']:.4f}"
    verdict = "DRIFTED" if drift["drifted"] else "stable"
    lines = [
        f"window   {result['window']['start']} .. {result['window']['end']}",
        f"baseline {result['baseline']['start']} .. {result['baseline']['end']}",
        f"failures {failures}  services {totals['services']}  codes {totals['codes']}  "
        f"uncataloged {totals['uncataloged']} ({_percent(uncataloged_share)})",
        f"drift    {verdict}  (Jensen-Shannon {score}, threshold {drift['threshold']})",
        "",
    ]
    if result["by_code"]:
        lines += text_table(
            ["CODE", "CATEGORY", "SEVERITY", "COUNT", "SHARE", "BASELINE"],
            [
                [
                    e["code"],
                    e["category"],
                    e["severity"],
                    str(e["count"]),
                    _percent(e["share"]),
                    _percent(e["baseline_share"]),
                ]
                for e in result["by_code"]
            ],
        )
        lines.append("")
    if result["by_service"]:
        lines += text_table(
            ["SERVICE", "COUNT"],
            [[s["service_name"], str(s["count"])] for s in result["by_service"]],
        )
        lines.append("")
    if result["new_patterns"]:
        lines.append("new patterns")
        lines += text_table(
            ["FINGERPRINT", "CODE", "TYPE", "FIRST SEEN", "COUNT"],
            [
                [
                    p["fingerprint"],
                    p["code"],
                    p["exception_type"],
                    p["first_seen"],
                    str(p["occurrences"]),
                ]
                for p in result["new_patterns"]
            ],
        )
    else:
        lines.append("no new patterns in the window")
    return "\n".join(lines).rstrip() + "\n"
