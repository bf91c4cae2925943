"""The prepare stage and the GenAI context (CONTRACT §5 r2): the five values of a failure and
the keys of a request's operation counts are redacted and cut alike, so rates join them.

Real OTLP bytes from the protobuf classes, the real default catalog and the real redactor.
"""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from collector_receiver.catalog import load_catalog
from collector_receiver.events import FailureEvent, GenAIContext, OperationCounts, OperationKey
from collector_receiver.otlp import decode_request, extract_failures
from collector_receiver.prepare import MAX_NAME_LENGTH, FailurePreparer
from otel_failcat.redaction import Redactor
from tests.collector_receiver.otlp._helpers import exception_event, resource, span, trace_request

OPENAI_KEY = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0" * 2
LONG_MODEL = "ft:gpt-4o:" + "x" * 400


def _extract(request: ExportTraceServiceRequest) -> tuple[list[FailureEvent], OperationCounts]:
    body = request.SerializeToString()
    result = extract_failures("traces", decode_request("traces", body, "application/x-protobuf"))
    assert result.operations is not None
    return result.events, result.operations


def test_the_context_of_a_failure_and_of_its_operations_is_redacted_and_cut_alike() -> None:
    request = trace_request(
        [
            span(
                "execute_tool fetch",
                attributes={
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": f"fetch {OPENAI_KEY}",
                    "gen_ai.request.model": LONG_MODEL,
                    "gen_ai.system": "openai",
                },
                events=[exception_event("TimeoutError", "the tool took too long")],
                status_code=2,
            )
        ],
        res=resource(f"svc {OPENAI_KEY}", gen_ai__agent__name="planner"),
    )
    events, operations = _extract(request)
    preparer = FailurePreparer(load_catalog(), Redactor())

    [(failure, _)] = preparer.prepare(events)
    prepared = preparer.prepare_operations(operations)

    assert failure.gen_ai.tool == "fetch [REDACTED:openai_key]"
    assert failure.gen_ai.model == LONG_MODEL[:MAX_NAME_LENGTH]
    assert failure.gen_ai.provider == "openai"
    assert failure.gen_ai.operation == "execute_tool"
    assert failure.gen_ai.agent == "planner"
    [key] = prepared.counts
    assert key.context == failure.gen_ai
    assert key.service_name == failure.service_name == "svc [REDACTED:openai_key]"
    assert prepared.delivery_key == operations.delivery_key
    assert prepared.counts[key] == 1


def test_counts_whose_keys_become_one_once_cut_add_up() -> None:
    spans = [
        span(
            f"chat {n}",
            span_id=n.to_bytes(8, "big"),
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": LONG_MODEL + n * "y",
            },
        )
        for n in range(1, 4)
    ]
    _, operations = _extract(trace_request(spans))
    assert len(operations.counts) == 3

    prepared = FailurePreparer(load_catalog(), Redactor()).prepare_operations(operations)

    assert list(prepared.counts.values()) == [3]
    [key] = prepared.counts
    assert isinstance(key, OperationKey)
    assert key.context == GenAIContext(model=LONG_MODEL[:MAX_NAME_LENGTH], operation="chat")


def test_a_failure_without_genai_attributes_has_an_empty_context() -> None:
    request = trace_request([span("GET /", events=[exception_event()])])
    body = request.SerializeToString()
    result = extract_failures("traces", decode_request("traces", body, "application/x-protobuf"))

    [(failure, _)] = FailurePreparer(load_catalog(), Redactor()).prepare(result.events)

    assert failure.gen_ai == GenAIContext()
    assert result.operations is None
