"""On the wire, as a user runs it: ``failcat.base_types`` and an exception group's leaves reach
an OTLP server from an agent under ``opentelemetry-instrument`` with the real OTLP exporter."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.otel_failcat._instrumented_run import run_instrumented
from tests.support.otlp_sink import OtlpSink

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="asyncio.TaskGroup is built in from 3.11"
)

FAKE_KEY = "sk-proj-" + "P0o9I8u7Y6t5R4e3W2q1A2s3D4f5G6h7J8k9L0z1"

# A botocore-shaped hierarchy with a class generated at run time, recorded while handled; then
# an asyncio task group whose two tasks fail, left unhandled (the excepthook records it).
AGENT = textwrap.dedent(
    f"""
    import asyncio
    import otel_failcat

    class BotoCoreError(Exception):
        pass

    class ClientError(BotoCoreError):
        pass

    ThrottlingException = type("ThrottlingException", (ClientError,), {{}})

    try:
        raise ThrottlingException("Rate exceeded")
    except ClientError as exc:
        otel_failcat.record_failure(exc)

    class ToolError(Exception):
        pass

    async def call(exc):
        await asyncio.sleep(0)
        raise exc

    async def main():
        async with asyncio.TaskGroup() as group:
            group.create_task(call(ThrottlingException("Rate exceeded, key {FAKE_KEY}")))
            group.create_task(call(ToolError("search tool crashed")))

    asyncio.run(main())
    """
)


@pytest.fixture(scope="module")
def sink() -> Iterator[OtlpSink]:
    with OtlpSink() as running:
        yield running


def test_base_types_and_group_leaves_arrive_over_otlp(sink: OtlpSink, tmp_path: Path) -> None:
    env = {
        **sink.exporter_env("http/protobuf"),
        "OTEL_SERVICE_NAME": "grouped-agent",
        "OTEL_RESOURCE_ATTRIBUTES": "run=groups",
    }
    result = run_instrumented(tmp_path, AGENT, env)
    assert result.returncode == 1, result.stderr
    assert "ExceptionGroup: unhandled errors in a TaskGroup (2 sub-exceptions)" in result.stderr

    def events() -> dict[str, dict[str, object]]:
        return {
            str(event.attributes["failcat.mechanism"]): event.attributes
            for span in sink.spans()
            if span.resource.get("run") == "groups"
            for event in span.events
            if event.name == "exception"
        }

    assert sink.wait_for(lambda _: set(events()) == {"explicit", "excepthook"}, timeout=10)
    handled, crash = events()["explicit"], events()["excepthook"]

    assert handled["exception.type"] == "__main__.ThrottlingException"
    assert handled["failcat.base_types"] == ["__main__.ClientError", "__main__.BotoCoreError"]
    assert "failcat.group.exception_types" not in handled

    assert crash["exception.type"] == "ExceptionGroup"
    assert crash["failcat.base_types"] == ["BaseExceptionGroup"]
    assert crash["failcat.group.exception_types"] == [
        "__main__.ThrottlingException",
        "__main__.ToolError",
    ]
    assert crash["failcat.group.messages"] == [
        "Rate exceeded, key [REDACTED:openai_key]",
        "search tool crashed",
    ]
    assert crash["failcat.group.base_types"] == ["__main__.ClientError __main__.BotoCoreError", ""]
    assert crash["failcat.group.cause_types"] == ["", ""]
    assert FAKE_KEY.encode() not in sink.raw_bodies()
