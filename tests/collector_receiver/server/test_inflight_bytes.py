"""InflightBytes: reservations within the limit are taken, one over it is refused unchanged, a
request alone is always taken, and released bytes make room again."""

from __future__ import annotations

import pytest

from collector_receiver.server._inflight import InflightBytes


def test_reservations_up_to_the_limit_then_refusal_then_room_after_release() -> None:
    budget = InflightBytes(100)
    assert budget.try_grow(0, 60)
    assert budget.try_grow(0, 40)
    assert not budget.try_grow(0, 1)
    assert budget.held == 100  # a refusal reserves nothing
    budget.release(40)
    assert budget.try_grow(0, 30)
    assert budget.held == 90


def test_a_request_alone_is_taken_and_may_grow_past_the_limit() -> None:
    budget = InflightBytes(100)
    assert budget.try_grow(0, 500)
    assert budget.try_grow(500, 900)  # inflated: still alone
    assert not budget.try_grow(0, 1)  # nothing else fits beside it
    budget.release(900)
    assert budget.held == 0


def test_growing_beside_others_is_refused_past_the_limit() -> None:
    budget = InflightBytes(100)
    assert budget.try_grow(0, 50)
    assert budget.try_grow(0, 20)
    assert budget.try_grow(20, 50)  # 50 + 50 = 100 fits
    assert not budget.try_grow(50, 51)
    assert budget.held == 100
    assert budget.try_grow(50, 10)  # shrinking is never refused and changes nothing


def test_a_limit_below_one_byte_is_a_construction_error() -> None:
    with pytest.raises(ValueError, match="at least 1 byte"):
        InflightBytes(0)
