"""A status-only failure kept carries its lineage in the request (``related_span_ids``): its
ancestors, nearest first (its parent even when the parent is not in the request), then its
descendants, at most ``MAX_RELATED_SPANS``; the store ties an exception log record on any of
them to it (``store/_other_signal.py``). Other failures carry none.

The agent's shape goes through the real SDK and the OTLP exporter's encoder; the hostile ones
(cycles, wide trees, ids of the wrong length) are built, since the SDK cannot produce them."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from collector_receiver.events import FailureEvent
from collector_receiver.otlp import decode_request, extract_failures
from collector_receiver.otlp._lineage import MAX_RELATED_SPANS
from tests.collector_receiver.otlp._helpers import (
    exception_event,
    extract_spans,
    span,
    trace_request,
)

_ERROR = 2
TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")


def _id(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _span(n: int, parent: int | None, *, failed: bool = False, exception: bool = False) -> Any:
    one = span(
        f"s{n}",
        trace_id=TRACE,
        span_id=_id(n),
        events=[exception_event("x.Failed")] if exception else [],
        status_code=_ERROR if failed else 0,
        attributes={"error.type": "E"} if failed else {},
    )
    if parent is not None:
        one.parent_span_id = _id(parent)
    return one


def _extract(spans: list[Any]) -> list[FailureEvent]:
    body = trace_request(spans).SerializeToString()
    return extract_failures(
        "traces", decode_request("traces", body, "application/x-protobuf")
    ).events


def test_the_sdks_failed_span_under_the_agents_step_names_the_step() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "agent"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.related")
    with tracer.start_as_current_span("invoke_agent planner") as agent:
        with tracer.start_as_current_span("agent.step plan") as step:
            with tracer.start_as_current_span("anthropic.messages.create") as sdk:
                sdk.set_attribute("error.type", "authentication_error")
                sdk.set_status(Status(StatusCode.ERROR))
    spans = exporter.get_finished_spans()

    (event,) = extract_spans(spans)

    assert event.source == "span_status"
    ids = [format(s.get_span_context().span_id, "016x") for s in (step, agent)]
    assert event.related_span_ids == tuple(ids)  # nearest first


def test_the_parent_is_named_even_when_another_request_carries_it() -> None:
    (event,) = _extract([_span(2, 1, failed=True)])

    assert event.related_span_ids == (_id(1).hex(),)


def test_descendants_follow_the_ancestors_breadth_first() -> None:
    spans = [_span(1, None), _span(2, 1, failed=True), _span(3, 2), _span(4, 2), _span(5, 3)]

    (event,) = _extract(spans)

    assert event.related_span_ids == tuple(_id(n).hex() for n in (1, 3, 4, 5))


def test_a_wide_tree_is_cut_at_the_bound() -> None:
    spans = [_span(1, None, failed=True), *(_span(n, 1) for n in range(2, 500))]

    (event,) = _extract(spans)

    assert len(event.related_span_ids) == MAX_RELATED_SPANS
    assert event.related_span_ids[0] == _id(2).hex()


def test_a_cycle_of_parent_links_ends_the_lineage() -> None:
    spans = [_span(1, 3), _span(2, 1), _span(3, 2, failed=True)]

    (event,) = _extract(spans)

    assert sorted(event.related_span_ids) == sorted(_id(n).hex() for n in (1, 2))


def test_a_parent_id_of_the_wrong_length_is_no_lineage() -> None:
    one = _span(2, None, failed=True)
    one.parent_span_id = b"\x01" * 3

    (event,) = _extract([one])

    assert event.related_span_ids == ()


def test_exception_events_and_dropped_status_only_spans_carry_none() -> None:
    # 2 is explained by the exception on 1 (dropped); 1's event is a span event.
    spans = [_span(1, None, exception=True), _span(2, 1, failed=True)]

    events = _extract(spans)

    assert [(e.source, e.related_span_ids) for e in events] == [("span_event", ())]
