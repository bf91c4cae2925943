"""One exception object is recorded once, however many mechanisms see it, and is not kept alive."""

from __future__ import annotations

import copy
import gc
import logging
import pickle
import sys
import weakref

import pytest

from otel_failcat import record_failure, track
from otel_failcat._dedupe import SeenExceptions
from tests.otel_failcat._helpers import Telemetry, raise_and_catch


def test_same_object_twice_is_recorded_once(instrumented: Telemetry) -> None:
    exc = raise_and_catch(ValueError("once"))
    record_failure(exc)
    record_failure(exc)
    assert len(instrumented.exception_events()) == 1


def test_equal_but_distinct_exceptions_are_two_failures(instrumented: Telemetry) -> None:
    record_failure(raise_and_catch(ValueError("same text")))
    record_failure(raise_and_catch(ValueError("same text")))
    assert len(instrumented.exception_events()) == 2


def test_nested_tracks_logging_and_explicit_record_it_once(instrumented: Telemetry) -> None:
    log = logging.getLogger("tests.agent")
    with pytest.raises(KeyError):
        with track("outer"):
            with track("inner"):
                try:
                    raise KeyError("missing tool")
                except KeyError as exc:
                    log.exception("tool lookup failed")
                    record_failure(exc)
                    raise

    ((span, attrs),) = instrumented.exception_events()
    assert span.name == "inner"
    assert attrs["failcat.mechanism"] == "logging"  # the first to see it wins
    by_name = {s.name: s for s in instrumented.finished_spans()}
    # Both tracked spans still say they failed; the type goes where the event is (an ERROR
    # span with error.type and no event would be stored as a second failure).
    for name in ("inner", "outer"):
        assert by_name[name].status.is_ok is False
    assert (by_name["inner"].attributes or {}).get("error.type") == "KeyError"
    assert "error.type" not in (by_name["outer"].attributes or {})


class AgentError(Exception):
    """A user-defined exception: weakly referenceable, so we can watch it die."""


def test_a_recorded_exception_can_be_garbage_collected(instrumented: Telemetry) -> None:
    exc = raise_and_catch(AgentError("collect me"))
    record_failure(exc)
    ref = weakref.ref(exc)
    del exc
    gc.collect()
    assert ref() is None


def test_a_builtin_exception_gains_no_reference_from_being_recorded(
    instrumented: Telemetry,
) -> None:
    exc = raise_and_catch(ValueError("builtins cannot be weakly referenced"))
    before = sys.getrefcount(exc)
    record_failure(exc)
    record_failure(exc)
    assert sys.getrefcount(exc) == before
    assert len(instrumented.exception_events()) == 1


def test_a_copy_of_a_recorded_builtin_exception_is_a_new_failure(instrumented: Telemetry) -> None:
    exc = raise_and_catch(ValueError("original"))
    record_failure(exc)
    record_failure(copy.copy(exc))
    record_failure(pickle.loads(pickle.dumps(exc)))
    assert len(instrumented.exception_events()) == 3


def test_a_reused_address_is_not_mistaken_for_a_recorded_exception() -> None:
    seen = SeenExceptions()
    first = ValueError("a")
    assert seen.first_sighting(first) is True
    del first
    gc.collect()
    assert len(seen) == 0
    # Whatever object lands at the old address now is new to the set.
    assert all(seen.first_sighting(ValueError(str(i))) for i in range(100))


def test_exceptions_that_refuse_weak_references_are_deduped_too() -> None:
    class SlottedError(Exception):
        __slots__ = ()

    with pytest.raises(TypeError):
        weakref.ref(SlottedError())
    seen = SeenExceptions()
    exc = SlottedError()
    assert seen.first_sighting(exc) is True
    assert seen.first_sighting(exc) is False
    assert exc in seen
    assert seen.first_sighting(SlottedError()) is True
