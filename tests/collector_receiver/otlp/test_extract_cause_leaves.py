"""The described links of a cause chain (``failcat.cause_messages`` and ``.cause_base_types``
beside ``.cause_types``) reach the failure as ``cause_leaves``, each with the links below it as
its own causes; odd or hostile lists from other senders are read safely and cut."""

from __future__ import annotations

from collector_receiver.events import MAX_CAUSE_LEAVES, GroupLeaf
from collector_receiver.otlp import decode_request, extract_failures
from otel_failcat import record_failure
from tests.collector_receiver.otlp._helpers import exception_event, span, trace_request
from tests.collector_receiver.otlp._recorded import recorded


class ProviderError(Exception):
    pass


class ServiceUnavailable(ProviderError):
    pass


class StepFailed(Exception):
    pass


def _extract(**attributes: object):  # type: ignore[no-untyped-def]
    event = exception_event("agent.StepFailed", "step failed", **attributes)
    body = trace_request([span(events=[event])]).SerializeToString()
    [failure] = extract_failures(
        "traces", decode_request("traces", body, "application/x-protobuf")
    ).events
    return failure


def test_the_causes_the_agent_records_reach_the_failure() -> None:
    def run(_: object) -> None:
        try:
            try:
                raise ServiceUnavailable("model is busy") from TimeoutError("read timed out")
            except ServiceUnavailable as inner:
                raise StepFailed("step failed") from inner
        except StepFailed as wrapper:
            record_failure(wrapper)

    [event] = recorded(run)

    here = __name__
    assert event.cause_leaves == (
        GroupLeaf(
            f"{here}.ServiceUnavailable",
            "model is busy",
            cause_types=("TimeoutError",),
            base_types=(f"{here}.ProviderError",),
        ),
        GroupLeaf("TimeoutError", "read timed out", base_types=("OSError",)),
    )


def test_without_messages_there_are_no_cause_leaves() -> None:
    failure = _extract(failcat__cause_types=["x.A", "x.B"])

    assert failure.cause_types == ("x.A", "x.B") and failure.cause_leaves == ()


def test_short_or_odd_lists_leave_the_rest_empty() -> None:
    failure = _extract(
        failcat__cause_types=["x.A", "x.B", "x.C"],
        failcat__cause_messages=["a failed", 7],  # a number from a sloppy sender
        failcat__cause_base_types="x.Base",  # not a list
    )

    assert failure.cause_leaves == (
        GroupLeaf("x.A", "a failed", cause_types=("x.B", "x.C")),
        GroupLeaf("x.B", "", cause_types=("x.C",)),
        GroupLeaf("x.C", ""),
    )


def test_hostile_cause_lists_are_cut() -> None:
    failure = _extract(
        failcat__cause_types=[f"x.T{n}" for n in range(1000)],
        failcat__cause_messages=["m"] * 1000,
        failcat__cause_base_types=["b " * 1000] * 1000,
    )

    assert len(failure.cause_leaves) == MAX_CAUSE_LEAVES
    assert all(
        len(leaf.base_types) <= 32 and len(leaf.cause_types) <= 32 for leaf in failure.cause_leaves
    )
