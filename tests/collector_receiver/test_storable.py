"""The one rule for values the databases refuse: what each stage makes of NUL and non-finite
numbers, and that a prepared value passes the store's pass unchanged."""

from __future__ import annotations

import json
import math

from collector_receiver.storable import (
    finite_or_text,
    storable_json,
    storable_text,
    without_nul,
)


def test_the_prepare_stage_removes_nul_and_spells_non_finite_numbers() -> None:
    assert without_nul("to\x00ken") == "token"
    assert without_nul("plain") == "plain"
    assert [finite_or_text(v) for v in (math.nan, math.inf, -math.inf, 1.5)] == [
        "nan",
        "inf",
        "-inf",
        1.5,
    ]


class _Odd:
    def __str__(self) -> str:
        return "odd\x00"


def test_the_store_marks_nul_and_makes_any_value_strict_json() -> None:
    value = {
        "k\x00": ["v\x00", math.nan, -math.inf, b"\x01\xff", (1, True, None)],
        "other": _Odd(),
    }

    stored = storable_json(value)

    assert stored == {
        "k\ufffd": ["v\ufffd", "nan", "-inf", "01ff", [1, True, None]],
        "other": "odd\ufffd",
    }
    json.dumps(stored, allow_nan=False)
    assert storable_text("bad\x00byte") == "bad\ufffdbyte"


def test_a_prepared_value_passes_the_store_unchanged() -> None:
    prepared = {"ratio": finite_or_text(math.nan), "key": without_nul("v\x00"), "n": [1, 2.5]}

    assert storable_json(prepared) == prepared
