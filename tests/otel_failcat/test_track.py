"""``track``: a span around a block, function, coroutine or generator; what escapes is recorded,
marked on the span, and re-raised unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from otel_failcat import track
from tests.otel_failcat._helpers import Telemetry, global_providers

TOOL = {"gen_ai.tool.name": "web_search", "gen_ai.request.model": "gpt-test"}


class ToolError(Exception):
    pass


def _only_failure(telemetry: Telemetry, span_name: str) -> dict[str, object]:
    ((span, attrs),) = telemetry.exception_events()
    assert span.name == span_name
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == f"{__name__}.ToolError"
    assert attrs["failcat.mechanism"] == "track"
    assert attrs["failcat.handled"] is False
    return attrs


def test_context_manager_records_marks_and_reraises_the_same_object(
    instrumented: Telemetry,
) -> None:
    raised = ToolError("boom")
    with pytest.raises(ToolError) as info:
        with track("call_tool", TOOL) as span:
            assert span.is_recording()
            raise raised
    assert info.value is raised
    attrs = _only_failure(instrumented, "call_tool")
    assert attrs["gen_ai.tool.name"] == "web_search"
    assert attrs["gen_ai.request.model"] == "gpt-test"
    (span_data,) = instrumented.finished_spans()
    assert span_data.attributes is not None
    assert span_data.attributes["gen_ai.tool.name"] == "web_search"


def test_a_successful_block_leaves_an_ok_span_and_no_event(instrumented: Telemetry) -> None:
    with track("fine"):
        pass
    (span,) = instrumented.finished_spans()
    assert span.status.status_code is StatusCode.UNSET
    assert span.events == ()
    assert instrumented.failure_counts() == {}


def test_decorated_function(instrumented: Telemetry) -> None:
    @track("plan")
    def plan(step: int) -> int:
        if step > 1:
            raise ToolError("too far")
        return step * 10

    assert plan(1) == 10
    with pytest.raises(ToolError):
        plan(2)
    _only_failure(instrumented, "plan")
    assert plan.__name__ == "plan"


async def test_decorated_coroutine_and_async_with(instrumented: Telemetry) -> None:
    @track("acall")
    async def acall() -> None:
        raise ToolError("async boom")

    with pytest.raises(ToolError):
        await acall()
    _only_failure(instrumented, "acall")

    with pytest.raises(ValueError):
        async with track("ablock"):
            raise ValueError("in async with")
    assert [s.name for s, _ in instrumented.exception_events()] == ["acall", "ablock"]


def test_generator_span_covers_its_life_and_records_a_mid_stream_failure(
    instrumented: Telemetry,
) -> None:
    seen_inside: list[int] = []

    @track("stream")
    def stream() -> Iterator[int]:
        for i in range(3):
            seen_inside.append(trace.get_current_span().get_span_context().span_id)
            received = yield i
            if received == "fail":
                raise ToolError("stream broke")

    gen = stream()
    assert next(gen) == 0
    # Between steps the generator's span is not current for the consumer.
    assert not trace.get_current_span().is_recording()
    assert gen.send(None) == 1
    with pytest.raises(ToolError):
        gen.send("fail")
    _only_failure(instrumented, "stream")
    (span,) = instrumented.finished_spans()
    assert set(seen_inside) == {span.context.span_id}


def test_generator_return_value_and_throw_pass_through(instrumented: Telemetry) -> None:
    @track("echo")
    def echo() -> Iterator[str]:
        try:
            yield "first"
        except KeyError:
            yield "caught"
        return

    gen = echo()
    assert next(gen) == "first"
    assert gen.throw(KeyError("handled inside")) == "caught"
    with pytest.raises(StopIteration):
        next(gen)
    assert instrumented.exception_events() == []
    (span,) = instrumented.finished_spans()
    assert span.status.status_code is StatusCode.UNSET


def test_closing_a_generator_early_is_not_a_failure(instrumented: Telemetry) -> None:
    closed: list[bool] = []

    @track("early")
    def early() -> Iterator[int]:
        try:
            yield 1
            yield 2
        finally:
            closed.append(True)

    gen = early()
    next(gen)
    gen.close()
    assert closed == [True]
    assert instrumented.exception_events() == []
    (span,) = instrumented.finished_spans()
    assert span.status.status_code is StatusCode.UNSET


async def test_async_generator_failure_and_early_close(instrumented: Telemetry) -> None:
    @track("astream", TOOL)
    async def astream(fail_at: int) -> AsyncIterator[int]:
        for i in range(5):
            if i == fail_at:
                raise ToolError("async stream broke")
            yield i

    got = []
    with pytest.raises(ToolError):
        async for item in astream(2):
            got.append(item)
    assert got == [0, 1]
    attrs = _only_failure(instrumented, "astream")
    assert attrs["gen_ai.tool.name"] == "web_search"

    agen = astream(99)
    assert await agen.__anext__() == 0
    await agen.aclose()
    assert len(instrumented.exception_events()) == 1
    assert len(instrumented.finished_spans()) == 2


def test_nested_track_records_once_and_marks_both(instrumented: Telemetry) -> None:
    with pytest.raises(ToolError):
        with track("agent.run"):
            with track("tool.call"):
                raise ToolError("deep")
    ((span, _),) = instrumented.exception_events()
    assert span.name == "tool.call"
    statuses = {s.name: s.status.status_code for s in instrumented.finished_spans()}
    assert statuses == {"tool.call": StatusCode.ERROR, "agent.run": StatusCode.ERROR}
    # error.type only where the event is: an ERROR span with error.type and no event would be
    # stored by the receiver as a second failure (source span_status).
    error_types = {
        s.name: (s.attributes or {}).get("error.type") for s in instrumented.finished_spans()
    }
    assert error_types == {"tool.call": f"{__name__}.ToolError", "agent.run": None}
    assert instrumented.failure_counts() == {
        (
            ("exception.type", f"{__name__}.ToolError"),
            ("failcat.handled", False),
            ("failcat.mechanism", "track"),
        ): 1
    }


@pytest.mark.parametrize("agent_environment", [{"OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN": "logs"}])
def test_logs_only_mode_sets_no_error_type(instrumented: Telemetry) -> None:
    with pytest.raises(ToolError):
        with track("tool.call"):
            raise ToolError("as a log record")
    (span,) = instrumented.finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert "error.type" not in (span.attributes or {})
    assert len(instrumented.logs.get_finished_logs()) == 1


def test_track_works_without_instrument_through_the_global_providers() -> None:
    telemetry = Telemetry.create()
    with global_providers(telemetry), pytest.raises(ToolError):
        with track("uninstrumented"):
            raise ToolError("x")
    _only_failure(telemetry, "uninstrumented")
