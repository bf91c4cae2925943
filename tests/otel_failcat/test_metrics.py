"""The counter ``failcat.agent.failures``: one per failure, by type, mechanism and handled."""

from __future__ import annotations

import logging

from otel_failcat import record_failure
from tests.otel_failcat._helpers import Telemetry, raise_and_catch


def test_counts_by_type_mechanism_and_handled_never_the_message(
    instrumented: Telemetry,
) -> None:
    record_failure(raise_and_catch(ValueError("secret-ish message 1")))
    record_failure(raise_and_catch(ValueError("secret-ish message 2")))
    try:
        raise KeyError("k")
    except KeyError:
        logging.getLogger("tests.metrics").exception("logged")

    assert instrumented.failure_counts() == {
        (
            ("exception.type", "ValueError"),
            ("failcat.handled", True),
            ("failcat.mechanism", "explicit"),
        ): 2,
        (
            ("exception.type", "KeyError"),
            ("failcat.handled", True),
            ("failcat.mechanism", "logging"),
        ): 1,
    }


def test_a_deduped_sighting_is_not_counted_twice(instrumented: Telemetry) -> None:
    exc = raise_and_catch(ValueError("x"))
    record_failure(exc)
    record_failure(exc)
    assert sum(instrumented.failure_counts().values()) == 1
