"""A real ``failcat serve`` counts a request's GenAI operations and failures once, however often
and in whatever OTLP encoding it is delivered (CONTRACT §6 r2: the counters move only for newly
stored rows and newly counted spans).

One agent run goes in over OTLP/HTTP — ``invoke_agent`` with a failing ``chat`` call and an
``execute_tool`` call — as protobuf, again as protobuf, then as OTLP/JSON; ``/metrics`` is read
with prometheus_client's own parser after each answer (the receiver answers after the commit).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e._receiver import ReceiverProcess, http_get, http_post, running_receiver

pytestmark = pytest.mark.slow

_TRACE = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
_OTHER_TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
_ROOT, _CHAT, _TOOL = (bytes([n]) * 8 for n in (1, 2, 3))


def _attributes(**values: str) -> list[KeyValue]:
    return [
        KeyValue(key=key.replace("__", "."), value=AnyValue(string_value=value))
        for key, value in values.items()
    ]


def _request(trace_id: bytes = _TRACE) -> ExportTraceServiceRequest:
    now = time.time_ns()

    def span(span_id: bytes, parent: bytes, name: str, **attributes: str) -> Span:
        return Span(
            trace_id=trace_id,
            span_id=span_id,
            parent_span_id=parent,
            name=name,
            start_time_unix_nano=now - 2_000_000,
            end_time_unix_nano=now,
            attributes=_attributes(**attributes),
        )

    root = span(_ROOT, b"", "invoke_agent support", gen_ai__operation__name="invoke_agent",
                gen_ai__agent__name="support")  # fmt: skip
    chat = span(_CHAT, _ROOT, "chat gpt-4o", gen_ai__operation__name="chat",
                gen_ai__provider__name="openai", gen_ai__request__model="gpt-4o")  # fmt: skip
    chat.events.append(
        Span.Event(
            name="exception",
            time_unix_nano=now - 1_000_000,
            attributes=_attributes(
                exception__type="openai.RateLimitError",
                exception__message="Error code: 429 - Rate limit reached for gpt-4o",
            ),
        )
    )
    chat.status.code = chat.status.STATUS_CODE_ERROR
    tool = span(_TOOL, _ROOT, "execute_tool web_search", gen_ai__operation__name="execute_tool",
                gen_ai__tool__name="web_search")  # fmt: skip
    resource = Resource(attributes=_attributes(service__name="support-agent"))
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=[root, chat, tool])])
        ]
    )


def _as_otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """The same request in OTLP/JSON: ids as hex (not protobuf JSON's base64), enums as ints."""
    document = MessageToDict(request, use_integers_for_enums=True)
    for resource_spans in document["resourceSpans"]:
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    return json.dumps(document).encode("utf-8")


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverProcess]:
    directory = tmp_path_factory.mktemp("genai-metrics")
    with running_receiver(f"sqlite:///{directory / 'failcat.db'}", directory / "r.log") as r:
        yield r


def _send(receiver: ReceiverProcess, body: bytes, content_type: str) -> None:
    status, _, answer = http_post(
        f"{receiver.http_endpoint}/v1/traces", body, {"Content-Type": content_type}
    )
    assert status == 200, answer


def _totals(receiver: ReceiverProcess) -> dict[str, float]:
    status, body = http_get(f"{receiver.api_url}/metrics")
    assert status == 200
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(body.decode("utf-8")):
        for sample in family.samples:
            if sample.name.startswith(("failcat_genai_", "failcat_failures_total")):
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                totals[f"{sample.name}{{{labels}}}"] = sample.value
    return totals


def test_a_request_delivered_again_in_any_encoding_counts_once(receiver: ReceiverProcess) -> None:
    request = _request()
    _send(receiver, request.SerializeToString(), "application/x-protobuf")
    first = _totals(receiver)
    assert first == {
        "failcat_failures_total{category=rate_limit,code=OPENAI_RATE_LIMIT,"
        "service_name=support-agent,severity=high}": 1,
        "failcat_genai_failures_total{category=rate_limit,gen_ai_model=gpt-4o,"
        "gen_ai_provider=openai,gen_ai_tool=,service_name=support-agent}": 1,
        "failcat_genai_operations_total{gen_ai_model=,gen_ai_operation=invoke_agent,"
        "gen_ai_provider=,gen_ai_tool=,service_name=support-agent}": 1,
        "failcat_genai_operations_total{gen_ai_model=gpt-4o,gen_ai_operation=chat,"
        "gen_ai_provider=openai,gen_ai_tool=,service_name=support-agent}": 1,
        "failcat_genai_operations_total{gen_ai_model=,gen_ai_operation=execute_tool,"
        "gen_ai_provider=,gen_ai_tool=web_search,service_name=support-agent}": 1,
    }, first
    # The same spans again, and in OTLP/JSON: stored once, counted once.
    _send(receiver, request.SerializeToString(), "application/x-protobuf")
    _send(receiver, _as_otlp_json(request), "application/json")
    assert _totals(receiver) == first
    # Other spans in OTLP/JSON are other operations: every series moves by one.
    _send(receiver, _as_otlp_json(_request(_OTHER_TRACE)), "application/json")
    assert _totals(receiver) == {name: value + 1 for name, value in first.items()}
