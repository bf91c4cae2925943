"""The arithmetic of the aggregation job, on counts given by hand (no database).

The database side (that the counts are what the tables hold) is in
``tests/collector_receiver/store/test_aggregates.py``.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from collector_receiver.aggregate import (
    DRIFT_METHOD,
    AggregateSpec,
    jensen_shannon_divergence,
    summarize,
)
from collector_receiver.store.aggregates import (
    CodeCount,
    ServiceCount,
    WindowCounts,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def test_identical_mixes_have_zero_divergence() -> None:
    assert jensen_shannon_divergence({"A": 3, "B": 1}, {"A": 300, "B": 100}) == 0.0


def test_disjoint_mixes_have_divergence_one() -> None:
    assert jensen_shannon_divergence({"A": 5}, {"B": 7}) == pytest.approx(1.0)


def test_divergence_worked_by_hand() -> None:
    # P = (3/4, 1/4), Q = (0, 1), M = (3/8, 5/8)
    # KL(P||M) = 3/4·log2(2) + 1/4·log2(2/5);  KL(Q||M) = log2(8/5)
    expected = 0.5 * (0.75 + 0.25 * math.log2(0.4)) + 0.5 * math.log2(1.6)
    assert expected == pytest.approx(0.548795, abs=1e-6)
    assert jensen_shannon_divergence({"X": 15, "Y": 5}, {"Y": 100}) == pytest.approx(expected)


def test_divergence_is_symmetric_and_bounded() -> None:
    p, q = {"A": 1, "B": 9, "C": 4}, {"A": 7, "C": 1, "D": 2}
    forward = jensen_shannon_divergence(p, q)
    assert forward is not None
    assert forward == pytest.approx(jensen_shannon_divergence(q, p))
    assert 0.0 < forward < 1.0


def test_divergence_is_undefined_for_an_empty_side() -> None:
    assert jensen_shannon_divergence({}, {"A": 1}) is None
    assert jensen_shannon_divergence({"A": 1}, {}) is None


def _counts(window: dict[str, int], baseline: dict[str, int]) -> WindowCounts:
    return WindowCounts(
        window_codes=tuple(CodeCount(c, "cat", "high", n) for c, n in window.items()),
        baseline_codes=tuple(CodeCount(c, "cat", "high", n) for c, n in baseline.items()),
        window_services=(ServiceCount("planner", sum(window.values())),),
        new_patterns=(),
    )


def test_spec_windows_are_adjacent_and_half_open() -> None:
    spec = AggregateSpec(now=NOW, window=timedelta(hours=1), baseline=timedelta(hours=24))
    assert spec.window_end == NOW
    assert spec.window_start == NOW - timedelta(hours=1)
    assert spec.baseline_end == spec.window_start
    assert spec.baseline_start == NOW - timedelta(hours=25)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window": timedelta(0)},
        {"baseline": timedelta(seconds=-1)},
        {"drift_threshold": 1.5},
        {"min_failures": -1},
    ],
)
def test_spec_refuses_nonsense(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        AggregateSpec(now=NOW, **kwargs)  # type: ignore[arg-type]


def test_spec_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone"):
        AggregateSpec(now=datetime(2026, 11, 28, 12))


def test_a_vanished_code_is_listed_with_count_zero() -> None:
    result = summarize(AggregateSpec(now=NOW), _counts({"A": 4}, {"A": 2, "GONE": 2}))
    by_code = {e["code"]: e for e in result["by_code"]}
    assert by_code["GONE"]["count"] == 0
    assert by_code["GONE"]["share"] == 0.0
    assert by_code["GONE"]["baseline_share"] == 0.5
    assert result["totals"]["codes"] == 1  # only codes present in the window


def test_empty_baseline_gives_null_baseline_share_and_no_verdict() -> None:
    result = summarize(AggregateSpec(now=NOW, min_failures=0), _counts({"A": 50}, {}))
    assert result["by_code"][0]["baseline_share"] is None
    assert result["drift"] == {
        "method": DRIFT_METHOD,
        "score": None,
        "threshold": 0.1,
        "drifted": False,
    }


def test_min_failures_rule_suppresses_a_verdict_on_too_few_failures() -> None:
    counts = _counts({"NEW": 19}, {"OLD": 100})
    few = summarize(AggregateSpec(now=NOW, min_failures=20), counts)
    assert few["drift"]["score"] == 1.0
    assert few["drift"]["drifted"] is False
    enough = summarize(AggregateSpec(now=NOW, min_failures=19), counts)
    assert enough["drift"]["drifted"] is True


def test_threshold_is_inclusive_and_configurable() -> None:
    counts = _counts({"X": 15, "Y": 5}, {"Y": 100})
    assert summarize(AggregateSpec(now=NOW, drift_threshold=0.548795), counts)["drift"]["drifted"]
    assert not summarize(AggregateSpec(now=NOW, drift_threshold=0.55), counts)["drift"]["drifted"]
